/**
 * `appendDurable` and `appendDurableSync`: add bytes to the end of a file so that, once the call
 * returns, they survive a crash or a power cut, without rewriting what the file already holds.
 *
 * One call: the target resolved as the kernel resolves it (a symlink followed), parents created
 * with `createParents`, the file opened with `O_APPEND`, every byte written, one flush (shared
 * with concurrent async appends to the file: `file-flush-group.ts`), and, when the call created
 * the file, an fsync of its directory. Calls to one file in this thread write in call order
 * (`path-queue.ts`); an async call leaves the queue once its bytes are written, so the next one
 * writes while it waits for its flush, and the two share it.
 *
 * @module
 */
import * as nodePath from 'node:path';
import { constants } from 'node:fs';
import {
  checkBoolean,
  checkDirectorySync,
  checkEncoding,
  checkFlush,
  checkFunction,
  checkMode,
  checkPath,
  describeValue,
  fileOperationOptions,
  invalidArgType,
  namesDirectory,
  type CallMode,
} from '../core/arguments.js';
import { toBytes } from '../core/bytes.js';
import { perform, runAsync, runSync, type Effect, type EffectObserver, type Operation } from '../core/effect.js';
import { AbortError, DurableWriteError, errnoCode, FlushError } from '../core/errors.js';
import { attempt, quietly, throwIfAborted, wrapError, type FailureContext } from '../core/failure.js';
import { fileIo, type DirectorySyncPolicy, type DirectorySyncRule, type FileIo, type FlushMethod, type OpenFile } from '../core/file-io.js';
import type { DurableFileSystem } from '../core/file-system.js';
import { hostPlatform } from '../core/platform.js';
import { createDirectories, missingDirectoryError, NONE_CREATED, type CreatedDirectories } from './create-parents.js';
import { dataProblem, isWholeData } from './data-source.js';
import { sharedFileFlush } from './file-flush-group.js';
import { flushDirectory, whenDescriptorsFree } from './flush.js';
import { writeInOrder, writeSyncInOrder } from './path-queue.js';
import { resolveTarget, type ResolvedTarget } from './resolve-target.js';
import type { WriteDurableStepEvent } from './write-options.js';

/** Options of {@link appendDurable}. An encoding string may stand in their place, as with `fs.appendFile`. */
export interface AppendDurableOptions {
  /** Encoding of string data. Default `'utf8'`. */
  readonly encoding?: BufferEncoding | null | undefined;
  /**
   * Permission bits of a file this call creates (a number, or an octal string such as `'644'`),
   * applied with `fchmod` and not reduced by the umask. An existing file keeps its mode.
   * Default: `0o666 & ~umask` for a new file, as `writeDurable` and `fs.appendFile` create files.
   */
  readonly mode?: number | string | undefined;
  /**
   * How the appended bytes are flushed: `'fdatasync'` (the data and the metadata needed to read
   * it back: the new size is such metadata, so an append is fully flushed by it; only timestamps
   * are left) or `'fsync'` (data and all metadata). Default `'fdatasync'`.
   */
  readonly flush?: FlushMethod | undefined;
  /**
   * When this call creates the file (or parent directories), a failed fsync of the directory
   * rejects under `'required'`; under `'best-effort'` a file system that refuses to fsync a
   * directory is tolerated and reported in {@link AppendDurableResult.directorySyncErrors}.
   * Default, per platform, as `writeDurable`'s: `'required'` on Linux and macOS; on Windows no
   * directory is flushed and the result reports it.
   */
  readonly directorySync?: DirectorySyncPolicy | undefined;
  /**
   * Create missing parent directories (mode `0o777 & ~umask`), fsyncing the parent of each one
   * created. Default `false` (a missing directory rejects with `ENOENT`).
   */
  readonly createParents?: boolean | undefined;
  /**
   * Aborts the call until its bytes are being written: it then rejects with an `AbortError` and
   * nothing is appended. Once the write has begun the call completes (flush included), since
   * bytes in the file must be flushed or reported. Default: none.
   */
  readonly signal?: AbortSignal | undefined;
  /** The file-system primitives to use (fault injection, the crash simulator). Default: Node's. */
  readonly fs?: DurableFileSystem | undefined;
  /** Called after each primitive with its name and duration. Default: none. */
  readonly onStep?: ((event: WriteDurableStepEvent) => void) | undefined;
}

/** Options of {@link appendDurableSync}: those of {@link appendDurable} but the signal. */
export type AppendDurableSyncOptions = Omit<AppendDurableOptions, 'signal'>;

/** What a completed append did. */
export interface AppendDurableResult {
  /** The file appended to: the target, or the file a symlink at the target points to. */
  readonly path: string;
  /**
   * Where this call's bytes start in the file: its size just before the write, read with `stat`
   * after the open (0 for a file this call created). Exact for every writer in this thread (its
   * calls to one file write one at a time); another process appending to the file at the same
   * moment can make it inexact (its bytes may land between the `stat` and the write).
   */
  readonly offset: number;
  /** How many bytes were appended: all of `data`. */
  readonly bytesWritten: number;
  /** Whether this call created the file (its directory was then fsynced). */
  readonly created: boolean;
  /** Whether every directory fsync this call needed succeeded (`true` when it needed none). */
  readonly directorySynced: boolean;
  /** The directory fsyncs refused under `directorySync: 'best-effort'` (or unavailable on the platform). */
  readonly directorySyncErrors: readonly DurableWriteError[];
  /** Directories created by `createParents`, outermost first. */
  readonly createdDirectories: readonly string[];
}

const OPTION_NAMES = [
  'encoding', 'mode', 'flush', 'directorySync', 'createParents', 'signal', 'fs', 'onStep',
] as const satisfies readonly (keyof AppendDurableOptions)[];

/**
 * How an existing file is opened to append: `O_WRONLY|O_APPEND` (Node adds `O_CLOEXEC`). Without
 * `O_CREAT`, so that a file removed since the target was resolved is noticed (ENOENT) and created
 * by {@link APPEND_NEW}, whose directory is then fsynced.
 */
const APPEND_EXISTING = constants.O_WRONLY | constants.O_APPEND;
/** How a missing file is created to append: `O_WRONLY|O_APPEND|O_CREAT|O_EXCL`, so that `created` is exact. */
const APPEND_NEW = APPEND_EXISTING | constants.O_CREAT | constants.O_EXCL;
/** The mode a new file is opened with, reduced by the umask as `open(2)` reduces it. */
const NEW_FILE_MODE = 0o666;
/** How often the open switches between the two forms when another process creates or removes the file meanwhile. */
const OPEN_ATTEMPTS = 4;

/** An append, its arguments checked. */
interface AppendPlan {
  readonly target: string;
  readonly bytes: Uint8Array;
  readonly mode: number | undefined;
  readonly flush: FlushMethod;
  readonly directorySync: DirectorySyncRule;
  readonly createParents: boolean;
  readonly signal: AbortSignal | undefined;
  readonly fs: DurableFileSystem;
  readonly observe: EffectObserver | undefined;
}

/** What an append's first phase leaves: its bytes written, the file still open for the flush. */
interface Appended {
  readonly path: string;
  readonly file: OpenFile;
  readonly offset: number;
  readonly created: boolean;
  readonly parents: CreatedDirectories;
}

/** What the functions accept as data, for messages. */
const ACCEPTED_DATA = 'a string, Buffer, TypedArray or DataView';

/**
 * Checks every argument, throwing before any I/O. The bytes of a view are copied for an async
 * call, so that a caller changing or transferring its buffer meanwhile cannot tear the record.
 */
function planAppend(path: unknown, data: unknown, options: unknown, mode: CallMode, operation: string): AppendPlan {
  const { options: o, fs, signal } = fileOperationOptions(options, OPTION_NAMES, mode, operation, true);
  const target = checkPath(path, 'path', operation);
  const onStep = checkFunction<(event: WriteDurableStepEvent) => void>(o['onStep'], 'onStep', operation);
  if (!isWholeData(data)) {
    throw invalidArgType(`${operation}: data must be ${ACCEPTED_DATA}; received ${describeValue(data)}`);
  }
  const problem = dataProblem(data, ACCEPTED_DATA, operation);
  if (problem !== undefined) throw problem;
  const encoding = checkEncoding(o['encoding'], operation);
  const plan: AppendPlan = {
    target,
    bytes: mode === 'async' && typeof data !== 'string' ? Uint8Array.from(toBytes(data)) : toBytes(data, encoding),
    mode: checkMode(o['mode'], operation),
    flush: o['flush'] === undefined ? 'fdatasync' : checkFlush(o['flush'], operation),
    directorySync: checkDirectorySync(o['directorySync'], operation, target),
    createParents: checkBoolean(o['createParents'], false, 'createParents', operation),
    signal,
    fs,
    observe: onStep === undefined ? undefined : (step, milliseconds) => onStep({ step, milliseconds }),
  };
  if (namesDirectory(path)) {
    throw new DurableWriteError(`${operation}: ${target} names a directory; the target must be a file`, {
      code: 'EISDIR',
      stage: 'validate',
      path: target,
    });
  }
  return plan;
}

/** The file the target names, as the kernel resolves it; refused unless a regular file or absent. */
function* resolveAppend(plan: AppendPlan, ctx: FailureContext): Operation<ResolvedTarget> {
  throwIfAborted(plan.signal, 'validate', ctx);
  const resolved = yield* resolveTarget(fileIo(plan.fs), plan.target, ctx);
  const stats = resolved.stats;
  if (stats !== undefined && !stats.isFile()) {
    const isDirectory = stats.isDirectory();
    throw new DurableWriteError(
      `${ctx.operation}: ${resolved.path} is ${isDirectory ? 'a directory' : 'not a regular file (a device, FIFO or socket)'}; the target must be a regular file or not exist`,
      { code: isDirectory ? 'EISDIR' : 'EINVAL', stage: 'validate', path: plan.target },
    );
  }
  return resolved;
}

/** Opens the file to append: the existing one, or a new one; switching form if another process creates or removes it meanwhile. */
function* openToAppend(io: FileIo, path: string, existed: boolean, ctx: FailureContext): Operation<{ file: OpenFile; created: boolean }> {
  let exists = existed;
  for (let tries = 1; ; tries += 1) {
    try {
      const file = yield* perform(io.open(path, exists ? APPEND_EXISTING : APPEND_NEW, NEW_FILE_MODE));
      return { file, created: !exists };
    } catch (error) {
      const raced = errnoCode(error) === (exists ? 'ENOENT' : 'EEXIST');
      if (!raced || tries >= OPEN_ATTEMPTS) throw wrapError('open', error, ctx, `opening ${path} to append`);
      exists = !exists;
    }
  }
}

/** The error of a write that failed part way: what of this call's bytes is in the file. */
function writeFailed(cause: unknown, path: string, done: number, total: number, offset: number, ctx: FailureContext): DurableWriteError {
  const code = errnoCode(cause);
  const reason = cause instanceof Error ? cause.message : String(cause);
  const state =
    done === 0
      ? `none of this call's ${total} bytes was appended`
      : `${done} of this call's ${total} bytes were appended at offset ${offset}, so ${path} now ends in a partial record`;
  return new DurableWriteError(
    `${ctx.operation}: appending to ${path} failed${code === undefined ? '' : ` with ${code}`} (${reason}); ${state}, not flushed`,
    { stage: 'write', path: ctx.path, cause, code },
  );
}

/** Writes `bytes` whole at the end of `file`, looping over short writes. */
function* appendBytes(io: FileIo, file: OpenFile, bytes: Uint8Array, path: string, offset: number, ctx: FailureContext): Operation<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    let written: number;
    try {
      written = yield* perform(io.write(file, bytes, done, bytes.byteLength - done));
    } catch (error) {
      throw writeFailed(error, path, done, bytes.byteLength, offset, ctx);
    }
    if (!Number.isInteger(written) || written <= 0) {
      throw writeFailed(Object.assign(new Error(`write made no progress (returned ${written})`), { code: 'EIO' }), path, done, bytes.byteLength, offset, ctx);
    }
    done += written;
  }
}

/** The abort check, then {@link openToAppend}: a named generator (an inline generator closure costs ~20 µs per call). */
function* openUnlessAborted(io: FileIo, plan: AppendPlan, resolved: ResolvedTarget, ctx: FailureContext): Operation<{ file: OpenFile; created: boolean }> {
  throwIfAborted(plan.signal, 'open', ctx);
  return yield* openToAppend(io, resolved.path, resolved.stats !== undefined, ctx);
}

/**
 * The first phase, run in call order: target resolved (unless `resolvedEarlier`), parents
 * created, the file opened (created if absent, its mode set), its size read, every byte written.
 * On failure the file is closed (and removed again if this call created it and wrote nothing).
 */
function* appendOperation(plan: AppendPlan, resolvedEarlier: ResolvedTarget | undefined, ctx: FailureContext): Operation<Appended> {
  const io = fileIo(plan.fs);
  throwIfAborted(plan.signal, 'validate', ctx);
  const resolved = resolvedEarlier ?? (yield* resolveAppend(plan, ctx));
  if (!resolved.directoryExists && !plan.createParents) throw missingDirectoryError(plan.target, resolved, ctx);
  const parents =
    plan.createParents && !resolved.directoryExists ? yield* createDirectories(io, nodePath.dirname(resolved.path), plan.directorySync, ctx) : NONE_CREATED;
  const { file, created } = yield* whenDescriptorsFree(io, plan.signal, () => openUnlessAborted(io, plan, resolved, ctx));
  let offset = 0;
  try {
    if (created && plan.mode !== undefined) yield* attempt('chmod', io.chmod(file, plan.mode), ctx);
    if (!created) offset = (yield* attempt('stat', io.stat(resolved.path), ctx, `stat of ${resolved.path} for the append's offset`)).size;
    throwIfAborted(plan.signal, 'write', ctx);
  } catch (error) {
    yield* quietly(io.close(file));
    if (created) yield* quietly(io.unlink(resolved.path));
    throw error;
  }
  try {
    yield* appendBytes(io, file, plan.bytes, resolved.path, offset, ctx);
  } catch (error) {
    yield* quietly(io.close(file));
    throw error;
  }
  return { path: resolved.path, file, offset, created, parents };
}

/**
 * The flush of an append. Synchronously, this caller's own; asynchronously, one shared with the
 * concurrent appends to the same file (`file-flush-group.ts`): one that starts after this call,
 * on the descriptor of the first caller of its batch.
 */
function appendFlush(io: FileIo, path: string, file: OpenFile, method: FlushMethod): Effect<void> {
  const own = io.flush(file, method);
  return {
    step: own.step,
    sync: () => own.sync(),
    async: () => sharedFileFlush(io, path, method, () => own.async()),
  };
}

/** The error of a failed flush: every byte written to the file since its last good flush may be lost. */
function flushFailed(cause: unknown, plan: AppendPlan, appended: Appended, ctx: FailureContext): FlushError {
  const code = errnoCode(cause);
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FlushError(
    `${ctx.operation}: ${plan.flush} of ${appended.path} failed${code === undefined ? '' : ` with ${code}`} (${reason}); ` +
      `the appended data is NOT durable: every byte written to ${appended.path} since its last successful flush ` +
      `(this call's ${plan.bytes.byteLength} bytes at offset ${appended.offset}, and any other writer's) may be lost, torn or zeros after a crash. ` +
      (hostPlatform === 'windows'
        ? 'Do not count on a second flush: '
        : 'Do not retry the flush: the kernel has reported and forgotten the error, so a second one can succeed without making them durable; ') +
      'write every byte since the last good flush again from its source',
    { stage: 'flush', path: ctx.path, cause, code },
  );
}

/**
 * The second phase, outside the call order: the flush (never retried), `close` (its failure
 * ignored: the bytes are flushed), and, when the call created the file, the fsync of its directory.
 */
function* completeAppend(plan: AppendPlan, appended: Appended, ctx: FailureContext): Operation<AppendDurableResult> {
  const io = fileIo(plan.fs);
  try {
    yield* perform(appendFlush(io, appended.path, appended.file, plan.flush));
  } catch (error) {
    yield* quietly(io.close(appended.file));
    throw flushFailed(error, plan, appended, ctx);
  }
  yield* quietly(io.close(appended.file));
  const refused = [...appended.parents.refused];
  if (appended.created) {
    const outcome = yield* flushDirectory(io, nodePath.dirname(appended.path), plan.directorySync, ctx);
    if (outcome.error !== undefined) refused.push(outcome.error);
  }
  return {
    path: appended.path,
    offset: appended.offset,
    bytesWritten: plan.bytes.byteLength,
    created: appended.created,
    directorySynced: refused.length === 0,
    directorySyncErrors: refused,
    createdDirectories: appended.parents.created,
  };
}

/**
 * Appends `data` to the file at `path` and flushes it, so that once the promise resolves the
 * bytes survive a crash or a power cut; the file's earlier content is not rewritten.
 *
 * Syscalls, in order: `realpath` of the target's directory and `lstat` of the target (and
 * `readlink` plus `realpath` per symlink hop: a symlink is followed as the kernel follows it);
 * with `createParents`, `stat`/`mkdir` per missing directory and an `fsync` of each new
 * directory's parent; for an existing file `open(path, O_WRONLY|O_APPEND|O_CLOEXEC)` and `stat`
 * (the offset), for a missing one `open(path, O_WRONLY|O_APPEND|O_CREAT|O_EXCL|O_CLOEXEC, 0666)`
 * (less the umask) and, with `mode`, `fchmod`; `write` until every byte is written; `fdatasync`
 * (or `fsync`); `close`; and for a file this call created `open(dir, O_RDONLY|O_DIRECTORY)`,
 * `fsync(dir)`, `close(dir)`.
 *
 * Guarantees: when the promise resolves, this call's bytes (and the file's name, if it created
 * the file) are on stable storage, as far as the device honours flushes. Calls to one file in
 * this thread append in call order (with `writeDurable` calls to it too); concurrent async calls
 * to one file share flushes (group commit): at most one flush per file is in flight, a call is
 * covered only by a flush that started after its own write returned, and a shared flush's failure
 * rejects every call it covered. A failed flush is never retried: the promise rejects with a
 * {@link FlushError}, and every byte written to the file since its last good flush must be
 * written again from its source. A failed write leaves what it wrote (the message says how much).
 * Another process appending at the same moment can interleave with this call's bytes between
 * writes of a short-write loop, and make `offset` inexact.
 *
 * @param path - the file to append to (`string` or `file:` URL); created if absent.
 * @param data - a string (encoded with `encoding`), a Buffer or any `ArrayBufferView` (copied at the call).
 * @param options - {@link AppendDurableOptions}, or an encoding string.
 * @returns {@link AppendDurableResult}: the file, the offset of this call's bytes, their count, whether it was created.
 * @throws `TypeError` for bad arguments (before any I/O); {@link DurableWriteError} (with `code`,
 *   `stage`, `path`) for a failed step; {@link FlushError}; {@link AbortError}.
 *
 * @example
 * ```ts
 * import { appendDurable } from 'durable-write';
 * await appendDurable('/var/log/app/events.jsonl', JSON.stringify(event) + '\n');
 * ```
 */
export function appendDurable(
  path: string | URL,
  data: string | NodeJS.ArrayBufferView,
  options?: AppendDurableOptions | BufferEncoding,
): Promise<AppendDurableResult> {
  const operation = 'appendDurable';
  let plan: AppendPlan;
  try {
    plan = planAppend(path, data, options, 'async', operation);
  } catch (error) {
    return Promise.reject(error);
  }
  const ctx: FailureContext = { operation, path: plan.target };
  const appended = writeInOrder({
    path: plan.target,
    resolution: runAsync(resolveAppend(plan, ctx), plan.observe),
    fileOf: (resolved) => resolved.path,
    signal: plan.signal,
    ctx,
    // After waiting behind another write, the target is resolved again (that write may have created or replaced it).
    run: (resolved, waited) => runAsync(appendOperation(plan, waited ? undefined : resolved, ctx), plan.observe),
  });
  return appended.then(
    (done) => runAsync(completeAppend(plan, done, ctx), plan.observe),
    (error: unknown) => {
      throw plan.signal?.aborted === true && error === plan.signal.reason
        ? new AbortError({ stage: 'validate', path: plan.target, cause: error })
        : error;
    },
  );
}

/** Both phases of an append, for the synchronous form. */
function* appendSyncOperation(plan: AppendPlan, resolved: ResolvedTarget, ctx: FailureContext): Operation<AppendDurableResult> {
  const appended = yield* appendOperation(plan, resolved, ctx);
  return yield* completeAppend(plan, appended, ctx);
}

/**
 * The synchronous {@link appendDurable}: the same syscalls in the same order, the same
 * guarantees, blocking the thread (its flush is its own). While an async write or append to the
 * same file is queued or running (its target resolved) it throws a `DurableWriteError` with
 * `code` `EBUSY` (stage `validate`) and appends nothing, as `writeDurableSync` does; an async call
 * still resolving its target when this one appends gives way instead (it rejects with `EBUSY`,
 * nothing appended), so that no two appends land out of call order.
 *
 * @example
 * ```ts
 * import { appendDurableSync } from 'durable-write';
 * appendDurableSync('/var/lib/app/journal.csv', `${Date.now()},started\n`);
 * ```
 */
export function appendDurableSync(
  path: string | URL,
  data: string | NodeJS.ArrayBufferView,
  options?: AppendDurableSyncOptions | BufferEncoding,
): AppendDurableResult {
  const operation = 'appendDurableSync';
  const plan = planAppend(path, data, options, 'sync', operation);
  const ctx: FailureContext = { operation, path: plan.target };
  return writeSyncInOrder({
    path: plan.target,
    resolve: () => runSync(resolveAppend(plan, ctx), plan.observe),
    fileOf: (resolved) => resolved.path,
    ctx,
    run: (resolved) => runSync(appendSyncOperation(plan, resolved, ctx), plan.observe),
  });
}
