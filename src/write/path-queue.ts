/**
 * In-process serialization of writes to one path: each write starts when the previous one to
 * the same path has settled, so calls complete in call order and the last call's data wins.
 *
 * @internal
 * @module
 */

const tails = new Map<string, Promise<void>>();

/** Runs `task` after every earlier task queued under `key` has settled. */
export function enqueue<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = tails.get(key);
  const run = previous === undefined ? task() : previous.then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}
