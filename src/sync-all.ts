/**
 * `syncAll`: the kernel's `sync(2)`, awaited.
 *
 * @module
 */
import type { DurableFileSystem } from './file-system.js';
import { flushThroughSeamOrProgram } from './internal/sync-program.js';

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
