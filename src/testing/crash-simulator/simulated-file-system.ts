/**
 * `sim.fs`: the crash simulator's file system object. It is a complete `DurableFileSystem` (so
 * `writeDurable(path, data, { fs: sim.fs })`, `writeDurableSync`, `syncAll({ fs: sim.fs })` and
 * `syncFilesystem(path, { fs: sim.fs })` run on it) and offers the `node:fs/promises` calls, and
 * their `node:fs` `*Sync` twins, that a service typically uses, with Node's error codes.
 *
 * Every function is a closure over the simulator (no `this`), so it can be destructured.
 *
 * @module
 */
import { isBytesLike } from '../../core/bytes.js';
import { errnoCode } from '../../core/errors.js';
import type { DurableFileSystem } from '../../core/file-system.js';
import { fsError } from './fs-error.js';
import { dataBytes, encodingOf, toAbsolutePath, writeArguments, type PathLike, type WritableData } from './node-arguments.js';
import { decodeFlags } from './open-flags.js';
import { decoded, readAll, SimulatedFileHandle, writeAll } from './simulated-file-handle.js';
import type { SimulatedKernel } from './simulated-kernel.js';
import { SimulatedDirent, type SimulatedStats } from './stats.js';

/** Options of `writeFile` / `appendFile` (as in `node:fs/promises`). */
export interface SimulatedWriteFileOptions {
  /** Encoding of string data. Default: `'utf8'`. */
  readonly encoding?: BufferEncoding | null | undefined;
  /** Mode of a file the call creates (before the umask). Default: `0o666`. */
  readonly mode?: number | undefined;
  /** Open flags. Default: `'w'` for writeFile, `'a'` for appendFile. */
  readonly flag?: string | number | undefined;
}

/** Options of `readFile`. */
export interface SimulatedReadFileOptions {
  /** Decode with this encoding. Default: `null` (a Buffer). */
  readonly encoding?: BufferEncoding | null | undefined;
  /** Open flags. Default: `'r'`. */
  readonly flag?: string | number | undefined;
}

/** Options of `mkdir`. */
export interface SimulatedMkdirOptions {
  /** Create missing parents too; no error when the directory exists. Default: `false`. */
  readonly recursive?: boolean | undefined;
  /** Mode (before the umask). Default: `0o777`. */
  readonly mode?: number | undefined;
}

/** Options of `rm`. */
export interface SimulatedRmOptions {
  /** No error when the path is absent. Default: `false`. */
  readonly force?: boolean | undefined;
  /** Remove a directory and its contents. Default: `false`. */
  readonly recursive?: boolean | undefined;
}

/** Data `writeFile` accepts: bytes or a string, or an iterable or async iterable of them. */
export type SimulatedFileData = WritableData | Iterable<WritableData> | AsyncIterable<WritableData>;

/** The crash simulator's file system: a full `DurableFileSystem` plus common `fs` calls. */
export interface SimulatedFileSystem extends DurableFileSystem {
  // ---- node:fs/promises ----
  open(path: PathLike, flags?: number | string, mode?: number): Promise<SimulatedFileHandle>;
  rename(oldPath: PathLike, newPath: PathLike): Promise<void>;
  unlink(path: PathLike): Promise<void>;
  rmdir(path: PathLike): Promise<void>;
  rm(path: PathLike, options?: SimulatedRmOptions): Promise<void>;
  mkdir(path: PathLike, options?: SimulatedMkdirOptions | number): Promise<string | undefined>;
  readdir(path: PathLike, options?: { withFileTypes?: false } | BufferEncoding | null): Promise<string[]>;
  readdir(path: PathLike, options: { withFileTypes: true }): Promise<SimulatedDirent[]>;
  stat(path: PathLike): Promise<SimulatedStats>;
  lstat(path: PathLike): Promise<SimulatedStats>;
  readlink(path: PathLike): Promise<string>;
  realpath(path: PathLike): Promise<string>;
  symlink(target: string, path: PathLike): Promise<void>;
  chmod(path: PathLike, mode: number): Promise<void>;
  access(path: PathLike, mode?: number): Promise<void>;
  readFile(path: PathLike | SimulatedFileHandle, options?: (SimulatedReadFileOptions & { encoding?: null }) | null): Promise<Buffer>;
  readFile(path: PathLike | SimulatedFileHandle, options: (SimulatedReadFileOptions & { encoding: BufferEncoding }) | BufferEncoding): Promise<string>;
  writeFile(path: PathLike | SimulatedFileHandle, data: SimulatedFileData, options?: SimulatedWriteFileOptions | BufferEncoding | null): Promise<void>;
  appendFile(path: PathLike | SimulatedFileHandle, data: SimulatedFileData, options?: SimulatedWriteFileOptions | BufferEncoding | null): Promise<void>;
  /** `sync(2)`: every pending change of the simulator becomes durable. */
  sync(): Promise<void>;
  /** `syncfs(2)`: the simulator is one file system, so the same as `sync` once `path` exists. */
  syncfs(path: string): Promise<void>;

  // ---- node:fs *Sync ----
  openSync(path: PathLike, flags?: number | string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null): number;
  writeSync(fd: number, text: string, position?: number | null, encoding?: BufferEncoding): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  fsyncSync(fd: number): void;
  fdatasyncSync(fd: number): void;
  fchmodSync(fd: number, mode: number): void;
  fchownSync(fd: number, uid: number, gid: number): void;
  fstatSync(fd: number): SimulatedStats;
  ftruncateSync(fd: number, length?: number): void;
  closeSync(fd: number): void;
  renameSync(oldPath: PathLike, newPath: PathLike): void;
  unlinkSync(path: PathLike): void;
  rmdirSync(path: PathLike): void;
  mkdirSync(path: PathLike, options?: SimulatedMkdirOptions | number): string | undefined;
  statSync(path: PathLike): SimulatedStats;
  lstatSync(path: PathLike): SimulatedStats;
  readlinkSync(path: PathLike): string;
  realpathSync(path: PathLike): string;
  symlinkSync(target: string, path: PathLike): void;
  readdirSync(path: PathLike): string[];
  accessSync(path: PathLike, mode?: number): void;
  existsSync(path: PathLike): boolean;
  readFileSync(path: PathLike, options?: (SimulatedReadFileOptions & { encoding?: null }) | null): Buffer;
  readFileSync(path: PathLike, options: (SimulatedReadFileOptions & { encoding: BufferEncoding }) | BufferEncoding): string;
  writeFileSync(path: PathLike, data: WritableData, options?: SimulatedWriteFileOptions | BufferEncoding | null): void;
  appendFileSync(path: PathLike, data: WritableData, options?: SimulatedWriteFileOptions | BufferEncoding | null): void;
}

type WriteOptionsArgument = SimulatedWriteFileOptions | BufferEncoding | null | undefined;
type ReadOptionsArgument = SimulatedReadFileOptions | BufferEncoding | null | undefined;
type ReaddirOptionsArgument = { withFileTypes?: boolean } | BufferEncoding | null | undefined;

/** The options object of an options argument, or undefined when it is an encoding or absent. */
function objectOf<T extends object>(options: T | BufferEncoding | null | undefined): T | undefined {
  return typeof options === 'object' && options !== null ? options : undefined;
}

function isIterable(value: unknown): value is Iterable<WritableData> {
  return typeof value === 'object' && value !== null && Symbol.iterator in value && !ArrayBuffer.isView(value);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<WritableData> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Builds `sim.fs` over `kernel`; relative paths resolve against `cwd`. */
export function createSimulatedFileSystem(kernel: SimulatedKernel, cwd: string): SimulatedFileSystem {
  const abs = (path: PathLike, syscall: string): string => toAbsolutePath(path, cwd, syscall);
  const mkdirArgs = (options: SimulatedMkdirOptions | number | undefined): [number, boolean] =>
    typeof options === 'number' ? [options, false] : [options?.mode ?? 0o777, options?.recursive ?? false];

  function openSync(path: PathLike, flags?: number | string, mode?: number): number {
    const absolute = abs(path, 'open');
    return kernel.open(absolute, decodeFlags(flags, absolute), mode);
  }

  function writeSync(fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null): number;
  function writeSync(fd: number, text: string, position?: number | null, encoding?: BufferEncoding): number;
  function writeSync(fd: number, data: Uint8Array | string, a?: number | null, b?: number | BufferEncoding, c?: number | null): number {
    const call = writeArguments(data, a, b, c);
    return kernel.write(fd, call.bytes, call.position);
  }

  /** `readFile` of a path: opened with the options' flag (default `'r'`), read whole, closed. */
  function readPath(path: PathLike, options: ReadOptionsArgument): Buffer | string {
    const fd = openSync(path, objectOf(options)?.flag ?? 'r');
    let bytes: Buffer;
    try {
      bytes = readAll(kernel, fd);
    } finally {
      kernel.close(fd);
    }
    return decoded(bytes, encodingOf(options));
  }

  function readFileSync(path: PathLike, options?: (SimulatedReadFileOptions & { encoding?: null }) | null): Buffer;
  function readFileSync(path: PathLike, options: (SimulatedReadFileOptions & { encoding: BufferEncoding }) | BufferEncoding): string;
  function readFileSync(path: PathLike, options?: ReadOptionsArgument): Buffer | string {
    return readPath(path, options);
  }

  function readFile(file: PathLike | SimulatedFileHandle, options?: (SimulatedReadFileOptions & { encoding?: null }) | null): Promise<Buffer>;
  function readFile(
    file: PathLike | SimulatedFileHandle,
    options: (SimulatedReadFileOptions & { encoding: BufferEncoding }) | BufferEncoding,
  ): Promise<string>;
  async function readFile(file: PathLike | SimulatedFileHandle, options?: ReadOptionsArgument): Promise<Buffer | string> {
    if (!(file instanceof SimulatedFileHandle)) return readPath(file, options);
    const encoding = encodingOf(options);
    return encoding === undefined || encoding === null ? file.readFile() : file.readFile(encoding);
  }

  function readdir(path: PathLike, options?: { withFileTypes?: false } | BufferEncoding | null): Promise<string[]>;
  function readdir(path: PathLike, options: { withFileTypes: true }): Promise<SimulatedDirent[]>;
  async function readdir(path: PathLike, options?: ReaddirOptionsArgument): Promise<string[] | SimulatedDirent[]> {
    const absolute = abs(path, 'scandir');
    const entries = kernel.readdir(absolute);
    if (objectOf(options)?.withFileTypes === true) {
      return entries.map((entry) => new SimulatedDirent(entry.name, absolute, entry.kind));
    }
    return entries.map((entry) => entry.name);
  }

  function writeFileSyncWith(defaultFlag: string, path: PathLike, data: WritableData, options: WriteOptionsArgument): void {
    const object = objectOf(options);
    const fd = openSync(path, object?.flag ?? defaultFlag, object?.mode ?? 0o666);
    try {
      writeAll(kernel, fd, dataBytes(data, encodingOf(options)));
    } finally {
      kernel.close(fd);
    }
  }

  async function writeFileWith(
    defaultFlag: string,
    file: PathLike | SimulatedFileHandle,
    data: SimulatedFileData,
    options: WriteOptionsArgument,
  ): Promise<void> {
    const object = objectOf(options);
    const encoding = encodingOf(options);
    const owned = !(file instanceof SimulatedFileHandle);
    const fd = file instanceof SimulatedFileHandle ? file.fd : openSync(file, object?.flag ?? defaultFlag, object?.mode ?? 0o666);
    try {
      if (isBytesLike(data)) writeAll(kernel, fd, dataBytes(data, encoding));
      else if (isAsyncIterable(data)) for await (const chunk of data) writeAll(kernel, fd, dataBytes(chunk, encoding));
      else if (isIterable(data)) for (const chunk of data) writeAll(kernel, fd, dataBytes(chunk, encoding));
      else throw new TypeError('The "data" argument must be a string, a Buffer, a TypedArray, a DataView or an iterable');
    } finally {
      if (owned) kernel.close(fd);
    }
  }

  async function rm(path: PathLike, options?: SimulatedRmOptions): Promise<void> {
    const absolute = abs(path, 'rm');
    let stats: SimulatedStats;
    try {
      stats = kernel.lstat(absolute);
    } catch (error) {
      if (options?.force === true && errnoCode(error) === 'ENOENT') return;
      throw error;
    }
    if (!stats.isDirectory()) {
      kernel.unlink(absolute);
      return;
    }
    if (options?.recursive !== true) throw fsError('EISDIR', 'rm', absolute);
    for (const entry of kernel.readdir(absolute)) await rm(`${absolute === '/' ? '' : absolute}/${entry.name}`, options);
    kernel.rmdir(absolute);
  }

  const fs: SimulatedFileSystem = {
    // ---- node:fs/promises ----
    open: async (path: PathLike, flags?: number | string, mode?: number) => new SimulatedFileHandle(kernel, openSync(path, flags, mode)),
    rename: async (oldPath: PathLike, newPath: PathLike) => kernel.rename(abs(oldPath, 'rename'), abs(newPath, 'rename')),
    unlink: async (path: PathLike) => kernel.unlink(abs(path, 'unlink')),
    rmdir: async (path: PathLike) => kernel.rmdir(abs(path, 'rmdir')),
    rm,
    mkdir: async (path: PathLike, options?: SimulatedMkdirOptions | number) => kernel.mkdir(abs(path, 'mkdir'), ...mkdirArgs(options)),
    readdir,
    stat: async (path: PathLike) => kernel.stat(abs(path, 'stat')),
    lstat: async (path: PathLike) => kernel.lstat(abs(path, 'lstat')),
    readlink: async (path: PathLike) => kernel.readlink(abs(path, 'readlink')),
    realpath: async (path: PathLike) => kernel.realpath(abs(path, 'realpath')),
    symlink: async (target: string, path: PathLike) => kernel.symlink(target, abs(path, 'symlink')),
    chmod: async (path: PathLike, mode: number) => kernel.chmod(abs(path, 'chmod'), mode),
    access: async (path: PathLike) => kernel.access(abs(path, 'access')),
    readFile,
    writeFile: (file: PathLike | SimulatedFileHandle, data: SimulatedFileData, options?: WriteOptionsArgument) =>
      writeFileWith('w', file, data, options),
    appendFile: (file: PathLike | SimulatedFileHandle, data: SimulatedFileData, options?: WriteOptionsArgument) =>
      writeFileWith('a', file, data, options),
    sync: async () => kernel.sync(),
    syncfs: async (path: string) => kernel.syncfs(abs(path, 'syncfs')),

    // ---- node:fs *Sync ----
    openSync,
    writeSync,
    readSync: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null) =>
      kernel.read(fd, buffer, offset, length, position),
    fsyncSync: (fd: number) => kernel.flush(fd, 'fsync'),
    fdatasyncSync: (fd: number) => kernel.flush(fd, 'fdatasync'),
    fchmodSync: (fd: number, mode: number) => kernel.fchmod(fd, mode),
    fchownSync: (fd: number, uid: number, gid: number) => kernel.fchown(fd, uid, gid),
    fstatSync: (fd: number) => kernel.fstat(fd),
    ftruncateSync: (fd: number, length = 0) => kernel.ftruncate(fd, length),
    closeSync: (fd: number) => kernel.close(fd),
    renameSync: (oldPath: PathLike, newPath: PathLike) => kernel.rename(abs(oldPath, 'rename'), abs(newPath, 'rename')),
    unlinkSync: (path: PathLike) => kernel.unlink(abs(path, 'unlink')),
    rmdirSync: (path: PathLike) => kernel.rmdir(abs(path, 'rmdir')),
    mkdirSync: (path: PathLike, options?: SimulatedMkdirOptions | number) => kernel.mkdir(abs(path, 'mkdir'), ...mkdirArgs(options)),
    statSync: (path: PathLike) => kernel.stat(abs(path, 'stat')),
    lstatSync: (path: PathLike) => kernel.lstat(abs(path, 'lstat')),
    readlinkSync: (path: PathLike) => kernel.readlink(abs(path, 'readlink')),
    realpathSync: (path: PathLike) => kernel.realpath(abs(path, 'realpath')),
    symlinkSync: (target: string, path: PathLike) => kernel.symlink(target, abs(path, 'symlink')),
    readdirSync: (path: PathLike) => kernel.readdir(abs(path, 'scandir')).map((entry) => entry.name),
    accessSync: (path: PathLike) => kernel.access(abs(path, 'access')),
    existsSync: (path: PathLike) => {
      try {
        kernel.stat(abs(path, 'stat'));
        return true;
      } catch {
        return false;
      }
    },
    readFileSync,
    writeFileSync: (path: PathLike, data: WritableData, options?: WriteOptionsArgument) => writeFileSyncWith('w', path, data, options),
    appendFileSync: (path: PathLike, data: WritableData, options?: WriteOptionsArgument) => writeFileSyncWith('a', path, data, options),
  };
  return Object.freeze(fs);
}
