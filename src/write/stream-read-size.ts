/**
 * Larger reads from a byte stream handed to `writeDurable`: its high-water mark raised to the
 * size of a write, so that a stream which reads in chunks of its high-water mark (a file's
 * `fs.createReadStream`, 64 KiB by default) delivers chunks of that size instead.
 *
 * Every chunk of a file stream is one round trip through libuv's thread pool, and so is every
 * write: with 64 KiB chunks, a 512 MiB stream made 8192 of each, and spent more time in them
 * than `dd` took to copy the file. With 1 MiB chunks it makes 512, each written as it is
 * (uncopied), and the stream reads the next one while the last is being written.
 *
 * The one public way to raise a `Readable`'s high-water mark is `read(size)` with a size above
 * it (Node raises it to the next power of two before looking at the buffer). Such a call reads
 * nothing unless `size` bytes are already buffered, in which case it returns them: the caller
 * writes them first. A stream in object mode (whose high-water mark counts objects), one that
 * decodes to strings (`setEncoding`) and one already flowing to other consumers are left alone.
 *
 * @internal
 * @module
 */

/** What of a Node `Readable` (or a `readable-stream` one) the raise uses. */
interface ByteReadable {
  read(size: number): unknown;
  readonly readableHighWaterMark: number;
}

/** Whether `stream` is a byte-mode `Readable` that nobody reads yet, its high-water mark below `bytes`. */
function canRaise(stream: object, bytes: number): stream is ByteReadable {
  const highWaterMark: unknown = Reflect.get(stream, 'readableHighWaterMark');
  return (
    typeof Reflect.get(stream, 'read') === 'function' &&
    Reflect.get(stream, 'readableObjectMode') === false &&
    Reflect.get(stream, 'readableEncoding') === null &&
    Reflect.get(stream, 'readableFlowing') !== true &&
    Reflect.get(stream, 'destroyed') !== true &&
    typeof highWaterMark === 'number' &&
    highWaterMark < bytes
  );
}

/**
 * Raises the high-water mark of `stream` to at least `bytes`, when it is a byte-mode `Readable`
 * not read by anyone yet (see the module comment); call it before the first read. Returns the
 * bytes the raising `read` returned (when that many were already buffered), to be written first,
 * or `undefined`.
 */
export function raiseReadSize(stream: object, bytes: number): unknown {
  if (!canRaise(stream, bytes)) return undefined;
  const buffered = stream.read(bytes);
  return buffered === null ? undefined : buffered;
}
