/**
 * In-process serialization of writes to one file, in call order, so that the last call's data
 * wins. "One file" is the file a write actually replaces (its canonical path, symlinks and `..`
 * resolved as the kernel resolves them), so two calls through different links to the same file
 * are ordered too. Hard links are separate names: a write replaces the name, not the inode.
 *
 * Resolving a target takes I/O, and two calls may resolve in either order, so a call is admitted
 * to its file's queue only after every earlier call has been admitted ({@link admitInOrder}):
 * resolutions run concurrently, admissions happen in call order. A call whose signal fires while
 * it waits (for admission or for the calls ahead of it) leaves at once; the calls behind it still
 * wait only for those ahead of it.
 *
 * The synchronous functions cannot wait: `writeDurableSync` refuses (EBUSY) while an async write
 * to the same file is queued or running, and an async call made before a `writeDurableSync` to
 * the same file that was still resolving its target when the sync call ran gives way (EBUSY)
 * instead of overwriting the newer data. Either way the last call's data wins or the call says
 * why it did not write.
 *
 * @internal
 * @module
 */
import { untilAborted } from '../core/abort.js';

/** The tail of each file's queue: settles when the last write queued for that file has. */
const tails = new Map<string, Promise<void>>();
/** Settles once every call made so far has been admitted (or has failed to resolve). */
let admissions: Promise<void> = Promise.resolve();
/** Calls made so far, async and sync: a call's sequence number orders it against the others. */
let calls = 0;
/** Async calls still resolving their target. */
let resolving = 0;
/** While some async call is resolving: the sequence number of the last sync write to each file. */
const syncWrites = new Map<string, number>();

/** An admitted call. */
export interface Admission<R> {
  /** What the call's resolution gave. */
  readonly resolved: R;
  /** A `writeDurableSync` made after this call already replaced the same file: this call must give way. */
  readonly superseded: boolean;
}

/**
 * Admits an async call, in call order: resolves once it and every earlier call have resolved.
 * `resolution` runs concurrently with the others'; `keyOf` names the file it resolved to.
 * Rejects with the resolution's error, or with the signal's reason if it fires first.
 */
export function admitInOrder<R>(resolution: Promise<R>, keyOf: (resolved: R) => string, signal: AbortSignal | undefined): Promise<Admission<R>> {
  const sequence = (calls += 1);
  resolving += 1;
  // Its error is reported at admission; meanwhile it must not count as an unhandled rejection.
  resolution.catch(() => undefined);
  const done = (): void => {
    resolving -= 1;
    if (resolving === 0) syncWrites.clear();
  };
  const admitted = admissions
    .then(() => resolution)
    .then(
      (resolved) => {
        const later = syncWrites.get(keyOf(resolved));
        done();
        return { resolved, superseded: later !== undefined && later > sequence };
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  admissions = admitted.then(
    () => undefined,
    () => undefined,
  );
  return untilAborted(admitted, signal);
}

/**
 * Runs `task` once every earlier task on `key` has settled. `task` is told whether it waited.
 * A signal that fires while waiting rejects at once with its reason, and `task` never runs.
 */
export function enqueue<T>(key: string, task: (waited: boolean) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  const previous = tails.get(key);
  const run = previous === undefined ? task(false) : untilAborted(previous, signal).then(() => task(true));
  // The next call waits for those ahead of this one and, once this one started, for it too.
  const tail = Promise.allSettled([previous, run]).then(() => undefined);
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}

/** Whether an async write to `key` is queued or running. */
export function hasPendingWrite(key: string): boolean {
  return tails.has(key);
}

/** Records a synchronous write to `key`, so that an earlier async call still resolving gives way. */
export function recordSyncWrite(key: string): void {
  calls += 1;
  if (resolving > 0) syncWrites.set(key, calls);
}
