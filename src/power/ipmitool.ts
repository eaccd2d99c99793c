/**
 * `IpmitoolPowerController`: a {@link PowerController} that runs ipmitool, remotely over
 * IPMI-over-LAN or in-band through the local BMC's /dev/ipmi0. This file spawns ipmitool and
 * follows the call flow (idempotent on/off, status parsing); what to run and what a failure
 * means are decided by the pure `ipmitool-invocation.ts`.
 *
 * @module
 */
import { access, constants } from 'node:fs/promises';
import { checkSignal, optionsObject } from '../core/arguments.js';
import { errnoCode } from '../core/errors.js';
import { runProgram } from '../core/run-program.js';
import {
  buildIpmitoolInvocation,
  classifyIpmitoolFailure,
  failureMessage,
  passwordSourceMessage,
  resolveIpmitoolOptions,
  type IpmitoolPowerControllerOptions,
  type PasswordSourceProblem,
  type ResolvedIpmitoolOptions,
} from './ipmitool-invocation.js';
import { redact } from './redact.js';
import {
  PowerControlError,
  type PowerCallOptions,
  type PowerController,
  type PowerControlReason,
  type PowerState,
  type PowerVerb,
} from './power-controller.js';

export type { IpmitoolPowerControllerOptions } from './ipmitool-invocation.js';

/**
 * Controls a machine's power with ipmitool (`ipmitool chassis power status|on|off|cycle|reset|soft`).
 *
 * Each call runs ipmitool once, without a shell, stdin ignored (so it never waits on a password
 * prompt) and, for `lan`/`lanplus`, with `-v` (its failures are told apart only when verbose).
 * The password is never on the command line (see {@link IpmitoolPowerControllerOptions.password}).
 * In-band (`interface: 'open'`, no host) runs exactly
 * `ipmitool -I open chassis power <verb>`, which needs root for /dev/ipmi0.
 *
 * Every failure rejects with a `PowerControlError` whose `reason` is `'auth'`, `'unreachable'`,
 * `'privilege'`, `'unsupported'`, `'timeout'` (the `deadlineMs` passed; ipmitool is killed),
 * `'aborted'` (the signal fired; ipmitool is killed), `'not-installed'` or `'failed'`, with the exit
 * code and the stderr attached and the password redacted. A password source that cannot be used
 * (a `passwordEnv` variable not set, a `passwordFile` this process cannot read) rejects with
 * reason `'auth'` before ipmitool runs. `on()` and `off()` resolve when the machine already is
 * in that state, even on a BMC that refuses the redundant command.
 *
 * No verb flushes anything: call `syncAll()` before `reset()`, `cycle()` or `off()`.
 *
 * @example
 * ```ts
 * import { IpmitoolPowerController, syncAll } from 'durable-write';
 * const power = new IpmitoolPowerController({
 *   host: '10.0.0.42',
 *   username: 'admin',
 *   passwordEnv: 'BMC_PASSWORD',
 *   timeoutSeconds: 2,
 *   retries: 2,
 * });
 * if ((await power.status()) === 'on') {
 *   await syncAll();
 *   await power.reset();
 * }
 * ```
 */
export class IpmitoolPowerController implements PowerController {
  readonly #options: ResolvedIpmitoolOptions;

  /** Validates `options`; throws a TypeError before anything runs when one is invalid. */
  constructor(options: IpmitoolPowerControllerOptions = {}) {
    this.#options = resolveIpmitoolOptions(options);
  }

  /** `ipmitool chassis power status`, parsed. */
  async status(options: PowerCallOptions = {}): Promise<PowerState> {
    const stdout = await this.#run('status', options);
    const match = /Chassis Power is (on|off)/i.exec(stdout);
    const state = match?.[1]?.toLowerCase();
    if (state === 'on' || state === 'off') return state;
    throw new PowerControlError(`ipmitool chassis power status printed no power state: ${JSON.stringify(stdout.trim())}`, {
      reason: 'failed',
      verb: 'status',
      exitCode: 0,
    });
  }

  /** `ipmitool chassis power on`; resolves also when the machine already is on. */
  on(options: PowerCallOptions = {}): Promise<void> {
    return this.#idempotent('on', options);
  }

  /** `ipmitool chassis power off` (a hard cut); resolves also when the machine already is off. */
  off(options: PowerCallOptions = {}): Promise<void> {
    return this.#idempotent('off', options);
  }

  /** `ipmitool chassis power cycle`. */
  async cycle(options: PowerCallOptions = {}): Promise<void> {
    await this.#run('cycle', options);
  }

  /** `ipmitool chassis power reset` (hard reset). */
  async reset(options: PowerCallOptions = {}): Promise<void> {
    await this.#run('reset', options);
  }

  /** `ipmitool chassis power soft` (ACPI soft shutdown request). */
  async softOff(options: PowerCallOptions = {}): Promise<void> {
    await this.#run('softOff', options);
  }

  async #idempotent(verb: 'on' | 'off', options: PowerCallOptions): Promise<void> {
    try {
      await this.#run(verb, options);
    } catch (err) {
      // Some BMCs refuse "on" when on (or "off" when off); that is success for the caller.
      if (err instanceof PowerControlError && (err.reason === 'unsupported' || err.reason === 'failed')) {
        const state = await this.status(options).catch(() => undefined);
        if (state === verb) return;
      }
      throw err;
    }
  }

  /**
   * Rejects with reason `'auth'`, before ipmitool runs, when the password cannot be used: a
   * `passwordFile` this process cannot read (checked with `access(2)`; the file is never opened
   * here), or a `passwordEnv` variable that is not set. Without this, ipmitool would prompt on
   * the ignored stdin, go on without a password, and fail later with its own noise.
   */
  async #checkPasswordSource(verb: PowerVerb): Promise<void> {
    const { passwordFile, passwordEnv } = this.#options;
    const reject = (problem: PasswordSourceProblem, cause?: unknown): PowerControlError =>
      new PowerControlError(passwordSourceMessage(this.#options, verb, problem), {
        reason: 'auth',
        verb,
        code: problem.kind === 'file-unreadable' ? problem.code : undefined,
        cause,
      });
    if (passwordFile !== undefined) {
      try {
        await access(passwordFile, constants.R_OK);
      } catch (err) {
        throw reject({ kind: 'file-unreadable', file: passwordFile, code: errnoCode(err) }, err);
      }
    }
    if (passwordEnv !== undefined && process.env[passwordEnv] === undefined) {
      throw reject({ kind: 'env-unset', variable: passwordEnv });
    }
  }

  /** Runs ipmitool for `verb` and resolves with its stdout, or rejects with a PowerControlError. */
  async #run(verb: PowerVerb, options: PowerCallOptions): Promise<string> {
    const signal = checkSignal(optionsObject(options, ['signal'], `IpmitoolPowerController.${verb}`)['signal'], `IpmitoolPowerController.${verb}`);
    await this.#checkPasswordSource(verb);
    const invocation = buildIpmitoolInvocation(this.#options, verb);
    const fail = (
      reason: PowerControlReason,
      details: { exitCode?: number | undefined; stderr?: string; code?: string | undefined; cause?: unknown; detail?: string | undefined },
    ): PowerControlError => {
      const stderr = redact(details.stderr ?? '', invocation.secrets);
      const detail = details.detail === undefined ? undefined : redact(details.detail, invocation.secrets);
      return new PowerControlError(failureMessage(this.#options, { verb, reason, stderr, detail }), {
        reason,
        verb,
        exitCode: details.exitCode,
        stderr,
        code: details.code,
        cause: details.cause,
      });
    };
    const outcome = await runProgram(invocation.file, invocation.args, {
      env: invocation.env,
      signal,
      deadlineMs: this.#options.deadlineMs,
    });
    switch (outcome.kind) {
      case 'exited':
        if (outcome.exitCode === 0) return outcome.stdout;
        throw fail(outcome.exitCode === null ? 'failed' : classifyIpmitoolFailure(outcome.stderr), {
          exitCode: outcome.exitCode ?? undefined,
          stderr: outcome.stderr,
          detail: outcome.exitCode === null ? `killed by ${outcome.signal ?? 'a signal'}` : undefined,
        });
      case 'spawn-error': {
        const code = outcome.error.code;
        throw fail(code === 'ENOENT' || code === 'EACCES' ? 'not-installed' : 'failed', {
          code,
          cause: outcome.error,
          detail: `cannot run '${this.#options.ipmitoolPath}': ${outcome.error.message}`,
        });
      }
      case 'timeout':
        throw fail('timeout', { stderr: outcome.stderr, code: 'ETIMEDOUT', detail: `no result within ${this.#options.deadlineMs} ms` });
      case 'aborted':
        throw fail('aborted', { stderr: outcome.stderr, code: 'ABORT_ERR', cause: outcome.reason, detail: '' });
    }
  }
}
