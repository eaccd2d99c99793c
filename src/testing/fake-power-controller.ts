/**
 * `FakePowerController`: an in-memory {@link PowerController} for unit tests, optionally linked
 * to the crash simulator so that a hard power action loses unflushed data.
 *
 * @module
 */
import { checkChoice, checkInteger, checkSignal, checkTimeout, describeValue, invalidArgType, optionsObject } from '../core/arguments.js';
import {
  POWER_CONTROL_REASONS,
  POWER_VERBS,
  PowerControlError,
  type PowerCallOptions,
  type PowerController,
  type PowerControlReason,
  type PowerState,
  type PowerVerb,
} from '../power/power-controller.js';

/** What the fake needs of a crash simulator (the one in `durable-write/testing` fits). */
export interface PowerSimulatorLink {
  /** Throws away everything not yet flushed, as a power cut does. */
  crash(): void;
  /** Flushes everything, as an orderly shutdown does before powering off. */
  sync(): void | Promise<void>;
}

/** Options of {@link FakePowerController}. */
export interface FakePowerControllerOptions {
  /** The power state at the start. Default `'on'`. */
  readonly initialState?: PowerState | undefined;
  /**
   * A crash simulator to act on: `off()`, `cycle()` and `reset()` of a machine that is on call
   * `crash()` (a hard cut loses unflushed data); `softOff()` of a machine that is on awaits
   * `sync()`, then calls `crash()` (an orderly ACPI shutdown flushes first). Default: none.
   */
  readonly simulator?: PowerSimulatorLink | undefined;
}

/** One recorded call. */
export interface FakePowerCall {
  /** The method called. */
  readonly verb: PowerVerb;
  /** When it was called (`Date.now()`). */
  readonly at: number;
}

/** How to fail, for {@link FakePowerController.fail}. */
export interface FakePowerFailureOptions {
  /** Only calls of this verb fail. Default: every verb. */
  readonly verb?: PowerVerb | undefined;
  /** How many calls fail before the fake succeeds again. Default: every call until `succeed()`. */
  readonly times?: number | undefined;
}

interface Failure {
  readonly reason: PowerControlReason;
  readonly verb: PowerVerb | undefined;
  remaining: number;
}

/**
 * A {@link PowerController} that keeps its power state in memory and records every call. It can
 * be told to fail with a `PowerControlError` of a given `reason` ({@link fail}) or to take time
 * ({@link setDelay}); a delayed call honours its AbortSignal (rejecting with reason `'aborted'`).
 *
 * Semantics follow a real BMC: `on()`/`off()` succeed when already in that state; `cycle()` of a
 * machine that is off rejects with reason `'unsupported'` (IPMI asks BMCs to refuse it);
 * `reset()` leaves the state as it was; `softOff()` ends `'off'`. With a `simulator` linked, a
 * hard action on a running machine calls `simulator.crash()`, and `softOff()` awaits
 * `simulator.sync()` first.
 *
 * @example
 * ```ts
 * import { FakePowerController } from 'durable-write/testing';
 * const power = new FakePowerController();
 * await power.reset();
 * power.calls; // [{ verb: 'reset', at: 1767225600000 }]
 * power.fail('auth', { verb: 'off', times: 1 });
 * await power.off().catch((err) => err.reason); // 'auth'
 * ```
 */
export class FakePowerController implements PowerController {
  /** Every call so far, in call order (failed and aborted calls included). */
  readonly calls: FakePowerCall[] = [];
  #state: PowerState;
  #delayMs = 0;
  #failures: Failure[] = [];
  readonly #simulator: PowerSimulatorLink | undefined;

  constructor(options?: FakePowerControllerOptions) {
    const operation = 'FakePowerController';
    const o = optionsObject(options, ['initialState', 'simulator'], operation);
    this.#state = checkChoice(o['initialState'], ['on', 'off'], 'on', 'initialState', operation);
    this.#simulator = checkSimulator(o['simulator'], operation);
  }

  /** The current power state. */
  get state(): PowerState {
    return this.#state;
  }

  /** The verbs called so far, in order (a shorthand for `calls.map((c) => c.verb)`). */
  get verbs(): PowerVerb[] {
    return this.calls.map((c) => c.verb);
  }

  /**
   * Makes calls reject with a `PowerControlError` of `reason` (the state does not change and the
   * simulator is not touched). Several `fail()` calls queue up; the first matching one is used.
   */
  fail(reason: PowerControlReason, options?: FakePowerFailureOptions): this {
    const operation = 'FakePowerController.fail';
    const o = optionsObject(options, ['verb', 'times'], operation);
    const verb = checkChoice(o['verb'], POWER_VERBS, undefined, 'verb', operation);
    const times = checkInteger(o['times'], 1, Number.MAX_SAFE_INTEGER, 'times', operation) ?? Number.POSITIVE_INFINITY;
    this.#failures.push({ reason: checkChoice(reason, POWER_CONTROL_REASONS, 'failed', 'reason', operation), verb, remaining: times });
    return this;
  }

  /** Clears every failure set by {@link fail}. */
  succeed(): this {
    this.#failures = [];
    return this;
  }

  /**
   * Makes every following call take `ms` milliseconds before acting (0 to stop), at most
   * 2147483647 (2^31-1, Node's timer limit, about 24.8 days): a larger value is a TypeError, as
   * the timer would fire after 1 ms.
   */
  setDelay(ms: number): this {
    this.#delayMs = checkTimeout(ms, 'ms', 'FakePowerController.setDelay', true);
    return this;
  }

  /** The recorded state. */
  async status(options?: PowerCallOptions): Promise<PowerState> {
    await this.#begin('status', options);
    return this.#state;
  }

  /** State becomes `'on'`. */
  async on(options?: PowerCallOptions): Promise<void> {
    await this.#begin('on', options);
    this.#state = 'on';
  }

  /** A hard cut: crashes a linked simulator if the machine was on; state becomes `'off'`. */
  async off(options?: PowerCallOptions): Promise<void> {
    await this.#begin('off', options);
    if (this.#state === 'on') this.#simulator?.crash();
    this.#state = 'off';
  }

  /** A hard cut and power back on; rejects `'unsupported'` when off, as IPMI BMCs do. */
  async cycle(options?: PowerCallOptions): Promise<void> {
    await this.#begin('cycle', options);
    if (this.#state === 'off') {
      throw new PowerControlError('chassis power cycle (fake) failed: unsupported: the machine is off', {
        reason: 'unsupported',
        verb: 'cycle',
      });
    }
    this.#simulator?.crash();
    this.#state = 'on';
  }

  /** A hard reset: crashes a linked simulator if the machine is on; the state is unchanged. */
  async reset(options?: PowerCallOptions): Promise<void> {
    await this.#begin('reset', options);
    if (this.#state === 'on') this.#simulator?.crash();
  }

  /** An orderly shutdown: a linked simulator is synced, then crashed; state becomes `'off'`. */
  async softOff(options?: PowerCallOptions): Promise<void> {
    await this.#begin('softOff', options);
    if (this.#state === 'on' && this.#simulator !== undefined) {
      await this.#simulator.sync();
      this.#simulator.crash();
    }
    this.#state = 'off';
  }

  /** Records the call, waits the delay (honouring the signal), then applies a failure if set. */
  async #begin(verb: PowerVerb, options: PowerCallOptions | undefined): Promise<void> {
    const operation = `FakePowerController.${verb}`;
    const signal = checkSignal(optionsObject(options, ['signal'], operation)['signal'], operation);
    this.calls.push({ verb, at: Date.now() });
    const aborted = (): PowerControlError =>
      new PowerControlError(`chassis power ${verb} (fake) failed: aborted`, {
        reason: 'aborted',
        verb,
        code: 'ABORT_ERR',
        cause: signal?.reason,
      });
    if (signal?.aborted === true) throw aborted();
    if (this.#delayMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(aborted());
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, this.#delayMs);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    const index = this.#failures.findIndex((f) => f.verb === undefined || f.verb === verb);
    const failure = this.#failures[index];
    if (failure !== undefined) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) this.#failures.splice(index, 1);
      throw new PowerControlError(`chassis power ${verb} (fake) failed: ${failure.reason}`, { reason: failure.reason, verb });
    }
  }
}

/** The `simulator` option: an object with `crash()` and `sync()`, or `undefined`. */
function checkSimulator(value: unknown, operation: string): PowerSimulatorLink | undefined {
  if (value === undefined) return undefined;
  if (isSimulatorLink(value)) return value;
  throw invalidArgType(`${operation}: simulator must have crash() and sync() methods (a crash simulator); received ${describeValue(value)}`);
}

function isSimulatorLink(value: unknown): value is PowerSimulatorLink {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'crash') === 'function' && typeof Reflect.get(value, 'sync') === 'function';
}
