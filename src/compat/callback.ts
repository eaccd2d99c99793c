/**
 * The callback forms of the originals, over a promise: fs-extra's (`universalify.fromPromise`:
 * when the last argument is a function it is the callback, called with `null` on success, and
 * nothing is returned) and write-file-atomic's (a callback in the options' place or after them,
 * called with `undefined` on success). Either way the callback is called once: a callback that
 * throws makes an unhandled rejection, as with universalify, and is not called again.
 *
 * @internal
 * @module
 */
import { checkFunction } from '../core/arguments.js';

/** fs-extra's callback: `null` on success, the error on failure (Node's `NoParamCallback`). */
export type NoParamCallback = (error: NodeJS.ErrnoException | null) => void;

/** write-file-atomic's callback: `undefined` on success, the error on failure. */
export type WriteFileAtomicCallback = (error?: Error) => void;

/** What a rejection carries, as an `Error` for a callback (every error this package raises is one). */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** Calls `callback` once `promise` settles: with `success` when it fulfils, with its error when it rejects. */
export function settle<S extends null | undefined>(promise: Promise<void>, callback: (error: Error | S) => void, success: S): void {
  void promise.then(
    () => callback(success),
    (reason: unknown) => callback(asError(reason)),
  );
}

/**
 * Runs `run` the way `universalify.fromPromise` runs an fs-extra function on `args` (the
 * arguments after the file): with a function last, that function is the callback (even in the
 * data's place: `outputFile(file, callback)` writes `undefined`, and says why to the callback)
 * and `undefined` is returned; otherwise the promise is. `run` gets the data and the options.
 */
export function fromPromise(
  operation: string,
  args: readonly unknown[],
  run: (data: unknown, options: unknown) => Promise<void>,
): Promise<void> | undefined {
  const last = args.at(-1);
  const callback = typeof last === 'function' ? checkFunction<NoParamCallback>(last, 'callback', operation) : undefined;
  if (callback === undefined) return run(args[0], args[1]);
  const before = args.slice(0, -1);
  settle(run(before[0], before[1]), callback, null);
  return undefined;
}
