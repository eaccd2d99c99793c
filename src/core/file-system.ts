/**
 * The file-system seam: the primitives every durable-write operation goes through, and nothing
 * more (a custom seam for fault injection implements only what is listed here).
 *
 * The async half has the shape of `node:fs/promises` (an `open` that returns a handle), the sync
 * half the shape of `node:fs`'s `*Sync` functions, so the default, {@link nodeFileSystem}, is
 * Node's own functions, unchanged. Tests pass another object through the `fs` option to inject
 * faults (EIO on fsync, short writes) or to run on the crash simulator of `durable-write/testing`.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

/** The part of `fs.Stats` the library reads. */
export interface DurableStats {
  /** The inode number: a pending file checks that its temp file is still the inode it created. */
  readonly ino: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** The size in bytes (of the link itself, for `lstat` of a symlink). */
  readonly size: number;
  /** The last data modification, in milliseconds since the epoch: how old a leftover temp file is. */
  readonly mtimeMs: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** The part of `fs/promises`' `FileHandle` the library uses. */
export interface DurableFileHandle {
  /** The descriptor number (informational; the library never passes it to another call). */
  readonly fd: number;
  write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): Promise<{ bytesWritten: number }>;
  /** `fsync(2)`. */
  sync(): Promise<void>;
  /** `fdatasync(2)`. */
  datasync(): Promise<void>;
  chmod(mode: number): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file-system primitives durable-write uses. Every member has the name, arguments and
 * error behaviour (`ErrnoException` with `code`) of the `node:fs/promises` or `node:fs` function
 * of the same name. {@link nodeFileSystem} is the real one.
 *
 * The optional members serve one function each, and a custom seam may leave them out: `sync` and
 * `syncfs` let `syncAll` and `syncFilesystem` run on a simulated file system (when absent, those
 * functions call the kernel); `readdir` and `readdirSync` are required by `removeStaleTemps` and
 * `removeStaleTempsSync` only, which throw a `TypeError` for a seam that lacks the one they call;
 * `access` and `accessSync` serve the compat layer's twins of `fs.writeFile` and fs-extra, which
 * always run on {@link nodeFileSystem}.
 */
export interface DurableFileSystem {
  open(path: string, flags: number, mode?: number): Promise<DurableFileHandle>;
  rename(oldPath: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options: { mode?: number; recursive?: false }): Promise<string | undefined | void>;
  stat(path: string): Promise<DurableStats>;
  lstat(path: string): Promise<DurableStats>;
  readlink(path: string): Promise<string>;
  /** The canonical path, every symlink and `.`/`..` resolved as the kernel resolves them (`realpath(3)`). */
  realpath(path: string): Promise<string>;

  openSync(path: string, flags: number, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  fsyncSync(fd: number): void;
  fdatasyncSync(fd: number): void;
  fchmodSync(fd: number, mode: number): void;
  fchownSync(fd: number, uid: number, gid: number): void;
  closeSync(fd: number): void;
  renameSync(oldPath: string, newPath: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string, options: { mode?: number; recursive?: false }): string | undefined | void;
  statSync(path: string): DurableStats;
  lstatSync(path: string): DurableStats;
  readlinkSync(path: string): string;
  realpathSync(path: string): string;

  /** `sync(2)` for this file system; used by `syncAll({ fs })` when present. */
  sync?(): Promise<void>;
  /** `syncfs(2)` on the file system holding `path`; used by `syncFilesystem(path, { fs })`. */
  syncfs?(path: string): Promise<void>;
  /** The names in the directory at `path` (without `.` and `..`), as `fs.promises.readdir(path)`; used by `removeStaleTemps`. */
  readdir?(path: string): Promise<string[]>;
  /** The names in the directory at `path`, as `fs.readdirSync(path)`; used by `removeStaleTempsSync`. */
  readdirSync?(path: string): string[];
  /**
   * `access(2)`: rejects (`EACCES`, `EROFS`...) unless this process may access `path` as `mode`
   * says (`W_OK`...); used by the compat layer to refuse, as `fs.writeFile` does, a target it could
   * not open for writing.
   */
  access?(path: string, mode: number): Promise<void>;
  /** `access(2)`, as `fs.accessSync(path, mode)`; used by the compat layer's synchronous twins. */
  accessSync?(path: string, mode: number): void;
}

/** Node's own file system: `node:fs/promises` and the `*Sync` functions of `node:fs`. */
export const nodeFileSystem: DurableFileSystem = Object.freeze({
  open: (path: string, flags: number, mode?: number) => fsp.open(path, flags, mode),
  rename: fsp.rename,
  unlink: fsp.unlink,
  mkdir: (path: string, options: { mode?: number; recursive?: false }) => fsp.mkdir(path, options),
  stat: (path: string) => fsp.stat(path),
  lstat: (path: string) => fsp.lstat(path),
  readlink: (path: string) => fsp.readlink(path),
  realpath: (path: string) => fsp.realpath(path),
  readdir: (path: string) => fsp.readdir(path),
  access: (path: string, mode: number) => fsp.access(path, mode),

  openSync: (path: string, flags: number, mode?: number) => fs.openSync(path, flags, mode),
  writeSync: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null) =>
    fs.writeSync(fd, buffer, offset, length, position),
  fsyncSync: fs.fsyncSync,
  fdatasyncSync: fs.fdatasyncSync,
  fchmodSync: fs.fchmodSync,
  fchownSync: fs.fchownSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  unlinkSync: fs.unlinkSync,
  mkdirSync: (path: string, options: { mode?: number; recursive?: false }) => fs.mkdirSync(path, options),
  statSync: (path: string) => fs.statSync(path),
  lstatSync: (path: string) => fs.lstatSync(path),
  readlinkSync: (path: string) => fs.readlinkSync(path),
  realpathSync: (path: string) => fs.realpathSync.native(path),
  readdirSync: (path: string) => fs.readdirSync(path),
  accessSync: (path: string, mode: number) => fs.accessSync(path, mode),
});
