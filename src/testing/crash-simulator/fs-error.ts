/**
 * The crash simulator's Node-style `ErrnoException` builder: errors with the same `code`, `errno`,
 * `syscall`, `path` and `dest` fields, and the same message format, as those `node:fs` throws, so
 * code that branches on `err.code === 'ENOENT'` behaves the same on the simulator and on a real disk.
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

/** Errno numbers by name, as `os.constants.errno` lists them for this platform. */
const ERRNO_NUMBERS: ReadonlyMap<string, number> = new Map(Object.entries(osConstants.errno));

/**
 * Builds the error `node:fs` would throw for `code` from `syscall` on `path` (and `dest`).
 * `code` may be any errno name `os.constants.errno` knows; unknown names get errno `0`.
 */
export function fsError(code: string, syscall: string, path?: string, dest?: string): SimulatedFsError {
  const description = DESCRIPTIONS[code] ?? code.toLowerCase();
  let message = `${code}: ${description}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  const number = ERRNO_NUMBERS.get(code);
  return Object.assign(new Error(message), {
    code,
    errno: number === undefined ? 0 : -number,
    syscall,
    ...(path === undefined ? {} : { path }),
    ...(dest === undefined ? {} : { dest }),
  });
}
