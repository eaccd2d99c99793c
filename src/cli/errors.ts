/**
 * How the command's failures are classified and described: a {@link UsageError} (exit 2: the
 * command line is wrong, nothing was attempted), a {@link CommandError} (exit 1: a step of the
 * command's own failed, such as opening `--from`), and every error of the library (exit 1), each
 * reported with its errno `code`, its `stage` and its `path`.
 *
 * @internal
 * @module
 */
import { constants } from 'node:os';
import { errnoCode, isDurableWriteError } from '../core/errors.js';
import { isPowerControlError } from '../power/power-controller.js';

/**
 * The command line is wrong: an unknown command or option, a bad value, a missing argument. Exit 2,
 * as for the library's own argument errors (see {@link isUsageError}).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What a {@link CommandError} carries besides its message. */
interface CommandErrorOptions {
  readonly code: string | undefined;
  readonly stage: string;
  readonly path?: string | undefined;
  readonly cause?: unknown;
  /** The exit status, when it is not 1 (`write -- COMMAND` exits with COMMAND's). */
  readonly status?: number;
}

/** A step of the command itself failed (not one of the library's): opening `--from`, loading `probe`, a `write` COMMAND. Exit 1, or its {@link CommandError.status}. */
export class CommandError extends Error {
  override name = 'CommandError';
  readonly code: string | undefined;
  readonly stage: string;
  readonly path: string | undefined;
  /** The exit status it calls for: 1 unless the command said otherwise. */
  readonly status: number;

  constructor(message: string, options: CommandErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.stage = options.stage;
    this.path = options.path;
    this.status = options.status ?? 1;
  }
}

/** A failure as it is printed: the same fields for people and, with `--json`, for machines. */
export interface ErrorReport {
  /** The errno name (`EROFS`, `ENOENT`...) or error code (`ERR_USAGE`); `null` when there is none. */
  readonly code: string | null;
  /** The step that failed: a library stage (`open`, `flush`, `syncfs`, `power`...), `usage`, `source` or `probe`. */
  readonly stage: string | null;
  /** The path the step was about. */
  readonly path: string | null;
  readonly message: string;
  /** For power control: why the BMC call failed (`auth`, `unreachable`...). */
  readonly reason?: string;
  /** For Redfish power control: the HTTP status of the BMC's answer that failed, when one did. */
  readonly httpStatus?: number;
  /** For Redfish power control: the resets the BMC accepted before the failure (`["ForceOff"]`), when it accepted any. */
  readonly sent?: readonly string[];
}

/**
 * Whether `error` is one of the library's argument errors (a `TypeError` with Node's
 * `ERR_INVALID_ARG_TYPE` or `ERR_INVALID_ARG_VALUE`, thrown before anything is touched): a value
 * from the command line the library refused, such as an empty FILE or a BMC host starting with `-`.
 */
function isArgumentError(error: unknown): error is TypeError {
  const code = errnoCode(error);
  return error instanceof TypeError && (code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_INVALID_ARG_VALUE');
}

/** Whether `error` means the command line is wrong (exit 2): a {@link UsageError}, or a value the library refused. */
export function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || isArgumentError(error);
}

/** The report of any thrown value. */
export function errorReport(error: unknown): ErrorReport {
  if (error instanceof UsageError) return { code: 'ERR_USAGE', stage: 'usage', path: null, message: error.message };
  if (isArgumentError(error)) return { code: errnoCode(error) ?? 'ERR_USAGE', stage: 'usage', path: null, message: error.message };
  if (isPowerControlError(error)) {
    const report = { code: error.code ?? null, stage: error.stage, path: error.path ?? null, message: error.message, reason: error.reason };
    return {
      ...report,
      ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
      ...(error.sent.length === 0 ? {} : { sent: error.sent }),
    };
  }
  if (isDurableWriteError(error) || error instanceof CommandError) {
    return { code: error.code ?? null, stage: error.stage, path: error.path ?? null, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: errnoCode(error) ?? null, stage: null, path: null, message };
}

/** The exit status of a run interrupted by `signal`'s reason (a signal name): 128 + its number, as shells report it. */
export function interruptedStatus(reason: unknown): number {
  const number = typeof reason === 'string' ? Reflect.get(constants.signals, reason) : undefined;
  return 128 + (typeof number === 'number' ? number : constants.signals.SIGINT);
}

/** The exit status for a failure: 2 for a usage error, 128+N after an interrupting signal, a {@link CommandError}'s own status, else 1. */
export function failureStatus(error: unknown, signal: AbortSignal): number {
  if (isUsageError(error)) return 2;
  if (signal.aborted) return interruptedStatus(signal.reason);
  return error instanceof CommandError ? error.status : 1;
}
