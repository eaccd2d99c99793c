/**
 * Whether the writer of a temp file may still be running: the pid in its name (see
 * `temp-name.ts`) names a process that exists on this machine, in this pid namespace. Pids are
 * reused, so a caller trusts the answer only for a file changed recently enough, and, for this
 * process's own pid, only for a file changed since this process started.
 *
 * @internal
 * @module
 */
import { errnoCode } from '../core/errors.js';

/**
 * When this process started, in milliseconds since the epoch. Read once, when the module loads:
 * a later step of the clock (NTP at boot) moves the file times written after it and `Date.now()`
 * alike, not this value. `process.uptime()` is the process's, in a Worker thread too.
 */
const PROCESS_START_MS = Date.now() - process.uptime() * 1000;

/**
 * How far before {@link PROCESS_START_MS} a file must have been last modified to count as older
 * than this process: file times come from a coarse clock (up to a tick, 1 to 10 ms, behind), and
 * an error here would remove the temp file of a live write in another thread of this process.
 */
const START_SLACK_MS = 1000;

/** Whether a process with this pid exists: `kill(pid, 0)` succeeds, or fails with EPERM (it runs as another user). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // ESRCH: no such process. Anything else is no proof of death: count it as running.
    return errnoCode(error) !== 'ESRCH';
  }
}

/**
 * Whether a file last modified at `mtimeMs` predates this process, so that a temp file named with
 * this process's pid was made by an earlier process that had the same pid (a container restarted,
 * whose service is pid 1 again). An unknown time (`NaN`) does not.
 */
export function predatesThisProcess(mtimeMs: number): boolean {
  return mtimeMs < PROCESS_START_MS - START_SLACK_MS;
}
