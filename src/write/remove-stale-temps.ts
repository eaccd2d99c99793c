/**
 * `removeStaleTemps`: clean up after crashed writers. A write killed between creating its
 * temporary file and renaming it (SIGKILL, OOM kill, a crash, a power cut after the temp file's
 * name became durable) leaves `.<name>.<hex>.tmp` behind in the target's directory, and nothing
 * else ever removes it.
 *
 * @module
 */
import * as nodePath from 'node:path';
import { checkBoolean, checkNonNegativeNumber, checkPath, fileOperationOptions, invalidArgType, type CallMode } from '../core/arguments.js';
import { perform, runAsync, runSync, type Operation } from '../core/effect.js';
import { DurableWriteError, errnoCode, type DurableWriteStage } from '../core/errors.js';
import { throwIfAborted } from '../core/failure.js';
import { fileIo, type FileIo } from '../core/file-io.js';
import type { DurableFileSystem, DurableStats } from '../core/file-system.js';
import { isTempHeld } from './held-temps.js';

/** Options of {@link removeStaleTemps}. */
export interface RemoveStaleTempsOptions {
  /**
   * Only temp files whose last modification (`mtimeMs`) is at least this many milliseconds ago
   * are removed; `0` means any age. Default `900000` (15 minutes): a live write in another
   * process keeps writing to its temp file, so its mtime stays recent while data flows, and
   * removing it would only make that write fail (never corrupt its target).
   */
  readonly olderThanMs?: number | undefined;
  /** Remove nothing; the result lists what would have been removed. Default `false`. */
  readonly dryRun?: boolean | undefined;
  /** Rejects with an `AbortError` if fired before the next file is examined or removed. Default: none. */
  readonly signal?: AbortSignal | undefined;
  /**
   * The file-system primitives to use (the crash simulator, fault injection). It must have
   * `readdir` (`readdirSync` for {@link removeStaleTempsSync}), optional elsewhere. Default: Node's.
   */
  readonly fs?: DurableFileSystem | undefined;
}

/** Options of {@link removeStaleTempsSync}: those of {@link removeStaleTemps} but the signal. */
export type RemoveStaleTempsSyncOptions = Omit<RemoveStaleTempsOptions, 'signal'>;

/** A temp file found in the directory. */
export interface StaleTemp {
  /** Its path: the directory's canonical path (symlinks resolved) joined with its name. */
  readonly path: string;
  /** Its size in bytes, as `lstat` reported it: the space its removal frees. */
  readonly size: number;
  /** How long ago it was last modified, in milliseconds (negative for an mtime in the future). */
  readonly ageMs: number;
}

/** A temp file left in place, and why. */
export interface KeptTemp extends StaleTemp {
  /**
   * `'held'`: a write in this process is using it right now. `'recent'`: younger than
   * `olderThanMs`, so possibly in use by a write in another process.
   */
  readonly reason: 'held' | 'recent';
}

/** What {@link removeStaleTemps} did. */
export interface RemoveStaleTempsResult {
  /** The temp files removed (with `dryRun`, those that would have been), in name order. */
  readonly removed: readonly StaleTemp[];
  /** The temp files left in place, in name order. */
  readonly kept: readonly KeptTemp[];
}

/** A cleanup, its arguments checked. */
interface CleanupPlan {
  readonly operation: string;
  readonly dir: string;
  readonly olderThanMs: number;
  readonly dryRun: boolean;
  readonly signal: AbortSignal | undefined;
}

/** 15 minutes. */
const DEFAULT_OLDER_THAN_MS = 15 * 60 * 1000;

const OPTION_NAMES = ['olderThanMs', 'dryRun', 'signal', 'fs'] as const satisfies readonly (keyof RemoveStaleTempsOptions)[];

/**
 * The names `tempPathFor` (temp-name.ts) gives temporary files, and 0.1.0 gave them: `.`, the
 * target's name (cut on a UTF-8 boundary, possibly to nothing), `.`, 12 lowercase hex digits
 * (or 8, at the PATH_MAX edge), `.tmp`.
 */
const TEMP_NAME = /^\.[^/]*\.(?:[0-9a-f]{12}|[0-9a-f]{8})\.tmp$/;

/** Whether `name` has the form of a temp file's name. @internal */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/** The stage of each step, as `errors.md` documents stages: finding and examining the files is `stat`; removing one is `remove`. */
const LIST_STAGE: DurableWriteStage = 'stat';
const REMOVE_STAGE: DurableWriteStage = 'remove';

/** The error of a failed step: what failed, and what was already removed. */
function cleanupError(stage: DurableWriteStage, what: string, cause: unknown, plan: CleanupPlan, removed: readonly StaleTemp[]): DurableWriteError {
  const code = errnoCode(cause);
  const reason = cause instanceof Error ? cause.message : String(cause);
  const done =
    removed.length === 0 || plan.dryRun
      ? 'nothing was removed'
      : `${removed.length} stale temp file(s) were removed before it: ${removed.map((temp) => temp.path).join(', ')}`;
  return new DurableWriteError(`${plan.operation}: ${what} failed${code === undefined ? '' : ` with ${code}`} (${reason}); ${done}`, {
    stage,
    path: plan.dir,
    cause,
    code,
  });
}

/** `lstat` of a listed name; `undefined` when it vanished meanwhile. */
function* statIfPresent(io: FileIo, path: string, plan: CleanupPlan, removed: readonly StaleTemp[]): Operation<DurableStats | undefined> {
  try {
    return yield* perform(io.lstat(path));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw cleanupError(LIST_STAGE, `lstat of ${path}`, error, plan, removed);
  }
}

/** `unlink`; false when the file vanished meanwhile (another cleanup removed it). */
function* removeIfPresent(io: FileIo, path: string, plan: CleanupPlan, removed: readonly StaleTemp[]): Operation<boolean> {
  try {
    yield* perform(io.unlink(path));
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw cleanupError(REMOVE_STAGE, `removing ${path}`, error, plan, removed);
  }
}

/** The whole cleanup: `realpath` of the directory, `readdir`, then per temp name `lstat` and (unless kept) `unlink`. */
function* removeStaleTempsOperation(io: FileIo, plan: CleanupPlan): Operation<RemoveStaleTempsResult> {
  const removed: StaleTemp[] = [];
  const kept: KeptTemp[] = [];
  const ctx = { path: plan.dir };
  throwIfAborted(plan.signal, LIST_STAGE, ctx);
  let dir: string;
  let names: string[];
  try {
    // Canonical, so that each path is the very string a write in this process holds its temp file by.
    dir = yield* perform(io.realpath(plan.dir));
    names = yield* perform(io.readdir(dir));
  } catch (error) {
    throw cleanupError(LIST_STAGE, `listing the directory ${plan.dir}`, error, plan, removed);
  }
  for (const name of names.filter(isTempName).sort()) {
    const path = nodePath.join(dir, name);
    throwIfAborted(plan.signal, LIST_STAGE, ctx);
    const stats = yield* statIfPresent(io, path, plan, removed);
    // A directory, symlink, FIFO... named like a temp file is not one the library made.
    if (stats === undefined || !stats.isFile()) continue;
    const temp: StaleTemp = { path, size: stats.size, ageMs: Date.now() - stats.mtimeMs };
    // Checked right before the unlink, with no await between: a write holds its temp from creation to rename.
    if (isTempHeld(path)) kept.push({ ...temp, reason: 'held' });
    // Written so that an age that is no number (a seam's stats without mtimeMs) keeps the file.
    else if (plan.olderThanMs > 0 && !(temp.ageMs >= plan.olderThanMs)) kept.push({ ...temp, reason: 'recent' });
    else if (plan.dryRun) removed.push(temp);
    else {
      throwIfAborted(plan.signal, REMOVE_STAGE, ctx);
      if (yield* removeIfPresent(io, path, plan, removed)) removed.push(temp);
    }
  }
  return { removed, kept };
}

/** Checks every argument (throwing before any I/O), then returns the operation. */
function prepare(dir: unknown, options: unknown, mode: CallMode, operation: string): Operation<RemoveStaleTempsResult> {
  const path = checkPath(dir, 'dir', operation);
  const { options: o, fs, signal } = fileOperationOptions(options, OPTION_NAMES, mode, operation);
  const lister = mode === 'sync' ? 'readdirSync' : 'readdir';
  if (typeof fs[lister] !== 'function') {
    throw invalidArgType(`${operation}: fs must be a DurableFileSystem with ${lister} (to list the directory); it lacks ${lister}`);
  }
  const plan: CleanupPlan = {
    operation,
    dir: path,
    olderThanMs: checkNonNegativeNumber(o['olderThanMs'], DEFAULT_OLDER_THAN_MS, 'olderThanMs', operation),
    dryRun: checkBoolean(o['dryRun'], false, 'dryRun', operation),
    signal,
  };
  return removeStaleTempsOperation(fileIo(fs), plan);
}

/**
 * Removes the temporary files that crashed or killed writers left in `dir`: regular files named
 * `.<name>.<hex>.tmp` as `writeDurable` names them, last modified at least `olderThanMs` ago
 * (default 15 minutes), and not held by a write in this process.
 *
 * Syscalls, in order: `realpath(dir)`, `readdir`, then for each name of the temp-file form, in
 * name order: `lstat`, and `unlink` unless the file is kept (or `dryRun`). Only `dir` itself is
 * listed, not its subdirectories.
 *
 * Guarantees: removes nothing but regular files whose name has the temp-file form (never a
 * directory, a symlink or its target, a target file, or a name of another form); never a temp
 * file that a pending write in this process holds, whatever `olderThanMs`; a file that vanishes
 * meanwhile is skipped, not an error. A write in another process whose temp file is removed
 * fails at its rename and leaves its target unchanged; the default age keeps the temp files of
 * writes still streaming. Removals are not made durable (no directory fsync): a crash may bring
 * a removed leftover back, for the next cleanup.
 *
 * @param dir - the directory to clean (`string` or `file:` URL).
 * @param options - {@link RemoveStaleTempsOptions}.
 * @returns the temp files removed and those kept: {@link RemoveStaleTempsResult}.
 * @throws `TypeError` for bad arguments or an `fs` without `readdir` (before the disk is
 *   touched); {@link DurableWriteError} with stage `stat` when `dir` cannot be listed or a file
 *   examined, stage `remove` when a file cannot be removed (the message lists those already
 *   removed); {@link AbortError}.
 *
 * @example
 * ```ts
 * import { removeStaleTemps } from 'durable-write';
 * // At startup, before this process writes anything to /var/lib/app:
 * const { removed } = await removeStaleTemps('/var/lib/app');
 * for (const temp of removed) console.log(`removed ${temp.path} (${temp.size} bytes)`);
 * ```
 */
export async function removeStaleTemps(dir: string | URL, options?: RemoveStaleTempsOptions): Promise<RemoveStaleTempsResult> {
  return runAsync(prepare(dir, options, 'async', 'removeStaleTemps'));
}

/**
 * The synchronous {@link removeStaleTemps}: the same syscalls, the same guarantees.
 *
 * @example
 * ```ts
 * import { removeStaleTempsSync } from 'durable-write';
 * const { removed } = removeStaleTempsSync('/var/lib/app', { dryRun: true });
 * console.log(`${removed.length} stale temp file(s) to remove`);
 * ```
 */
export function removeStaleTempsSync(dir: string | URL, options?: RemoveStaleTempsSyncOptions): RemoveStaleTempsResult {
  return runSync(prepare(dir, options, 'sync', 'removeStaleTempsSync'));
}
