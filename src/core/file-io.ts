/**
 * The file-system primitives as {@link Effect}s over a {@link DurableFileSystem}: each one has a
 * synchronous form (the seam's `*Sync` function, on a descriptor) and an asynchronous form (the
 * seam's promise function, on a handle). Errors come out raw (Node's `ErrnoException`); the
 * algorithms decide what a failure means and wrap it with {@link wrapError}.
 *
 * @internal
 * @module
 */
import { constants } from 'node:fs';
import { createDescriptorGate, isDescriptorShortage, type DescriptorGate, type DescriptorTurn } from './descriptor-gate.js';
import type { DurableFileHandle, DurableFileSystem, DurableStats } from './file-system.js';
import type { Effect } from './effect.js';
import { hostPlatform, type Platform } from './platform.js';

/** An open file in either mode: the descriptor (sync) or the handle (async). */
export interface OpenFile {
  readonly fd: number;
  readonly handle: DurableFileHandle | undefined;
}

/** How a file's data is flushed. */
export type FlushMethod = 'fsync' | 'fdatasync';

/** Whether a directory fsync must succeed, or may be refused by the platform. */
export type DirectorySyncPolicy = 'required' | 'best-effort';

/**
 * The directory-sync policy an operation follows, the caller's option resolved for the platform
 * (`checkDirectorySync`): `'unavailable'` where the platform offers no directory flush (Windows):
 * no directory is opened, and the result reports the directory as not flushed.
 */
export type DirectorySyncRule = DirectorySyncPolicy | 'unavailable';

/** `O_WRONLY | O_CREAT | O_EXCL`: the temporary file is always a new inode of our own. */
export const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
/** `O_RDONLY | O_DIRECTORY` where the platform has it: how a directory is opened to fsync it. */
export const OPEN_DIRECTORY = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0);
/**
 * How an existing file is opened to be flushed: `O_RDONLY`, enough on Linux and macOS; `O_RDWR`
 * on Windows, where `FlushFileBuffers` (Node's `fsync`) needs a handle with write access, as
 * PostgreSQL's `fsync_fname` opens a file on every platform.
 */
export function openToFlush(platform: Platform): number {
  return platform === 'windows' ? constants.O_RDWR : constants.O_RDONLY;
}

/** {@link openToFlush} for this platform. */
export const OPEN_TO_FLUSH = openToFlush(hostPlatform);

function handleOf(file: OpenFile): DurableFileHandle {
  if (file.handle === undefined) throw new Error('durable-write internal error: a descriptor was used in async mode');
  return file.handle;
}

/** An optional seam member called without its presence checked first (the operation's prologue checks it). */
function lacking(member: string): Error {
  return new Error(`durable-write internal error: the fs seam lacks ${member}`);
}

/** The primitives over one file system. */
export interface FileIo {
  open(path: string, flags: number, mode?: number): Effect<OpenFile>;
  write(file: OpenFile, buffer: Uint8Array, offset: number, length: number): Effect<number>;
  flush(file: OpenFile, method: FlushMethod): Effect<void>;
  chmod(file: OpenFile, mode: number): Effect<void>;
  chown(file: OpenFile, uid: number, gid: number): Effect<void>;
  close(file: OpenFile): Effect<void>;
  rename(from: string, to: string): Effect<void>;
  unlink(path: string): Effect<void>;
  mkdir(path: string, mode: number): Effect<void>;
  stat(path: string): Effect<DurableStats>;
  lstat(path: string): Effect<DurableStats>;
  readlink(path: string): Effect<string>;
  realpath(path: string): Effect<string>;
  /** The names in a directory; the seam's `readdir`/`readdirSync` are optional, so a seam without them fails here. */
  readdir(path: string): Effect<string[]>;
  /** `access(2)` of `path` for `mode` (`W_OK`...); the seam's `access`/`accessSync` are optional, so a seam without them fails here. */
  access(path: string, mode: number): Effect<void>;
  /**
   * After an open failed with `error`: waits until descriptors this file system's async effects
   * opened are closed, so that the open may be tried again (`descriptor-gate.ts`), or until
   * `signal` fires. `turn` is the turn the failed try had, if it followed such a wait. Throws
   * `error` when it is no lack of descriptors (`EMFILE`, `ENFILE`; a turn is then passed on),
   * when a try after a wait is short again while none of ours is open, and always in sync mode,
   * which cannot wait. Returns the turn to pass on once the next try succeeded (`undefined` after
   * an abort). No step: `onStep` does not see it. The caller closes what it holds before it waits.
   */
  descriptorFreed(error: unknown, signal: AbortSignal | undefined, turn: DescriptorTurn | undefined): Effect<DescriptorTurn | undefined>;
  /** The descriptors this file system's async effects hold; the write worker counts its writes in too, since they free descriptors when they end. */
  readonly descriptors: DescriptorGate;
}

/** The primitives of each seam, built once: the object also stands for its seam (directory fsync groups are keyed by it). */
const built = new WeakMap<DurableFileSystem, FileIo>();

/** The primitives over `fs` (the same object for the same seam). */
export function fileIo(fs: DurableFileSystem): FileIo {
  let io = built.get(fs);
  if (io === undefined) {
    io = primitivesOver(fs);
    built.set(fs, io);
  }
  return io;
}

function primitivesOver(fs: DurableFileSystem): FileIo {
  const gate = createDescriptorGate();
  return {
    descriptors: gate,
    open: (path, flags, mode) => ({
      step: 'open',
      sync: () => ({ fd: fs.openSync(path, flags, mode), handle: undefined }),
      async: async () => {
        const opened = gate.opening();
        let handle: DurableFileHandle;
        try {
          handle = await fs.open(path, flags, mode);
        } catch (error) {
          if (isDescriptorShortage(error)) gate.exhausted();
          opened();
          throw error;
        }
        opened(handle);
        return { fd: handle.fd, handle };
      },
    }),
    write: (file, buffer, offset, length) => ({
      step: 'write',
      sync: () => fs.writeSync(file.fd, buffer, offset, length, null),
      async: async () => (await handleOf(file).write(buffer, offset, length, null)).bytesWritten,
    }),
    flush: (file, method) => ({
      step: method,
      sync: () => (method === 'fsync' ? fs.fsyncSync(file.fd) : fs.fdatasyncSync(file.fd)),
      async: () => (method === 'fsync' ? handleOf(file).sync() : handleOf(file).datasync()),
    }),
    chmod: (file, mode) => ({
      step: 'fchmod',
      sync: () => fs.fchmodSync(file.fd, mode),
      async: () => handleOf(file).chmod(mode),
    }),
    chown: (file, uid, gid) => ({
      step: 'fchown',
      sync: () => fs.fchownSync(file.fd, uid, gid),
      async: () => handleOf(file).chown(uid, gid),
    }),
    close: (file) => ({
      step: 'close',
      sync: () => fs.closeSync(file.fd),
      async: async () => {
        const handle = handleOf(file);
        try {
          await handle.close();
        } finally {
          // A failed close releases the descriptor too (close(2) frees it whatever it reports).
          gate.closed(handle);
        }
      },
    }),
    rename: (from, to) => ({
      step: 'rename',
      sync: () => fs.renameSync(from, to),
      async: () => fs.rename(from, to),
    }),
    unlink: (path) => ({
      step: 'unlink',
      sync: () => fs.unlinkSync(path),
      async: () => fs.unlink(path),
    }),
    mkdir: (path, mode) => ({
      step: 'mkdir',
      sync: () => void fs.mkdirSync(path, { mode }),
      async: async () => void (await fs.mkdir(path, { mode })),
    }),
    stat: (path) => ({ step: 'stat', sync: () => fs.statSync(path), async: () => fs.stat(path) }),
    lstat: (path) => ({ step: 'lstat', sync: () => fs.lstatSync(path), async: () => fs.lstat(path) }),
    readlink: (path) => ({ step: 'readlink', sync: () => fs.readlinkSync(path), async: () => fs.readlink(path) }),
    realpath: (path) => ({ step: 'realpath', sync: () => fs.realpathSync(path), async: () => fs.realpath(path) }),
    readdir: (path) => ({
      step: 'readdir',
      sync: () => {
        if (fs.readdirSync === undefined) throw lacking('readdirSync');
        return fs.readdirSync(path);
      },
      async: async () => {
        if (fs.readdir === undefined) throw lacking('readdir');
        return fs.readdir(path);
      },
    }),
    access: (path, mode) => ({
      step: 'access',
      sync: () => {
        if (fs.accessSync === undefined) throw lacking('accessSync');
        fs.accessSync(path, mode);
      },
      async: async () => {
        if (fs.access === undefined) throw lacking('access');
        await fs.access(path, mode);
      },
    }),
    descriptorFreed: (error, signal, turn) => ({
      step: undefined,
      sync: () => {
        throw error;
      },
      async: async () => {
        if (!isDescriptorShortage(error)) {
          // A try that failed for another reason holds no descriptor: the next waiter may try.
          turn?.pass();
          throw error;
        }
        const freed = gate.wait(signal, turn);
        if (freed === undefined) throw error;
        return freed;
      },
    }),
  };
}
