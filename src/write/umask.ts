/**
 * The process umask, read without changing it.
 *
 * `process.umask()` with no argument sets the mask to 0 and back, a window in which a file
 * created by another thread (libuv's pool) gets mode 0666; Linux publishes the mask in
 * `/proc/self/status` (since 4.7), which is read instead where it exists.
 *
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs';

/** The current umask. */
export function currentUmask(): number {
  if (process.platform === 'linux') {
    try {
      const match = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
      if (match?.[1] !== undefined) return Number.parseInt(match[1], 8);
    } catch {
      // /proc not mounted: fall through to the racy but portable call.
    }
  }
  return process.umask();
}
