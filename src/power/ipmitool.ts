/**
 * `IpmitoolPowerController`: a {@link PowerController} that runs ipmitool, remotely over
 * IPMI-over-LAN or in-band through the local BMC's /dev/ipmi0.
 *
 * @module
 */
import {
  buildIpmitoolInvocation,
  classifyIpmitoolFailure,
  redact,
  resolveIpmitoolOptions,
} from './ipmitool-invocation.js';
import type { ResolvedIpmitoolOptions } from './ipmitool-invocation.js';
import { runProgram } from '../core/run-program.js';
import { PowerControlError } from './power-controller.js';
import type { PowerControlReason } from './power-controller.js';
import type { PowerCallOptions, PowerController, PowerState, PowerVerb } from './power-controller.js';

/** Options of {@link IpmitoolPowerController}. Validated by the constructor (TypeError). */
export interface IpmitoolPowerControllerOptions {
  /**
   * ipmitool's `-I`: `'lanplus'` (IPMI 2.0 RMCP+, encrypted), `'lan'` (IPMI 1.5) or `'open'`
   * (in-band through /dev/ipmi0 on this machine; needs root). Default: `'lanplus'` when `host` is
   * given, else `'open'`.
   */
  readonly interface?: 'open' | 'lan' | 'lanplus' | undefined;
  /** The BMC's host name or address (`-H`); required for `lan`/`lanplus`. Must not start with `-`. */
  readonly host?: string | undefined;
  /** The BMC's UDP port (`-p`), 1 to 65535. Default: ipmitool's, 623. */
  readonly port?: number | undefined;
  /** The BMC user (`-U`), at most 16 bytes, not starting with `-`. Default: ipmitool's (the null user). */
  readonly username?: string | undefined;
  /**
   * The password, at most 20 bytes. Passed to ipmitool as `IPMI_PASSWORD` in its environment
   * with `-E`, never on its command line. Default: none. At most one of `password`,
   * `passwordFile` and `passwordEnv`.
   */
  readonly password?: string | undefined;
  /** A file whose first line is the password, passed as `-f FILE` (ipmitool reads it). Default: none. */
  readonly passwordFile?: string | undefined;
  /**
   * The name of an environment variable of this process holding the password, read at each
   * call and passed on as `IPMI_PASSWORD` with `-E`. Default: none.
   */
  readonly passwordEnv?: string | undefined;
  /** The RMCP+ cipher suite (`-C`, 0 to 17), `lanplus` only. Default `3` (without it ipmitool probes for about 10 s). */
  readonly cipherSuite?: number | undefined;
  /** The session privilege level (`-L`). Default: ipmitool's, `'administrator'`. */
  readonly privilegeLevel?: 'callback' | 'user' | 'operator' | 'administrator' | undefined;
  /** Seconds ipmitool waits for each reply (`-N`), 1 to 3600. Default: ipmitool's (1 s for lanplus, 2 s for lan). */
  readonly timeoutSeconds?: number | undefined;
  /** How many times ipmitool retries a request (`-R`), 0 to 100. Default: ipmitool's (4). */
  readonly retries?: number | undefined;
  /**
   * Overall deadline of one ipmitool run in milliseconds; when it passes, ipmitool is killed
   * (SIGKILL) and the call rejects with reason `'timeout'`. Default `60000`.
   */
  readonly deadlineMs?: number | undefined;
  /** The ipmitool program, a name looked up on PATH or a path. Default `'ipmitool'`. */
  readonly ipmitoolPath?: string | undefined;
}

/** What to do about each failure reason, appended to error messages. */
const ADVICE: Readonly<Record<PowerControlReason, string>> = {
  auth: 'check the username and password',
  unreachable: 'check host, port and that the BMC answers IPMI over LAN (in-band: load ipmi_devintf and ipmi_si)',
  privilege: 'use a user with the administrator or operator privilege (in-band: run as root)',
  unsupported: 'the BMC refuses this verb, or refuses it in the present power state',
  timeout: 'the deadline passed and ipmitool was killed; the BMC may or may not have acted',
  aborted: 'the call was aborted and ipmitool was killed; the BMC may or may not have acted',
  'not-installed': 'install the ipmitool package or set ipmitoolPath',
  failed: 'see stderr',
};

/**
 * Controls a machine's power with ipmitool (`ipmitool chassis power status|on|off|cycle|reset|soft`).
 *
 * Each call runs ipmitool once, without a shell, stdin ignored (so it never waits on a password
 * prompt) and, for `lan`/`lanplus`, with `-v` (its failures are told apart only when verbose).
 * The password is never on the command line: it goes in the child's environment as
 * `IPMI_PASSWORD` with `-E` (an inherited `IPMITOOL_PASSWORD`, which ipmitool would prefer, is
 * removed), or through `-f FILE`. In-band (`interface: 'open'`, no host) runs exactly
 * `ipmitool -I open chassis power <verb>`, which needs root for /dev/ipmi0.
 *
 * Every failure rejects with a `PowerControlError` whose `reason` is `'auth'`, `'unreachable'`,
 * `'privilege'`, `'unsupported'`, `'timeout'` (the `deadlineMs` passed; ipmitool is killed),
 * `'aborted'` (the signal fired; ipmitool is killed), `'not-installed'` or `'failed'`, with the exit
 * code and the stderr attached and the password redacted. `on()` and `off()` resolve when the
 * machine already is in that state, even on a BMC that refuses the redundant command.
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

  /** Runs ipmitool for `verb` and resolves with its stdout, or rejects with a PowerControlError. */
  async #run(verb: PowerVerb, options: PowerCallOptions): Promise<string> {
    const invocation = buildIpmitoolInvocation(this.#options, verb);
    const { secrets } = invocation;
    const where = this.#options.interface === 'open'
      ? 'in-band (/dev/ipmi0)'
      : `${this.#options.interface} ${this.#options.host ?? ''}${this.#options.port === undefined ? '' : `:${this.#options.port}`}`;
    const fail = (reason: PowerControlReason, details: { exitCode?: number | undefined; stderr?: string; code?: string | undefined; cause?: unknown; detail?: string | undefined }): PowerControlError => {
      const stderr = redact(details.stderr ?? '', secrets);
      const detail = redact(details.detail ?? summary(stderr), secrets);
      return new PowerControlError(
        `ipmitool chassis power ${verb === 'softOff' ? 'soft' : verb} (${where}) failed: ${reason}` +
          (detail === '' ? '' : `: ${detail}`) +
          ` (${ADVICE[reason]})`,
        { reason, verb, exitCode: details.exitCode, stderr, code: details.code, cause: details.cause },
      );
    };
    const outcome = await runProgram(invocation.file, invocation.args, {
      env: invocation.env,
      signal: options.signal,
      deadlineMs: this.#options.deadlineMs,
    });
    switch (outcome.kind) {
      case 'exited':
        if (outcome.exitCode === 0) return outcome.stdout;
        return Promise.reject(
          fail(outcome.exitCode === null ? 'failed' : classifyIpmitoolFailure(outcome.stderr), {
            exitCode: outcome.exitCode ?? undefined,
            stderr: outcome.stderr,
            detail: outcome.exitCode === null ? `killed by ${outcome.signal ?? 'a signal'}` : undefined,
          }),
        );
      case 'spawn-error': {
        const code = outcome.error.code;
        const reason = code === 'ENOENT' || code === 'EACCES' ? 'not-installed' : 'failed';
        return Promise.reject(
          fail(reason, {
            code,
            cause: outcome.error,
            detail: `cannot run '${this.#options.ipmitoolPath}': ${outcome.error.message}`,
          }),
        );
      }
      case 'timeout':
        return Promise.reject(
          fail('timeout', { stderr: outcome.stderr, code: 'ETIMEDOUT', detail: `no result within ${this.#options.deadlineMs} ms` }),
        );
      case 'aborted':
        return Promise.reject(fail('aborted', { stderr: outcome.stderr, code: 'ABORT_ERR', cause: outcome.reason, detail: '' }));
    }
  }
}

/** ipmitool's verbose chatter that says nothing about a failure. */
const NOISE = /^(Loading IANA PEN Registry|Running Get VSO Capabilities|Invalid completion code received: Invalid command|Discovered IPMB address|Get HPM\.x Capabilities request failed)/;

/** The lines of ipmitool's stderr that say what failed, joined. */
function summary(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !NOISE.test(l))
    .slice(-4)
    .join(' / ');
}
