/**
 * Flushing by path: a file (`open`, `fsync`/`fdatasync`, `close`) and a directory (`open` with
 * `O_DIRECTORY`, `fsync`, `close`), the latter under the caller's policy resolved for the
 * platform ({@link DirectorySyncRule}: on Windows no directory is flushed, and that is reported).
 * An operation that renames opens the directory first and holds it ({@link holdDirectory}), so
 * that running out of descriptors (EMFILE) or a refused open fails before anything changes, and
 * after the rename only the directory fsync itself can fail. Asynchronously, an open that finds
 * no free descriptor while the library holds others waits for one of them to be closed and is
 * tried again ({@link whenDescriptorsFree}), so a burst of writes queues instead of failing.
 *
 * @internal
 * @module
 */
import type { DescriptorTurn } from '../core/descriptor-gate.js';
import { perform, type Effect, type Operation } from '../core/effect.js';
import { errnoCode, isDurableWriteError, type DurableWriteError } from '../core/errors.js';
import { attempt, directoryFlushUnavailable, quietly, type FailureContext } from '../core/failure.js';
import { OPEN_DIRECTORY, openToFlush, type DirectorySyncRule, type FileIo, type FlushMethod, type OpenFile } from '../core/file-io.js';
import { hostPlatform, type Platform } from '../core/platform.js';
import { sharedDirectoryFsync } from './directory-fsync-group.js';

/** What became of a directory fsync. */
export interface DirectorySyncOutcome {
  /** The directory was opened and fsynced successfully. */
  readonly synced: boolean;
  /** Why it was not: under `'best-effort'` the refusal, under `'unavailable'` the report that the platform offers none. */
  readonly error: DurableWriteError | undefined;
}

/**
 * Errors with which a file system refuses to open or fsync a directory (some FUSE and network
 * file systems; Windows is never asked: `'unavailable'`). Only these are tolerated under
 * `'best-effort'`; an I/O error (EIO, ENOSPC...) always fails, since it means data may be lost.
 */
const REFUSALS: ReadonlySet<string> = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EPERM', 'EACCES', 'EISDIR', 'EBADF']);

/**
 * Runs `open`, an operation that opens descriptors and, when it fails, has closed them again;
 * while it fails for lack of descriptors (EMFILE, ENFILE) and the library holds others on the same
 * file system, waits until one of those is closed and runs it again (`descriptor-gate.ts`).
 * Nothing waits while holding a descriptor, so a burst cannot deadlock. The sync driver cannot
 * wait: there the first failure is thrown, as is any other error. `signal` ends a wait (`open`
 * then runs once more, and should throw the abort).
 */
export function* whenDescriptorsFree<T>(io: FileIo, signal: AbortSignal | undefined, open: () => Operation<T>): Operation<T> {
  /** The turn this caller was given after a wait, passed on to the next waiter once its opens succeed. */
  let turn: DescriptorTurn | undefined;
  for (;;) {
    try {
      const opened = yield* open();
      turn?.pass();
      return opened;
    } catch (error) {
      turn = yield* perform(io.descriptorFreed(error, signal, turn));
    }
  }
}

/**
 * `open(path, O_RDONLY)` (waiting for a descriptor, see {@link whenDescriptorsFree}), `fsync`/`fdatasync`,
 * `close` (checked). On Windows `open(path, O_RDWR)`: `FlushFileBuffers` needs write access, so a
 * file this process may not write cannot be flushed there, and the error says so.
 */
export function* flushFile(io: FileIo, path: string, method: FlushMethod, ctx: FailureContext, platform: Platform = hostPlatform): Operation<void> {
  const what =
    platform === 'windows'
      ? `opening ${path} for writing to flush it (Windows flushes a file only through a handle with write access: a read-only file, or one this process may not write, cannot be flushed)`
      : `opening ${path} to flush it`;
  const file: OpenFile = yield* whenDescriptorsFree(io, undefined, () => attempt('open', io.open(path, openToFlush(platform)), ctx, what));
  try {
    yield* attempt('flush', io.flush(file, method), ctx);
  } catch (error) {
    yield* quietly(io.close(file));
    throw error;
  }
  yield* attempt('close', io.close(file), ctx, `closing ${path} after flushing it`);
}

/**
 * A directory opened to be fsynced later; `file` is undefined when the platform refused it under
 * `'best-effort'`, or offers no directory flush (`'unavailable'`).
 */
export interface HeldDirectory {
  readonly path: string;
  readonly file: OpenFile | undefined;
  /** The refusal, under `'best-effort'`; under `'unavailable'`, the report that no flush is offered. */
  readonly refused: DurableWriteError | undefined;
}

/** Whether `error` is a refusal that `policy` tolerates. */
function tolerated(error: unknown, policy: DirectorySyncRule): error is DurableWriteError {
  const code = errnoCode(error);
  return policy === 'best-effort' && isDurableWriteError(error) && code !== undefined && REFUSALS.has(code);
}

/**
 * `open(dir, O_RDONLY|O_DIRECTORY)`, held for {@link syncHeldDirectory}; a refusal is tolerated
 * under `'best-effort'`. Under `'unavailable'` (Windows) nothing is opened: the directory is
 * reported unflushed.
 */
export function* holdDirectory(io: FileIo, dir: string, policy: DirectorySyncRule, ctx: FailureContext): Operation<HeldDirectory> {
  if (policy === 'unavailable') return { path: dir, file: undefined, refused: directoryFlushUnavailable(dir, ctx) };
  try {
    const file = yield* attempt('open', io.open(dir, OPEN_DIRECTORY), ctx, `opening the directory ${dir}`);
    return { path: dir, file, refused: undefined };
  } catch (error) {
    if (tolerated(error, policy)) return { path: dir, file: undefined, refused: error };
    throw error;
  }
}

/** Closes a held directory without flushing it: on a failure path, where nothing was renamed. */
export function* releaseDirectory(io: FileIo, held: HeldDirectory): Operation<void> {
  if (held.file !== undefined) yield* quietly(io.close(held.file));
}

/**
 * `fsync(dir)` on a held descriptor. Synchronously, this caller's own fsync; asynchronously, a
 * fsync shared with the concurrent operations renaming into the same directory (group commit,
 * see `directory-fsync-group.ts`): one that starts after this call, on the descriptor of the
 * first caller of its batch.
 */
function directoryFsync(io: FileIo, held: HeldDirectory, file: OpenFile): Effect<void> {
  const own = io.flush(file, 'fsync');
  return {
    step: own.step,
    sync: () => own.sync(),
    async: () => sharedDirectoryFsync(io, held.path, () => own.async()),
  };
}

/**
 * `fsync` of a held directory (shared with concurrent async operations on the same directory),
 * then `close`. A failed fsync rejects (stage `flush-directory`)
 * unless `policy` tolerates it; once it succeeded, the close cannot lose anything and its
 * failure is ignored.
 */
export function* syncHeldDirectory(io: FileIo, held: HeldDirectory, policy: DirectorySyncRule, ctx: FailureContext): Operation<DirectorySyncOutcome> {
  const file = held.file;
  if (file === undefined) return { synced: false, error: held.refused };
  try {
    yield* attempt('flush-directory', directoryFsync(io, held, file), { ...ctx, tmpPath: undefined });
  } catch (error) {
    yield* quietly(io.close(file));
    if (tolerated(error, policy)) return { synced: false, error };
    throw error;
  }
  yield* quietly(io.close(file));
  return { synced: true, error: undefined };
}

/**
 * `open(dir, O_RDONLY|O_DIRECTORY)` (waiting for a descriptor, see {@link whenDescriptorsFree}),
 * `fsync`, `close`, tolerating a refusal under `'best-effort'`; no I/O under `'unavailable'`.
 */
export function* flushDirectory(
  io: FileIo,
  dir: string,
  policy: DirectorySyncRule,
  ctx: FailureContext,
): Operation<DirectorySyncOutcome> {
  const held = yield* whenDescriptorsFree(io, undefined, () => holdDirectory(io, dir, policy, { ...ctx, tmpPath: undefined }));
  return yield* syncHeldDirectory(io, held, policy, ctx);
}
