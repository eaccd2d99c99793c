/**
 * The steps every durable operation is made of: attempt a primitive as a named stage, flush a
 * file by path, flush a directory (with the best-effort policy), create missing directories
 * durably, and clean up quietly after a failure.
 *
 * @internal
 * @module
 */
import * as nodePath from 'node:path';
import { errnoCode, type DurableWriteError, type DurableWriteStage } from '../core/errors.js';
import { perform, type Effect, type Step } from '../core/effect.js';
import { OPEN_DIRECTORY, OPEN_READ, type FileIo, type FlushMethod, type OpenFile } from '../core/file-io.js';
import { wrapError, type FailureContext } from '../core/failure.js';

/** Whether a directory fsync must succeed, or may be refused by the platform. */
export type DirectorySyncPolicy = 'required' | 'best-effort';

/** What became of a directory fsync. */
export interface DirectorySyncOutcome {
  /** The directory was opened and fsynced successfully. */
  readonly synced: boolean;
  /** Why it was not, under `'best-effort'` (the platform or file system refused it). */
  readonly error: DurableWriteError | undefined;
}

/**
 * Errors with which a platform or file system refuses to open or fsync a directory (Windows,
 * some FUSE and network file systems). Only these are tolerated under `'best-effort'`; an I/O
 * error (EIO, ENOSPC...) always fails, since it means data may be lost.
 */
const REFUSALS: ReadonlySet<string> = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EPERM', 'EACCES', 'EISDIR', 'EBADF']);

/** Runs `effect`, turning a failure into the error of `stage`. */
export function* attempt<T>(stage: DurableWriteStage, effect: Effect<T>, ctx: FailureContext): Step<T> {
  try {
    return yield* perform(effect);
  } catch (error) {
    throw wrapError(stage, error, ctx);
  }
}

/** Runs `effect` and ignores its failure: for cleanup after an error already being reported. */
export function* quietly(effect: Effect<unknown>): Step<void> {
  try {
    yield* perform(effect);
  } catch {
    // The original error is what the caller needs; a failed cleanup must not replace it.
  }
}

/** Opens `path`, flushes it with `method`, closes it (close checked). */
export function* flushPath(
  io: FileIo,
  path: string,
  flags: number,
  method: FlushMethod,
  stage: DurableWriteStage,
  ctx: FailureContext,
): Step<void> {
  const file: OpenFile = yield* attempt(stage === 'flush-directory' ? 'flush-directory' : 'open', io.open(path, flags), ctx);
  try {
    yield* attempt(stage, io.flush(file, method), ctx);
  } catch (error) {
    yield* quietly(io.close(file));
    throw error;
  }
  yield* attempt(stage === 'flush-directory' ? 'flush-directory' : 'close', io.close(file), ctx);
}

/** `open(path, O_RDONLY)`, `fsync`/`fdatasync`, `close`. */
export function* flushFile(io: FileIo, path: string, method: FlushMethod, ctx: FailureContext): Step<void> {
  yield* flushPath(io, path, OPEN_READ, method, 'flush', ctx);
}

/** `open(dir, O_RDONLY|O_DIRECTORY)`, `fsync`, `close`, tolerating a refusal under `'best-effort'`. */
export function* flushDirectory(
  io: FileIo,
  dir: string,
  policy: DirectorySyncPolicy,
  ctx: FailureContext,
): Step<DirectorySyncOutcome> {
  try {
    yield* flushPath(io, dir, OPEN_DIRECTORY, 'fsync', 'flush-directory', { ...ctx, path: ctx.path, tmpPath: undefined });
    return { synced: true, error: undefined };
  } catch (error) {
    const code = errnoCode(error);
    if (policy === 'best-effort' && code !== undefined && REFUSALS.has(code)) {
      return { synced: false, error: error as DurableWriteError };
    }
    throw error;
  }
}

/**
 * Creates `dir` and every missing ancestor (mode `0o777`, less the umask), then fsyncs the
 * parent of each directory it created, top down, so that the whole path survives a crash.
 * Returns the directories created, outermost first, and any refused directory fsyncs.
 */
export function* createDirectories(
  io: FileIo,
  dir: string,
  policy: DirectorySyncPolicy,
  ctx: FailureContext,
): Step<{ created: string[]; refused: DurableWriteError[] }> {
  const missing: string[] = [];
  for (let current = dir; ; current = nodePath.dirname(current)) {
    try {
      const stats = yield* perform(io.stat(current));
      if (!stats.isDirectory()) {
        throw wrapError('mkdir', Object.assign(new Error(`${current} is not a directory`), { code: 'ENOTDIR' }), ctx);
      }
      break;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' || nodePath.dirname(current) === current) throw wrapError('mkdir', error, ctx);
      missing.unshift(current);
    }
  }
  const created: string[] = [];
  for (const path of missing) {
    try {
      yield* perform(io.mkdir(path, 0o777));
      created.push(path);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw wrapError('mkdir', error, ctx);
    }
  }
  const refused: DurableWriteError[] = [];
  for (const path of created) {
    const outcome = yield* flushDirectory(io, nodePath.dirname(path), policy, ctx);
    if (outcome.error !== undefined) refused.push(outcome.error);
  }
  return { created, refused };
}
