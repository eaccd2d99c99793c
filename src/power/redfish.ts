/**
 * `RedfishPowerController`: a {@link PowerController} that speaks DMTF Redfish to the BMC over
 * HTTPS (`node:tls`/`node:http`, no dependency). This file holds the recipe of each verb; the
 * conversation is `redfish-client.ts`, the system and its reset action `redfish-system.ts`, the
 * wire `redfish-http.ts`, the words `redfish-protocol.ts` and `redfish-failure.ts`, and the
 * options `redfish-options.ts`.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { checkSignal, optionsObject } from '../core/arguments.js';
import { errnoCode } from '../core/errors.js';
import { isPowerControlError, type PowerCallOptions, type PowerController, type PowerState, type PowerVerb } from './power-controller.js';
import { RedfishClient } from './redfish-client.js';
import { redfishError } from './redfish-failure.js';
import { redfishOrigin, resolveRedfishOptions, type RedfishPowerControllerOptions, type ResolvedRedfishOptions } from './redfish-options.js';
import { RedfishSystem } from './redfish-system.js';

/** What a verb refused for want of a power state has sent. */
const NOTHING_SENT = 'nothing was sent';

export type { RedfishPowerControllerOptions, RedfishTlsOptions, RedfishWaitOptions } from './redfish-options.js';

/**
 * Controls a machine's power through its BMC's Redfish service (Dell iDRAC, HPE iLO, Lenovo
 * XCC, Supermicro, OpenBMC...).
 *
 * Each call is one conversation: `GET /redfish/v1/` (no credentials), a login (a session,
 * `POST` to the root's `Links.Sessions`, or HTTP Basic; see
 * {@link RedfishPowerControllerOptions.auth}), `GET` of the `Systems` collection and of the
 * system, then, for a verb that acts, `POST` of its `#ComputerSystem.Reset` action with a
 * `ResetType`, and `DELETE` of the session in a `finally` (after an error or an abort too). Paths
 * are followed from links, never assumed. A reset type the system's allowed values (inline, or in
 * its `@Redfish.ActionInfo`) do not list is refused with reason `'unsupported'` before anything
 * is posted.
 *
 * | verb | ResetType posted | waits for (see `wait`) |
 * | --- | --- | --- |
 * | `status()` | none: reads `PowerState` (`PoweringOn` counts as on, `PoweringOff` as off) | |
 * | `on()` | `On`; nothing when already on | on |
 * | `off()` | `ForceOff` (a hard cut); nothing when already off | off |
 * | `softOff()` | `GracefulShutdown`, else `PushPowerButton`; nothing when already off | never |
 * | `reset()` | `ForceRestart`; **a machine that is off is powered `On` instead** | on, when it was off |
 * | `cycle()` | `PowerCycle`; where the BMC lacks it, `ForceOff`, wait for off (`cycleOffTimeoutMs`, also with `wait: false`), `On`; a machine that is off is powered `On` | on, when it powered on |
 *
 * A system without `PowerState` (the schema does not require it) still gets `reset()`
 * (`ForceRestart`) and `cycle()` where the BMC allows `PowerCycle`; `status()` and the verbs that
 * need the state reject with reason `'unsupported'`, saying the power state is unknown.
 *
 * When a verb fails after the BMC accepted a reset, the error's `sent` lists what it accepted and
 * its message what was and was not sent: `ForceOff was accepted; On was not sent: the machine
 * may be off` when `cycle()`'s fallback fails before `On`. Read `status()` after any failure.
 *
 * Every failure rejects with a `PowerControlError`: 401 `'auth'`; 403 `'privilege'`; a reset
 * type or action the BMC lacks (400 `ActionParameterNotSupported` or `PropertyValueNotInList`
 * included) and a system without `PowerState` `'unsupported'`; no connection `'unreachable'`;
 * `requestTimeoutMs`, `wait.timeoutMs` or `cycleOffTimeoutMs` passed `'timeout'`; the signal
 * `'aborted'`; 5xx (the session limit named as such), 409, a failed task and a certificate that
 * does not verify `'failed'`, with `httpStatus`, `sent` and `cause`. The password is never in a
 * URL, a message or a field.
 *
 * No verb flushes anything: call `syncAll()` before `reset()`, `cycle()` or `off()`.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { RedfishPowerController, syncAll } from 'durable-write';
 * const power = new RedfishPowerController({
 *   host: 'bmc.example',
 *   username: 'operator',
 *   passwordFile: '/etc/bmc.pw',
 *   tls: { ca: readFileSync('/etc/bmc-ca.pem') },
 * });
 * await syncAll();
 * await power.reset();
 * ```
 */
export class RedfishPowerController implements PowerController {
  readonly #options: ResolvedRedfishOptions;

  /** Validates `options`; throws a TypeError before anything is sent when one is invalid. */
  constructor(options: RedfishPowerControllerOptions) {
    this.#options = resolveRedfishOptions(options);
  }

  /**
   * Reads the system's `PowerState`. A system that reports none (the schema does not require it)
   * rejects with reason `'unsupported'`, its message saying that the power state is unknown.
   */
  status(options: PowerCallOptions = {}): Promise<PowerState> {
    return this.#call('status', options, (system) => Promise.resolve(system.knownState('status() reads')));
  }

  /** Posts `On`, then waits for on; resolves at once when the machine already is on. */
  on(options: PowerCallOptions = {}): Promise<void> {
    return this.#call('on', options, async (system) => {
      if (system.knownState('on() needs to tell whether to post On and when it is on', NOTHING_SENT) === 'on') return;
      await this.#powerOn(system);
    });
  }

  /** Posts `ForceOff` (a hard cut, no shutdown), then waits for off; resolves at once when the machine already is off. */
  off(options: PowerCallOptions = {}): Promise<void> {
    return this.#call('off', options, async (system) => {
      if (system.knownState('off() needs to tell whether to post ForceOff and when it is off', NOTHING_SENT) === 'off') return;
      await system.reset('ForceOff');
      if (this.#options.wait !== undefined) await system.waitFor('off', { ...this.#options.wait, setting: 'wait.timeoutMs' });
    });
  }

  /**
   * Posts `PowerCycle` where the BMC allows it; elsewhere `ForceOff`, a wait for off (always, for
   * at most `cycleOffTimeoutMs`), then `On`. A machine that is off is powered on. When the
   * fallback fails after `ForceOff`, the error says that `On` was not sent and its `sent` is
   * `['ForceOff']`: the machine may be off. A system without `PowerState` gets `PowerCycle` only.
   */
  cycle(options: PowerCallOptions = {}): Promise<void> {
    return this.#call('cycle', options, async (system) => {
      const state = system.state;
      if (state === 'off') return this.#powerOn(system);
      const allows = await system.allows('PowerCycle');
      if (allows === true) return system.reset('PowerCycle');
      if (allows === undefined) {
        // The BMC does not list its reset types: try PowerCycle, and fall back only when refused as unsupported.
        const refused = await system.reset('PowerCycle').then(
          () => false,
          (err: unknown) => {
            if (isPowerControlError(err) && err.reason === 'unsupported') return true;
            throw err;
          },
        );
        if (!refused) return;
      }
      if (state === undefined) {
        const sent = allows === undefined ? 'PowerCycle was refused; nothing else was sent' : NOTHING_SENT;
        throw system.unknownState('the fallback for a BMC without PowerCycle (ForceOff, wait for Off, On) needs', sent);
      }
      await system.require('ForceOff', 'On');
      system.plan('ForceOff', 'On');
      await system.reset('ForceOff');
      await system.waitFor('off', { timeoutMs: this.#options.cycleOffTimeoutMs, intervalMs: this.#options.settleIntervalMs, setting: 'cycleOffTimeoutMs' });
      await this.#powerOn(system);
    });
  }

  /**
   * Posts `ForceRestart` (a hard reset, no shutdown); a machine that is off is powered `On`
   * instead. A system without `PowerState` gets `ForceRestart`.
   */
  reset(options: PowerCallOptions = {}): Promise<void> {
    return this.#call('reset', options, async (system) => {
      if (system.state === 'off') return this.#powerOn(system);
      await system.reset('ForceRestart');
    });
  }

  /**
   * Posts `GracefulShutdown` (the operating system shuts down in order), or `PushPowerButton`
   * where the BMC lacks it; resolves once the BMC accepted it, not when the machine is off.
   * Resolves at once when the machine already is off.
   */
  softOff(options: PowerCallOptions = {}): Promise<void> {
    return this.#call('softOff', options, async (system) => {
      if (system.knownState('softOff() needs to tell whether the machine is on (PushPowerButton would turn an off one on)', NOTHING_SENT) === 'off') return;
      await system.reset(await system.requireOne('GracefulShutdown', 'PushPowerButton'));
    });
  }

  async #powerOn(system: RedfishSystem): Promise<void> {
    await system.reset('On');
    if (this.#options.wait !== undefined) await system.waitFor('on', { ...this.#options.wait, setting: 'wait.timeoutMs' });
  }

  /** The password, read at each call from where the options say. */
  async #password(verb: PowerVerb): Promise<string> {
    const source = this.#options.password;
    const fail = (detail: string, code?: string, cause?: unknown): Error =>
      redfishError(redfishOrigin(this.#options), verb, { reason: 'auth', detail: `not sent: ${detail}`, code, cause }, []);
    switch (source.kind) {
      case 'value':
        return source.password;
      case 'env': {
        const value = process.env[source.variable];
        if (value === undefined) throw fail(`passwordEnv names ${source.variable}, which is not set in this process's environment`);
        return value;
      }
      case 'file':
        try {
          return (await readFile(source.file, 'utf8')).split(/\r?\n/)[0] ?? '';
        } catch (err) {
          const code = errnoCode(err);
          throw fail(`passwordFile ${JSON.stringify(source.file)} cannot be read by this process: ${code ?? 'unknown error'}`, code, err);
        }
    }
  }

  /** One conversation: root, login, system, `act`, and the logout in a `finally`. */
  async #call<T>(verb: PowerVerb, options: PowerCallOptions, act: (system: RedfishSystem) => Promise<T>): Promise<T> {
    const operation = `RedfishPowerController.${verb}`;
    const signal = checkSignal(optionsObject(options, ['signal'], operation)['signal'], operation);
    const password = await this.#password(verb);
    const client = new RedfishClient(this.#options, verb, password, signal);
    try {
      const root = await client.serviceRoot();
      await client.login(root);
      const system = await RedfishSystem.find(client, this.#options, root, signal);
      return await act(system);
    } finally {
      await client.logout();
    }
  }
}
