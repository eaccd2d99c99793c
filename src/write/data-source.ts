/**
 * The data of a write as a source of byte chunks: one buffer for a string or an
 * `ArrayBufferView`, or chunks pulled one batch at a time from an iterable, an async iterable
 * or a Node `Readable`, so that a stream is written in bounded memory. A batch gathers small
 * chunks up to {@link BATCH_BYTES} (one copy, into memory reused batch after batch:
 * `stream-batch-buffers.ts`) to save round trips to the thread pool; a chunk as large passes
 * through uncopied, and a byte stream is asked for chunks that large (`stream-read-size.ts`).
 *
 * A source owns the caller's stream as `stream.pipeline` would: it listens for `'error'` from
 * the moment of the call (so a stream that fails before it is first read rejects the call
 * instead of crashing the process), and on any failure or abort it destroys the stream (or
 * returns the iterator), so no descriptor is left open. A read that is pending when the caller's
 * signal fires is abandoned at once: the stream is destroyed and the call settles.
 *
 * The bytes of a buffer are read when they are written, not copied at the call (a large buffer
 * would cost a copy; so does `fs.writeFile`). So a buffer must stay as it is until the call
 * settles: one whose `ArrayBuffer` is detached (transferred) is refused at the call, and one
 * detached or shrunk (a resizable `ArrayBuffer`) after it, so that it no longer holds the bytes it
 * held at the call, makes the call reject instead of writing what is left: a `TypeError` while
 * nothing is on disk yet, a `write`-stage error (temp file removed, target untouched) after.
 *
 * @internal
 * @module
 */
import { untilAborted } from '../core/abort.js';
import { describeValue, invalidArgType, invalidArgValue } from '../core/arguments.js';
import { isBytesLike, toBytes } from '../core/bytes.js';
import type { Effect } from '../core/effect.js';
import { createBatchBuffers } from './stream-batch-buffers.js';
import { raiseReadSize } from './stream-read-size.js';

/** A chunk of an iterable or stream. */
export type DataChunk = string | NodeJS.ArrayBufferView;

/** Everything `writeDurable` accepts as data. A Node `Readable` is an `AsyncIterable`. */
export type WriteDurableData = string | NodeJS.ArrayBufferView | Iterable<DataChunk> | AsyncIterable<DataChunk>;

/**
 * An iterable's or a stream's small chunks are gathered into writes of up to this many bytes,
 * and a byte stream is asked for chunks of this size. Each write and each read of a file stream
 * is a round trip through libuv's thread pool: in 64 KiB chunks, a 512 MiB file stream took
 * three times as long as `dd bs=1M` (which reads and writes this size too).
 */
export const BATCH_BYTES = 1024 * 1024;

/**
 * The first batch of an iterable or a stream is passed on once it holds this many bytes (later
 * ones, {@link BATCH_BYTES}): it is read before the temp file is created, so a slow stream's temp
 * file appears, and a wrong chunk after it is a `write`-stage error, as soon as this much came in.
 */
export const FIRST_BATCH_BYTES = 64 * 1024;

/** Pulls the bytes to write. Its effects are no file-system steps: `onStep` does not see them. */
export interface ChunkSource {
  /**
   * The next batch of bytes, or `undefined` at the end. A batch of gathered chunks lies in memory
   * the source reuses: it stays valid until the second call after the one that returned it, so a
   * consumer writes a batch to the end before it takes the batch after next.
   */
  next(): Effect<Uint8Array | undefined>;
  /** Stops the source after a failure: destroys a stream, returns an iterator. Idempotent. */
  cancel(): Effect<void>;
}

/** What a Node stream offers that a source needs: error events and destruction. */
interface DestroyableStream {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  off(event: 'error', listener: (error: unknown) => void): unknown;
  destroy(error?: Error): unknown;
}

/** Whether `value` is a Node stream (a `Readable`, or anything with `on`, `off`, `pipe` and `destroy`). */
function isStream(value: unknown): value is DestroyableStream {
  if (typeof value !== 'object' || value === null) return false;
  return ['on', 'off', 'pipe', 'destroy'].every((member) => typeof Reflect.get(value, member) === 'function');
}

/** Whether `data` is a string or an `ArrayBufferView`: what the sync functions accept. */
export const isWholeData: (data: unknown) => data is string | NodeJS.ArrayBufferView = isBytesLike;

/** Whether `value` is a view whose `ArrayBuffer` is detached (transferred): none of its bytes can be read. */
function isDetached(value: string | NodeJS.ArrayBufferView): boolean {
  if (typeof value === 'string' || value.buffer.byteLength > 0) return false;
  try {
    new Uint8Array(value.buffer);
    return false;
  } catch {
    return true; // only a detached buffer refuses a view (a SharedArrayBuffer is never detached)
  }
}

/** Whether `value` is a chunk whose bytes can be read: a string, or a view whose buffer is not detached. */
function isReadableChunk(value: unknown): value is string | NodeJS.ArrayBufferView {
  return isBytesLike(value) && !isDetached(value);
}

/** How a chunk that cannot be written is named in a message. */
function describeChunk(value: unknown): string {
  return isBytesLike(value) ? `${describeValue(value)} whose ArrayBuffer is detached (transferred)` : describeValue(value);
}

/** The first element of an array or a `Set` that is no chunk (they can be checked before the disk is touched). */
function firstBadElement(data: object): { index: number; value: unknown } | undefined {
  if (!Array.isArray(data) && !(data instanceof Set)) return undefined;
  let index = 0;
  for (const value of data) {
    if (!isReadableChunk(value)) return { index, value };
    index += 1;
  }
  return undefined;
}

/** The `TypeError` for data whose buffer is detached at the call. */
function detachedData(data: NodeJS.ArrayBufferView, operation: string): TypeError {
  return invalidArgValue(`${operation}: data must be bytes that can be read; received ${describeChunk(data)}`);
}

/**
 * The `TypeError` for bytes that changed under the write: their buffer was detached or shrunk
 * after the call, before they were written. `what` names them (`data`, a chunk).
 */
function changedBytes(what: string, length: number, operation: string): TypeError {
  return invalidArgValue(
    `${operation}: ${what} must keep its bytes until the write settles; its ArrayBuffer was detached (transferred) or shrunk after the call, before its ${length} bytes were written`,
  );
}

/**
 * Why `data` cannot be written, checked before the disk is touched, or `undefined` when it may
 * be (a generator's or a stream's chunks are checked as they arrive). `accepted` names what the
 * calling function takes.
 */
export function dataProblem(data: unknown, accepted: string, operation: string): TypeError | undefined {
  if (isBytesLike(data)) return typeof data !== 'string' && isDetached(data) ? detachedData(data, operation) : undefined;
  if (typeof data === 'object' && data !== null && (Symbol.asyncIterator in data || Symbol.iterator in data)) {
    const bad = firstBadElement(data);
    if (bad === undefined) return undefined;
    const make = isBytesLike(bad.value) ? invalidArgValue : invalidArgType;
    return make(`${operation}: data must be ${accepted}; element ${bad.index} is ${describeChunk(bad.value)}`);
  }
  return invalidArgType(`${operation}: data must be ${accepted}; received ${describeValue(data)}`);
}

/** Destroys `data` when it is a stream: for a call that fails before it made a source of it. */
export function discardData(data: unknown): void {
  if (isStream(data)) data.destroy();
}

/**
 * The source of whole data. `bytes` views the caller's memory as it was at the call; each `next()`
 * checks that it still holds all of it (a detached or out-of-bounds view reads as empty), the
 * last one after the bytes were written.
 */
function wholeSource(bytes: Uint8Array, operation: string): ChunkSource {
  const length = bytes.byteLength;
  let done = false;
  const next = (): Uint8Array | undefined => {
    if (bytes.byteLength !== length) throw changedBytes('data', length, operation);
    if (done) return undefined;
    done = true;
    return bytes;
  };
  return {
    next: () => ({ step: undefined, sync: next, async: async () => next() }),
    cancel: () => ({ step: undefined, sync: () => undefined, async: async () => undefined }),
  };
}

function iteratorSource(
  data: Iterable<DataChunk> | AsyncIterable<DataChunk>,
  encoding: BufferEncoding,
  signal: AbortSignal | undefined,
  operation: string,
): ChunkSource {
  const stream = isStream(data) ? data : undefined;
  // From the call on, a stream's error is ours to report, never an uncaught 'error' event.
  const swallow = (): void => undefined;
  stream?.on('error', swallow);
  let iterator: Iterator<unknown> | AsyncIterator<unknown> | undefined;
  /** A chunk that raising the stream's read size returned: the first one, not pulled from the iterator. */
  let raised: unknown;
  let ended = false;
  let chunks = 0;
  let bytesSoFar = 0;
  const nextChunk = (): IteratorResult<unknown> | Promise<IteratorResult<unknown>> => {
    if (iterator === undefined) {
      if (stream !== undefined) raised = raiseReadSize(stream, BATCH_BYTES);
      iterator = Symbol.asyncIterator in data ? data[Symbol.asyncIterator]() : data[Symbol.iterator]();
    }
    if (raised === undefined) return iterator.next();
    const value = raised;
    raised = undefined;
    return { done: false, value };
  };
  const chunkBytes = (chunk: unknown): Uint8Array => {
    if (isReadableChunk(chunk)) return toBytes(chunk, encoding);
    const make = isBytesLike(chunk) ? invalidArgValue : invalidArgType;
    throw make(
      `${operation}: chunk ${chunks} of the data (after ${bytesSoFar} bytes) is ${describeChunk(chunk)}; each chunk must be a string, Buffer or Uint8Array`,
    );
  };
  /**
   * The length of each chunk when it was pulled: one that is shorter when gathered, or once it has
   * been written, had its buffer detached or shrunk meanwhile (it reads as empty), and is refused.
   */
  const pulledLength = new WeakMap<Uint8Array, number>();
  const checkIntact = (bytes: Uint8Array): void => {
    const length = pulledLength.get(bytes) ?? 0;
    if (bytes.byteLength !== length) throw changedBytes('each chunk of the data', length, operation);
  };
  /** Bytes pulled that did not fit in the last batch: the start of the next one. */
  let carried: Uint8Array | undefined;
  /** The next bytes of the data (never empty), or `undefined` at its end. */
  const pull = async (): Promise<Uint8Array | undefined> => {
    if (carried !== undefined) {
      const bytes = carried;
      carried = undefined;
      return bytes;
    }
    while (!ended) {
      const result = await nextChunk();
      if (result.done === true) {
        ended = true;
        stream?.off('error', swallow);
        break;
      }
      const bytes = chunkBytes(result.value);
      chunks += 1;
      bytesSoFar += bytes.byteLength;
      pulledLength.set(bytes, bytes.byteLength);
      if (bytes.byteLength > 0) return bytes;
    }
    return undefined;
  };
  const buffers = createBatchBuffers(BATCH_BYTES);
  let batches = 0;
  /** The caller's chunk last passed on uncopied: checked once it has been written. */
  let passed: Uint8Array | undefined;
  /**
   * The next batch, passed on once it holds its target size or the data ends: one chunk as it
   * came, or small ones gathered into at most {@link BATCH_BYTES}.
   */
  const batch = async (): Promise<Uint8Array | undefined> => {
    if (passed !== undefined) checkIntact(passed);
    passed = undefined;
    const target = batches === 0 ? FIRST_BATCH_BYTES : BATCH_BYTES;
    batches += 1;
    const parts: Uint8Array[] = [];
    let size = 0;
    while (size < target) {
      const bytes = await pull();
      if (bytes === undefined) break;
      if (size > 0 && size + bytes.byteLength > BATCH_BYTES) {
        carried = bytes; // it would overflow this batch: it starts the next one
        break;
      }
      parts.push(bytes);
      size += bytes.byteLength;
    }
    // A chunk detached while the next one was awaited reads as empty: not to be written as it is.
    parts.forEach(checkIntact);
    if (parts.length > 1) return buffers.gather(parts, size);
    passed = parts[0];
    return passed;
  };
  let cancelled = false;
  const cancel = async (): Promise<void> => {
    if (cancelled) return;
    cancelled = true;
    if (stream !== undefined) {
      // Destroying is what releases a stream's descriptor; return() on an iterator never
      // started would leave it open. The listener stays: a destroyed stream may still report.
      stream.destroy();
      return;
    }
    if (!ended) await iterator?.return?.();
  };
  const syncOnly = (): never => {
    throw invalidArgType(`${operation}: data must be a string, Buffer or Uint8Array`);
  };
  return {
    next: () => ({ step: undefined, sync: syncOnly, async: () => untilAborted(batch(), signal, () => void cancel()) }),
    cancel: () => ({ step: undefined, sync: () => undefined, async: cancel }),
  };
}

/**
 * The source for `data` (already checked with {@link dataProblem}). `signal` abandons a pending
 * read of an iterable or stream the moment it fires; `operation` names the function in errors.
 */
export function chunkSource(
  data: WriteDurableData,
  encoding: BufferEncoding,
  signal: AbortSignal | undefined,
  operation: string,
): ChunkSource {
  if (isWholeData(data)) {
    if (typeof data !== 'string' && isDetached(data)) throw detachedData(data, operation);
    return wholeSource(toBytes(data, encoding), operation);
  }
  return iteratorSource(data, encoding, signal, operation);
}
