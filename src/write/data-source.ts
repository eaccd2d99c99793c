/**
 * The data of a write as a source of byte chunks: one buffer for a string or an
 * `ArrayBufferView`, or chunks pulled one batch at a time from an iterable, an async iterable
 * or a Node `Readable`, so that a stream is written in bounded memory (a batch gathers small
 * chunks up to {@link BATCH_BYTES} to save syscalls; a larger chunk passes through uncopied).
 *
 * @internal
 * @module
 */
import { describeValue, invalidArgType } from '../core/arguments.js';
import { isBytesLike, toBytes } from '../core/bytes.js';
import type { Effect } from '../core/effect.js';

/** A chunk of an iterable or stream. */
export type DataChunk = string | NodeJS.ArrayBufferView;

/** Everything `writeDurable` accepts as data. A Node `Readable` is an `AsyncIterable`. */
export type WriteDurableData = string | NodeJS.ArrayBufferView | Iterable<DataChunk> | AsyncIterable<DataChunk>;

/** Small chunks are gathered into writes of about this many bytes. */
export const BATCH_BYTES = 64 * 1024;

/** Pulls the bytes to write. Its effects are no file-system steps: `onStep` does not see them. */
export interface ChunkSource {
  /** The next batch of bytes, or `undefined` at the end. */
  next(): Effect<Uint8Array | undefined>;
  /** Stops the source early (destroys a stream) after a failure. */
  cancel(): Effect<void>;
}

/** Whether `data` is a string or an `ArrayBufferView`: what the sync functions accept. */
export const isWholeData: (data: unknown) => data is string | NodeJS.ArrayBufferView = isBytesLike;

/** Whether `data` is of a type `writeDurable` accepts (chunk types are checked as they arrive). */
export function isWriteDurableData(data: unknown): data is WriteDurableData {
  if (isWholeData(data)) return true;
  if (typeof data !== 'object' || data === null) return false;
  return Symbol.asyncIterator in data || Symbol.iterator in data;
}

/** The bytes of one chunk of an iterable or stream. */
function chunkBytes(chunk: unknown, encoding: BufferEncoding): Uint8Array {
  if (isBytesLike(chunk)) return toBytes(chunk, encoding);
  throw invalidArgType(`writeDurable: each chunk must be a string, Buffer or Uint8Array; received ${describeValue(chunk)}`);
}

function wholeSource(bytes: Uint8Array): ChunkSource {
  let done = false;
  const next = (): Uint8Array | undefined => {
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
  iterator: Iterator<unknown> | AsyncIterator<unknown>,
  encoding: BufferEncoding,
): ChunkSource {
  let ended = false;
  const batch = async (): Promise<Uint8Array | undefined> => {
    const parts: Uint8Array[] = [];
    let size = 0;
    while (!ended && size < BATCH_BYTES) {
      const result = await iterator.next();
      if (result.done === true) {
        ended = true;
        break;
      }
      const bytes = chunkBytes(result.value, encoding);
      if (bytes.byteLength === 0) continue;
      parts.push(bytes);
      size += bytes.byteLength;
    }
    if (parts.length <= 1) return parts[0];
    return Buffer.concat(parts, size);
  };
  const syncOnly = (): never => {
    throw invalidArgType('writeDurableSync: data must be a string, Buffer or Uint8Array');
  };
  return {
    next: () => ({ step: undefined, sync: syncOnly, async: batch }),
    cancel: () => ({
      step: undefined,
      sync: () => undefined,
      async: async () => {
        if (!ended) await iterator.return?.();
      },
    }),
  };
}

/** The source for `data` (already checked with {@link isWriteDurableData}). */
export function chunkSource(data: WriteDurableData, encoding: BufferEncoding): ChunkSource {
  if (isWholeData(data)) return wholeSource(toBytes(data, encoding));
  if (Symbol.asyncIterator in data) return iteratorSource(data[Symbol.asyncIterator](), encoding);
  return iteratorSource(data[Symbol.iterator](), encoding);
}
