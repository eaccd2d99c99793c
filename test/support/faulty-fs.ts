/**
 * A fault-injecting wrapper over Node's real file system, for the faults a machine cannot be
 * made to produce on demand (EIO on fsync, short writes). Every call is recorded, so a test can
 * also check what was (or was not) touched.
 */
import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { nodeFileSystem, type DurableFileHandle, type DurableFileSystem } from '../../src/core/file-system.js';

/** A primitive, by the name the fs seam gives it in async form. */
export type Operation =
  | 'open' | 'write' | 'sync' | 'datasync' | 'chmod' | 'chown' | 'close'
  | 'rename' | 'unlink' | 'mkdir' | 'stat' | 'lstat' | 'readlink' | 'realpath' | 'readdir';

export interface RecordedCall {
  readonly op: Operation;
  /** The path named, or the path the descriptor was opened on. */
  readonly path: string;
}

export interface FaultyOptions {
  /** Return an errno name to make this call fail with it. */
  readonly fail?: (call: RecordedCall) => string | undefined;
  /** Cap every write at this many bytes (a short write). */
  readonly maxWriteBytes?: number;
}

export interface FaultyFileSystem {
  readonly fs: DurableFileSystem;
  readonly calls: RecordedCall[];
}

function errnoError(code: string, call: RecordedCall): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${call.op} '${call.path}'`), { code, syscall: call.op, path: call.path });
}

export function faultyFileSystem(options: FaultyOptions = {}): FaultyFileSystem {
  const calls: RecordedCall[] = [];
  const fdPaths = new Map<number, string>();
  const real = nodeFileSystem;
  const check = (op: Operation, path: string): void => {
    const call = { op, path };
    calls.push(call);
    const code = options.fail?.(call);
    if (code !== undefined) throw errnoError(code, call);
  };
  const cap = (length: number): number => Math.min(length, options.maxWriteBytes ?? length);
  const pathOf = (fd: number): string => fdPaths.get(fd) ?? `fd ${fd}`;

  const wrapHandle = (handle: DurableFileHandle, path: string): DurableFileHandle => ({
    fd: handle.fd,
    write: async (buffer, offset, length, position) => {
      check('write', path);
      return handle.write(buffer, offset, cap(length), position);
    },
    sync: async () => { check('sync', path); await handle.sync(); },
    datasync: async () => { check('datasync', path); await handle.datasync(); },
    chmod: async (mode) => { check('chmod', path); await handle.chmod(mode); },
    chown: async (uid, gid) => { check('chown', path); await handle.chown(uid, gid); },
    close: async () => {
      try {
        check('close', path);
      } finally {
        await handle.close();
      }
    },
  });

  const fs: DurableFileSystem = {
    open: async (path, flags, mode) => {
      check('open', path);
      return wrapHandle(await real.open(path, flags, mode), path);
    },
    rename: async (a, b) => { check('rename', a); await real.rename(a, b); },
    unlink: async (p) => { check('unlink', p); await real.unlink(p); },
    mkdir: async (p, o) => { check('mkdir', p); return real.mkdir(p, o); },
    stat: async (p) => { check('stat', p); return real.stat(p); },
    lstat: async (p) => { check('lstat', p); return real.lstat(p); },
    readlink: async (p) => { check('readlink', p); return real.readlink(p); },
    realpath: async (p) => { check('realpath', p); return real.realpath(p); },
    readdir: async (p) => { check('readdir', p); return readdir(p); },

    openSync: (path, flags, mode) => {
      check('open', path);
      const fd = real.openSync(path, flags, mode);
      fdPaths.set(fd, path);
      return fd;
    },
    writeSync: (fd, buffer, offset, length, position) => {
      check('write', pathOf(fd));
      return real.writeSync(fd, buffer, offset, cap(length), position);
    },
    fsyncSync: (fd) => { check('sync', pathOf(fd)); real.fsyncSync(fd); },
    fdatasyncSync: (fd) => { check('datasync', pathOf(fd)); real.fdatasyncSync(fd); },
    fchmodSync: (fd, mode) => { check('chmod', pathOf(fd)); real.fchmodSync(fd, mode); },
    fchownSync: (fd, uid, gid) => { check('chown', pathOf(fd)); real.fchownSync(fd, uid, gid); },
    closeSync: (fd) => {
      const path = pathOf(fd);
      fdPaths.delete(fd);
      try {
        check('close', path);
      } finally {
        real.closeSync(fd);
      }
    },
    renameSync: (a, b) => { check('rename', a); real.renameSync(a, b); },
    unlinkSync: (p) => { check('unlink', p); real.unlinkSync(p); },
    mkdirSync: (p, o) => { check('mkdir', p); return real.mkdirSync(p, o); },
    statSync: (p) => { check('stat', p); return real.statSync(p); },
    lstatSync: (p) => { check('lstat', p); return real.lstatSync(p); },
    readlinkSync: (p) => { check('readlink', p); return real.readlinkSync(p); },
    realpathSync: (p) => { check('realpath', p); return real.realpathSync(p); },
    readdirSync: (p) => { check('readdir', p); return readdirSync(p); },
  };
  return { fs, calls };
}
