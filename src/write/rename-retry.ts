/**
 * A rename retried while Windows refuses it for a file that another process holds open.
 *
 * On Windows, renaming over a file (or renaming a file) that another process has open without
 * `FILE_SHARE_DELETE` fails with `EPERM` (also `EACCES`, `EBUSY`) until that process closes it.
 * Antivirus scanners, search indexers and backup or sync clients open new and changed files for a
 * moment all the time, so such a refusal is usually transient: the rename is tried again, with a
 * backoff of 10 ms rising by 10 ms per try up to 100 ms (graceful-fs's), until it succeeds or the
 * window ({@link RenameRetry.windowMs}, the `renameRetryMs` option) has passed; then the last
 * refusal fails the call, with a message naming the likely cause. The caller's `signal` ends the
 * wait (the call then rejects with an `AbortError`).
 *
 * On Linux and macOS these errors are permanent (permissions, a mount point) and the window is 0:
 * one rename, as before, the same syscalls. The wait between tries is an effect, so the sync and
 * async drivers share the algorithm: `setTimeout` asynchronously, `Atomics.wait` synchronously
 * (which blocks the thread, hence the shorter default window of the synchronous functions).
 *
 * @internal
 * @module
 */
import { perform, type Effect, type Operation } from '../core/effect.js';
import { errnoCode } from '../core/errors.js';
import { SHARING_VIOLATIONS, throwIfAborted, wrapError, type FailureContext } from '../core/failure.js';
import type { FileIo } from '../core/file-io.js';

/** How a rename is retried. */
export interface RenameRetry {
  /** How long, in milliseconds from the first refusal, refusals are retried; 0: never (Linux, macOS). */
  readonly windowMs: number;
  /** Ends the wait: the operation then throws an `AbortError` (stage `rename`). */
  readonly signal: AbortSignal | undefined;
}

/** The wait before retry number `retry` (from 1): 10 ms, then 10 ms more per retry, at most 100 ms (graceful-fs's backoff). */
export function renameBackoffMs(retry: number): number {
  return Math.min(10 * retry, 100);
}

/** A word for `Atomics.wait` to sleep on: nobody ever notifies it. */
let sleeper: Int32Array | undefined;

/** Waits `ms` milliseconds, or until `signal` fires; no file-system step (`onStep` does not see it). */
function pause(ms: number, signal: AbortSignal | undefined): Effect<void> {
  return {
    step: undefined,
    sync: () => {
      sleeper ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(sleeper, 0, 0, ms);
    },
    async: () =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}

/**
 * `rename(from, to)`, retried while refused with `EPERM`, `EACCES` or `EBUSY` for
 * `retry.windowMs` (see the module comment). Any other failure, or the last refusal, is thrown as
 * the error of stage `rename` (`what` naming the step, as in `wrapError`).
 */
export function* renameRetrying(io: FileIo, from: string, to: string, retry: RenameRetry, ctx: FailureContext, what?: string): Operation<void> {
  let started: number | undefined;
  for (let retries = 0; ; retries += 1) {
    try {
      yield* perform(io.rename(from, to));
      return;
    } catch (error) {
      const code = errnoCode(error);
      if (retry.windowMs === 0 || code === undefined || !SHARING_VIOLATIONS.has(code)) throw wrapError('rename', error, ctx, what);
      started ??= performance.now();
      const left = retry.windowMs - (performance.now() - started);
      if (left <= 0) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        throw wrapError('rename', error, ctx, `${what ?? 'renaming the temporary file over the target'} (tried ${retries + 1} times over ${seconds} s)`);
      }
      throwIfAborted(retry.signal, 'rename', ctx);
      yield* perform(pause(Math.min(renameBackoffMs(retries + 1), left), retry.signal));
      throwIfAborted(retry.signal, 'rename', ctx);
    }
  }
}
