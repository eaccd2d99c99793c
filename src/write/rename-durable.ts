/**
 * `renameDurable`: PostgreSQL's `durable_rename` for Node: a rename that survives a crash.
 *
 * @module
 */
import * as nodePath from 'node:path';
import type { DurableWriteError } from '../core/errors.js';
import type { DurableFileSystem } from '../core/file-system.js';
import { checkChoice, checkFileSystem, checkPath, checkSignal, optionsObject } from '../core/arguments.js';
import { attempt, flushDirectory, flushFile, type DirectorySyncPolicy } from './durable-steps.js';
import { runAsync, runSync, type Step } from '../core/effect.js';
import { fileIo, type FlushMethod } from '../core/file-io.js';
import { throwIfAborted, type FailureContext } from '../core/failure.js';

/** Options of {@link renameDurable}. */
export interface RenameDurableOptions {
  /** How the source file is flushed before the rename: `'fsync'` or `'fdatasync'`. Default `'fsync'`. */
  readonly flush?: FlushMethod | undefined;
  /** Policy for the directory fsyncs, as in `writeDurable`. Default `'required'`. */
  readonly directorySync?: DirectorySyncPolicy | undefined;
  /** Aborts before the rename (nothing is renamed); after it, the call completes. Default: none. */
  readonly signal?: AbortSignal | undefined;
  /** The file-system primitives to use. Default: Node's. */
  readonly fs?: DurableFileSystem | undefined;
}

/** Options of {@link renameDurableSync}: those of {@link renameDurable} but the signal. */
export type RenameDurableSyncOptions = Omit<RenameDurableOptions, 'signal'>;

/** What a completed durable rename did. */
export interface RenameDurableResult {
  /** Whether every directory fsync succeeded (false only under `'best-effort'`). */
  readonly directorySynced: boolean;
  /** The directory fsyncs refused under `'best-effort'`; empty otherwise. */
  readonly directorySyncErrors: readonly DurableWriteError[];
}

function* renameSteps(from: string, to: string, options: Record<string, unknown>, fs: DurableFileSystem, operation: string): Step<RenameDurableResult> {
  const io = fileIo(fs);
  const ctx: FailureContext = { operation, path: to };
  const flush = checkChoice(options['flush'], ['fsync', 'fdatasync'], 'fsync', 'flush', operation);
  const policy = checkChoice(options['directorySync'], ['required', 'best-effort'], 'required', 'directorySync', operation);
  const signal = checkSignal(options['signal'], operation);
  throwIfAborted(signal, 'flush', ctx);
  yield* flushFile(io, from, flush, { operation, path: from });
  throwIfAborted(signal, 'rename', ctx);
  yield* attempt('rename', io.rename(from, to), ctx);
  const refused: DurableWriteError[] = [];
  const targetDir = nodePath.dirname(to);
  const sourceDir = nodePath.dirname(from);
  for (const dir of targetDir === sourceDir ? [targetDir] : [targetDir, sourceDir]) {
    const outcome = yield* flushDirectory(io, dir, policy, ctx);
    if (outcome.error !== undefined) refused.push(outcome.error);
  }
  return { directorySynced: refused.length === 0, directorySyncErrors: refused };
}

function prepare(from: unknown, to: unknown, options: unknown, mode: 'sync' | 'async', operation: string): Step<RenameDurableResult> {
  const o = optionsObject(options, operation);
  return renameSteps(checkPath(from, 'from', operation), checkPath(to, 'to', operation), o, checkFileSystem(o['fs'], mode, operation), operation);
}

/**
 * Renames `from` to `to` durably, as PostgreSQL's `durable_rename` does.
 *
 * Syscalls, in order: `open(from, O_RDONLY)`, `fsync`, `close` (so the data is on disk before
 * its new name can be); `rename(from, to)`; `open(dirname(to), O_RDONLY|O_DIRECTORY)`, `fsync`,
 * `close`; and the same for `dirname(from)` when it differs.
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
  return runAsync(prepare(from, to, options, 'async', 'renameDurable'));
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
  return runSync(prepare(from, to, options, 'sync', 'renameDurableSync'));
}
