/**
 * Flushing whole file systems: `syncAll` (`sync(2)`) and `syncFilesystem` (`syncfs(2)`, which
 * reports writeback errors). Both are one call over the same flow: the fs seam's own flush when
 * it has one (the crash simulator), else GNU coreutils' `sync` program, run by `sync-program.ts`
 * beside this file (Node has no binding for either syscall).
 *
 * @module
 */
import { checkPath, checkSignal, checkString, describeValue, invalidArgType, optionsObject } from '../core/arguments.js';
import type { DurableFileSystem } from '../core/file-system.js';
import { flushThroughSeamOrProgram, type SyncProgramCall } from './sync-program.js';

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
   * The coreutils `sync` program to run, a name looked up on PATH or a path. Default `'sync'`;
   * on Windows, none: without this option `syncAll` rejects there (code `ENOTSUP`), and with it
   * the program is run with no arguments (Sysinternals' `sync.exe` flushes every volume so,
   * given administrative rights).
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
 * On Windows, which has no `sync(2)`, it rejects at once with a `DurableWriteError` of code
 * `'ENOTSUP'` (stage `'sync'`) unless `options.syncProgram` names a program to run or
 * `options.fs` has its own `sync()`: files written with `writeDurable` need no sync there, as
 * anywhere, since each is flushed before its call resolves.
 *
 * @example
 * ```ts
 * import { syncAll, writeDurable } from 'durable-write';
 * await writeDurable('/srv/state.json', JSON.stringify(state));
 * await syncAll(); // every other dirty page too: logs, databases, other processes' files
 * ```
 */
export async function syncAll(options?: SyncAllOptions): Promise<void> {
  const operation = 'syncAll';
  const checked = checkSyncOptions(options, operation);
  await flushThroughSeamOrProgram({ stage: 'sync', args: [], ...checked.call, seamFlush: checked.seamFlush(undefined) });
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
   * PATH or a path, run with `--file-system -- PATH`. Default `'sync'`; on Windows, none: without
   * this option `syncFilesystem` rejects there (code `ENOTSUP`).
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
 * without `--file-system`, with `'ENOSYS'`. `options.signal` rejects with an `AbortError`. On
 * Windows, which has no `syncfs(2)`, it rejects at once with code `'ENOTSUP'` (stage `'syncfs'`)
 * unless `options.syncProgram` or a seam's `syncfs` is given.
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
export async function syncFilesystem(path: string | URL, options?: SyncFilesystemOptions): Promise<void> {
  const operation = 'syncFilesystem';
  const target = checkPath(path, 'path', operation);
  const checked = checkSyncOptions(options, operation);
  await flushThroughSeamOrProgram({
    stage: 'syncfs',
    args: ['--file-system', '--', target],
    path: target,
    ...checked.call,
    seamFlush: checked.seamFlush(target),
  });
}

/** The options both functions take, checked: the program call's part, and the seam's flush for a path. */
interface CheckedSyncOptions {
  readonly call: Pick<SyncProgramCall, 'signal' | 'syncProgram'>;
  /** The seam's `sync()` (no path) or `syncfs(path)`, bound to it; `undefined` when the seam has none. */
  seamFlush(path: string | undefined): (() => Promise<void>) | undefined;
}

type FlushSeam = Pick<DurableFileSystem, 'sync' | 'syncfs'>;

/** Whether `value` is an object whose `sync` and `syncfs`, where present, are functions. */
function isFlushSeam(value: unknown): value is FlushSeam {
  if (typeof value !== 'object' || value === null) return false;
  return ['sync', 'syncfs'].every((member) => ['undefined', 'function'].includes(typeof Reflect.get(value, member)));
}

/** The argument prologue of `syncAll` and `syncFilesystem`. */
function checkSyncOptions(value: unknown, operation: string): CheckedSyncOptions {
  const o = optionsObject(value, ['signal', 'fs', 'syncProgram'], operation);
  const signal = checkSignal(o['signal'], operation);
  const syncProgram = checkString(o['syncProgram'], undefined, 'syncProgram', operation);
  const fs = o['fs'];
  if (fs !== undefined && !isFlushSeam(fs)) {
    throw invalidArgType(`${operation}: fs must be an object whose sync and syncfs, if any, are functions; received ${describeValue(fs)}`);
  }
  return {
    call: { signal, syncProgram },
    seamFlush: (path) => {
      if (path === undefined) return fs?.sync?.bind(fs);
      const syncfs = fs?.syncfs?.bind(fs);
      return syncfs === undefined ? undefined : () => syncfs(path);
    },
  };
}
