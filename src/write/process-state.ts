/**
 * The state every copy of durable-write in one JavaScript thread shares: the per-file write queue
 * (`path-queue.ts`) and the registry of temp files in use (`held-temps.ts`).
 *
 * One process can hold several copies of the library: an ES module application whose CommonJS
 * dependency `require()`s durable-write loads both `dist/index.js` and `dist/index.cjs`, and a
 * bundler may inline yet another. Module state would give each copy its own queue, so that a
 * newer write through one copy could be overtaken by an older one through the other (the older
 * data won), and its own registry, so that one copy's `removeStaleTemps` could remove the temp
 * file of a write in flight in the other. So the state is kept on `globalThis`, under
 * `Symbol.for('durable-write.process-state.v1')`: the first copy loaded creates it
 * (non-enumerable, read-only, not configurable), every later copy joins it.
 *
 * It is one per JavaScript thread, not per process: a `worker_threads` Worker has its own
 * `globalThis`, hence its own queue (docs/api.md, Order, says what holds across threads).
 *
 * ## Version 1: what a copy must keep to join under this key
 *
 * The state is data only; every copy runs its own code over it, so every copy under one key must
 * read and change it by the same rules. A later version may join by keeping all of this; one
 * that changes any of it must take a new key (`.v2`), and its calls are then not ordered with
 * those of copies under this one. Each field, and the rules over it:
 *
 * - `version`: `1`.
 * - `calls`: the sequence number last handed out. An async call takes `calls += 1` when it is
 *   made, a synchronous write when it starts: sequence numbers are call order.
 * - `resolving`: the sequence numbers of async calls made but not yet admitted to the queue (still
 *   resolving their target, or waiting for earlier calls). A call leaves it when admitted, when
 *   its resolution fails, or when its signal fires.
 * - `resolutions`: a promise that never rejects and settles once every async call made so far has
 *   left `resolving` or has been in it for a grace. A call waits for it (as it was when the call
 *   was made) before it is admitted, and replaces it by one that also waits for itself, up to the
 *   grace: so calls through different names of one file are admitted in call order unless a
 *   resolution stalls, and a stalled one holds up the others only for the grace. The grace is
 *   250 ms in this version; a copy may take another, as only how often an older call gives way
 *   (below) depends on it, never which data wins.
 * - `admitting`: per path string (the caller's path made absolute, not normalised), a promise
 *   that never rejects and settles once every async call made so far through that path has been
 *   admitted or has left `resolving`. A call waits for it before it is admitted, and replaces it
 *   by one that also waits for itself; an entry still current when it settles is deleted.
 * - `tails`: per key (a resolved file's canonical path, or a path string), a promise that never
 *   rejects and settles once every write queued under that key so far has settled. An admitted
 *   call is queued under its file and its path string: it runs once the tails of both have
 *   settled, and replaces both by one that also waits for itself. An entry the call set and no
 *   later call replaced is deleted as soon as the call has settled after its turn came (before
 *   its caller hears of it), or, if it left while waiting, once the writes ahead of it have
 *   settled. A key with an entry has a write queued or running: a synchronous write to it is
 *   refused (EBUSY).
 * - `replaced`: per key, the highest sequence number of a call that has put its data in place
 *   under that key (its rename was made; recorded as the call settles, before the next call's
 *   turn), kept while `resolving` is not empty or the key has a tail. An async call whose turn comes (admitted and first in both its queues) gives way
 *   (EBUSY, nothing written) if either of its keys holds a higher sequence number than its own:
 *   newer data is already in place.
 * - `heldTemps`: the paths of the temp files writes in this thread hold (created, not yet renamed
 *   or removed); `removeStaleTemps` never removes one.
 * - `heldTargets`: per target, how many writes to it run on the write worker (whose temp names
 *   this thread never learns); every temp name that can belong to such a target counts as held.
 *
 * @internal
 * @module
 */

/** The shared state, version 1 (see the module comment for the rules every copy keeps). */
export interface ProcessState {
  readonly version: 1;
  calls: number;
  readonly resolving: Set<number>;
  resolutions: Promise<void>;
  readonly admitting: Map<string, Promise<void>>;
  readonly tails: Map<string, Promise<void>>;
  readonly replaced: Map<string, number>;
  readonly heldTemps: Set<string>;
  readonly heldTargets: Map<string, number>;
}

/** Where the state lives on `globalThis`. */
const PROCESS_STATE_KEY = Symbol.for('durable-write.process-state.v1');

/** Whether `value` has the shape of version 1 (a copy of this version, or of a later one that joined). */
function isProcessState(value: unknown): value is ProcessState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<Record<keyof ProcessState, unknown>>;
  return (
    state.version === 1 &&
    typeof state.calls === 'number' &&
    state.resolving instanceof Set &&
    state.resolutions instanceof Promise &&
    state.admitting instanceof Map &&
    state.tails instanceof Map &&
    state.replaced instanceof Map &&
    state.heldTemps instanceof Set &&
    state.heldTargets instanceof Map
  );
}

/** The state of this thread: the one an earlier copy created, or a new one. */
function joinOrCreate(): ProcessState {
  const existing: unknown = Reflect.get(globalThis, PROCESS_STATE_KEY);
  if (existing !== undefined) {
    if (isProcessState(existing)) return existing;
    throw new Error(
      "durable-write: globalThis[Symbol.for('durable-write.process-state.v1')] holds something that is not durable-write's shared state; " +
        'writes could not be ordered with the other copies of durable-write in this process',
    );
  }
  const created: ProcessState = {
    version: 1,
    calls: 0,
    resolving: new Set(),
    resolutions: Promise.resolve(),
    admitting: new Map(),
    tails: new Map(),
    replaced: new Map(),
    heldTemps: new Set(),
    heldTargets: new Map(),
  };
  Object.defineProperty(globalThis, PROCESS_STATE_KEY, { value: created, enumerable: false, writable: false, configurable: false });
  return created;
}

/** The state shared by every copy of durable-write in this thread. */
export const processState: ProcessState = joinOrCreate();
