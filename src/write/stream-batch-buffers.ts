/**
 * The memory a streamed write gathers small chunks into: two buffers of one batch each, used by
 * turns, so that gathering copies each byte once into memory already in use instead of into a
 * new buffer per batch.
 *
 * A new buffer per batch costs more than the copy: its pages are new to the process, and a
 * 512 MiB async generator of 16 or 64 KiB chunks took about 40 % longer gathered with
 * `Buffer.concat` than gathered into these (Linux 6.18 VM, page faults and first touches
 * dominating).
 *
 * The bytes of a batch are overwritten two batches later: a consumer must be done with a batch
 * (every byte written) before it takes the batch after next. The write loop is: it writes a batch
 * to the end before it asks for the next one, and a file handle's `write` has copied the bytes
 * into the kernel when it resolves.
 *
 * @internal
 * @module
 */

/** Gathers parts into the buffers of one source, by turns. */
export interface BatchBuffers {
  /**
   * `parts` (together `size` bytes, at most the capacity) copied into one contiguous view. The
   * view stays valid until the second call after this one.
   */
  gather(parts: readonly Uint8Array[], size: number): Uint8Array;
}

/** Batches smaller than this are concatenated into new memory: a few bytes need no buffer of a whole batch. */
const SMALL_BATCH_BYTES = 16 * 1024;

/** Two buffers of `capacity` bytes, allocated when first needed. */
export function createBatchBuffers(capacity: number): BatchBuffers {
  const buffers: [Uint8Array | undefined, Uint8Array | undefined] = [undefined, undefined];
  let turn: 0 | 1 = 0;
  return {
    gather(parts, size) {
      if (size > capacity) throw new RangeError(`durable-write internal error: a batch of ${size} bytes exceeds ${capacity}`);
      if (size < SMALL_BATCH_BYTES) return Buffer.concat(parts, size);
      const buffer = (buffers[turn] ??= new Uint8Array(capacity));
      turn = turn === 0 ? 1 : 0;
      let offset = 0;
      for (const part of parts) {
        buffer.set(part, offset);
        offset += part.byteLength;
      }
      return buffer.subarray(0, size);
    },
  };
}
