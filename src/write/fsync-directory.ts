/**
 * `fsyncDirectory`: make a directory's entries (names created, renamed or removed in it) durable.
 *
 * @module
 */
import { checkDirectorySync, checkPath, fileOperationOptions, type CallMode } from '../core/arguments.js';
import { runAsync, runSync, type Operation } from '../core/effect.js';
import type { DurableWriteError } from '../core/errors.js';
import { throwIfAborted, type FailureContext } from '../core/failure.js';
import { fileIo, type DirectorySyncPolicy } from '../core/file-io.js';
import type { DurableFileSystem } from '../core/file-system.js';
import { flushDirectory, type DirectorySyncOutcome } from './flush.js';

/** Options of {@link fsyncDirectory}. */
export interface FsyncDirectoryOptions {
  /**
   * `'required'`: any failure rejects. `'best-effort'`: a platform that refuses to open or
   * fsync a directory (EINVAL, ENOTSUP, EPERM, EISDIR...) resolves with `synced: false` and the
   * error; an I/O error still rejects. Default `'required'` on Linux and macOS. On Windows, which
   * offers no directory flush, the default and `'best-effort'` open nothing and resolve with
   * `synced: false` and an error of code `ENOTSUP`; `'required'` rejects (code `ENOTSUP`, stage
   * `validate`).
   */
  readonly directorySync?: DirectorySyncPolicy | undefined;
  /** Rejects with an `AbortError` if fired before the directory is opened. Default: none. */
  readonly signal?: AbortSignal | undefined;
  /** The file-system primitives to use. Default: Node's. */
  readonly fs?: DurableFileSystem | undefined;
}

/** Options of {@link fsyncDirectorySync}: those of {@link fsyncDirectory} but the signal. */
export type FsyncDirectorySyncOptions = Omit<FsyncDirectoryOptions, 'signal'>;

/** What became of a directory fsync. */
export interface FsyncDirectoryResult {
  /** Whether the directory was fsynced. Always `true` under `'required'`; always `false` on Windows. */
  readonly synced: boolean;
  /** Why `synced` is false: the refusal tolerated under `'best-effort'`, or on Windows the report that it offers no directory flush (code `ENOTSUP`). */
  readonly error: DurableWriteError | undefined;
}

const OPTION_NAMES = ['directorySync', 'signal', 'fs'] as const satisfies readonly (keyof FsyncDirectoryOptions)[];

/** Checks every argument (throwing before any I/O), then returns the operation. */
function prepare(path: unknown, options: unknown, mode: CallMode, operation: string): Operation<DirectorySyncOutcome> {
  const ctx: FailureContext = { operation, path: checkPath(path, 'path', operation) };
  const { options: o, fs, signal } = fileOperationOptions(options, OPTION_NAMES, mode, operation);
  const policy = checkDirectorySync(o['directorySync'], operation, ctx.path);
  throwIfAborted(signal, 'flush-directory', ctx);
  return flushDirectory(fileIo(fs), ctx.path, policy, ctx);
}

/**
 * Flushes the directory at `path`: `open(path, O_RDONLY|O_DIRECTORY)`, `fsync`, `close`. On
 * Windows, which offers no directory flush, no syscall: `{ synced: false, error }` (see the option).
 *
 * Guarantees: on resolve, every entry created, renamed or removed in the directory before the
 * call is on stable storage (the entries, not the files' data: fsync each file for that). A new
 * directory also needs its own parent fsynced.
 *
 * @example
 * ```ts
 * import { fsyncDirectory } from 'durable-write';
 * await rename('/data/upload.part', '/data/upload');
 * await fsyncDirectory('/data');
 * ```
 */
export async function fsyncDirectory(path: string | URL, options?: FsyncDirectoryOptions): Promise<FsyncDirectoryResult> {
  const outcome = await runAsync(prepare(path, options, 'async', 'fsyncDirectory'));
  return { synced: outcome.synced, error: outcome.error };
}

/**
 * The synchronous {@link fsyncDirectory}: the same syscalls and guarantees.
 *
 * @example
 * ```ts
 * import { fsyncDirectorySync } from 'durable-write';
 * fsyncDirectorySync('/data');
 * ```
 */
export function fsyncDirectorySync(path: string | URL, options?: FsyncDirectorySyncOptions): FsyncDirectoryResult {
  const outcome = runSync(prepare(path, options, 'sync', 'fsyncDirectorySync'));
  return { synced: outcome.synced, error: outcome.error };
}
