/**
 * Flushing by path: a file (`open`, `fsync`/`fdatasync`, `close`) and a directory (`open` with
 * `O_DIRECTORY`, `fsync`, `close`), the latter under the caller's {@link DirectorySyncPolicy}.
 *
 * @internal
 * @module
 */
import type { Operation } from '../core/effect.js';
import { errnoCode, isDurableWriteError, type DurableWriteError, type DurableWriteStage } from '../core/errors.js';
import { attempt, quietly, type FailureContext } from '../core/failure.js';
import { OPEN_DIRECTORY, OPEN_READ, type DirectorySyncPolicy, type FileIo, type FlushMethod, type OpenFile } from '../core/file-io.js';

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

/** Opens `path`, flushes it with `method`, closes it (close checked). */
function* flushPath(
  io: FileIo,
  path: string,
  flags: number,
  method: FlushMethod,
  stage: DurableWriteStage,
  ctx: FailureContext,
): Operation<void> {
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
export function* flushFile(io: FileIo, path: string, method: FlushMethod, ctx: FailureContext): Operation<void> {
  yield* flushPath(io, path, OPEN_READ, method, 'flush', ctx);
}

/** `open(dir, O_RDONLY|O_DIRECTORY)`, `fsync`, `close`, tolerating a refusal under `'best-effort'`. */
export function* flushDirectory(
  io: FileIo,
  dir: string,
  policy: DirectorySyncPolicy,
  ctx: FailureContext,
): Operation<DirectorySyncOutcome> {
  try {
    yield* flushPath(io, dir, OPEN_DIRECTORY, 'fsync', 'flush-directory', { ...ctx, path: ctx.path, tmpPath: undefined });
    return { synced: true, error: undefined };
  } catch (error) {
    const code = errnoCode(error);
    if (policy === 'best-effort' && isDurableWriteError(error) && code !== undefined && REFUSALS.has(code)) {
      return { synced: false, error };
    }
    throw error;
  }
}
