/**
 * `renameDurable`: PostgreSQL's `durable_rename` for Node: a rename that survives a crash.
 *
 * @module
 */
import * as nodePath from 'node:path';
import { checkDirectorySync, checkFlush, checkPath, checkRenameRetry, fileOperationOptions, type CallMode } from '../core/arguments.js';
import { runAsync, runSync, type Operation } from '../core/effect.js';
import type { DurableWriteError } from '../core/errors.js';
import { throwIfAborted, type FailureContext } from '../core/failure.js';
import { fileIo, type DirectorySyncPolicy, type DirectorySyncRule, type FileIo, type FlushMethod } from '../core/file-io.js';
import type { DurableFileSystem } from '../core/file-system.js';
import { flushFile, holdDirectory, releaseDirectory, syncHeldDirectory, type HeldDirectory } from './flush.js';
import { renameRetrying } from './rename-retry.js';

/** Options of {@link renameDurable}. */
export interface RenameDurableOptions {
  /** How the source file is flushed before the rename: `'fsync'` or `'fdatasync'`. Default `'fsync'`. */
  readonly flush?: FlushMethod | undefined;
  /**
   * Policy for the directory fsyncs, as in `writeDurable`. Default `'required'` on Linux and
   * macOS; on Windows, which offers no directory flush, none is attempted and the result says so
   * (`directorySynced: false`), and `'required'` rejects before anything changes.
   */
  readonly directorySync?: DirectorySyncPolicy | undefined;
  /**
   * How long, in milliseconds, a rename refused with `EPERM`, `EACCES` or `EBUSY` is retried on
   * Windows, where another process holding `from` or `to` open (an antivirus scanner, an indexer)
   * refuses it for a while; an integer from 0 to 60000. Default `10000` for `renameDurable`,
   * `1000` for `renameDurableSync`. Elsewhere such a refusal is permanent and the option has no effect.
   */
  readonly renameRetryMs?: number | undefined;
  /** Aborts before the rename (nothing is renamed), a wait between retries of the rename too; after it, the call completes. Default: none. */
  readonly signal?: AbortSignal | undefined;
  /** The file-system primitives to use. Default: Node's. */
  readonly fs?: DurableFileSystem | undefined;
}

/** Options of {@link renameDurableSync}: those of {@link renameDurable} but the signal. */
export type RenameDurableSyncOptions = Omit<RenameDurableOptions, 'signal'>;

/** What a completed durable rename did. */
export interface RenameDurableResult {
  /** Whether every directory fsync succeeded (false only under `'best-effort'`, and on Windows). */
  readonly directorySynced: boolean;
  /** The directory fsyncs refused under `'best-effort'`, or on Windows not offered (code `ENOTSUP`); empty otherwise. */
  readonly directorySyncErrors: readonly DurableWriteError[];
}

/** A rename, its arguments checked. */
interface RenamePlan {
  readonly from: string;
  readonly to: string;
  readonly flush: FlushMethod;
  readonly directorySync: DirectorySyncRule;
  readonly renameRetryMs: number;
  readonly signal: AbortSignal | undefined;
  readonly io: FileIo;
  readonly operation: string;
}

const OPTION_NAMES = ['flush', 'directorySync', 'renameRetryMs', 'signal', 'fs'] as const satisfies readonly (keyof RenameDurableOptions)[];

/** Checks every argument, throwing before any I/O. */
function planRename(from: unknown, to: unknown, options: unknown, mode: CallMode, operation: string): RenamePlan {
  const checkedFrom = checkPath(from, 'from', operation);
  const checkedTo = checkPath(to, 'to', operation);
  const { options: o, fs, signal } = fileOperationOptions(options, OPTION_NAMES, mode, operation);
  return {
    from: checkedFrom,
    to: checkedTo,
    flush: checkFlush(o['flush'], operation),
    directorySync: checkDirectorySync(o['directorySync'], operation, checkedTo),
    renameRetryMs: checkRenameRetry(o['renameRetryMs'], mode, operation),
    signal,
    io: fileIo(fs),
    operation,
  };
}

/**
 * Flush the source; open the target's directory and, when it differs, the source's (so that
 * running out of descriptors fails before anything changes); rename; fsync the directories.
 */
function* renameOperation(plan: RenamePlan): Operation<RenameDurableResult> {
  const { io, from, to, signal, operation } = plan;
  const ctx: FailureContext = { operation, path: to };
  throwIfAborted(signal, 'flush', ctx);
  yield* flushFile(io, from, plan.flush, { operation, path: from });
  const targetDir = nodePath.dirname(to);
  const sourceDir = nodePath.dirname(from);
  const held: HeldDirectory[] = [];
  try {
    for (const dir of targetDir === sourceDir ? [targetDir] : [targetDir, sourceDir]) {
      held.push(yield* holdDirectory(io, dir, plan.directorySync, ctx));
    }
    throwIfAborted(signal, 'rename', ctx);
    yield* renameRetrying(io, from, to, { windowMs: plan.renameRetryMs, signal }, ctx, `renaming ${from} to ${to}`);
  } catch (error) {
    for (const dir of held) yield* releaseDirectory(io, dir);
    throw error;
  }
  const renamed: FailureContext = { ...ctx, renamed: true };
  const refused: DurableWriteError[] = [];
  for (const dir of held) {
    const outcome = yield* syncHeldDirectory(io, dir, plan.directorySync, renamed);
    if (outcome.error !== undefined) refused.push(outcome.error);
  }
  return { directorySynced: refused.length === 0, directorySyncErrors: refused };
}

/**
 * Renames `from` to `to` durably, as PostgreSQL's `durable_rename` does.
 *
 * Syscalls, in order: `open(from, O_RDONLY)`, `fsync`, `close` (so the data is on disk before
 * its new name can be); `open(dirname(to), O_RDONLY|O_DIRECTORY)` and, when it differs,
 * `open(dirname(from), ...)` (held, so that running out of descriptors fails before anything
 * changes); `rename(from, to)`; `fsync` and `close` of each directory. Paths are resolved by the
 * kernel: `..` after a symlinked directory leads where `open(2)` would go. On Windows: `from` is
 * opened `O_RDWR` (`FlushFileBuffers` needs write access), no directory is opened or flushed (the
 * result says so), and a rename refused while another process holds a file is retried
 * (`renameRetryMs`).
 *
 * Guarantees: on resolve, `to` names the file's complete data on stable storage and, when the
 * directories differ, `from` is durably gone. rename(2) is atomic: a reader sees the old `to` or
 * the new one. A failure before the rename leaves both names as they were.
 *
 * @example
 * ```ts
 * import { renameDurable } from 'durable-write';
 * await renameDurable('/data/incoming/batch-17.part', '/data/ready/batch-17');
 * ```
 */
export async function renameDurable(from: string | URL, to: string | URL, options?: RenameDurableOptions): Promise<RenameDurableResult> {
  return runAsync(renameOperation(planRename(from, to, options, 'async', 'renameDurable')));
}

/**
 * The synchronous {@link renameDurable}: the same syscalls and guarantees.
 *
 * @example
 * ```ts
 * import { renameDurableSync } from 'durable-write';
 * renameDurableSync('/data/incoming/batch-17.part', '/data/ready/batch-17');
 * ```
 */
export function renameDurableSync(from: string | URL, to: string | URL, options?: RenameDurableSyncOptions): RenameDurableResult {
  return runSync(renameOperation(planRename(from, to, options, 'sync', 'renameDurableSync')));
}
