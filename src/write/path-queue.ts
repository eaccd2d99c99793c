/**
 * The order of writes to one file in one JavaScript thread: the last call's data wins, and a call
 * that does not write says so.
 *
 * A call is identified by its sequence number (call order) and queued under two keys: the path
 * the caller gave (made absolute, not normalised) and the file it resolved to (its canonical path:
 * symlinks and `..` resolved as the kernel resolves them, so that two names of one file meet).
 * Hard links are separate names: a write replaces the name, not the inode.
 *
 * 1. **Resolution.** Resolving a target takes I/O, and a resolution can stall (a hung NFS or FUSE
 *    mount). A call waits for the calls made earlier through the same path to be admitted: calls
 *    through one path are admitted in call order, whatever their resolutions give (a directory
 *    swapped for a symlink between two calls included). For older calls through other paths it
 *    waits at most {@link RESOLUTION_GRACE_MS} after they began: calls through different names of
 *    one file are admitted in call order unless a resolution takes longer than that, and a
 *    stalled target holds up other writes only that long, then not at all.
 * 2. **Admission.** A resolved call is queued at once under both its keys: it runs once every write
 *    queued before it under either key has settled.
 * 3. **Its turn.** Before it runs, a call that finds newer data already in place under one of its
 *    keys (a call made after it, through another name, was admitted first and has replaced the
 *    file; or a `writeDurableSync` has) gives way: it rejects with `EBUSY` and writes nothing,
 *    rather than overwrite newer data. A newer call that failed before its rename does not count:
 *    the older one then writes, as it would have in call order.
 *
 * The synchronous functions cannot wait: `writeDurableSync` refuses (`EBUSY`) while an async write
 * through the same path or to the same file is queued or running (admitted), and an async call
 * still resolving when a `writeDurableSync` replaced the same file gives way at its turn.
 *
 * A call whose signal fires while it waits (to be admitted, or for the writes ahead of it) leaves
 * at once; the calls behind it still wait only for those ahead of it.
 *
 * The state is shared by every copy of the library in the thread (`process-state.ts`).
 *
 * @internal
 * @module
 */
import { untilAborted } from '../core/abort.js';
import { DurableWriteError } from '../core/errors.js';
import type { FailureContext } from '../core/failure.js';
import { processState as state } from './process-state.js';

/** An async write on its way through the queue. */
export interface OrderedWrite<R, T> {
  /** The caller's path, made absolute but not normalised. */
  readonly path: string;
  /** The resolution of the target, already started. */
  readonly resolution: Promise<R>;
  /** The canonical path of the file `resolved` names. */
  readonly fileOf: (resolved: R) => string;
  readonly signal: AbortSignal | undefined;
  /** The write, at its turn. `waited`: it waited behind another write, so its resolution may be stale. */
  readonly run: (resolved: R, waited: boolean) => Promise<T>;
  /** For the error of a call that gives way. */
  readonly ctx: FailureContext;
}

/** A synchronous write: it cannot wait, so it runs at once or is refused. */
export interface SyncWrite<R, T> {
  readonly path: string;
  readonly resolve: () => R;
  readonly fileOf: (resolved: R) => string;
  readonly run: (resolved: R) => T;
  readonly ctx: FailureContext;
}

/** The keys a call is queued under: its file and, when it differs, its path. */
function keysOf(path: string, file: string): readonly string[] {
  return file === path ? [file] : [file, path];
}

/** Whether a failed write had already put its data in place (only the directory fsync failed after the rename). */
function replacedDespite(error: unknown): boolean {
  return error instanceof DurableWriteError && error.stage === 'flush-directory';
}

/** Records that call `sequence` put its data in place under `keys`. */
function markReplaced(keys: readonly string[], sequence: number): void {
  for (const key of keys) {
    if ((state.replaced.get(key) ?? 0) < sequence) state.replaced.set(key, sequence);
  }
}

/** Whether data newer than call `sequence` is already in place under one of `keys`. */
function newerReplaced(keys: readonly string[], sequence: number): boolean {
  return keys.some((key) => (state.replaced.get(key) ?? 0) > sequence);
}

/** With no call left resolving, only a key with queued writes can still be checked: forget the others. */
function forgetReplaced(): void {
  for (const key of state.replaced.keys()) {
    if (!state.tails.has(key)) state.replaced.delete(key);
  }
}

/** The error of an older call that gives way to newer data. */
function givesWay(file: string, ctx: FailureContext): DurableWriteError {
  return new DurableWriteError(
    `${ctx.operation}: a write to ${file} made after this call (through another name of the file, or a writeDurableSync) has already replaced it; ` +
      "this older write was not made, so that the last call's data wins (do not retry it: that would put the older data back)",
    { code: 'EBUSY', stage: 'validate', path: ctx.path },
  );
}

/**
 * How long a call waits for the target resolutions of older calls through other paths: long
 * enough for a resolution that is merely queued behind other I/O in libuv's thread pool, so that
 * calls through different names of one file are admitted in call order; short enough that a
 * stalled one (a hung mount) holds up other writes only briefly, and only once: a call does not
 * wait at all for a resolution that began longer ago than this.
 */
const RESOLUTION_GRACE_MS = 250;

/** `settled`, or the grace, whichever comes first. */
function withinGrace(settled: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, RESOLUTION_GRACE_MS);
  });
  return Promise.race([settled, graceOver]).then(() => clearTimeout(timer));
}

/** `run(...)`, with a synchronous throw as a rejection. */
function started<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Queues call `sequence` under its keys: it runs once every write queued before it under any of
 * them has settled, unless newer data is in place by then (it gives way) or its signal fires.
 */
function enqueue<R, T>(write: OrderedWrite<R, T>, sequence: number, resolved: R, file: string): Promise<T> {
  const keys = keysOf(write.path, file);
  const ahead = keys.flatMap((key) => state.tails.get(key) ?? []);
  /** Whether its turn came: every write ahead of it has settled. */
  let turnCame = false;
  const turn = (waited: boolean): Promise<T> => {
    turnCame = true;
    return newerReplaced(keys, sequence) ? Promise.reject(givesWay(file, write.ctx)) : started(() => write.run(resolved, waited));
  };
  const running = ahead.length === 0 ? turn(false) : untilAborted(Promise.all(ahead), write.signal).then(() => turn(true));
  let tail: Promise<void> | undefined;
  /** Nothing queued under its keys up to this call is pending any more: a key whose tail it still is, is free. */
  const free = (): void => {
    for (const key of keys) {
      if (state.tails.get(key) !== tail) continue;
      state.tails.delete(key);
      if (state.resolving.size === 0) state.replaced.delete(key);
    }
  };
  // Run before the caller hears of the outcome (its promise derives from `running`), so that a
  // writeDurableSync right after `await writeDurable(...)` finds the file free, and before the
  // next call's turn, which waits for the tail.
  const settledHere = (replaced: boolean): void => {
    if (replaced) markReplaced(keys, sequence);
    if (turnCame) free();
  };
  const recorded = running.then(
    () => settledHere(true),
    (error: unknown) => settledHere(replacedDespite(error)),
  );
  // A call that left while waiting still holds its keys until those ahead of it have settled.
  tail = Promise.all([...ahead, recorded]).then(free);
  for (const key of keys) state.tails.set(key, tail);
  return running;
}

/**
 * Orders an async write (see the module comment): waits for its own resolution, for the earlier
 * calls through the same path to be admitted and, each up to the grace, for the resolutions of
 * the older calls through other paths; queues it under its path and its file, and runs it at its
 * turn. Rejects with the resolution's error, with `EBUSY` if it gives way, with the
 * signal's reason if it fires while waiting, or as `run` does.
 */
export function writeInOrder<R, T>(write: OrderedWrite<R, T>): Promise<T> {
  const sequence = (state.calls += 1);
  state.resolving.add(sequence);
  // Its error is reported once the call is admitted; meanwhile it must not count as unhandled.
  write.resolution.catch(() => undefined);
  const earlier = state.admitting.get(write.path);
  const others = state.resolutions;
  let admittedOrLeft: () => void = () => undefined;
  const own = new Promise<void>((resolve) => (admittedOrLeft = resolve));
  state.resolutions = Promise.all([others, withinGrace(own)]).then(() => undefined);
  const admissions = earlier === undefined ? own : Promise.all([earlier, own]).then(() => undefined);
  state.admitting.set(write.path, admissions);
  void admissions.then(() => {
    if (state.admitting.get(write.path) === admissions) state.admitting.delete(write.path);
  });
  let resolving = true;
  const leave = (): void => {
    if (!resolving) return;
    resolving = false;
    state.resolving.delete(sequence);
    if (state.resolving.size === 0) forgetReplaced();
    admittedOrLeft();
  };
  const ready = Promise.all([write.resolution, earlier, others]).then(([resolved]) => resolved);
  return untilAborted(ready, write.signal, leave).then(
    (resolved) => {
      // Queued before it leaves `resolving`, so that what it must check is not forgotten meanwhile.
      const queued = enqueue(write, sequence, resolved, write.fileOf(resolved));
      leave();
      return queued;
    },
    (error: unknown) => {
      leave();
      throw error;
    },
  );
}

/**
 * Runs a synchronous write at once, or refuses it (`EBUSY`, nothing written) while an async write
 * through the same path or to the same file is queued or running. Once its data is in place, an
 * older async call still resolving gives way at its turn.
 */
export function writeSyncInOrder<R, T>(write: SyncWrite<R, T>): T {
  const sequence = (state.calls += 1);
  const resolved = write.resolve();
  const file = write.fileOf(resolved);
  if (state.tails.has(file) || state.tails.has(write.path)) {
    throw new DurableWriteError(
      `${write.ctx.operation}: an async write to ${file} is still queued or running; a synchronous write cannot wait for it, ` +
        'and writing now would let the earlier call overwrite this one: await the async write first',
      { code: 'EBUSY', stage: 'validate', path: write.ctx.path },
    );
  }
  let replaced = false;
  try {
    const result = write.run(resolved);
    replaced = true;
    return result;
  } catch (error) {
    replaced = replacedDespite(error);
    throw error;
  } finally {
    // Only a call still resolving can be older and not yet past its turn.
    if (replaced && state.resolving.size > 0) markReplaced(keysOf(write.path, file), sequence);
  }
}
