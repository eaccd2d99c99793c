/**
 * `writeDurable` and `writeDurableSync`: replace a file so that, once the call returns, the new
 * content survives a crash, a power cut or a BMC hard reset, and at no moment can a reader or a
 * crash see anything but the old content or the whole new one.
 *
 * This is the main file of `src/write/`, the durable file operations: `writeDurable` here,
 * `renameDurable`, `fsyncFile` and `fsyncDirectory` beside it, and the pieces they are made of
 * (the data source, temp names, target resolution through symlinks, the per-path queue, the
 * umask, flushing by path, creating parents). Each public function checks its arguments with the
 * prologue of `src/core/arguments.ts`, then runs one operation generator of
 * `src/core/effect.ts` under the sync or the async driver.
 *
 * @module
 */
import * as nodePath from 'node:path';
import {
  checkBoolean,
  checkDirectorySync,
  checkEncoding,
  checkFlush,
  checkFunction,
  checkMode,
  checkOwner,
  checkPath,
  describeValue,
  fileOperationOptions,
  invalidArgType,
  invalidArgValue,
  namesDirectory,
  type CallMode,
} from '../core/arguments.js';
import { perform, runAsync, runSync, type Effect, type EffectObserver, type Operation } from '../core/effect.js';
import { AbortError, DurableWriteError, errnoCode } from '../core/errors.js';
import { attempt, quietly, throwIfAborted, wrapError, type FailureContext } from '../core/failure.js';
import { CREATE_EXCLUSIVE, fileIo, type DirectorySyncPolicy, type FileIo, type FlushMethod, type OpenFile } from '../core/file-io.js';
import type { DurableFileSystem } from '../core/file-system.js';
import { createDirectories, NONE_CREATED } from './create-parents.js';
import { chunkSource, dataProblem, discardData, isWholeData, type ChunkSource, type WriteDurableData } from './data-source.js';
import { holdDirectory, releaseDirectory, syncHeldDirectory } from './flush.js';
import { holdTemp, releaseTemp } from './held-temps.js';
import { admitInOrder, enqueue, hasPendingWrite, recordSyncWrite } from './path-queue.js';
import { resolveTarget, type ResolvedTarget } from './resolve-target.js';
import { tempPathFor } from './temp-name.js';
import { currentUmask } from './umask.js';

export type { DataChunk, WriteDurableData } from './data-source.js';
export type { DirectorySyncPolicy, FlushMethod } from '../core/file-io.js';

/** One step of a write, reported to {@link WriteDurableOptions.onStep} as it completes. */
export interface WriteDurableStepEvent {
  /** The primitive: `lstat`, `open`, `write`, `fsync`, `fdatasync`, `fchmod`, `close`, `rename`, ... */
  readonly step: string;
  /** How long it took, in milliseconds. */
  readonly milliseconds: number;
}

/** Options of {@link writeDurable}. An encoding string may stand in their place, as with `fs.writeFile`. */
export interface WriteDurableOptions {
  /** Encoding of string data (and string chunks). Default `'utf8'`. */
  readonly encoding?: BufferEncoding | null | undefined;
  /**
   * Permission bits of the file (a number, or an octal string such as `'644'`), applied with
   * `fchmod` and not reduced by the umask. Default: the existing target's mode; for a new file,
   * `0o666 & ~umask`. The temporary file has mode `0o600` until this is set.
   */
  readonly mode?: number | string | undefined;
  /**
   * How the data is flushed: `'fsync'` (data and all metadata) or `'fdatasync'` (data and the
   * metadata needed to read it back, such as the size; cheaper where timestamps change). With
   * `'fdatasync'` POSIX does not promise that the mode and owner set on the temp file are
   * flushed; on ext4 and XFS the directory fsync that follows commits them with the rename, but
   * use `'fsync'` where the permissions must survive a crash on any file system.
   * `true` means `'fsync'`, for code passing `fs.writeFile`'s `flush: true`. Default `'fsync'`.
   */
  readonly flush?: FlushMethod | true | undefined;
  /**
   * `'required'`: a failed directory fsync rejects. `'best-effort'`: a platform or file system
   * that refuses to fsync a directory (EINVAL, ENOTSUP, EPERM, EISDIR... as on Windows and some
   * network file systems) is tolerated and reported in {@link WriteDurableResult.directorySyncErrors};
   * an I/O error still rejects. Default `'required'`.
   */
  readonly directorySync?: DirectorySyncPolicy | undefined;
  /**
   * Create missing parent directories (mode `0o777 & ~umask`), fsyncing the parent of each one
   * created so that the whole path survives a crash, as fs-extra's `outputFile` would need.
   * Default `false` (a missing directory rejects with `ENOENT`, as `fs.writeFile` does).
   */
  readonly createParents?: boolean | undefined;
  /**
   * Aborts the write before its rename: nothing changes at the target, the temporary file is
   * removed and the promise rejects with an `AbortError`. After the rename the write completes.
   * Default: none.
   */
  readonly signal?: AbortSignal | undefined;
  /** The file-system primitives to use (fault injection, the crash simulator). Default: Node's. */
  readonly fs?: DurableFileSystem | undefined;
  /** Called after each primitive with its name and duration. Default: none. */
  readonly onStep?: ((event: WriteDurableStepEvent) => void) | undefined;
  /** `fs.writeFile`'s flag, accepted for drop-in use: only `'w'` (replace). Default `'w'`. */
  readonly flag?: 'w' | undefined;
  /**
   * The owner to give the file, applied with `fchown` to the temp file before the rename (as
   * write-file-atomic's `chown`); it needs the privilege to give a file away (root), and a
   * refusal is an error (stage `chown`). Default: an existing target's owner, kept where the
   * process may (an `EPERM` is ignored: the file becomes the writer's); a new file's is the writer's.
   */
  readonly owner?: { readonly uid: number; readonly gid: number } | undefined;
}

/** Options of {@link writeDurableSync}: those of {@link writeDurable} but the signal. */
export type WriteDurableSyncOptions = Omit<WriteDurableOptions, 'signal'>;

/** What a completed write did. */
export interface WriteDurableResult {
  /** The file replaced: the target, or the file a symlink at the target points to. */
  readonly path: string;
  /** How many bytes the file now holds. */
  readonly bytesWritten: number;
  /** Whether every directory fsync succeeded (false only under `directorySync: 'best-effort'`). */
  readonly directorySynced: boolean;
  /** The directory fsyncs the platform refused under `'best-effort'`; empty otherwise. */
  readonly directorySyncErrors: readonly DurableWriteError[];
  /** Directories created by `createParents`, outermost first. */
  readonly createdDirectories: readonly string[];
}

/** A write, its arguments checked. */
interface WritePlan {
  readonly target: string;
  readonly mode: number | undefined;
  /** The owner asked for; `undefined` to keep an existing target's. */
  readonly owner: { readonly uid: number; readonly gid: number } | undefined;
  /** Called once the temp file exists, before any data is written (write-file-atomic's `tmpfileCreated`). */
  readonly onTempCreated: ((tmpPath: string) => void | Promise<void>) | undefined;
  readonly flush: FlushMethod;
  readonly directorySync: DirectorySyncPolicy;
  readonly createParents: boolean;
  readonly signal: AbortSignal | undefined;
  readonly fs: DurableFileSystem;
  readonly observe: EffectObserver | undefined;
  readonly encoding: BufferEncoding;
}

/** How many fresh names to try when a temporary name is taken (EEXIST). */
const TEMP_NAME_ATTEMPTS = 5;

/**
 * Errors with which `fchown` refuses to give the temp file the target's owner: without the
 * privilege (not root) the new file stays the writer's, as it would with `fs.writeFile` of a new
 * file. Any other error (EIO...) fails the write.
 */
const CHOWN_REFUSALS: ReadonlySet<string> = new Set(['EPERM', 'EINVAL', 'ENOSYS', 'ENOTSUP', 'EOPNOTSUPP']);

const OPTION_NAMES = [
  'encoding', 'mode', 'flush', 'directorySync', 'createParents', 'signal', 'fs', 'onStep', 'flag', 'owner',
] as const satisfies readonly (keyof WriteDurableOptions)[];

/** Checks every argument but the data, throwing before any I/O. */
function planWrite(path: unknown, o: Record<string, unknown>, fs: DurableFileSystem, signal: AbortSignal | undefined, operation: string): WritePlan {
  const target = checkPath(path, 'path', operation);
  if (o['flag'] !== undefined && o['flag'] !== 'w') {
    throw invalidArgValue(`${operation}: flag must be 'w' (a durable write always replaces the whole file); received ${String(o['flag'])}`);
  }
  const onStep = checkFunction<(event: WriteDurableStepEvent) => void>(o['onStep'], 'onStep', operation);
  if (namesDirectory(path)) {
    throw new DurableWriteError(`${operation}: ${target} names a directory; the target must be a file`, {
      code: 'EISDIR',
      stage: 'validate',
      path: target,
    });
  }
  return {
    target,
    encoding: checkEncoding(o['encoding'], operation),
    mode: checkMode(o['mode'], operation),
    owner: checkOwner(o['owner'], 'owner', operation),
    onTempCreated: undefined,
    flush: checkFlush(o['flush'], operation, true),
    directorySync: checkDirectorySync(o['directorySync'], operation),
    createParents: checkBoolean(o['createParents'], false, 'createParents', operation),
    signal,
    fs,
    observe: onStep === undefined ? undefined : (step, milliseconds) => onStep({ step, milliseconds }),
  };
}

/** Creates the temporary file exclusively, with a fresh name if one is taken. */
function* createTemp(io: FileIo, target: string, ctx: FailureContext): Operation<{ file: OpenFile; tmpPath: string }> {
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    const tmpPath = tempPathFor(target);
    try {
      const file = yield* perform(io.open(tmpPath, CREATE_EXCLUSIVE, 0o600));
      holdTemp(tmpPath);
      return { file, tmpPath };
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST' || attemptNumber >= TEMP_NAME_ATTEMPTS) throw wrapError('open', error, ctx);
    }
  }
}

/**
 * The next batch of the caller's data. An abort while the read is pending is an `AbortError`; a
 * chunk of a wrong type is the `TypeError` the docs promise while nothing has been written
 * (`beforeDisk`), and a `write`-stage error naming the chunk once the temp file exists.
 */
function* readData(source: ChunkSource, plan: WritePlan, ctx: FailureContext, beforeDisk: boolean): Operation<Uint8Array | undefined> {
  throwIfAborted(plan.signal, 'write', ctx);
  try {
    return yield* perform(source.next());
  } catch (error) {
    throwIfAborted(plan.signal, 'write', ctx);
    if (beforeDisk && error instanceof TypeError) throw error;
    throw wrapError('write', error, ctx, 'reading the data to write');
  }
}

/** Writes `bytes` whole, looping over short writes. */
function* writeBytes(io: FileIo, file: OpenFile, bytes: Uint8Array, ctx: FailureContext): Operation<void> {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const written = yield* attempt('write', io.write(file, bytes, offset, bytes.byteLength - offset), ctx);
    if (!Number.isInteger(written) || written <= 0) {
      throw wrapError('write', Object.assign(new Error(`write made no progress (returned ${written})`), { code: 'EIO' }), ctx);
    }
    offset += written;
  }
}

/** Writes `first`, then every further batch of `source`. Returns the byte count. */
function* writeSource(io: FileIo, file: OpenFile, first: Uint8Array | undefined, source: ChunkSource, plan: WritePlan, ctx: FailureContext): Operation<number> {
  let total = 0;
  for (let chunk = first; chunk !== undefined; chunk = yield* readData(source, plan, ctx, false)) {
    yield* writeBytes(io, file, chunk, ctx);
    total += chunk.byteLength;
  }
  return total;
}

/** A caller's hook as an effect (no file-system step): awaited in async mode; in sync mode a returned promise is not awaited. */
function callHook(hook: (tmpPath: string) => void | Promise<void>, tmpPath: string): Effect<void> {
  return {
    step: undefined,
    sync: () => void hook(tmpPath),
    async: async () => {
      await hook(tmpPath);
    },
  };
}

/** Refuses a target that is neither a regular file nor absent. */
function checkReplaceable(resolved: ResolvedTarget, operation: string, target: string): void {
  if (resolved.stats === undefined || resolved.stats.isFile()) return;
  // Replacing a device, FIFO or socket with a regular file (think /dev/null as root) is never
  // what a caller meant; fs.writeFile would have written into it instead.
  const isDirectory = resolved.stats.isDirectory();
  throw new DurableWriteError(
    `${operation}: ${resolved.path} is ${isDirectory ? 'a directory' : 'not a regular file (a device, FIFO or socket)'}; the target must be a regular file or not exist`,
    { code: isDirectory ? 'EISDIR' : 'EINVAL', stage: 'validate', path: target },
  );
}

/** The file `plan.target` names, as the kernel resolves it. */
function* resolveOperation(plan: WritePlan, ctx: FailureContext): Operation<ResolvedTarget> {
  throwIfAborted(plan.signal, 'validate', ctx);
  const resolved = yield* resolveTarget(fileIo(plan.fs), plan.target, ctx);
  checkReplaceable(resolved, ctx.operation, plan.target);
  return resolved;
}

/**
 * The whole write, in the order that makes it atomic and durable and lets every failure but the
 * directory fsync happen before anything changes: first data, parents, directory held open,
 * temp file, data, owner, mode, flush, close, rename; then the directory fsync.
 * `resolved` is the target as resolved at admission; `undefined` to resolve it again here (after
 * waiting for earlier writes, which may have changed its mode or owner).
 */
function* writeDurableOperation(
  plan: WritePlan,
  resolvedEarlier: ResolvedTarget | undefined,
  source: ChunkSource,
  ctx: FailureContext,
): Operation<WriteDurableResult> {
  const io = fileIo(plan.fs);
  try {
    throwIfAborted(plan.signal, 'validate', ctx);
    const resolved = resolvedEarlier ?? (yield* resolveOperation(plan, ctx));
    const first = yield* readData(source, plan, ctx, true);
    const directory = nodePath.dirname(resolved.path);
    const parents =
      plan.createParents && !resolved.directoryExists ? yield* createDirectories(io, directory, plan.directorySync, ctx) : NONE_CREATED;
    const finalMode = plan.mode ?? (resolved.stats === undefined ? 0o666 & ~currentUmask() : resolved.stats.mode & 0o7777);
    throwIfAborted(plan.signal, 'open', ctx);
    const held = yield* holdDirectory(io, directory, plan.directorySync, ctx);
    let bytesWritten: number;
    try {
      const temp = yield* createTemp(io, resolved.path, ctx);
      ctx.tmpPath = temp.tmpPath;
      let open: OpenFile | undefined = temp.file;
      try {
        if (plan.onTempCreated !== undefined) yield* attempt('open', callHook(plan.onTempCreated, temp.tmpPath), ctx, 'the tmpfileCreated callback');
        bytesWritten = yield* writeSource(io, temp.file, first, source, plan, ctx);
        if (plan.owner !== undefined) {
          yield* attempt('chown', io.chown(temp.file, plan.owner.uid, plan.owner.gid), ctx);
        } else if (resolved.stats !== undefined && (resolved.stats.uid !== process.geteuid?.() || resolved.stats.gid !== process.getegid?.())) {
          try {
            yield* perform(io.chown(temp.file, resolved.stats.uid, resolved.stats.gid));
          } catch (error) {
            if (!CHOWN_REFUSALS.has(errnoCode(error) ?? '')) throw wrapError('chown', error, ctx);
          }
        }
        yield* attempt('chmod', io.chmod(temp.file, finalMode), ctx);
        throwIfAborted(plan.signal, 'flush', ctx);
        // One fsync, never retried: after a failure Linux has already dropped the error and the data.
        yield* attempt('flush', io.flush(temp.file, plan.flush), ctx);
        open = undefined;
        yield* attempt('close', io.close(temp.file), ctx);
        throwIfAborted(plan.signal, 'rename', ctx);
        yield* attempt('rename', io.rename(temp.tmpPath, resolved.path), ctx);
      } catch (error) {
        if (open !== undefined) yield* quietly(io.close(open));
        yield* quietly(io.unlink(temp.tmpPath));
        throw error;
      } finally {
        releaseTemp(temp.tmpPath);
      }
    } catch (error) {
      yield* releaseDirectory(io, held);
      throw error;
    }
    ctx.tmpPath = undefined;
    ctx.renamed = true;
    // From here on the new content is in place: only the directory fsync can fail.
    const outcome = yield* syncHeldDirectory(io, held, plan.directorySync, ctx);
    const refused = outcome.error === undefined ? parents.refused : [...parents.refused, outcome.error];
    return {
      path: resolved.path,
      bytesWritten,
      directorySynced: refused.length === 0,
      directorySyncErrors: refused,
      createdDirectories: parents.created,
    };
  } catch (error) {
    yield* quietly(source.cancel());
    throw error;
  }
}

/**
 * Replaces the file at `path` with `data`, atomically and durably.
 *
 * Syscalls, in order: `realpath` of the target's directory and `lstat` of the target (and
 * `readlink` plus `realpath` per symlink hop), so that the file replaced is the one the kernel
 * would open for `path`, `..` after a symlinked directory included; with `createParents`,
 * `stat`/`mkdir` per missing directory and an `fsync` of each new directory's parent;
 * `open(dir, O_RDONLY|O_DIRECTORY)`, held; `open(".<name>.<random>.tmp",
 * O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600)` in that directory; `write` until every byte is
 * written; `fchown` (only to keep an existing target's owner); `fchmod`; `fsync` (or
 * `fdatasync`); `close`; `rename(tmp, target)`; `fsync(dir)`; `close(dir)`.
 *
 * Guarantees: when the promise resolves, the new content and its name are on stable storage (as
 * far as the device honours flushes); at every moment before, the target holds its previous
 * content, whole. On rejection before the rename, the target is untouched, the temporary file
 * removed and a stream given as `data` destroyed. After the rename only the directory fsync can
 * fail (stage `flush-directory`): the new content is then in place, its name maybe not durable.
 * A symlink at the target is followed (the link stays). Calls replacing the same file in one
 * process (through any symlink or `..`) run in call order, and each promise resolves once its
 * own data is durable. An abort settles the call at once, even while a read of `data` is
 * pending. A failed fsync is never retried: the promise rejects with a {@link FlushError}.
 *
 * @param path - the file to replace (`string` or `file:` URL).
 * @param data - a string, a Buffer or any `ArrayBufferView`, an iterable or async iterable of
 *   strings/Uint8Arrays, or a Node `Readable` (streamed in bounded memory).
 * @param options - {@link WriteDurableOptions}, or an encoding string.
 * @returns what was written: {@link WriteDurableResult}.
 * @throws `TypeError` for bad arguments (before the disk is touched); {@link DurableWriteError}
 *   (with `code`, `stage`, `path`, `tmpPath`) for a failed step; {@link AbortError}.
 *
 * @example
 * ```ts
 * import { writeDurable } from 'durable-write';
 * await writeDurable('/var/lib/app/state.json', JSON.stringify(state));
 * await writeDurable('/var/lib/app/report.csv', createReadStream(source), { createParents: true });
 * ```
 */
export function writeDurable(
  path: string | URL,
  data: WriteDurableData,
  options?: WriteDurableOptions | BufferEncoding,
): Promise<WriteDurableResult> {
  return writeDurableWith('writeDurable', path, options, [], () => data, data);
}

/**
 * @internal `writeDurable` for a function built on it (`writeDurableJson`, the compat layer):
 * `extraNames` are the options it takes besides `writeDurable`'s, and `dataOf` makes the data
 * from the checked options (it may throw the function's own TypeError). `given` is the caller's
 * data argument, destroyed if it is a stream and the call fails before it is read.
 * `onTempCreated` is called with the temp file's path once it exists, before any data is written.
 */
export function writeDurableWith(
  operation: string,
  path: unknown,
  options: unknown,
  extraNames: readonly string[],
  dataOf: (options: Record<string, unknown>) => WriteDurableData,
  given?: unknown,
  onTempCreated?: (tmpPath: string) => void | Promise<void>,
): Promise<WriteDurableResult> {
  let plan: WritePlan;
  let data: WriteDurableData;
  try {
    const { options: o, fs, signal } = fileOperationOptions(options, [...OPTION_NAMES, ...extraNames], 'async', operation, true);
    plan = { ...planWrite(path, o, fs, signal, operation), onTempCreated };
    data = dataOf(o);
    const problem = dataProblem(data, ACCEPTED_DATA, operation);
    if (problem !== undefined) throw problem;
  } catch (error) {
    discardData(given);
    return Promise.reject(error);
  }
  const ctx: FailureContext = { operation, path: plan.target };
  const source = chunkSource(data, plan.encoding, plan.signal, operation);
  const resolution = runAsync(resolveOperation(plan, ctx), plan.observe);
  const written = admitInOrder(resolution, (resolved) => resolved.path, plan.signal).then(({ resolved, superseded }) => {
    if (superseded) throw supersededError(resolved.path, ctx);
    return enqueue(
      resolved.path,
      (waited) => runAsync(writeDurableOperation(plan, waited ? undefined : resolved, source, ctx), plan.observe),
      plan.signal,
    );
  });
  return written.catch(async (error: unknown) => {
    // Whatever failed before the operation ran (admission, an abort while queued) still owns the source.
    await runAsync(quietly(source.cancel()));
    throw plan.signal?.aborted === true && error === plan.signal.reason
      ? new AbortError({ stage: 'validate', path: plan.target, cause: error })
      : error;
  });
}

/**
 * The synchronous {@link writeDurable}: the same syscalls in the same order, the same
 * guarantees, blocking the thread. `data` is a string or an `ArrayBufferView`.
 *
 * It cannot wait for an async `writeDurable` to the same file: while one is queued or running,
 * it throws a `DurableWriteError` with `code` `EBUSY` (stage `validate`) and writes nothing, so
 * that the last call's data always wins.
 *
 * @example
 * ```ts
 * import { writeDurableSync } from 'durable-write';
 * writeDurableSync('/etc/app/config.json', JSON.stringify(config, null, 2), { mode: 0o640 });
 * ```
 */
export function writeDurableSync(
  path: string | URL,
  data: string | NodeJS.ArrayBufferView,
  options?: WriteDurableSyncOptions | BufferEncoding,
): WriteDurableResult {
  return writeDurableSyncWith('writeDurableSync', path, options, [], () => data);
}

/** @internal `writeDurableSync` for a function built on it, as {@link writeDurableWith}. */
export function writeDurableSyncWith(
  operation: string,
  path: unknown,
  options: unknown,
  extraNames: readonly string[],
  dataOf: (options: Record<string, unknown>) => unknown,
  onTempCreated?: (tmpPath: string) => void,
): WriteDurableResult {
  const { options: o, fs, signal } = fileOperationOptions(options, [...OPTION_NAMES, ...extraNames], 'sync', operation, true);
  const plan = { ...planWrite(path, o, fs, signal, operation), onTempCreated };
  const data = dataOf(o);
  if (!isWholeData(data)) throw invalidArgType(`${operation}: data must be ${ACCEPTED_WHOLE_DATA}; received ${describeValue(data)}`);
  const ctx: FailureContext = { operation, path: plan.target };
  const resolved = runSync(resolveOperation(plan, ctx), plan.observe);
  if (hasPendingWrite(resolved.path)) {
    throw new DurableWriteError(
      `${operation}: an async writeDurable to ${resolved.path} is still queued or running; a synchronous write cannot wait for it, ` +
        'and writing now would let the earlier call overwrite this one: await the async write first',
      { code: 'EBUSY', stage: 'validate', path: plan.target },
    );
  }
  const result = runSync(writeDurableOperation(plan, resolved, chunkSource(data, plan.encoding, undefined, operation), ctx), plan.observe);
  recordSyncWrite(resolved.path);
  return result;
}

/** What `writeDurable` accepts as data, for messages. */
const ACCEPTED_DATA = 'a string, Buffer, TypedArray, DataView, an (async) iterable of them, or a Readable';
/** What `writeDurableSync` accepts as data, for messages. */
const ACCEPTED_WHOLE_DATA = 'a string, Buffer, TypedArray or DataView';

/** An async call that gives way to a later `writeDurableSync` of the same file. */
function supersededError(path: string, ctx: FailureContext): DurableWriteError {
  return new DurableWriteError(
    `${ctx.operation}: a writeDurableSync call made after this one already replaced ${path}; this older write was not made, so that the last call's data wins`,
    { code: 'EBUSY', stage: 'validate', path: ctx.path },
  );
}
