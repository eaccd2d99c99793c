/**
 * Deterministic file contents for one trial, computed the same way in the guest (which writes
 * them) and on the host (which checks what the disk kept).
 *
 * The bytes start with a readable header and continue with a xorshift32 stream, so a file that
 * kept only some of its pages, or pages of another trial, never matches by accident.
 */

/** Size of the file a scenario writes (64 pages of 4 KiB). */
export const NEW_SIZE = 256 * 1024;
/** Size of the file scenario (e) replaces: a different length, so old, new and torn differ. */
export const OLD_SIZE = 96 * 1024;

/**
 * The `size` bytes for `label` (for example `new:b:3`) and `seed`. The header names the harness
 * (`powerloss` unless told; the EIO harness passes `eio`).
 * @param {string} label
 * @param {number} seed
 * @param {number} size
 * @param {string} [harness]
 * @returns {Buffer}
 */
export function payload(label, seed, size, harness = 'powerloss') {
  const out = Buffer.alloc(size);
  const header = Buffer.from(`durable-write ${harness} ${label} seed=${seed}\n`, 'utf8');
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
