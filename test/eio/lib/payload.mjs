/**
 * Deterministic file contents, computed the same way in the guest (which writes them) and on the
 * host (which may check them): a readable header, then a xorshift32 stream, so a file that kept
 * only some of its pages, or another case's pages, never matches by accident.
 */
import { createHash } from 'node:crypto';

/** Old content of a target (what must survive a failed replacement). */
export const OLD_SIZE = 96 * 1024;
/** New content (a different length, so old, new and torn differ). */
export const NEW_SIZE = 256 * 1024;

/**
 * @param {string} label e.g. `old:flush-async`
 * @param {number} seed
 * @param {number} size
 * @returns {Buffer}
 */
export function payload(label, seed, size) {
  const out = Buffer.alloc(size);
  const header = Buffer.from(`durable-write eio ${label} seed=${seed}\n`, 'utf8');
  header.copy(out, 0, 0, Math.min(header.length, size));
  let x = (seed ^ 0x9e3779b9) >>> 0 || 1;
  for (let i = header.length; i < size; i += 1) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** @param {Buffer} data */
export function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * What `found` is, compared with the old and new contents.
 * @param {Buffer | undefined} found
 * @param {Buffer} old
 * @param {Buffer} fresh
 * @returns {'old' | 'new' | 'missing' | 'zero-length' | 'other'}
 */
export function classify(found, old, fresh) {
  if (found === undefined) return 'missing';
  if (found.length === 0) return 'zero-length';
  if (found.equals(old)) return 'old';
  if (found.equals(fresh)) return 'new';
  return 'other';
}
