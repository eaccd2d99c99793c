/**
 * Power control: the {@link PowerController} interface, the power verbs of a machine's BMC named
 * after `ipmitool chassis power` (and bmclib's power states) so that they read as operators know
 * them, together with {@link PowerControlError}, the one error every backend promises. Backends
 * live beside this file (`ipmitool.ts`, with its pure half `ipmitool-invocation.ts`; `redfish.ts`,
 * with `redfish-*.ts`); the fake is in `src/testing/`. A new backend implements `PowerController` and rejects only with
 * `PowerControlError`.
 *
 * @module
 */
import { DurableWriteError, hasErrorKind } from '../core/errors.js';
import type { ErrorKind } from '../core/errors.js';

/** A machine's chassis power state, as `ipmitool chassis power status` reports it. */
export type PowerState = 'on' | 'off';

/** The verbs of a {@link PowerController}. */
export type PowerVerb = (typeof POWER_VERBS)[number];

/** @internal Every {@link PowerVerb}, for argument checks. */
export const POWER_VERBS = ['status', 'on', 'off', 'cycle', 'reset', 'softOff'] as const;

/** Options of every {@link PowerController} method. */
export interface PowerCallOptions {
  /**
   * Aborts the call: it rejects with a `PowerControlError` whose `reason` is `'aborted'`, and a
   * backend that runs a program kills it. Whether the BMC already acted is unknown after an
   * abort; read `status()` again. Default: none.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Controls a machine's power through its BMC (or a fake). Every method rejects with a
 * `PowerControlError` (see `isPowerControlError`) whose `reason` says what went wrong.
 *
 * None of the verbs flushes anything: a hard `reset()`, `cycle()` or `off()` throws away the
 * machine's page cache. Flush first: `await syncAll(); await power.reset()`.
 *
 * @example
 * ```ts
 * import { IpmitoolPowerController, syncAll, writeDurable } from 'durable-write';
 * const power = new IpmitoolPowerController({ host: 'bmc.example', username: 'admin', passwordFile: '/etc/bmc.pw' });
 * await writeDurable('/srv/state.json', JSON.stringify(state));
 * await syncAll();
 * await power.reset();
 * ```
 */
export interface PowerController {
  /** The chassis power state (`ipmitool chassis power status`). */
  status(options?: PowerCallOptions): Promise<PowerState>;
  /** Powers the machine on; resolves also when it already is on (`chassis power on`). */
  on(options?: PowerCallOptions): Promise<void>;
  /**
   * Cuts power at once, without a shutdown (`chassis power off`): unflushed data is lost.
   * Resolves also when the machine already is off.
   */
  off(options?: PowerCallOptions): Promise<void>;
  /** Power off, then on after at least a second (`chassis power cycle`): a hard cut. */
  cycle(options?: PowerCallOptions): Promise<void>;
  /** Hard reset, no shutdown (`chassis power reset`): unflushed data is lost. */
  reset(options?: PowerCallOptions): Promise<void>;
  /**
   * Asks the operating system for an orderly shutdown through an ACPI power-button event
   * (`chassis power soft`); resolves once the BMC accepted the request, not when the machine is off.
   */
  softOff(options?: PowerCallOptions): Promise<void>;
}

/**
 * Why a power verb failed.
 *
 * - `'auth'`: the BMC refused the user name or password (Redfish: HTTP 401).
 * - `'unreachable'`: no BMC answered (wrong host or port, firewall, BMC down; Redfish: connection
 *   refused, unknown host, connect timeout), or in-band, no IPMI device (`/dev/ipmi0`: load
 *   `ipmi_devintf` and `ipmi_si`).
 * - `'privilege'`: the user's privilege level is too low for the verb (Redfish: HTTP 403, such as
 *   a ReadOnly account), or in-band, the process may not open the IPMI device (run as root or
 *   through sudo).
 * - `'unsupported'`: the BMC does not support the verb, or not in the present state (such as
 *   ipmitool's `cycle` while the machine is off; Redfish: a reset type the BMC does not allow, no
 *   reset action, HTTP 400 `ActionParameterNotSupported` or `PropertyValueNotInList`, or a system
 *   that reports no `PowerState`, whose power state is unknown, for the verbs that need it).
 * - `'timeout'`: a deadline passed: ipmitool's, which killed it; or Redfish's, a request without
 *   an answer in `requestTimeoutMs`, or a power state or task not reached in `wait.timeoutMs`.
 * - `'aborted'`: the caller's AbortSignal fired (ipmitool is killed; a Redfish request is cut).
 * - `'not-installed'`: the ipmitool program could not be run.
 * - `'failed'`: anything else; read the message, `stderr` (ipmitool), `httpStatus` and `cause`
 *   (Redfish: HTTP 5xx, the session limit among them, 409, a failed task, a TLS certificate that
 *   does not verify).
 */
export type PowerControlReason = (typeof POWER_CONTROL_REASONS)[number];

/** @internal Every {@link PowerControlReason}, for argument checks. */
export const POWER_CONTROL_REASONS = ['auth', 'unreachable', 'privilege', 'unsupported', 'timeout', 'aborted', 'not-installed', 'failed'] as const;

/** What a {@link PowerControlError} is built from. */
export interface PowerControlErrorOptions {
  /** Why it failed. */
  readonly reason: PowerControlReason;
  /** The verb that failed. */
  readonly verb: PowerVerb;
  /** The program's exit status, when it exited. Default: undefined. */
  readonly exitCode?: number | undefined;
  /** The program's stderr, already redacted. Default: `''`. */
  readonly stderr?: string | undefined;
  /** The HTTP status of the BMC's answer that failed (Redfish). Default: undefined. */
  readonly httpStatus?: number | undefined;
  /** An errno name or Node code (`ENOENT` when ipmitool is missing...). Default: undefined. */
  readonly code?: string | undefined;
  /**
   * The actions the BMC accepted during the call before it failed, in order (Redfish `ResetType`
   * values). Default: `[]`.
   */
  readonly sent?: readonly string[] | undefined;
  /** The underlying error. Default: undefined. */
  readonly cause?: unknown;
}

/**
 * A power verb failed. `stage` is `'power'`; `reason` says why (see {@link PowerControlReason});
 * `exitCode` and `stderr` are ipmitool's, with any password replaced by `***`; `httpStatus` is the
 * status of a Redfish answer that failed; `sent` lists the actions the BMC accepted before the
 * failure, which is what a verb of several steps (Redfish `cycle()` without `PowerCycle`:
 * `ForceOff`, then `On`) may have left behind. No message or field ever holds a password.
 *
 * @example
 * ```ts
 * try {
 *   await power.reset();
 * } catch (err) {
 *   if (isPowerControlError(err) && err.reason === 'auth') rotateCredentials();
 *   throw err;
 * }
 * ```
 */
export class PowerControlError extends DurableWriteError {
  override name = 'PowerControlError';
  /** Why the verb failed. */
  readonly reason: PowerControlReason;
  /** The verb that failed. */
  readonly verb: PowerVerb;
  /** The program's exit status, when it exited. */
  readonly exitCode: number | undefined;
  /** The program's stderr (password redacted), `''` when none. */
  readonly stderr: string;
  /** The HTTP status of the Redfish answer that failed, when one did. */
  readonly httpStatus: number | undefined;
  /**
   * The actions the BMC accepted during this call before it failed, in order: Redfish
   * `ResetType` values whose `POST` was answered with success (`['ForceOff']` when `cycle()`'s
   * fallback failed before `On`: the machine may be off). Empty when the BMC accepted none, and
   * always for ipmitool, whose every verb is one command. An action cut short by a timeout or an
   * abort is not listed, yet may have acted: read `status()`.
   */
  readonly sent: readonly string[];

  constructor(message: string, options: PowerControlErrorOptions) {
    super(message, { stage: 'power', code: options.code, cause: options.cause });
    this.reason = options.reason;
    this.verb = options.verb;
    this.exitCode = options.exitCode;
    this.stderr = options.stderr ?? '';
    this.httpStatus = options.httpStatus;
    this.sent = Object.freeze([...(options.sent ?? [])]);
  }

  protected override kinds(): readonly ErrorKind[] {
    return ['durable-write', 'power-control'];
  }
}

/**
 * Whether `value` is a {@link PowerControlError}, from either the ESM or the CJS copy of this
 * package.
 *
 * @example
 * ```ts
 * await power.off().catch((err: unknown) => {
 *   if (isPowerControlError(err) && err.reason === 'unreachable') return scheduleRetry();
 *   throw err;
 * });
 * ```
 */
export function isPowerControlError(value: unknown): value is PowerControlError {
  return hasErrorKind(value, 'power-control');
}
