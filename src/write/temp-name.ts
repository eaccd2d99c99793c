/**
 * Names of temporary files: `.<target name>.<12 hex>.tmp` in the target's directory, the
 * target name cut (on a UTF-8 character boundary) so that the whole name fits NAME_MAX
 * (255 bytes) even when the target's own name is 255 bytes long.
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto';
import * as nodePath from 'node:path';

/** The longest file name, in bytes, on Linux file systems (NAME_MAX). */
export const NAME_MAX = 255;

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

/** A fresh temporary path beside `target`. */
export function tempPathFor(target: string): string {
  const suffix = `.${randomBytes(6).toString('hex')}.tmp`;
  const base = truncateUtf8(nodePath.basename(target), NAME_MAX - 1 - suffix.length);
  return nodePath.join(nodePath.dirname(target), `.${base}${suffix}`);
}
