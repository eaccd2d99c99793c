/**
 * `fsyncFile`: flush an existing file's data and metadata to stable storage by path.
 *
 * @module
 */
import { checkFlush, checkPath, fileOperationOptions, type CallMode } from '../core/arguments.js';
import { runAsync, runSync, type Operation } from '../core/effect.js';
import { throwIfAborted, type FailureContext } from '../core/failure.js';
import { fileIo, type FlushMethod } from '../core/file-io.js';
import type { DurableFileSystem } from '../core/file-system.js';
import { flushFile } from './flush.js';

/** Options of {@link fsyncFile}. */
export interface FsyncFileOptions {
  /** `'fsync'` or `'fdatasync'`. Default `'fsync'`. */
  readonly flush?: FlushMethod | undefined;
  /** Rejects with an `AbortError` if fired before the file is opened. Default: none. */
  readonly signal?: AbortSignal | undefined;
  /** The file-system primitives to use. Default: Node's. */
  readonly fs?: DurableFileSystem | undefined;
}

/** Options of {@link fsyncFileSync}: those of {@link fsyncFile} but the signal. */
export type FsyncFileSyncOptions = Omit<FsyncFileOptions, 'signal'>;

const OPTION_NAMES = ['flush', 'signal', 'fs'] as const satisfies readonly (keyof FsyncFileOptions)[];

/** Checks every argument (throwing before any I/O), then returns the operation. */
function prepare(path: unknown, options: unknown, mode: CallMode, operation: string): Operation<void> {
  const ctx: FailureContext = { operation, path: checkPath(path, 'path', operation) };
  const { options: o, fs, signal } = fileOperationOptions(options, OPTION_NAMES, mode, operation);
  const method = checkFlush(o['flush'], operation);
  throwIfAborted(signal, 'open', ctx);
  return flushFile(fileIo(fs), ctx.path, method, ctx);
}

/**
 * Flushes the file at `path`: `open(path, O_RDONLY)`, `fsync` (or `fdatasync`), `close`. On
 * Windows `open(path, O_RDWR)`: `FlushFileBuffers` needs a handle with write access, so a file this
 * process may not write cannot be flushed there (stage `open`, the message says why).
 *
 * Guarantees: on resolve, everything written to the file before the call, by any descriptor, is
 * on stable storage. It does not make the file's name durable: fsync its directory for that
 * ({@link fsyncDirectory}). A rejection with a {@link FlushError} means written data is lost and
 * must be written again from its source; calling `fsyncFile` again would not bring it back.
 *
 * @example
 * ```ts
 * import { fsyncFile, fsyncDirectory } from 'durable-write';
 * await appendFile('/var/log/app/journal', line);
 * await fsyncFile('/var/log/app/journal');
 * ```
 */
export async function fsyncFile(path: string | URL, options?: FsyncFileOptions): Promise<void> {
  await runAsync(prepare(path, options, 'async', 'fsyncFile'));
}

/**
 * The synchronous {@link fsyncFile}: the same syscalls and guarantees.
 *
 * @example
 * ```ts
 * import { fsyncFileSync } from 'durable-write';
 * fsyncFileSync('/var/lib/app/db.sqlite');
 * ```
 */
export function fsyncFileSync(path: string | URL, options?: FsyncFileSyncOptions): void {
  runSync(prepare(path, options, 'sync', 'fsyncFileSync'));
}
