/**
 * One algorithm, two drivers: every durable operation is written once as a generator that
 * yields {@link Effect}s (one file-system primitive each), and is run either synchronously
 * (`*Sync` functions) or asynchronously. Errors thrown by an effect are thrown back into the
 * generator at its `yield`, so `try`/`catch`/`finally` cleanup in the algorithm works in both.
 *
 * @internal
 * @module
 */

/** One primitive, runnable in both modes. `label` names the step for timing hooks. */
export interface Effect<T> {
  readonly label: string;
  sync(): T;
  async(): Promise<T>;
}

/** A durable operation: a generator of effects returning `T`. */
export type Step<T> = Generator<Effect<unknown>, T, unknown>;

/** Runs one effect inside a step and returns its result (the only place results are typed back). */
export function* perform<T>(effect: Effect<T>): Step<T> {
  return (yield effect) as T;
}

/** Called after every effect with its label and how long it took, in milliseconds. */
export type EffectObserver = (label: string, milliseconds: number) => void;

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

function resume<T>(step: Step<T>, outcome: Outcome): IteratorResult<Effect<unknown>, T> {
  return outcome.ok ? step.next(outcome.value) : step.throw(outcome.error);
}

/** Drives `step` with each effect's synchronous form. */
export function runSync<T>(step: Step<T>, observe?: EffectObserver): T {
  let outcome: Outcome = { ok: true, value: undefined };
  for (;;) {
    const next: IteratorResult<Effect<unknown>, T> = resume(step, outcome);
    if (next.done === true) return next.value;
    const started = observe === undefined ? 0 : performance.now();
    try {
      outcome = { ok: true, value: next.value.sync() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    observe?.(next.value.label, performance.now() - started);
  }
}

/** Drives `step` with each effect's asynchronous form. */
export async function runAsync<T>(step: Step<T>, observe?: EffectObserver): Promise<T> {
  let outcome: Outcome = { ok: true, value: undefined };
  for (;;) {
    const next: IteratorResult<Effect<unknown>, T> = resume(step, outcome);
    if (next.done === true) return next.value;
    const started = observe === undefined ? 0 : performance.now();
    try {
      outcome = { ok: true, value: await next.value.async() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    observe?.(next.value.label, performance.now() - started);
  }
}
