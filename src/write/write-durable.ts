/**
 * `writeDurable` and `writeDurableSync`: replace a file so that, once the call returns, the new
 * content survives a crash, a power cut or a BMC hard reset, and at no moment can a reader or a
 * crash see anything but the old content or the whole new one.
 *
 * This is the main file of `src/write/`, the durable file operations: `writeDurable` here,
 * `renameDurable`, `fsyncFile` and `fsyncDirectory` beside it, and the pieces they are made of
 * (the data source, temp names, target resolution through symlinks, the per-file queue, the
 * umask, flushing by path, creating parents). Each public function checks its arguments with the
 * prologue of `src/core/arguments.ts`, then runs one operation generator of
 * `src/core/effect.ts` under the sync or the async driver.
 *
 * @module
 */
import { describeValue, fileOperationOptions, invalidArgType } from '../core/arguments.js';
import { perform, runAsync, runSync, type Effect, type Operation } from '../core/effect.js';
import { AbortError, DurableWriteError } from '../core/errors.js';
import { attempt, quietly, throwIfAborted, wrapError, type FailureContext } from '../core/failure.js';
import { fileIo, type FileIo, type OpenFile } from '../core/file-io.js';
import { chunkSource, dataProblem, discardData, isWholeData, type ChunkSource, type WriteDurableData } from './data-source.js';
import { writeInOrder, writeSyncInOrder } from './path-queue.js';
import {
  abandonReplacement,
  completeReplacement,
  planWrite,
  prepareReplacement,
  resolveOperation,
  writeBytes,
  type PlanAdditions,
  type WritePlan,
} from './replacement.js';
import type { ResolvedTarget } from './resolve-target.js';
import { mayOffload, offload } from './write-offload.js';
import { WRITE_OPTION_NAMES, type WriteDurableOptions, type WriteDurableResult, type WriteDurableSyncOptions } from './write-options.js';

export type { DataChunk, WriteDurableData } from './data-source.js';
export type { DirectorySyncPolicy, FlushMethod } from '../core/file-io.js';
export type { WriteDurableOptions, WriteDurableResult, WriteDurableStepEvent, WriteDurableSyncOptions } from './write-options.js';

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

/**
 * The whole write, in the order that makes it atomic and durable and lets every failure but the
 * directory fsync happen before anything changes: first data, parents, directory held open,
 * temp file, data, owner, mode, flush, close, rename; then the directory fsync.
 * `resolved` is the target as resolved at admission; `undefined` to resolve it again here (after
 * waiting for earlier writes, which may have changed its mode or owner).
 * @internal exported for the write worker, which runs it under the sync driver.
 */
export function* writeDurableOperation(
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
    const replacement = yield* prepareReplacement(io, plan, resolved, ctx);
    const file = replacement.file;
    if (file === undefined) throw new Error('durable-write internal error: a new replacement has no open temp file');
    let bytesWritten: number;
    try {
      if (plan.onTempCreated !== undefined) yield* attempt('open', callHook(plan.onTempCreated, replacement.tmpPath), ctx, 'the tmpfileCreated callback');
      bytesWritten = yield* writeSource(io, file, first, source, plan, ctx);
    } catch (error) {
      yield* abandonReplacement(io, replacement);
      throw error;
    }
    return yield* completeReplacement(io, plan, replacement, file, resolved.stats, bytesWritten, ctx);
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
 * `open(dir, O_RDONLY|O_DIRECTORY)`, held; `open(".<name>.<pid>.<random>.dwtmp",
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
 * thread run one after another, each promise resolving once its own data is durable, and the
 * last call's data wins: calls through the same path run in call order; a call waits at most
 * 250 ms for the target resolutions of older calls through other paths (a stalled mount holds up
 * other files no longer); and an older call through another name of the file, resolved after a
 * newer one that has already replaced the file, gives way (`EBUSY`, stage `validate`, nothing
 * written). An abort settles the call at once, even while a read of `data` is pending. A failed
 * fsync is never retried: the promise rejects with a {@link FlushError}.
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
 * `additions` are the plan's fields beyond `writeDurable`'s options ({@link PlanAdditions}: a hook
 * called with the temp file's path once it exists, the mode of a new file, whether to keep the owner,
 * whether the target must be writable).
 */
export function writeDurableWith(
  operation: string,
  path: unknown,
  options: unknown,
  extraNames: readonly string[],
  dataOf: (options: Record<string, unknown>) => WriteDurableData,
  given?: unknown,
  additions: PlanAdditions = {},
): Promise<WriteDurableResult> {
  let plan: WritePlan;
  let data: WriteDurableData;
  try {
    const { options: o, fs, signal } = fileOperationOptions(options, [...WRITE_OPTION_NAMES, ...extraNames], 'async', operation, true);
    plan = { ...planWrite(path, o, fs, signal, operation), ...additions };
    data = dataOf(o);
    const problem = dataProblem(data, ACCEPTED_DATA, operation);
    if (problem !== undefined) throw problem;
  } catch (error) {
    discardData(given);
    return Promise.reject(error);
  }
  const ctx: FailureContext = { operation, path: plan.target };
  const source = chunkSource(data, plan.encoding, plan.signal, operation);
  // A call the worker may take resolves its target here and now (see write-offload.ts).
  const whole = mayOffload(plan, data) ? data : undefined;
  const resolution = whole !== undefined ? resolveNow(plan, ctx) : runAsync(resolveOperation(plan, ctx), plan.observe);
  const written = writeInOrder({
    path: plan.target,
    resolution,
    fileOf: (resolved) => resolved.path,
    signal: plan.signal,
    ctx,
    run: (resolved, waited) =>
      (whole !== undefined && !waited ? offload(plan, whole, resolved, operation) : undefined) ??
      runAsync(writeDurableOperation(plan, waited ? undefined : resolved, source, ctx), plan.observe),
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
 * It cannot wait for an async `writeDurable`, so that the last call's data always wins: while
 * one through the same path or to the same file is queued or running (its target resolved), it
 * throws a `DurableWriteError` with `code` `EBUSY` (stage `validate`) and writes nothing; an
 * async call still resolving its target when this one writes gives way instead (it rejects with
 * `EBUSY`, nothing written). Right after `await writeDurable(...)` the file is free.
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
  additions: PlanAdditions = {},
): WriteDurableResult {
  const { options: o, fs, signal } = fileOperationOptions(options, [...WRITE_OPTION_NAMES, ...extraNames], 'sync', operation, true);
  const plan: WritePlan = { ...planWrite(path, o, fs, signal, operation, 'sync'), ...additions };
  const data = dataOf(o);
  if (!isWholeData(data)) throw invalidArgType(`${operation}: data must be ${ACCEPTED_WHOLE_DATA}; received ${describeValue(data)}`);
  const ctx: FailureContext = { operation, path: plan.target };
  return writeSyncInOrder({
    path: plan.target,
    resolve: () => runSync(resolveOperation(plan, ctx), plan.observe),
    fileOf: (resolved) => resolved.path,
    ctx,
    run: (resolved) => runSync(writeDurableOperation(plan, resolved, chunkSource(data, plan.encoding, undefined, operation), ctx), plan.observe),
  });
}

/** The target resolved on the calling thread, as a promise (settled already). */
function resolveNow(plan: WritePlan, ctx: FailureContext): Promise<ResolvedTarget> {
  try {
    return Promise.resolve(runSync(resolveOperation(plan, ctx)));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** What `writeDurable` accepts as data, for messages. */
const ACCEPTED_DATA = 'a string, Buffer, TypedArray, DataView, an (async) iterable of them, or a Readable';
/** What `writeDurableSync` accepts as data, for messages. */
const ACCEPTED_WHOLE_DATA = 'a string, Buffer, TypedArray or DataView';
