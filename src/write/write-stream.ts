/**
 * `createDurableWriteStream`: a Node `Writable` that replaces a file durably, for
 * `await pipeline(source, createDurableWriteStream(path))`. It is a pending file
 * (`openDurable`) behind the stream interface: `'finish'` comes only after the commit.
 *
 * @module
 */
import { Writable } from 'node:stream';
import { fileOperationOptions } from '../core/arguments.js';
import { openPlanned, PENDING_OPTION_NAMES, type OpenDurableOptions, type PendingFile } from './open-durable.js';
import { planWrite } from './replacement.js';
import type { WriteDurableResult } from './write-options.js';

/** Options of {@link createDurableWriteStream}: those of `openDurable`, plus the `Writable`'s `highWaterMark`. */
export interface DurableWriteStreamOptions extends OpenDurableOptions {
  /** The `Writable`'s buffer, in bytes. Default: Node's (16 KiB). */
  readonly highWaterMark?: number | undefined;
}

/** The `Writable` {@link createDurableWriteStream} returns. */
export interface DurableWriteStream extends Writable {
  /** What the commit did, once `'finish'` has been emitted; `undefined` before. */
  readonly result: WriteDurableResult | undefined;
}

class DurableWritable extends Writable implements DurableWriteStream {
  #pending: PendingFile | undefined;
  #result: WriteDurableResult | undefined;
  readonly #open: () => Promise<PendingFile>;

  constructor(open: () => Promise<PendingFile>, highWaterMark: number | undefined, signal: AbortSignal | undefined) {
    super({ ...(highWaterMark === undefined ? {} : { highWaterMark }), ...(signal === undefined ? {} : { signal }) });
    this.#open = open;
  }

  get result(): WriteDurableResult | undefined {
    return this.#result;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#open().then(
      (pending) => {
        this.#pending = pending;
        callback();
      },
      callback,
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
    pending.commit().then((result) => {
      this.#result = result;
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const pending = this.#pending;
    if (pending === undefined || this.#result !== undefined) {
      callback(error);
      return;
    }
    // Not committed: the temp file goes, the target stays as it was.
    pending.discard().then(
      () => callback(error),
      () => callback(error),
    );
  }
}

/**
 * A `Writable` that replaces `path` atomically and durably: the data goes to the temp file
 * `writeDurable` would create, and `end()` commits it (owner, mode, one flush, close, rename,
 * directory fsync), so `'finish'` (and so `pipeline`) comes only once the data and the name are
 * durable; `stream.result` then holds what the commit did. An error anywhere, an abort or
 * `destroy()` before the commit discards the temp file and leaves the target as it was.
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
  const plan = planWrite(path, o, fs, signal, operation);
  const highWaterMark = o['highWaterMark'];
  if (highWaterMark !== undefined && (typeof highWaterMark !== 'number' || !Number.isInteger(highWaterMark) || highWaterMark < 1)) {
    throw Object.assign(new TypeError(`${operation}: highWaterMark must be a positive integer; received ${String(highWaterMark)}`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  return new DurableWritable(() => openPlanned(plan, operation), highWaterMark, signal);
}
