/**
 * Turning a raw failure into the {@link DurableWriteError} a caller sees (the stage, the errno
 * name, the paths, and a message that says what happened to the data), and the two ways an
 * operation runs an effect with respect to failure: {@link attempt} (a failure is the error of a
 * stage) and {@link quietly} (cleanup whose own failure must not hide the error being reported).
 *
 * @internal
 * @module
 */
import { perform, type Effect, type Operation } from './effect.js';
import { AbortError, DurableWriteError, errnoCode, FlushError, isDurableWriteError, type DurableWriteStage } from './errors.js';
import { hostPlatform, RENAME_RETRY_MS, type Platform } from './platform.js';

/** What an operation is doing, for error messages. */
export interface FailureContext {
  /** The public function, e.g. `writeDurable`. */
  readonly operation: string;
  /** The path the caller named. */
  readonly path: string;
  /** The temporary file, once one exists. */
  tmpPath?: string | undefined;
  /** Set once the rename has replaced the target: the new content is in place. */
  renamed?: boolean | undefined;
}

const WHAT_FAILED: Readonly<Record<DurableWriteStage, string>> = {
  validate: 'invalid target',
  stat: 'stat of the target',
  mkdir: 'creating a parent directory',
  open: 'creating the temporary file',
  write: 'writing the temporary file',
  chown: 'fchown of the temporary file',
  chmod: 'fchmod of the temporary file',
  flush: 'flushing (fsync) the file',
  close: 'closing the temporary file',
  rename: 'renaming the temporary file over the target',
  'flush-directory': 'flushing (fsync) the directory',
  remove: 'removing a leftover temporary file',
  sync: 'sync',
  syncfs: 'syncfs',
  power: 'power control',
  recover: 'recovering a durable log',
};

/**
 * Why no directory is flushed on Windows, for messages: `FlushFileBuffers` (Node's `fsync`) needs
 * a handle with write access, and Microsoft documents no flush of a directory on NTFS.
 */
const NO_DIRECTORY_FLUSH =
  'Windows offers no directory flush (FlushFileBuffers needs a handle with write access, and NTFS documents no flush of a directory)';

/** Why not to fsync again after a failed flush, where the kernel drops the error (Linux): advice for POSIX only. */
function forgotten(platform: Platform): string {
  return platform === 'windows' ? '' : ' (do not just fsync the directory again: the kernel has reported and forgotten the error, so a second fsync can succeed without making the name durable)';
}

/** The errors with which Windows refuses a rename while another process holds a file open without sharing delete access. */
export const SHARING_VIOLATIONS: ReadonlySet<string> = new Set(['EPERM', 'EACCES', 'EBUSY']);

/** The consequence for the caller's data, by stage, when the temporary file was discarded; `code` is the failure's errno name. */
function consequence(stage: DurableWriteStage, ctx: FailureContext, code: string | undefined, platform: Platform): string {
  if (stage === 'flush-directory') {
    return ctx.renamed === true
      ? `the new content is in place at ${ctx.path}, but its name may not survive a crash; write it again from its source once the storage is healthy${forgotten(platform)}`
      : `the new name may not survive a crash; write it again from its source once the storage is healthy${forgotten(platform)}`;
  }
  if (stage === 'flush') {
    const lost = platform === 'windows' ? 'the data may NOT be on disk' : 'the data is NOT on disk';
    if (ctx.tmpPath !== undefined) return `${lost}; the temporary file was removed and ${ctx.path} keeps its previous content: write the data again from its source`;
    return platform === 'windows' ? `${lost}: write it again from its source` : `${lost}: the kernel has reported and forgotten the error, so write it again from its source`;
  }
  const kept = ctx.tmpPath !== undefined ? `the temporary file was removed and ${ctx.path} keeps its previous content` : `${ctx.path} is unchanged`;
  if (stage === 'rename' && platform === 'windows' && code !== undefined && SHARING_VIOLATIONS.has(code)) {
    return (
      `${kept}. Windows refuses a rename while another process holds the file open without sharing delete access: ` +
      'most likely an antivirus scanner, a search indexer, a backup or sync client or an editor has it open (or the target is read-only); ' +
      `close it, or give the holder longer with renameRetryMs (up to ${RENAME_RETRY_MS.max})`
    );
  }
  return kept;
}

/**
 * Wraps `cause` as the error of `stage`; a {@link DurableWriteError} passes through unchanged.
 * `what` names the step when the stage's usual description does not fit it; `platform` picks
 * the advice (what the kernel does after a failed flush, what holds a file on Windows).
 */
export function wrapError(
  stage: DurableWriteStage,
  cause: unknown,
  ctx: FailureContext,
  what = WHAT_FAILED[stage],
  platform: Platform = hostPlatform,
): DurableWriteError {
  if (isDurableWriteError(cause)) return cause;
  const code = errnoCode(cause);
  const reason = cause instanceof Error ? cause.message : String(cause);
  const message = `${ctx.operation}: ${what} failed${code === undefined ? '' : ` with ${code}`} (${reason}); ${consequence(stage, ctx, code, platform)}`;
  const options = { stage, path: ctx.path, tmpPath: ctx.tmpPath, cause, code };
  return stage === 'flush' ? new FlushError(message, options) : new DurableWriteError(message, options);
}

/**
 * The directory `dir` left unflushed where the platform offers no directory flush (Windows):
 * reported in a result's `directorySyncErrors` (code `ENOTSUP`, stage `flush-directory`), never thrown.
 */
export function directoryFlushUnavailable(dir: string, ctx: FailureContext): DurableWriteError {
  return new DurableWriteError(
    `${ctx.operation}: the directory ${dir} was not flushed: ${NO_DIRECTORY_FLUSH}, so durable-write does not attempt one, ` +
      'as PostgreSQL and SQLite do not on Windows; a name created, renamed or removed in it is as durable as Windows makes it without one',
    { code: 'ENOTSUP', stage: 'flush-directory', path: ctx.path },
  );
}

/**
 * The refusal of `directorySync: 'required'` where the platform offers no directory flush
 * (Windows): thrown before any I/O (code `ENOTSUP`, stage `validate`), so nothing changes.
 */
export function directoryFlushRequired(operation: string, path: string): DurableWriteError {
  return new DurableWriteError(
    `${operation}: directorySync: 'required' cannot be met: ${NO_DIRECTORY_FLUSH}; nothing was done and ${path} is unchanged. ` +
      "Leave directorySync out (on Windows the data is flushed, the rename done and the result says directorySynced: false) or pass 'best-effort'",
    { code: 'ENOTSUP', stage: 'validate', path },
  );
}

/** Throws an {@link AbortError} if `signal` has fired. */
export function throwIfAborted(
  signal: AbortSignal | undefined,
  stage: DurableWriteStage,
  ctx: { readonly path?: string | undefined; readonly tmpPath?: string | undefined },
): void {
  if (signal?.aborted === true) {
    throw new AbortError({ stage, path: ctx.path, tmpPath: ctx.tmpPath, cause: signal.reason });
  }
}

/** Runs `effect`, turning a failure into the error of `stage` (`what` names the step, as in {@link wrapError}). */
export function* attempt<T>(stage: DurableWriteStage, effect: Effect<T>, ctx: FailureContext, what?: string): Operation<T> {
  try {
    return yield* perform(effect);
  } catch (error) {
    throw wrapError(stage, error, ctx, what);
  }
}

/** Runs `effect` and ignores its failure: for cleanup after an error already being reported. */
export function* quietly(effect: Effect<unknown>): Operation<void> {
  try {
    yield* perform(effect);
  } catch {
    // The original error is what the caller needs; a failed cleanup must not replace it.
  }
}
