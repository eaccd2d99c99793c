/**
 * Argument conversions as `node:fs` accepts them, shared by the crash simulator's async and sync
 * faces: paths (`string`, `URL`, `Buffer`, relative to the simulated working directory), data
 * (`string` with an encoding, or any `ArrayBufferView`), encodings given alone or in an options
 * object, and the two argument forms of `write`.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { isBytesLike, toBytes } from '../../core/bytes.js';
import { fsError } from './fs-error.js';

/** A path as `node:fs` accepts it. */
export type PathLike = string | URL | Buffer;

/** What `writeFile`/`appendFile`/`write` accept as data in the simulator. */
export type WritableData = string | ArrayBufferView;

/**
 * The absolute path `path` names, relative to `cwd`, with empty and `.` components dropped but
 * every `..` kept for the path walk to resolve (after a symlinked directory, `..` is not where a
 * lexical normalisation would put it). Throws ENOENT for `''`.
 */
export function toAbsolutePath(path: PathLike, cwd: string, syscall: string): string {
  let text: string;
  if (typeof path === 'string') text = path;
  else if (path instanceof URL) text = fileURLToPath(path);
  else if (Buffer.isBuffer(path)) text = path.toString('utf8');
  else throw new TypeError(`The "path" argument must be of type string or an instance of Buffer or URL`);
  if (text === '') throw fsError('ENOENT', syscall, text);
  if (text.includes('\0')) throw new TypeError('The "path" argument must not contain null bytes');
  const absolute = text.startsWith('/') ? text : `${cwd}/${text}`;
  return `/${absolute.split('/').filter((part) => part !== '' && part !== '.').join('/')}`;
}

/**
 * The bytes of `data` (strings in `encoding`, default utf8), or Node's TypeError when `data` is
 * neither a string nor an `ArrayBufferView`. The result may share memory with `data`.
 */
export function dataBytes(data: WritableData, encoding: BufferEncoding | null | undefined): Uint8Array {
  if (!isBytesLike(data)) {
    throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
  }
  return toBytes(data, encoding);
}

/** The encoding an options argument names: the argument itself when a string, else its `encoding`. */
export function encodingOf(
  options: { readonly encoding?: BufferEncoding | null | undefined } | BufferEncoding | null | undefined,
): BufferEncoding | null | undefined {
  return typeof options === 'string' ? options : options?.encoding;
}

/** What a `write` call writes, and where (`null`: at the descriptor's current position). */
export interface WriteArguments {
  readonly bytes: Uint8Array;
  readonly position: number | null;
}

/**
 * Parses the two argument forms of `fs.writeSync(fd, ...)` and `filehandle.write(...)`:
 * `(buffer, offset = 0, length = buffer.byteLength - offset, position = null)` and
 * `(string, position = null, encoding = 'utf8')`. Throws EINVAL when `offset` and `length` do
 * not lie within the buffer.
 */
export function writeArguments(
  data: Uint8Array | string,
  offsetOrPosition: number | null | undefined,
  lengthOrEncoding: number | BufferEncoding | null | undefined,
  position: number | null | undefined,
): WriteArguments {
  if (typeof data === 'string') {
    const encoding = typeof lengthOrEncoding === 'string' ? lengthOrEncoding : 'utf8';
    return { bytes: toBytes(data, encoding), position: offsetOrPosition ?? null };
  }
  const offset = offsetOrPosition ?? 0;
  const length = typeof lengthOrEncoding === 'number' ? lengthOrEncoding : data.byteLength - offset;
  if (offset < 0 || length < 0 || offset + length > data.byteLength) throw fsError('EINVAL', 'write');
  return { bytes: data.subarray(offset, offset + length), position: position ?? null };
}
