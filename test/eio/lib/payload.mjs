/**
 * Deterministic file contents, computed the same way in the guest (which writes them) and on the
 * host (which may check them): a readable header, then a xorshift32 stream, so a file that kept
 * only some of its pages, or another case's pages, never matches by accident.
 */
import { createHash } from 'node:crypto';
import { payload as sharedPayload } from '../../powerloss/lib/payload.mjs';

/** Old content of a target (what must survive a failed replacement, 96 KiB) and new content (256 KiB). */
export { OLD_SIZE, NEW_SIZE } from '../../powerloss/lib/payload.mjs';

/**
 * The power-loss harness's payload, with `eio` in its header.
 * @param {string} label e.g. `old:flush-async`
 * @param {number} seed
 * @param {number} size
 * @returns {Buffer}
 */
export function payload(label, seed, size) {
  return sharedPayload(label, seed, size, 'eio');
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
