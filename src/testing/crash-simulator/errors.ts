/**
 * Node-style errors for the crash simulator: the same `code`, `errno`, `syscall`, `path` and
 * `dest` fields, and the same message format, as the `ErrnoException`s `node:fs` throws, so code
 * that branches on `err.code === 'ENOENT'` behaves the same on the simulator and on a real disk.
 *
 * @module
 */
import { constants as osConstants } from 'node:os';

/** An error as `node:fs` raises it: an `Error` with the errno name in `code`. */
export interface SimulatedFsError extends Error {
  /** The errno name: `ENOENT`, `EEXIST`, `EIO`, ... */
  readonly code: string;
  /** The negated errno number, as Node reports it (`-2` for ENOENT on Linux). */
  readonly errno: number;
  /** The system call that failed, as Node names it (`open`, `fsync`, `rename`, ...). */
  readonly syscall: string;
  /** The path the call was about, when it had one. */
  readonly path?: string;
  /** The second path of a `rename`, `symlink` or `link`. */
  readonly dest?: string;
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  EISDIR: 'illegal operation on a directory',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
  ELOOP: 'too many symbolic links encountered',
  EIO: 'i/o error',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EDQUOT: 'disk quota exceeded',
  EBUSY: 'resource busy or locked',
  EXDEV: 'cross-device link not permitted',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
};

/**
 * Builds the error `node:fs` would throw for `code` from `syscall` on `path` (and `dest`).
 * `code` may be any errno name `os.constants.errno` knows; unknown names get errno `0`.
 */
export function fsError(code: string, syscall: string, path?: string, dest?: string): SimulatedFsError {
  const description = DESCRIPTIONS[code] ?? code.toLowerCase();
  let message = `${code}: ${description}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const error = new Error(message) as Error & Record<string, unknown>;
  const number = (osConstants.errno as Readonly<Record<string, number | undefined>>)[code];
  error['code'] = code;
  error['errno'] = number === undefined ? 0 : -number;
  error['syscall'] = syscall;
  if (path !== undefined) error['path'] = path;
  if (dest !== undefined) error['dest'] = dest;
  return error as unknown as SimulatedFsError;
}
