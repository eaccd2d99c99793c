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
};

/** The consequence for the caller's data, by stage, when the temporary file was discarded. */
function consequence(stage: DurableWriteStage, ctx: FailureContext): string {
  if (stage === 'flush-directory') {
    return ctx.renamed === true
      ? `the new content is in place at ${ctx.path}, but its name may not survive a crash; write it again from its source once the storage is healthy (do not just fsync the directory again: the kernel has reported and forgotten the error, so a second fsync can succeed without making the name durable)`
      : 'the new name may not survive a crash; write it again from its source once the storage is healthy (do not just fsync the directory again: the kernel has reported and forgotten the error, so a second fsync can succeed without making the name durable)';
  }
  if (stage === 'flush') {
    return ctx.tmpPath === undefined
      ? 'the data is NOT on disk: the kernel has reported and forgotten the error, so write it again from its source'
      : `the data is NOT on disk; the temporary file was removed and ${ctx.path} keeps its previous content: write the data again from its source`;
  }
  if (ctx.tmpPath !== undefined) return `the temporary file was removed and ${ctx.path} keeps its previous content`;
  return `${ctx.path} is unchanged`;
}

/**
 * Wraps `cause` as the error of `stage`; a {@link DurableWriteError} passes through unchanged.
 * `what` names the step when the stage's usual description does not fit it.
 */
export function wrapError(stage: DurableWriteStage, cause: unknown, ctx: FailureContext, what = WHAT_FAILED[stage]): DurableWriteError {
  if (isDurableWriteError(cause)) return cause;
  const code = errnoCode(cause);
  const reason = cause instanceof Error ? cause.message : String(cause);
  const message = `${ctx.operation}: ${what} failed${code === undefined ? '' : ` with ${code}`} (${reason}); ${consequence(stage, ctx)}`;
  const options = { stage, path: ctx.path, tmpPath: ctx.tmpPath, cause, code };
  return stage === 'flush' ? new FlushError(message, options) : new DurableWriteError(message, options);
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
