/**
 * The error classes of durable-write.
 *
 * One base class, {@link DurableWriteError}, carries `code` (the errno name, such as `EIO`),
 * `stage` (the step that failed), `path`, `tmpPath` and `cause`. Subclasses exist only where a
 * caller branches: {@link FlushError} (the data is not on disk: redo the write from its source)
 * and {@link AbortError} (the caller's AbortSignal fired). Power control adds its own subclass in
 * `power/power-controller.ts`.
 *
 * The `is...Error` guards test a brand stored under `Symbol.for(...)`, so they recognise an error
 * thrown by the ESM copy of this package when called from the CJS copy, and the other way round.
 *
 * @module
 */

/** The step at which a durable-write operation failed. */
export type DurableWriteStage =
  | 'validate'
  | 'stat'
  | 'mkdir'
  | 'open'
  | 'write'
  | 'chown'
  | 'chmod'
  | 'flush'
  | 'close'
  | 'rename'
  | 'flush-directory'
  | 'remove'
  | 'sync'
  | 'syncfs'
  | 'power'
  | 'recover';

/** What every durable-write error is built from. */
export interface DurableWriteErrorOptions {
  /** The errno name (`EIO`, `ENOSPC`, ...) or Node error code; defaults to the cause's `code`. */
  readonly code?: string | undefined;
  /** The step that failed. */
  readonly stage: DurableWriteStage;
  /** The path the operation was about (the target of a write). */
  readonly path?: string | undefined;
  /** The temporary file in use when the step failed, if any. */
  readonly tmpPath?: string | undefined;
  /** The underlying error, usually Node's `ErrnoException`. */
  readonly cause?: unknown;
}

const BRAND = Symbol.for('durable-write.error');
/** Brands for the subclasses, keyed by the class's `kind`. */
type ErrorKind = 'durable-write' | 'flush' | 'abort' | 'power-control' | 'log-corruption' | 'torn-tail';

/** @internal The `code` of a Node `ErrnoException` (or any error carrying a string `code`). */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * The base class of every error this package rejects with for a failed operation.
 *
 * @example
 * ```ts
 * try {
 *   await writeDurable('/srv/state.json', json);
 * } catch (err) {
 *   if (isDurableWriteError(err) && err.code === 'ENOSPC') alertDiskFull(err.path);
 *   throw err;
 * }
 * ```
 */
export class DurableWriteError extends Error {
  override name = 'DurableWriteError';
  /** The errno name (`EIO`, `ENOSPC`, `EROFS`, ...) or Node error code, when one is known. */
  readonly code: string | undefined;
  /** The step that failed. */
  readonly stage: DurableWriteStage;
  /** The path the operation was about. */
  readonly path: string | undefined;
  /** The temporary file in use when the step failed (already removed when this is thrown). */
  readonly tmpPath: string | undefined;

  constructor(message: string, options: DurableWriteErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? errnoCode(options.cause);
    this.stage = options.stage;
    this.path = options.path;
    this.tmpPath = options.tmpPath;
    Object.defineProperty(this, BRAND, { value: this.kinds(), enumerable: false });
  }

  /** The brands this instance answers to; subclasses add their own. */
  protected kinds(): readonly ErrorKind[] {
    return ['durable-write'];
  }
}

/**
 * A flush (`fsync`/`fdatasync`) failed: the data written since the last successful flush is
 * not on disk, and the kernel has already forgotten the error (Linux reports a writeback error
 * once). The temporary file was discarded and the target keeps its previous content; write the
 * data again from its source.
 */
export class FlushError extends DurableWriteError {
  override name = 'FlushError';
  protected override kinds(): readonly ErrorKind[] {
    return ['durable-write', 'flush'];
  }
}

/**
 * The caller's `AbortSignal` fired before the write reached its rename: nothing changed at the
 * target and the temporary file was removed. `name` is `'AbortError'` and `code` `'ABORT_ERR'`,
 * as with Node's own abortable APIs; `cause` is the signal's reason.
 */
export class AbortError extends DurableWriteError {
  override name = 'AbortError';
  constructor(options: Omit<DurableWriteErrorOptions, 'code'>) {
    super('The operation was aborted', { ...options, code: 'ABORT_ERR' });
  }
  protected override kinds(): readonly ErrorKind[] {
    return ['durable-write', 'abort'];
  }
}

/**
 * A durable log holds an invalid region followed by valid records: corruption in the middle of
 * the log, not a torn tail. Nothing was skipped or changed; `offset` is where the invalid region
 * starts. `code` is `'ELOGCORRUPT'`, `stage` `'recover'`.
 */
export class LogCorruptionError extends DurableWriteError {
  override name = 'LogCorruptionError';
  /** The byte offset at which the first invalid record starts. */
  readonly offset: number;
  constructor(message: string, options: Omit<DurableWriteErrorOptions, 'code' | 'stage'> & { readonly offset: number }) {
    super(message, { ...options, code: 'ELOGCORRUPT', stage: 'recover' });
    this.offset = options.offset;
  }
  protected override kinds(): readonly ErrorKind[] {
    return ['durable-write', 'log-corruption'];
  }
}

/**
 * A durable log ends in a torn or unacknowledged tail and `onTornTail: 'error'` refused to
 * truncate it: nothing was changed. `offset` is where the tail starts (the end of the last valid
 * record), `tornBytes` its length. `code` is `'ELOGTORN'`, `stage` `'recover'`.
 */
export class TornTailError extends DurableWriteError {
  override name = 'TornTailError';
  /** The end of the last valid record: where the torn tail starts. */
  readonly offset: number;
  /** How many bytes the torn tail holds. */
  readonly tornBytes: number;
  constructor(message: string, options: Omit<DurableWriteErrorOptions, 'code' | 'stage'> & { readonly offset: number; readonly tornBytes: number }) {
    super(message, { ...options, code: 'ELOGTORN', stage: 'recover' });
    this.offset = options.offset;
    this.tornBytes = options.tornBytes;
  }
  protected override kinds(): readonly ErrorKind[] {
    return ['durable-write', 'torn-tail'];
  }
}

/** @internal Whether `value` carries the given brand; shared by every guard. */
export function hasErrorKind(value: unknown, kind: ErrorKind): value is DurableWriteError {
  if (typeof value !== 'object' || value === null) return false;
  const kinds: unknown = Reflect.get(value, BRAND);
  return Array.isArray(kinds) && kinds.includes(kind);
}

/** @internal Lets a subclass in another file declare its brand without exporting the type. */
export type { ErrorKind };

/**
 * Whether `value` is a {@link DurableWriteError} (or subclass), from either the ESM or the CJS
 * copy of this package.
 */
export function isDurableWriteError(value: unknown): value is DurableWriteError {
  return hasErrorKind(value, 'durable-write');
}

/** Whether `value` is a {@link FlushError}: the data is not on disk and must be written again. */
export function isFlushError(value: unknown): value is FlushError {
  return hasErrorKind(value, 'flush');
}

/** Whether `value` is an {@link AbortError} raised by this package. */
export function isAbortError(value: unknown): value is AbortError {
  return hasErrorKind(value, 'abort');
}

/** Whether `value` is a {@link LogCorruptionError}: a durable log is corrupt in the middle. */
export function isLogCorruptionError(value: unknown): value is LogCorruptionError {
  return hasErrorKind(value, 'log-corruption');
}

/** Whether `value` is a {@link TornTailError}: a durable log's torn tail was left as it was. */
export function isTornTailError(value: unknown): value is TornTailError {
  return hasErrorKind(value, 'torn-tail');
}
