/**
 * Names of temporary files: `.<target name>.<hex>.tmp` in the target's directory. The target
 * name is cut (on a UTF-8 character boundary) so that the whole name fits NAME_MAX (255 bytes)
 * and the whole path fits PATH_MAX (4096 bytes with its NUL), so that any target `fs.writeFile`
 * accepts gets a temp file: near PATH_MAX the name keeps less of the target's, and at the very
 * edge drops it and shortens the random part (`.<8 hex>.tmp`, 13 bytes).
 *
 * @internal
 * @module
 */
import { randomFillSync } from 'node:crypto';
import * as nodePath from 'node:path';

/** The longest file name, in bytes, on Linux file systems (NAME_MAX). */
export const NAME_MAX = 255;
/** The longest path, in bytes, the kernel takes, less the terminating NUL (PATH_MAX - 1). */
export const PATH_MAX = 4095;

/** Random bytes in a temp name: 6 (12 hex digits), or 4 when even the shortest full name does not fit. */
const RANDOM_BYTES = 6;
const RANDOM_BYTES_AT_THE_EDGE = 4;

/** Random bytes drawn from the system in one call per {@link POOL_BYTES}, not one per name (a call costs ~8 µs). */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `count` fresh random bytes, as hex. */
function randomHex(count: number): string {
  if (used + count > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + count);
  used += count;
  return hex;
}

/** Cuts `name` to at most `maxBytes` UTF-8 bytes without splitting a character. */
function truncateUtf8(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  let bytes = 0;
  let end = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return name.slice(0, end);
}

/** A fresh temporary path beside `target`, within NAME_MAX and PATH_MAX wherever `target` itself is. */
export function tempPathFor(target: string): string {
  const dir = nodePath.dirname(target);
  // What the name may take: NAME_MAX, and what PATH_MAX leaves after the directory and its slash.
  const room = Math.min(NAME_MAX, PATH_MAX - Buffer.byteLength(dir) - 1);
  const full = `.${randomHex(RANDOM_BYTES)}.tmp`;
  const suffix = room >= full.length + 1 ? full : `.${randomHex(RANDOM_BYTES_AT_THE_EDGE)}.tmp`;
  const base = truncateUtf8(nodePath.basename(target), Math.max(0, room - 1 - suffix.length));
  return nodePath.join(dir, `.${base}${suffix}`);
}
