/**
 * Waiting that an `AbortSignal` can cut short.
 *
 * @internal
 * @module
 */

/**
 * Settles as `promise` does, or rejects with the signal's reason the moment it fires (at once if
 * it already has), first calling `onAbort` (to stop what `promise` waits for: destroy a stream).
 * The listener is removed once `promise` settles, so long-lived signals do not accumulate them.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort?: () => void): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort?.();
      reject(signal.reason);
    };
    if (signal.aborted) {
      // Given up on at once: should it reject later, that must not count as an unhandled rejection.
      promise.catch(() => undefined);
      abort();
      return;
    }
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
