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
import { describeValue, fileOperationOptions, invalidArgType } from '../core/arguments.js';
import { toBytes, isBytesLike } from '../core/bytes.js';
import { perform, runAsync, type Operation } from '../core/effect.js';
import { AbortError, DurableWriteError, errnoCode } from '../core/errors.js';
import { attempt, quietly, throwIfAborted, wrapError, type FailureContext } from '../core/failure.js';
import { fileIo, type FileIo, type OpenFile } from '../core/file-io.js';
import type { DurableStats } from '../core/file-system.js';
import { admitInOrder, enqueue } from './path-queue.js';
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

/** Options of {@link openDurable}: those of `writeDurable` (`encoding` applies to string writes). */
export type OpenDurableOptions = Omit<WriteDurableOptions, 'flag'>;

/** A file being written, to be put in place with {@link PendingFile.commit} or dropped with {@link PendingFile.discard}. */
export interface PendingFile extends AsyncDisposable {
  /**
   * The temporary file, `.<name>.<hex>.tmp` beside the target: hand it to a writer that only
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
  /** A `Writable` onto the temp file: its `'finish'` means the data reached the temp file, not that it is committed. */
  createWriteStream(): Writable;
  /**
   * Puts the file in place durably: `fchown` (to keep an existing target's owner, or the `owner`
   * option), `fchmod`, `fsync` (or `fdatasync`) once, `close`, `rename` over the target, `fsync`
   * of the directory; serialized with every other write to the same file. If another writer
   * replaced the file at `tmpPath` (a new inode), that file is opened (`O_NOFOLLOW`) and flushed
   * instead; anything else than a regular file there is refused. Resolves as `writeDurable`
   * does; rejects with the same error stages, and then nothing is left behind.
   */
  commit(): Promise<WriteDurableResult>;
  /** Closes and removes the temp file; the target is untouched. Idempotent; a no-op after a commit, safe after a failed one. */
  discard(): Promise<void>;
  /** `await using pending = await openDurable(path)`: discards unless committed. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Opening the temp file (`O_RDONLY|O_NOFOLLOW`) that another writer left at `tmpPath`. */
const OPEN_REPLACED = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

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

class DurablePendingFile implements PendingFile {
  readonly tmpPath: string;
  readonly path: string;
  #state: State = 'open';
  /** The writes so far, one after another; rejects once one has failed. */
  #writes: Promise<void> = Promise.resolve();
  #commit: Promise<WriteDurableResult> | undefined;
  /** The error of the write that failed, which discarded the pending file. */
  #failure: unknown;
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

  write(data: string | NodeJS.ArrayBufferView): Promise<number> {
    const operation = `${this.ctx.operation}: write`;
    if (!isBytesLike(data)) {
      return Promise.reject(invalidArgType(`${operation}: data must be a string, Buffer, TypedArray or DataView; received ${describeValue(data)}`));
    }
    if (this.#state !== 'open') return Promise.reject(invalidState(`${operation}: the pending file is ${this.#state}`));
    const bytes = toBytes(data, this.plan.encoding);
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

  createWriteStream(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(() => callback(), callback);
      },
    });
  }

  commit(): Promise<WriteDurableResult> {
    if (this.#state !== 'open') {
      if (this.#failure !== undefined) return Promise.reject(this.#failure);
      return this.#commit ?? Promise.reject(invalidState(`${this.ctx.operation}: commit: the pending file is ${this.#state}`));
    }
    this.#state = 'committing';
    const { plan, ctx } = this;
    const committed = this.#writes
      .then(() => admitInOrder(Promise.resolve(this.path), (path) => path, plan.signal))
      .then(() => enqueue(this.path, () => runAsync(this.#commitOperation(), plan.observe), plan.signal));
    this.#commit = committed.then(
      (result) => {
        this.#state = 'committed';
        return result;
      },
      async (error: unknown) => {
        this.#state = 'discarded';
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
    return yield* completeReplacement(this.#io, plan, replacement, file, current, size, ctx);
  }

  async discard(): Promise<void> {
    if (this.#state === 'committing' || this.#state === 'committed') {
      await this.#commit?.catch(() => undefined);
      return;
    }
    if (this.#state === 'discarded') return;
    this.#state = 'discarded';
    await this.#writes.catch(() => undefined);
    await runAsync(abandonReplacement(this.#io, this.replacement));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.discard();
  }
}

/** @internal The option names of a pending file: `writeDurable`'s but `flag`. */
export const PENDING_OPTION_NAMES = WRITE_OPTION_NAMES.filter((name) => name !== 'flag');

/** @internal Opens a pending file for an already checked plan (the stream checks its arguments when it is created). */
export async function openPlanned(plan: WritePlan, operation: string): Promise<PendingFile> {
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
