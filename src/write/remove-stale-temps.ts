/**
 * `removeStaleTemps`: clean up after crashed writers. A write killed between creating its
 * temporary file and renaming it (SIGKILL, OOM kill, a crash, a power cut after the temp file's
 * name became durable) leaves `.<name>.<pid>.<hex>.dwtmp` behind in the target's directory, and
 * nothing else ever removes it.
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
import { parseTempPath } from './temp-name.js';
import { predatesThisProcess, processExists } from './writer-liveness.js';

/** Options of {@link removeStaleTemps}. */
export interface RemoveStaleTempsOptions {
  /**
   * Only temp files whose last modification (`mtimeMs`) is at least this many milliseconds ago
   * are removed; `0` means any age. Default `900000` (15 minutes): a live write in another
   * process keeps writing to its temp file, so its mtime stays recent while data flows, and
   * removing it would only make that write fail (never corrupt its target).
   */
  readonly olderThanMs?: number | undefined;
  /**
   * A temp file named with the pid of a running process (another process, or this one: a Worker
   * thread) is kept whatever its age and `olderThanMs`, unless it was last modified at least this
   * many milliseconds ago: pids are reused, so past this bound the pid is taken to belong to
   * another process now, and only `olderThanMs` guards the file. `0` trusts no pid: age is then the
   * only guard, as in 0.2.0 (for a directory nothing else writes to). Default `86400000` (24 hours).
   */
  readonly pidReuseAfterMs?: number | undefined;
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
  /** The pid of the process that made it, read from its name; `undefined` for a 0.2.0 name, which carries none. */
  readonly pid: number | undefined;
}

/** A temp file removed (or, with `dryRun`, to be removed), and why it could go. */
export interface RemovedTemp extends StaleTemp {
  /**
   * `'writer-dead'`: no process has the pid in its name. `'pid-reused'`: a process has it, but
   * the file was last modified at least `pidReuseAfterMs` ago (or, for this process's own pid,
   * before this process started), so that process is taken not to be its writer. `'no-pid'`: a
   * 0.2.0 name, which carries no pid. In each case the file is at least `olderThanMs` old.
   */
  readonly reason: 'writer-dead' | 'pid-reused' | 'no-pid';
}

/** A temp file left in place, and why. */
export interface KeptTemp extends StaleTemp {
  /**
   * `'held'`: a write of this process, on this thread (or on the library's write worker), is using
   * it right now. `'writer-alive'`: the pid in its name is a running process (another process, or
   * another thread of this one) and the file is younger than `pidReuseAfterMs`. `'recent'`: its
   * writer is not known to run, but it is younger than `olderThanMs`.
   */
  readonly reason: 'held' | 'writer-alive' | 'recent';
}

/** What {@link removeStaleTemps} did. */
export interface RemoveStaleTempsResult {
  /** The temp files removed (with `dryRun`, those that would have been), in name order. */
  readonly removed: readonly RemovedTemp[];
  /** The temp files left in place, in name order. */
  readonly kept: readonly KeptTemp[];
}

/** A cleanup, its arguments checked. */
interface CleanupPlan {
  readonly operation: string;
  readonly dir: string;
  readonly olderThanMs: number;
  readonly pidReuseAfterMs: number;
  readonly dryRun: boolean;
  readonly signal: AbortSignal | undefined;
}

/** 15 minutes. */
const DEFAULT_OLDER_THAN_MS = 15 * 60 * 1000;
/** 24 hours. */
const DEFAULT_PID_REUSE_AFTER_MS = 24 * 60 * 60 * 1000;

const OPTION_NAMES = ['olderThanMs', 'pidReuseAfterMs', 'dryRun', 'signal', 'fs'] as const satisfies readonly (keyof RemoveStaleTempsOptions)[];

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

/**
 * Whether `temp` is in use, and if not, why it may go (its age aside): held by a write of this
 * thread; its writer alive (the pid in its name runs, and the file is recent enough for that pid to
 * still be its writer's); or no such writer. No I/O but `kill(pid, 0)`.
 */
function writerVerdict(temp: StaleTemp, mtimeMs: number, plan: CleanupPlan): 'held' | 'writer-alive' | RemovedTemp['reason'] {
  if (isTempHeld(temp.path)) return 'held';
  if (temp.pid === undefined) return 'no-pid';
  if (!processExists(temp.pid)) return 'writer-dead';
  // Written so that an unknown age (a seam's stats without mtimeMs) trusts the pid.
  const stale = plan.pidReuseAfterMs === 0 || temp.ageMs >= plan.pidReuseAfterMs;
  return stale || (temp.pid === process.pid && predatesThisProcess(mtimeMs)) ? 'pid-reused' : 'writer-alive';
}

/** The whole cleanup: `realpath` of the directory, `readdir`, then per temp name `lstat` and (unless kept) `unlink`. */
function* removeStaleTempsOperation(io: FileIo, plan: CleanupPlan): Operation<RemoveStaleTempsResult> {
  const removed: RemovedTemp[] = [];
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
  for (const entry of [...names].sort()) {
    const path = nodePath.join(dir, entry);
    const name = parseTempPath(path);
    // Only the names this library makes (or 0.2.0 made), exactly: never a look-alike.
    if (name === undefined) continue;
    throwIfAborted(plan.signal, LIST_STAGE, ctx);
    const stats = yield* statIfPresent(io, path, plan, removed);
    // A directory, symlink, FIFO... named like a temp file is not one the library made.
    if (stats === undefined || !stats.isFile()) continue;
    const temp: StaleTemp = { path, size: stats.size, ageMs: Date.now() - stats.mtimeMs, pid: name.pid };
    // Judged right before the unlink, with no await between: a write holds its temp from creation to rename.
    const verdict = writerVerdict(temp, stats.mtimeMs, plan);
    if (verdict === 'held' || verdict === 'writer-alive') kept.push({ ...temp, reason: verdict });
    // Written so that an age that is no number (a seam's stats without mtimeMs) keeps the file.
    else if (plan.olderThanMs > 0 && !(temp.ageMs >= plan.olderThanMs)) kept.push({ ...temp, reason: 'recent' });
    else if (plan.dryRun) removed.push({ ...temp, reason: verdict });
    else {
      throwIfAborted(plan.signal, REMOVE_STAGE, ctx);
      if (yield* removeIfPresent(io, path, plan, removed)) removed.push({ ...temp, reason: verdict });
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
    pidReuseAfterMs: checkNonNegativeNumber(o['pidReuseAfterMs'], DEFAULT_PID_REUSE_AFTER_MS, 'pidReuseAfterMs', operation),
    dryRun: checkBoolean(o['dryRun'], false, 'dryRun', operation),
    signal,
  };
  return removeStaleTempsOperation(fileIo(fs), plan);
}

/**
 * Removes the temporary files that crashed or killed writers left in `dir`: regular files named
 * exactly as `writeDurable` names them, `.<name>.<pid>.<hex>.dwtmp` (or as 0.2.0 did,
 * `.<name>.<hex>.tmp`), whose writer is not running, last modified at least `olderThanMs` ago
 * (default 15 minutes), and not held by a write in this process.
 *
 * Syscalls, in order: `realpath(dir)`, `readdir`, then for each temp name, in name order: `lstat`,
 * `kill(pid, 0)` for a name with a pid (unless held), and `unlink` unless the file is kept (or
 * `dryRun`). Only `dir` itself is listed, not its subdirectories.
 *
 * Guarantees: removes nothing but regular files whose name has the temp-name format exactly
 * (never a directory, a symlink or its target, a target file, or a look-alike such as
 * `.report.20241231.tmp`); never a temp file that a pending write in this process holds, nor one
 * whose name carries the pid of a running process (a writer in another process, or in a Worker
 * thread of this one) and that was modified less than `pidReuseAfterMs` ago (default 24 hours),
 * whatever `olderThanMs`; a file that vanishes meanwhile is skipped, not an error. The pid is
 * looked up in this machine's pid namespace: for writers elsewhere (another container, another
 * machine on a shared file system) and for 0.2.0 names, age is the only guard. A write whose temp
 * file is removed fails at its rename and leaves its target unchanged. Removals are not made
 * durable (no directory fsync): a crash may bring a removed leftover back, for the next cleanup.
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
 * for (const temp of removed) console.log(`removed ${temp.path} (${temp.size} bytes, ${temp.reason})`);
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
