/**
 * `PowerControlError`: a power verb failed, with a `reason` a caller can branch on.
 *
 * @module
 */
import { DurableWriteError, hasErrorKind } from './errors.js';
import type { ErrorKind } from './errors.js';
import type { PowerVerb } from './power-controller.js';

/**
 * Why a power verb failed.
 *
 * - `'auth'`: the BMC refused the user name or password.
 * - `'unreachable'`: no BMC answered (wrong host or port, firewall, BMC down), or in-band, no
 *   IPMI device (`/dev/ipmi0`: load `ipmi_devintf` and `ipmi_si`).
 * - `'privilege'`: the user's privilege level is too low for the verb, or in-band, the process
 *   may not open the IPMI device (run as root or through sudo).
 * - `'unsupported'`: the BMC does not support the verb, or not in the present state (such as
 *   `cycle` while the machine is off).
 * - `'timeout'`: the overall deadline passed and ipmitool was killed.
 * - `'aborted'`: the caller's AbortSignal fired and ipmitool was killed.
 * - `'not-installed'`: the ipmitool program could not be run.
 * - `'failed'`: anything else; read `stderr`.
 */
export type PowerControlReason =
  | 'auth'
  | 'unreachable'
  | 'privilege'
  | 'unsupported'
  | 'timeout'
  | 'aborted'
  | 'not-installed'
  | 'failed';

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
  /** An errno name or Node code (`ENOENT` when ipmitool is missing...). Default: undefined. */
  readonly code?: string | undefined;
  /** The underlying error. Default: undefined. */
  readonly cause?: unknown;
}

/**
 * A power verb failed. `stage` is `'power'`; `reason` says why (see {@link PowerControlReason});
 * `exitCode` and `stderr` are ipmitool's, with any password replaced by `***`.
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

  constructor(message: string, options: PowerControlErrorOptions) {
    super(message, { stage: 'power', code: options.code, cause: options.cause });
    this.reason = options.reason;
    this.verb = options.verb;
    this.exitCode = options.exitCode;
    this.stderr = options.stderr ?? '';
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
