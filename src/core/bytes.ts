/**
 * The bytes of a string or an `ArrayBufferView`, as every write in the library and in the crash
 * simulator takes them. Callers check the type first and throw their own error, so that each
 * keeps its message (the library's `TypeError` naming the function, the simulator's Node-style one).
 *
 * @internal
 * @module
 */

/** Whether `value` is a string or an `ArrayBufferView`: something {@link toBytes} converts. */
export function isBytesLike(value: unknown): value is string | NodeJS.ArrayBufferView {
  return typeof value === 'string' || ArrayBuffer.isView(value);
}

/** The bytes of `value`: a string encoded with `encoding` (default utf8), or a view's own memory (shared, not copied). */
export function toBytes(value: string | NodeJS.ArrayBufferView, encoding?: BufferEncoding | null): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, encoding ?? 'utf8');
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}
