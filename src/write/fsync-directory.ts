/**
 * `fsyncDirectory`: make a directory's entries (names created, renamed or removed in it) durable.
 *
 * @module
 */
import type { DurableWriteError } from '../core/errors.js';
import type { DurableFileSystem } from '../core/file-system.js';
import { checkChoice } from '../core/arguments.js';
import { flushDirectory, type DirectorySyncPolicy } from './durable-steps.js';
import { runAsync, runSync } from '../core/effect.js';
import { pathOperation } from './path-operation.js';

/** Options of {@link fsyncDirectory}. */
export interface FsyncDirectoryOptions {
  /**
   * `'required'`: any failure rejects. `'best-effort'`: a platform that refuses to open or
   * fsync a directory (EINVAL, ENOTSUP, EPERM, EISDIR...) resolves with `synced: false` and the
   * error; an I/O error still rejects. Default `'required'`.
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
  /** Whether the directory was fsynced. Always `true` under `'required'`. */
  readonly synced: boolean;
  /** The refusal tolerated under `'best-effort'`, when `synced` is false. */
  readonly error: DurableWriteError | undefined;
}

function prepare(path: unknown, options: unknown, mode: 'sync' | 'async', operation: string) {
  return pathOperation(path, options, mode, operation, 'flush-directory', (io, o, ctx) =>
    flushDirectory(io, ctx.path, checkChoice(o['directorySync'], ['required', 'best-effort'], 'required', 'directorySync', operation), ctx),
  );
}

/**
 * Flushes the directory at `path`: `open(path, O_RDONLY|O_DIRECTORY)`, `fsync`, `close`.
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
