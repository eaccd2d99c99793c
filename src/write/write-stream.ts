/**
 * `createDurableWriteStream`: a Node `Writable` that replaces a file durably, for
 * `await pipeline(source, createDurableWriteStream(path))`. It is a pending file
 * (`openDurable`) behind the stream interface: `'finish'` comes only after the commit.
 *
 * @module
 */
import { Writable } from 'node:stream';
import { fileOperationOptions } from '../core/arguments.js';
import { AbortError } from '../core/errors.js';
import { openPlanned, PENDING_OPTION_NAMES, writableSettings, type OpenDurableOptions, type StreamedPendingFile } from './open-durable.js';
import { planWrite } from './replacement.js';
import type { WriteDurableResult } from './write-options.js';

/** Options of {@link createDurableWriteStream}: those of `openDurable`, plus the `Writable`'s `highWaterMark`. */
export interface DurableWriteStreamOptions extends OpenDurableOptions {
  /**
   * The encoding of strings written without one (the stream's default encoding, as
   * `fs.createWriteStream`'s `encoding`); `write(chunk, encoding)` and `setDefaultEncoding()`
   * override it. Default `'utf8'` (`null` too).
   */
  readonly encoding?: BufferEncoding | null | undefined;
  /** The `Writable`'s buffer, in bytes. Default: Node's (16 KiB). */
  readonly highWaterMark?: number | undefined;
  /**
   * Aborts the write: the stream is destroyed with an `AbortError` (at once, in the next tick,
   * if the signal has already fired), the temp file removed, the target left as it was; an abort
   * after the commit issued its rename is too late, and the stream finishes. Default: none.
   */
  readonly signal?: AbortSignal | undefined;
}

/** The `Writable` {@link createDurableWriteStream} returns. */
export interface DurableWriteStream extends Writable {
  /** What the commit did, once `'finish'` has been emitted; `undefined` before. */
  readonly result: WriteDurableResult | undefined;
}

class DurableWritable extends Writable implements DurableWriteStream {
  #pending: StreamedPendingFile | undefined;
  #result: WriteDurableResult | undefined;
  /** Whether `_final`'s commit is running: a destroy then stops it, unless its rename is issued. */
  #committing = false;
  readonly #open: () => Promise<StreamedPendingFile>;
  /** Aborted by `destroy()`: part of the pending file's signal, so that it stops a commit before its rename. */
  readonly #stop: AbortController;

  constructor(
    open: () => Promise<StreamedPendingFile>,
    stop: AbortController,
    settings: { defaultEncoding: BufferEncoding; highWaterMark?: number },
    signal: AbortSignal | undefined,
    target: string,
  ) {
    // The signal is followed here, not by Writable: a signal that has fired destroys the stream
    // at once, which must not happen before this object's fields exist.
    super(settings);
    this.#open = open;
    this.#stop = stop;
    if (signal !== undefined) this.#follow(signal, target);
  }

  get result(): WriteDurableResult | undefined {
    return this.#result;
  }

  #follow(signal: AbortSignal, target: string): void {
    const abort = (): void => {
      if (this.destroyed) return;
      this.destroy(new AbortError({ stage: 'validate', path: target, cause: signal.reason }));
      // As with Node's own `signal` option, the abort the caller asked for is not an uncaught
      // 'error' (a listener sees it; `pipeline` reports it).
      if (this.destroyed) this.once('error', () => undefined);
    };
    if (signal.aborted) {
      abort();
      return;
    }
    signal.addEventListener('abort', abort, { once: true });
    this.once('close', () => signal.removeEventListener('abort', abort));
  }

  override _construct(callback: (error?: Error | null) => void): void {
    // Destroyed already (an aborted signal): nothing is opened.
    if (this.destroyed) {
      callback();
      return;
    }
    this.#open().then(
      (pending) => {
        this.#pending = pending;
        callback();
      },
      // Destroyed meanwhile, the open was stopped: the destroy's error is the one to report.
      (error: unknown) => callback(this.destroyed ? undefined : toError(error)),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const pending = this.#pending;
    if (pending === undefined) {
      callback(new Error('durable-write internal error: a write before the pending file was opened'));
      return;
    }
    pending.write(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const pending = this.#pending;
    if (pending === undefined) {
      callback(new Error('durable-write internal error: the stream ended before the pending file was opened'));
      return;
    }
    this.#committing = true;
    pending.commit().then(
      (result) => {
        this.#committing = false;
        this.#result = result;
        callback();
      },
      (error: unknown) => {
        this.#committing = false;
        callback(toError(error));
      },
    );
  }

  /**
   * Destroys the stream, stopping a commit under way before its rename. Once the commit has
   * issued its rename, which cannot be taken back, the call does nothing: the write completes
   * and the stream finishes (`'finish'`, `result`), so it never reports a failure for a target
   * it replaced.
   */
  override destroy(error?: Error): this {
    if (this.#committing && this.#pending?.renameIssued === true) return this;
    this.#stop.abort(error);
    return super.destroy(error);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const pending = this.#pending;
    if (pending === undefined || this.#result !== undefined) {
      callback(error);
      return;
    }
    // Not committed, and any commit stopped before its rename: the temp file's name goes at once
    // (a program that exits on the error leaves none), the target stays as it was.
    pending.discardNow().then(
      () => callback(error),
      () => callback(error),
    );
  }
}

/** `value` as an `Error`, for a `Writable` callback (the library only rejects with errors). */
function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * A `Writable` that replaces `path` atomically and durably: the data goes to the temp file
 * `writeDurable` would create, and `end()` commits it (owner, mode, one flush, close, rename,
 * directory fsync), so `'finish'` (and so `pipeline`) comes only once the data and the name are
 * durable; `stream.result` then holds what the commit did. An error anywhere, an abort or
 * `destroy()` before the commit's rename removes the temp file (its name at once, during the
 * `destroy()`) and leaves the target as it was; after the rename, the write completes and the
 * stream finishes. Strings are written in the `encoding` option, as with `fs.createWriteStream`.
 *
 * Syscalls: those of `openDurable` (the temp file is created as the stream is constructed),
 * a `write` per chunk, and those of `commit()` at the end.
 *
 * Arguments are checked when it is called (a `TypeError` is thrown at once); I/O starts at once.
 *
 * @example
 * ```ts
 * import { pipeline } from 'node:stream/promises';
 * import { createDurableWriteStream } from 'durable-write';
 * await pipeline(response.body, createGunzip(), createDurableWriteStream('/srv/data/feed.xml'));
 * ```
 */
export function createDurableWriteStream(path: string | URL, options?: DurableWriteStreamOptions): DurableWriteStream {
  const operation = 'createDurableWriteStream';
  const { options: o, fs, signal } = fileOperationOptions(options, [...PENDING_OPTION_NAMES, 'highWaterMark'], 'async', operation);
  const stop = new AbortController();
  const plan = planWrite(path, o, fs, signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal]), operation);
  const settings = writableSettings({ highWaterMark: o['highWaterMark'] }, plan.encoding, operation);
  return new DurableWritable(() => openPlanned(plan, operation), stop, settings, signal, plan.target);
}
