/**
 * Argument conversions shared by the crash simulator's async and sync faces: paths (`string`,
 * `URL`, `Buffer`, relative to the simulated working directory) and data (`string` with an
 * encoding, or any `ArrayBufferView`), as `node:fs` accepts them.
 *
 * @module
 */
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsError } from './errors.js';

/** A path as `node:fs` accepts it. */
export type PathLike = string | URL | Buffer;

/** What `writeFile`/`appendFile`/`write` accept as data in the simulator. */
export type WritableData = string | ArrayBufferView;

/** The absolute, normalized path `path` names, relative to `cwd`. Throws ENOENT for `''`. */
export function toAbsolutePath(path: PathLike, cwd: string, syscall: string): string {
  let text: string;
  if (typeof path === 'string') text = path;
  else if (path instanceof URL) text = fileURLToPath(path);
  else if (Buffer.isBuffer(path)) text = path.toString('utf8');
  else throw new TypeError(`The "path" argument must be of type string or an instance of Buffer or URL`);
  if (text === '') throw fsError('ENOENT', syscall, text);
  if (text.includes('\0')) throw new TypeError('The "path" argument must not contain null bytes');
  return posix.resolve(cwd, text);
}

/** The bytes of `data` (strings in `encoding`, default utf8). The result may share memory. */
export function toBytes(data: WritableData, encoding: BufferEncoding | null | undefined): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
}
