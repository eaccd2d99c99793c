/**
 * `openDurable`: a pending file, as Go's renameio `PendingFile`. The temp file is created exactly
 * as `writeDurable` creates it; the caller, or any third-party writer given `tmpPath`, writes it;
 * `commit()` then does what `writeDurable` does after its last write (owner, mode, one flush,
 * close, rename, directory fsync), serialized with every other write to the same file.
 *
 * @module
 */
import { constants } from 'node:fs';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { checkEncoding, describeValue, fileOperationOptions, invalidArgType, invalidArgValue, optionsObject } from '../core/arguments.js';
import { toBytes, isBytesLike } from '../core/bytes.js';
import { perform, runAsync, runSync, type Effect, type Operation } from '../core/effect.js';
import { AbortError, DurableWriteError, errnoCode } from '../core/errors.js';
import { attempt, quietly, throwIfAborted, wrapError, type FailureContext } from '../core/failure.js';
import { fileIo, OPEN_TO_FLUSH, type FileIo, type OpenFile } from '../core/file-io.js';
import type { DurableStats } from '../core/file-system.js';
import { writeInOrder } from './path-queue.js';
import {
  abandonReplacement,
  completeReplacement,
  planWrite,
  prepareReplacement,
  resolveOperation,
  writeBytes,
  type Replacement,
  type WritePlan,
} from './replacement.js';
import { WRITE_OPTION_NAMES, type WriteDurableOptions, type WriteDurableResult } from './write-options.js';

/** Options of {@link openDurable}: those of `writeDurable` but `flag`. */
export interface OpenDurableOptions extends Omit<WriteDurableOptions, 'flag' | 'encoding'> {
  /**
   * Encoding of the strings given to {@link PendingFile.write}, and the default encoding of the
   * streams {@link PendingFile.createWriteStream} makes. Default `'utf8'` (`null` too).
   */
  readonly encoding?: BufferEncoding | null | undefined;
}

/** Options of {@link PendingFile.createWriteStream}: those of `fs.createWriteStream` that apply to a pending file. */
export interface PendingWriteStreamOptions {
  /**
   * The encoding of strings written without one (the stream's default encoding, as
   * `fs.createWriteStream`'s `encoding`); `write(chunk, encoding)` and `setDefaultEncoding()`
   * override it. Default: the pending file's `encoding` option (`'utf8'` unless given); `null`
   * means `'utf8'`.
   */
  readonly encoding?: BufferEncoding | null | undefined;
  /** The `Writable`'s buffer, in bytes. Default: Node's (16 KiB). */
  readonly highWaterMark?: number | undefined;
}

/** The names of {@link PendingWriteStreamOptions}, for the prologue's unknown-name check. */
const PENDING_STREAM_OPTION_NAMES = ['encoding', 'highWaterMark'] as const satisfies readonly (keyof PendingWriteStreamOptions)[];

/** A file being written, to be put in place with {@link PendingFile.commit} or dropped with {@link PendingFile.discard}. */
export interface PendingFile extends AsyncDisposable {
  /**
   * The temporary file, `.<name>.<pid>.<hex>.dwtmp` beside the target: hand it to a writer that only
   * takes a path (it may open and write it any number of times, or replace it with its own
   * rename). Mode 0600 until the commit sets the final mode.
   */
  readonly tmpPath: string;
  /** The file `commit()` replaces (symlinks and `..` resolved as the kernel resolves them). */
  readonly path: string;
  /**
   * Appends `data` (a string in the `encoding` option, or any `ArrayBufferView`), looping over
   * short writes. Writes run one after another in call order.
   */
  write(data: string | NodeJS.ArrayBufferView): Promise<number>;
  /**
   * A `Writable` onto the temp file, appending as {@link PendingFile.write} does (in call order
   * with every other write): its `'finish'` means the data reached the temp file, not that it is
   * committed. Strings written without an encoding use `options.encoding`, else the pending
   * file's. Throws a `TypeError` for bad options, and an `ERR_INVALID_STATE` error once the
   * pending file is committing, committed or discarded.
   */
  createWriteStream(options?: PendingWriteStreamOptions): Writable;
  /**
   * Puts the file in place durably: `fchown` (to keep an existing target's owner, or the `owner`
   * option), `fchmod`, `fsync` (or `fdatasync`) once, `close`, `rename` over the target, `fsync`
   * of the directory; serialized with every other write to the same file. If another writer
   * replaced the file at `tmpPath` (a new inode), that file is opened (`O_NOFOLLOW`) and flushed
   * instead; anything else than a regular file there is refused. Resolves as `writeDurable`
   * does; rejects with the same error stages, and then nothing is left behind.
   *
   * The pending file's own write streams ({@link PendingFile.createWriteStream}) that have been
   * ended are waited for: the commit starts once each has finished, and fails (discarding) if one
   * fails or is destroyed before it finishes. A stream neither ended nor destroyed makes
   * `commit()` reject at once with `ERR_INVALID_STATE`, naming the stream, and changes nothing.
   */
  commit(): Promise<WriteDurableResult>;
  /**
   * Closes and removes the temp file; the target is untouched. Idempotent; a no-op after a commit,
   * safe after a failed one. The pending file's write streams still open are destroyed (no `'error'`).
   */
  discard(): Promise<void>;
  /** `await using pending = await openDurable(path)`: discards unless committed. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Opening the temp file (`O_RDONLY|O_NOFOLLOW`; `O_RDWR` on Windows, to flush it) that another writer left at `tmpPath`. */
const OPEN_REPLACED = OPEN_TO_FLUSH | (constants.O_NOFOLLOW ?? 0);

type State = 'open' | 'committing' | 'committed' | 'discarded';

/** An error for a call the pending file's state does not allow (as Node's `ERR_INVALID_STATE`). */
function invalidState(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_INVALID_STATE' });
}

/** Resolves the target and prepares the replacement; `ino` is the temp file's, to tell later whether it was replaced. */
function* openOperation(io: FileIo, plan: WritePlan, ctx: FailureContext): Operation<{ replacement: Replacement; ino: number }> {
  const resolved = yield* resolveOperation(plan, ctx);
  const replacement = yield* prepareReplacement(io, plan, resolved, ctx);
  try {
    const stats = yield* attempt('open', io.lstat(replacement.tmpPath), ctx, `lstat of the new temporary file ${replacement.tmpPath}`);
    return { replacement, ino: stats.ino };
  } catch (error) {
    yield* abandonReplacement(io, replacement);
    throw error;
  }
}

/** What a third party left at `tmpPath`: the file to flush and its size, or a refusal. */
function* fileToCommit(io: FileIo, replacement: Replacement, ino: number, ctx: FailureContext): Operation<{ file: OpenFile; size: number }> {
  const { tmpPath } = replacement;
  let now: DurableStats;
  try {
    now = yield* perform(io.lstat(tmpPath));
  } catch (error) {
    throw wrapError('open', error, ctx, `lstat of the temporary file ${tmpPath} (did another writer remove it?)`);
  }
  if (!now.isFile()) {
    throw new DurableWriteError(
      `${ctx.operation}: ${tmpPath} is no longer a regular file (another writer put a symlink, directory or device there); refusing to commit it`,
      { code: 'EINVAL', stage: 'validate', path: ctx.path, tmpPath },
    );
  }
  if (now.ino === ino && replacement.file !== undefined) return { file: replacement.file, size: now.size };
  // Another writer replaced the temp file (its own rename): flush what is there, once.
  const file = yield* attempt('open', io.open(tmpPath, OPEN_REPLACED), ctx, `opening ${tmpPath}, which another writer replaced, to flush it`);
  if (replacement.file !== undefined) yield* quietly(io.close(replacement.file));
  replacement.file = undefined;
  return { file, size: now.size };
}

/** The target's stats now (its mode and owner are kept), or `undefined` when it does not exist. */
function* currentTarget(io: FileIo, path: string, ctx: FailureContext): Operation<DurableStats | undefined> {
  try {
    return yield* perform(io.lstat(path));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw wrapError('stat', error, ctx);
  }
}

/**
 * `operation`, run as it is, calling `onRename` just before it yields a `rename`: from that
 * moment (the last abort check passed) the rename will be issued, whatever happens meanwhile.
 */
function* noticingRename<T>(operation: Operation<T>, onRename: () => void): Operation<T> {
  let next = operation.next();
  for (;;) {
    if (next.done === true) return next.value;
    const effect: Effect<unknown> = next.value;
    if (effect.step === 'rename') onRename();
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: yield effect };
    } catch (error) {
      outcome = { ok: false, error };
    }
    next = outcome.ok ? operation.next(outcome.value) : operation.throw(outcome.error);
  }
}

/**
 * @internal The `Writable` options of a durable stream: `highWaterMark` (checked) and the default
 * encoding of its string writes, the `encoding` option's or else `fallback`.
 */
export function writableSettings(
  o: Record<string, unknown>,
  fallback: BufferEncoding,
  operation: string,
): { defaultEncoding: BufferEncoding; highWaterMark?: number } {
  const highWaterMark = o['highWaterMark'];
  if (highWaterMark !== undefined && (typeof highWaterMark !== 'number' || !Number.isInteger(highWaterMark) || highWaterMark < 1)) {
    throw invalidArgValue(`${operation}: highWaterMark must be a positive integer; received ${describeValue(highWaterMark)}`);
  }
  const defaultEncoding = o['encoding'] === undefined ? fallback : checkEncoding(o['encoding'], operation);
  return highWaterMark === undefined ? { defaultEncoding } : { defaultEncoding, highWaterMark };
}

/** @internal The pending file as `createDurableWriteStream` drives it. */
export interface StreamedPendingFile extends PendingFile {
  /** Whether `commit()` has issued its rename: from then on the commit can no longer be stopped. */
  readonly renameIssued: boolean;
  /**
   * `discard()`, the temp file's name removed first, synchronously, where nothing can commit it
   * any more (not committing, or committing with its signal aborted before the rename): so that a
   * process exiting right after a stream's destroy leaves no temp file behind.
   */
  discardNow(): Promise<void>;
}

class DurablePendingFile implements StreamedPendingFile {
  readonly tmpPath: string;
  readonly path: string;
  #state: State = 'open';
  /** The writes so far, one after another; rejects once one has failed. */
  #writes: Promise<void> = Promise.resolve();
  #commit: Promise<WriteDurableResult> | undefined;
  /** The error of the write that failed, which discarded the pending file. */
  #failure: unknown;
  /** The write streams made by createWriteStream() and not yet closed, with their numbers (from 1, in creation order). */
  readonly #streams = new Map<Writable, number>();
  #streamsMade = 0;
  #renameIssued = false;
  readonly #io: FileIo;

  constructor(
    readonly plan: WritePlan,
    readonly replacement: Replacement,
    readonly ino: number,
    readonly ctx: FailureContext,
  ) {
    this.#io = fileIo(plan.fs);
    this.tmpPath = replacement.tmpPath;
    this.path = replacement.resolved.path;
  }

  get renameIssued(): boolean {
    return this.#renameIssued;
  }

  write(data: string | NodeJS.ArrayBufferView): Promise<number> {
    const operation = `${this.ctx.operation}: write`;
    if (!isBytesLike(data)) {
      return Promise.reject(invalidArgType(`${operation}: data must be a string, Buffer, TypedArray or DataView; received ${describeValue(data)}`));
    }
    if (this.#state !== 'open') return Promise.reject(invalidState(`${operation}: the pending file is ${this.#state}`));
    return this.#append(toBytes(data, this.plan.encoding), operation);
  }

  /** Appends `bytes` after the writes so far; a failure while open discards the pending file (a commit under way discards it itself). */
  #append(bytes: Uint8Array, operation: string): Promise<number> {
    const written = this.#writes.then(() => {
      const file = this.replacement.file;
      if (file === undefined) throw invalidState(`${operation}: the temporary file is closed`);
      return runAsync(writeBytes(this.#io, file, bytes, this.ctx), this.plan.observe);
    });
    this.#writes = written;
    return written.then(
      () => bytes.byteLength,
      async (error: unknown) => {
        // A failed write leaves the temp file short: it is discarded at once, as the error says.
        if (this.#state === 'open') {
          this.#state = 'discarded';
          this.#failure = error;
          await runAsync(abandonReplacement(this.#io, this.replacement));
        }
        throw error;
      },
    );
  }

  createWriteStream(options?: PendingWriteStreamOptions): Writable {
    const operation = `${this.ctx.operation}: createWriteStream`;
    const settings = writableSettings(optionsObject(options, PENDING_STREAM_OPTION_NAMES, operation), this.plan.encoding, operation);
    if (this.#state !== 'open') throw invalidState(`${operation}: the pending file is ${this.#state}`);
    const number = (this.#streamsMade += 1);
    const stream = new Writable({
      ...settings,
      write: (chunk: Buffer, _encoding, callback) => {
        // While committing, only an ended stream the commit waits for still writes.
        if (this.#state !== 'open' && this.#state !== 'committing') {
          callback(invalidState(`${operation}: write stream #${number}: the pending file is ${this.#state}`));
          return;
        }
        this.#append(chunk, `${operation}: write stream #${number}`).then(() => callback(), callback);
      },
    });
    this.#streams.set(stream, number);
    stream.once('close', () => this.#streams.delete(stream));
    return stream;
  }

  /**
   * The writes so far, once every ended write stream of the pending file has finished; rejects
   * with a failed write's error, or when a stream was destroyed before it finished (its data
   * would be cut short).
   */
  async #written(): Promise<void> {
    const flushing = [...this.#streams].filter(([stream]) => !stream.destroyed && !stream.writableFinished);
    // finished() listens for 'error': a stream failing now is reported by the commit, not uncaught.
    const outcomes = await Promise.allSettled(flushing.map(([stream]) => finished(stream)));
    await this.#writes;
    const cut = outcomes.findIndex((outcome) => outcome.status === 'rejected');
    const number = flushing[cut]?.[1];
    if (number !== undefined) {
      throw invalidState(
        `${this.ctx.operation}: commit: write stream #${number} of the pending file was destroyed before it finished; its data may be incomplete, so nothing was committed`,
      );
    }
  }

  /** The number of a write stream neither ended nor destroyed, which would keep writing after the commit. */
  #openStream(): number | undefined {
    for (const [stream, number] of this.#streams) if (!stream.destroyed && !stream.writableEnded) return number;
    return undefined;
  }

  commit(): Promise<WriteDurableResult> {
    if (this.#state !== 'open') {
      if (this.#failure !== undefined) return Promise.reject(this.#failure);
      return this.#commit ?? Promise.reject(invalidState(`${this.ctx.operation}: commit: the pending file is ${this.#state}`));
    }
    const open = this.#openStream();
    if (open !== undefined) {
      return Promise.reject(
        invalidState(
          `${this.ctx.operation}: commit: write stream #${open} of the pending file (from createWriteStream()) has not ended; end() it (commit() then waits for its 'finish') or destroy() it before commit(); nothing was changed`,
        ),
      );
    }
    this.#state = 'committing';
    const { plan, ctx } = this;
    // Ordered from the moment commit() is called; its target was resolved when the file was opened.
    const committed = writeInOrder({
      path: plan.target,
      resolution: this.#written().then(() => this.path),
      fileOf: (path) => path,
      signal: plan.signal,
      ctx,
      run: () => runAsync(this.#commitOperation(), plan.observe),
    });
    this.#commit = committed.then(
      (result) => {
        this.#state = 'committed';
        return result;
      },
      async (error: unknown) => {
        this.#state = 'discarded';
        // An abort rejects without waiting for the writes: none may still be in flight on the descriptor closed here.
        await this.#writes.catch(() => undefined);
        await runAsync(abandonReplacement(this.#io, this.replacement));
        throw plan.signal?.aborted === true && error === plan.signal.reason
          ? new AbortError({ stage: 'validate', path: plan.target, cause: error })
          : error;
      },
    );
    return this.#commit;
  }

  *#commitOperation(): Operation<WriteDurableResult> {
    const { plan, ctx, replacement } = this;
    throwIfAborted(plan.signal, 'validate', ctx);
    const { file, size } = yield* fileToCommit(this.#io, replacement, this.ino, ctx);
    const current = yield* currentTarget(this.#io, this.path, ctx);
    return yield* noticingRename(completeReplacement(this.#io, plan, replacement, file, current, size, ctx), () => {
      this.#renameIssued = true;
    });
  }

  async discard(): Promise<void> {
    if (this.#state === 'committing' || this.#state === 'committed') {
      await this.#commit?.catch(() => undefined);
      return;
    }
    if (this.#state === 'discarded') return;
    this.#state = 'discarded';
    // Their data is being dropped: destroyed without an error, they can no longer fail uncaught.
    for (const [stream] of this.#streams) stream.destroy();
    await this.#writes.catch(() => undefined);
    await runAsync(abandonReplacement(this.#io, this.replacement));
  }

  discardNow(): Promise<void> {
    const stopped = this.#state === 'open' || (this.#state === 'committing' && this.plan.signal?.aborted === true && !this.#renameIssued);
    // The name only: the descriptor is closed by discard(), once no write is in flight on it.
    if (stopped) runSync(quietly(this.#io.unlink(this.tmpPath)));
    return this.discard();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.discard();
  }
}

/** @internal The option names of a pending file: `writeDurable`'s but `flag`. */
export const PENDING_OPTION_NAMES = WRITE_OPTION_NAMES.filter((name) => name !== 'flag');

/** @internal Opens a pending file for an already checked plan (the stream checks its arguments when it is created). */
export async function openPlanned(plan: WritePlan, operation: string): Promise<StreamedPendingFile> {
  const ctx: FailureContext = { operation, path: plan.target };
  const opened = await runAsync(openOperation(fileIo(plan.fs), plan, ctx), plan.observe);
  return new DurablePendingFile(plan, opened.replacement, opened.ino, ctx);
}

/**
 * Creates a pending file for `path`: the temp file `writeDurable` would create, ready to be
 * written by the caller or by a third-party writer that only takes a path, then committed.
 *
 * Syscalls: those of `writeDurable` up to the temp file (`realpath`, `lstat`, `open(dir)` held,
 * `open(tmp, O_WRONLY|O_CREAT|O_EXCL, 0600)`) and an `lstat` of the temp file; then `write`s as
 * asked; then, at `commit()`, `lstat(tmp)`, `lstat(target)`, `fchown` (where needed), `fchmod`,
 * `fsync` (or `fdatasync`), `close`, `rename`, `fsync(dir)`, `close(dir)`.
 *
 * Guarantees: as `writeDurable`'s, from the moment `commit()` resolves; until then, and after a
 * discard or a failed commit, the target is untouched. A pending file never committed or
 * discarded keeps its temp file (`removeStaleTemps` finds it after a crash) and a descriptor on
 * the directory: use `await using`, or `try`/`finally` with `discard()`.
 *
 * @example
 * ```ts
 * import { openDurable } from 'durable-write';
 * await using pending = await openDurable('/srv/images/cover.png');
 * await sharp(input).toFile(pending.tmpPath); // a writer that only takes a path
 * await pending.commit();
 * ```
 */
export async function openDurable(path: string | URL, options?: OpenDurableOptions): Promise<PendingFile> {
  const operation = 'openDurable';
  const { options: o, fs, signal } = fileOperationOptions(options, PENDING_OPTION_NAMES, 'async', operation);
  return openPlanned(planWrite(path, o, fs, signal, operation), operation);
}
