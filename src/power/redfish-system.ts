/**
 * The computer system one Redfish power verb acts on, found by following links from the service
 * root (`Systems`, then its one member or the member whose Id is `systemId`): its power state,
 * the reset types it allows (inline, or from its `@Redfish.ActionInfo`, read only when needed),
 * the reset action (answered with 200, 204, or 202 and a task monitor that is polled until the
 * task ends) and the wait for a power state.
 *
 * @internal
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isPowerControlError, type PowerControlError, type PowerState } from './power-controller.js';
import type { Answer, RedfishClient } from './redfish-client.js';
import type { ResolvedRedfishOptions } from './redfish-options.js';
import {
  actionInfoAllowed,
  link,
  members,
  pathOf,
  powerState,
  powerStateProperty,
  rawPowerState,
  resetAction,
  retryAfterMs,
  taskMessages,
  taskMonitor,
  taskProgress,
  type ResetAction,
} from './redfish-protocol.js';

/** The `ResetType` values this package posts. */
export type ResetType = 'On' | 'ForceOff' | 'GracefulShutdown' | 'PushPowerButton' | 'ForceRestart' | 'PowerCycle';

export class RedfishSystem {
  readonly #client: RedfishClient;
  readonly #options: ResolvedRedfishOptions;
  readonly #signal: AbortSignal | undefined;
  readonly #path: string;
  readonly #resource: unknown;
  #allowed: readonly string[] | undefined | null = null;

  private constructor(client: RedfishClient, options: ResolvedRedfishOptions, signal: AbortSignal | undefined, path: string, resource: unknown) {
    this.#client = client;
    this.#options = options;
    this.#signal = signal;
    this.#path = path;
    this.#resource = resource;
  }

  /** Follows `Systems` from the service root to the system to control, and reads it. */
  static async find(client: RedfishClient, options: ResolvedRedfishOptions, root: unknown, signal: AbortSignal | undefined): Promise<RedfishSystem> {
    const systemsPath = link(root, 'Systems');
    if (systemsPath === undefined) throw client.fail({ reason: 'unsupported', detail: 'the service root has no Systems collection' });
    const list = members(await client.get(systemsPath));
    const wanted = options.systemId;
    const chosen = wanted === undefined ? (list.length === 1 ? list[0] : undefined) : list.find((m) => m.id === wanted);
    if (chosen === undefined) {
      const ids = list.map((m) => m.id).join(', ');
      const detail =
        wanted !== undefined
          ? `${systemsPath} has no system with Id ${JSON.stringify(wanted)}; it has ${list.length === 0 ? 'none' : ids}`
          : list.length === 0
            ? `${systemsPath} has no members`
            : `${systemsPath} has ${list.length} systems (${ids}): pass systemId to choose one`;
      throw client.fail({ reason: 'failed', kind: 'system', detail });
    }
    const path = pathOf(chosen.path);
    return new RedfishSystem(client, options, signal, path, await client.get(path));
  }

  /**
   * The power state read with the system (a transition counts as the state it heads to), or
   * `undefined` when the system reports none the controller can read (the schema does not
   * require `PowerState`).
   */
  get state(): PowerState | undefined {
    return powerState(this.#resource);
  }

  /**
   * The power state, for a verb that cannot act without it (`purpose` says why, `sent` what was
   * sent so far): a system without `PowerState`, or whose `PowerState` is neither on nor off
   * (`null`, a value this package does not know), is `'unsupported'`, in a message that points to
   * no words of the BMC's, which sent none.
   */
  knownState(purpose: string, sent?: string): PowerState {
    const state = this.state;
    if (state !== undefined) return state;
    throw this.unknownState(purpose, sent);
  }

  /** The error of {@link knownState}, for a system whose power state is unknown. */
  unknownState(purpose: string, sent?: string): PowerControlError {
    const raw = powerStateProperty(this.#resource);
    const reports = raw === undefined ? 'reports no PowerState' : `reports PowerState ${JSON.stringify(raw)}, neither On nor Off`;
    return this.#client.fail({
      reason: 'unsupported',
      kind: 'power-state',
      detail: `the power state is unknown: ${this.#path} ${reports}, which ${purpose}${sent === undefined ? '' : `; ${sent}`}`,
    });
  }

  /** The reset types the BMC allows, or `undefined` when it does not say (then any is tried). */
  async allowed(): Promise<readonly string[] | undefined> {
    if (this.#allowed !== null) return this.#allowed;
    const action = this.#action();
    let allowed = action.allowed;
    if (allowed === undefined && action.actionInfo !== undefined) allowed = actionInfoAllowed(await this.#client.get(pathOf(action.actionInfo)));
    this.#allowed = allowed;
    return allowed;
  }

  /** Whether the BMC allows `type`: `true`, `false`, or `undefined` when it does not say. */
  async allows(type: ResetType): Promise<boolean | undefined> {
    const allowed = await this.allowed();
    return allowed === undefined ? undefined : allowed.includes(type);
  }

  /** Rejects with reason `'unsupported'`, before anything is posted, when the BMC does not allow every one of `types`. */
  async require(...types: ResetType[]): Promise<void> {
    const allowed = await this.allowed();
    const refused = allowed === undefined ? [] : types.filter((type) => !allowed.includes(type));
    if (refused.length > 0) {
      throw this.#client.fail({
        reason: 'unsupported',
        detail: `the BMC does not allow ResetType ${refused.join(', ')} on ${this.#path} (it allows ${allowed?.join(', ') || 'none'}); nothing was sent`,
      });
    }
  }

  /** Declares the resets the verb is about to post, in order, so that a failure midway says which were not sent. */
  plan(...types: ResetType[]): void {
    this.#client.plan(types);
  }

  /**
   * Rejects with reason `'unsupported'`, before anything is posted, when the BMC allows none of
   * `types`; resolves with the first it allows (the first of all when it does not say).
   */
  async requireOne(...types: [ResetType, ...ResetType[]]): Promise<ResetType> {
    const allowed = await this.allowed();
    const chosen = allowed === undefined ? types[0] : types.find((type) => allowed.includes(type));
    if (chosen === undefined) {
      throw this.#client.fail({
        reason: 'unsupported',
        detail: `the BMC allows none of ResetType ${types.join(', ')} on ${this.#path} (it allows ${allowed?.join(', ') || 'none'}); nothing was sent`,
      });
    }
    return chosen;
  }

  /**
   * Posts `#ComputerSystem.Reset` with `type` (never with `If-Match`: some BMCs answer 412 to an
   * action that carries one). A 202 is a task, followed to its end by `#followTask`. The client
   * records `type` as accepted once this resolves.
   */
  async reset(type: ResetType): Promise<void> {
    await this.require(type);
    await this.#client.track(type, async () => {
      const answer = await this.#client.request({ method: 'POST', path: pathOf(this.#action().target), body: { ResetType: type } }, { action: true });
      if (answer.status === 202) await this.#followTask(type, answer);
    });
  }

  /**
   * Polls the task a 202 started, honouring `Retry-After`, until it ends, for at most the wait
   * timeout (`'timeout'` past it): its monitor (the `Location` header, else the task's
   * `TaskMonitor`) until it stops answering 202 and its body, if a Task, is no longer running. A
   * monitor the BMC deleted on completion (404) hands over to the Task resource the 202 named. A
   * task that ended in `Exception` (or `Killed`, `Cancelled`) rejects with reason `'failed'`.
   */
  async #followTask(type: ResetType, accepted: Answer): Promise<void> {
    const monitorLocation = accepted.headers.location ?? taskMonitor(accepted.body);
    if (monitorLocation === undefined) return;
    const monitor = pathOf(monitorLocation);
    const taskLink = link(accepted.body);
    const task = taskLink === undefined ? undefined : pathOf(taskLink);
    let watched = monitor;
    const deadline = performance.now() + this.#options.settleTimeoutMs;
    let pause = retryAfterMs(accepted.headers['retry-after']) ?? this.#options.settleIntervalMs;
    for (;;) {
      await this.#pause(Math.min(pause, Math.max(0, deadline - performance.now())));
      let poll: Answer;
      try {
        poll = await this.#client.request({ method: 'GET', path: watched });
      } catch (err) {
        if (!(isPowerControlError(err) && err.httpStatus === 404 && watched === monitor && task !== undefined && task !== monitor)) throw err;
        watched = task;
        poll = await this.#client.request({ method: 'GET', path: watched });
      }
      const progress = taskProgress(poll.body);
      if (progress === 'failed') {
        throw this.#client.fail({ reason: 'failed', kind: 'task', httpStatus: poll.status, detail: `ResetType ${type}: the task at ${watched} failed: ${taskMessages(poll.body)}` });
      }
      if (poll.status !== 202 && progress !== 'running') return;
      if (performance.now() >= deadline) {
        throw this.#client.fail({ reason: 'timeout', code: 'ETIMEDOUT', detail: `ResetType ${type}: the task at ${watched} still runs after ${this.#options.settleTimeoutMs} ms` });
      }
      pause = retryAfterMs(poll.headers['retry-after']) ?? this.#options.settleIntervalMs;
    }
  }

  /**
   * Reads `PowerState` until it is `target`, every `intervalMs`, for at most `timeoutMs`; past
   * that, rejects with reason `'timeout'`, naming `timing.setting`, the option that set the bound.
   */
  async waitFor(target: PowerState, timing: { readonly timeoutMs: number; readonly intervalMs: number; readonly setting: string }): Promise<void> {
    const deadline = performance.now() + timing.timeoutMs;
    for (;;) {
      const system = await this.#client.get(this.#path);
      if (powerState(system) === target) return;
      if (performance.now() >= deadline) {
        throw this.#client.fail({
          reason: 'timeout',
          code: 'ETIMEDOUT',
          detail: `PowerState of ${this.#path} is ${rawPowerState(system) ?? 'missing'}, not ${target === 'on' ? 'On' : 'Off'}, after ${timing.timeoutMs} ms (${timing.setting})`,
        });
      }
      await this.#pause(Math.min(timing.intervalMs, Math.max(0, deadline - performance.now())));
    }
  }

  #action(): ResetAction {
    const action = resetAction(this.#resource);
    if (action === undefined) throw this.#client.fail({ reason: 'unsupported', detail: `${this.#path} has no #ComputerSystem.Reset action` });
    return action;
  }

  async #pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.#signal });
    } catch (err) {
      throw this.#client.fail({ reason: 'aborted', code: 'ABORT_ERR', cause: this.#signal?.reason ?? err, detail: 'cut short while waiting' });
    }
  }
}
