/**
 * Group commit for directory fsyncs: concurrent async operations whose renames land in the same
 * directory share its fsyncs instead of each making one.
 *
 * The rule, per directory (per file system seam and directory path):
 *
 * - at most one directory fsync is in flight;
 * - a caller that asks while none is in flight starts one at once (a lone writer never waits for
 *   anybody);
 * - a caller that asks while one is in flight waits for the next one, which starts as soon as
 *   the current one ends and covers every caller that asked in the meantime. It is never covered
 *   by an fsync that started before it asked: its rename may have come after that fsync read the
 *   directory;
 * - an fsync's outcome is every covered caller's: all resolve, or all reject with its error (each
 *   caller then wraps and judges it under its own policy). Nothing is retried.
 *
 * Why it is sound: `fsync(2)` of a directory makes durable every change to it that completed
 * before the call, through any descriptor of that directory; a caller asks only once its rename
 * has returned. The fsync runs on the descriptor of the first caller of the batch; the others
 * only close theirs.
 *
 * Only the async driver shares (a blocking `*Sync` call cannot wait for others). The write
 * worker, which fsyncs on its own thread, first reserves the directory
 * ({@link reserveDirectoryFsync}) so that its fsync counts as the one in flight.
 *
 * @internal
 * @module
 */

/** A caller waiting for a directory fsync that starts after it asked. */
interface Waiter {
  /** Runs an fsync of the directory on this caller's own descriptor. */
  readonly fsync: () => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** One directory's fsyncs: whether one is in flight, and who waits for the next. */
interface Group {
  running: boolean;
  waiting: Waiter[];
}

/** The groups of each seam (keyed by an object that stands for it), by directory path. */
const groupsBySeam = new WeakMap<object, Map<string, Group>>();

function groupOf(seam: object, directory: string): Group {
  let groups = groupsBySeam.get(seam);
  if (groups === undefined) {
    groups = new Map();
    groupsBySeam.set(seam, groups);
  }
  let group = groups.get(directory);
  if (group === undefined) {
    group = { running: false, waiting: [] };
    groups.set(directory, group);
  }
  return group;
}

/** Starts the next fsync of `group`, covering every caller waiting now. */
function startBatch(seam: object, directory: string, group: Group): void {
  const batch = group.waiting;
  const leader = batch[0];
  if (leader === undefined) return;
  group.waiting = [];
  group.running = true;
  const settle = (outcome: { ok: true } | { ok: false; error: unknown }): void => {
    for (const waiter of batch) {
      if (outcome.ok) waiter.resolve();
      else waiter.reject(outcome.error);
    }
    group.running = false;
    if (group.waiting.length > 0) startBatch(seam, directory, group);
    else groupsBySeam.get(seam)?.delete(directory);
  };
  let started: Promise<void>;
  try {
    started = leader.fsync();
  } catch (error) {
    started = Promise.reject(error);
  }
  started.then(
    () => settle({ ok: true }),
    (error: unknown) => settle({ ok: false, error }),
  );
}

/**
 * Resolves once a directory fsync that started after this call has succeeded; rejects with that
 * fsync's error. `seam` identifies the file system (calls on different seams never share),
 * `directory` the directory by path, and `fsync` makes the fsync on the caller's own descriptor,
 * used if this caller is the first of its batch.
 */
export function sharedDirectoryFsync(seam: object, directory: string, fsync: () => Promise<void>): Promise<void> {
  const group = groupOf(seam, directory);
  return new Promise<void>((resolve, reject) => {
    group.waiting.push({ fsync, resolve, reject });
    if (!group.running) startBatch(seam, directory, group);
  });
}

/**
 * Claims `directory`'s fsyncs for a writer that fsyncs it on its own (the write worker), if no
 * fsync of it is in flight: until `release` is called, callers of {@link sharedDirectoryFsync}
 * wait as they would for an fsync in flight, then share the next one. `undefined` when busy.
 */
export function reserveDirectoryFsync(seam: object, directory: string): (() => void) | undefined {
  const group = groupOf(seam, directory);
  if (group.running) return undefined;
  group.running = true;
  return () => {
    group.running = false;
    if (group.waiting.length > 0) startBatch(seam, directory, group);
    else if (!group.running) groupsBySeam.get(seam)?.delete(directory);
  };
}
