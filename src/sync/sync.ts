/**
 * Flushing whole file systems: `syncAll` (`sync(2)`) and `syncFilesystem` (`syncfs(2)`, which
 * reports writeback errors). Both are one call over the same flow: the fs seam's own flush when
 * it has one (the crash simulator), else GNU coreutils' `sync` program, run by `sync-program.ts`
 * beside this file (Node has no binding for either syscall).
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { DurableWriteError } from '../core/errors.js';
import type { DurableFileSystem } from '../core/file-system.js';
import { flushThroughSeamOrProgram } from './sync-program.js';

/** Options of {@link syncAll}. */
export interface SyncAllOptions {
  /**
   * Aborts the wait: the promise rejects with an `AbortError` (stage `'sync'`) and the `sync`
   * child is sent SIGKILL. The kernel's writeback already started continues regardless.
   * Default: none.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * A file-system seam. When it has a `sync()` method, that method is called instead of the
   * kernel (the crash simulator of `durable-write/testing` supplies one). Default: none (the
   * kernel's `sync(2)`).
   */
  readonly fs?: Pick<DurableFileSystem, 'sync'> | undefined;
  /**
   * The coreutils `sync` program to run, a name looked up on PATH or a path. Default `'sync'`.
   */
  readonly syncProgram?: string | undefined;
}

/**
 * Flushes every file system's dirty data and metadata to stable storage: `sync(2)`, reached by
 * running GNU coreutils' `sync` program with no arguments (no shell; Node has no binding for the
 * syscall). Resolves once `sync(2)` has returned; on Linux that is after the writeback it started
 * has completed, so data written before the call is on disk (or in a device cache the kernel has
 * asked to flush).
 *
 * `sync(2)` reports no errors; use {@link syncFilesystem} (`syncfs(2)`) when a failed writeback
 * must surface. Rejects with a `DurableWriteError` (stage `'sync'`) when the program is missing
 * (`code` `'ENOENT'`, the message naming the program and the coreutils package) or fails, and
 * with an `AbortError` when `options.signal` fires.
 *
 * Call it before a hard power action: `await syncAll(); await power.reset()`.
 *
 * @example
 * ```ts
 * import { syncAll, writeDurable } from 'durable-write';
 * await writeDurable('/srv/state.json', JSON.stringify(state));
 * await syncAll(); // every other dirty page too: logs, databases, other processes' files
 * ```
 */
export async function syncAll(options: SyncAllOptions = {}): Promise<void> {
  await flushThroughSeamOrProgram({
    stage: 'sync',
    args: [],
    signal: options.signal,
    syncProgram: options.syncProgram ?? 'sync',
    seamFlush: options.fs?.sync?.bind(options.fs),
  });
}

/** Options of {@link syncFilesystem}. */
export interface SyncFilesystemOptions {
  /**
   * Aborts the wait: the promise rejects with an `AbortError` (stage `'syncfs'`) and the `sync`
   * child is sent SIGKILL. Default: none.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * A file-system seam. When it has a `syncfs(path)` method, that method is called instead of
   * the kernel (the crash simulator of `durable-write/testing` supplies one). Default: none.
   */
  readonly fs?: Pick<DurableFileSystem, 'syncfs'> | undefined;
  /**
   * The GNU coreutils `sync` program (8.24 or later, for `--file-system`), a name looked up on
   * PATH or a path. Default `'sync'`.
   */
  readonly syncProgram?: string | undefined;
}

/**
 * Flushes the file system that holds `path`: `syncfs(2)`, reached by running GNU coreutils
 * `sync --file-system -- PATH` (no shell), which opens `path` read-only and calls `syncfs` on
 * that descriptor. Resolves once `syncfs(2)` returned 0.
 *
 * Unlike `sync(2)`, `syncfs(2)` reports writeback errors (Linux 5.8 and later): an I/O error on
 * that file system since the last `syncfs` rejects with a `DurableWriteError` whose `stage` is
 * `'syncfs'`, `path` is `path` and `code` the errno name (`EIO`, `ENOSPC`, `EDQUOT`...); a path
 * that cannot be opened rejects the same way (`ENOENT`, `EACCES`...). A missing program rejects
 * with `code` `'ENOENT'` and a message naming the program and the coreutils package; an old one
 * without `--file-system`, with `'ENOSYS'`. `options.signal` rejects with an `AbortError`.
 *
 * @example
 * ```ts
 * import { syncFilesystem } from 'durable-write';
 * try {
 *   await syncFilesystem('/srv/data');
 * } catch (err) {
 *   // err.code === 'EIO': something written to /srv/data's file system since the last
 *   // syncfs did not reach the disk; rewrite it from its source.
 *   throw err;
 * }
 * ```
 */
export async function syncFilesystem(path: string | URL, options: SyncFilesystemOptions = {}): Promise<void> {
  const target = toPath(path);
  const syncfs = options.fs?.syncfs?.bind(options.fs);
  await flushThroughSeamOrProgram({
    stage: 'syncfs',
    args: ['--file-system', '--', target],
    path: target,
    signal: options.signal,
    syncProgram: options.syncProgram ?? 'sync',
    seamFlush: syncfs === undefined ? undefined : () => syncfs(target),
  });
}

function toPath(path: string | URL): string {
  const text = path instanceof URL ? fileURLToPath(path) : path;
  if (typeof text !== 'string' || text === '' || text.includes('\0')) {
    throw new DurableWriteError(`syncFilesystem needs a non-empty path without NUL bytes, got ${JSON.stringify(text)}`, {
      code: 'ERR_INVALID_ARG_VALUE',
      stage: 'validate',
      path: typeof text === 'string' ? text : undefined,
    });
  }
  return text;
}
