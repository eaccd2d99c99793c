/**
 * The core of the library: one algorithm, two drivers. Every durable operation is written once
 * as a generator (an {@link Operation}) that yields {@link Effect}s, one file-system primitive
 * each, and is run either synchronously (the `*Sync` functions, {@link runSync}) or
 * asynchronously ({@link runAsync}). The drivers differ only in calling an effect's `sync()` or
 * `async()` form, so both modes make the same syscalls in the same order. Errors thrown by an
 * effect are thrown back into the generator at its `yield`, so `try`/`catch`/`finally` cleanup
 * in the algorithm works in both. `src/core/` also holds what every area shares: the argument
 * prologue, the errors, the file-system seam and its effects, and the child-process runner.
 *
 * @internal
 * @module
 */

/** One primitive, runnable in both modes. */
export interface Effect<T> {
  /**
   * The step this effect is, as `onStep` reports it: the primitive's name (`open`, `write`,
   * `fsync`, `rename`...). `undefined` for an effect that is no file-system step (pulling the
   * caller's data from a stream), which is not reported.
   */
  readonly step: string | undefined;
  sync(): T;
  async(): Promise<T>;
}

/** A durable operation: a generator of effects returning `T`. */
export type Operation<T> = Generator<Effect<unknown>, T, unknown>;

/** Runs one effect inside an operation and returns its result (the only place results are typed back). */
export function* perform<T>(effect: Effect<T>): Operation<T> {
  // The driver sends back exactly what this effect produced: the generator protocol cannot type it.
  return (yield effect) as T;
}

/** Called after every reported effect with its step name and how long it took, in milliseconds. */
export type EffectObserver = (step: string, milliseconds: number) => void;

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

function resume<T>(operation: Operation<T>, outcome: Outcome): IteratorResult<Effect<unknown>, T> {
  return outcome.ok ? operation.next(outcome.value) : operation.throw(outcome.error);
}

/** Reports `effect` to `observe` unless it is no step. */
function report(observe: EffectObserver | undefined, effect: Effect<unknown>, started: number): void {
  if (observe !== undefined && effect.step !== undefined) observe(effect.step, performance.now() - started);
}

/** Drives `operation` with each effect's synchronous form. */
export function runSync<T>(operation: Operation<T>, observe?: EffectObserver): T {
  let outcome: Outcome = { ok: true, value: undefined };
  for (;;) {
    const next: IteratorResult<Effect<unknown>, T> = resume(operation, outcome);
    if (next.done === true) return next.value;
    const started = observe === undefined ? 0 : performance.now();
    try {
      outcome = { ok: true, value: next.value.sync() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    report(observe, next.value, started);
  }
}

/** Drives `operation` with each effect's asynchronous form. */
export async function runAsync<T>(operation: Operation<T>, observe?: EffectObserver): Promise<T> {
  let outcome: Outcome = { ok: true, value: undefined };
  for (;;) {
    const next: IteratorResult<Effect<unknown>, T> = resume(operation, outcome);
    if (next.done === true) return next.value;
    const started = observe === undefined ? 0 : performance.now();
    try {
      outcome = { ok: true, value: await next.value.async() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    report(observe, next.value, started);
  }
}
