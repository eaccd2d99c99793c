/**
 * The crash simulator's kernel: only the system calls, run synchronously on the volatile state,
 * each recording its change in the change log; the descriptor table; the fault injector; and the
 * flushes that move changes to the durable state. Each call is recorded in the call trace
 * (`call-trace.ts`) on entry, before its fault fires.
 *
 * The async and sync faces of `sim.fs` both call into this one object, so a test sees the same
 * behaviour through `fs/promises`-style handles and through `*Sync` descriptors.
 *
 * @module
 */
import { CallTrace } from './call-trace.js';
import type { Change } from './changes.js';
import { applyChange } from './changes.js';
import { ChangeLog } from './change-log.js';
import { exploreCrashStates, type ExploredState } from './crash-states.js';
import { fsError } from './fs-error.js';
import { FaultInjector, type FaultOperation, type FiredFault } from './faults.js';
import type { OpenFlags } from './open-flags.js';
import { SimulatedStats } from './stats.js';
import {
  cloneState,
  createEmptyState,
  initOf,
  lookup,
  readFrom,
  sortedEntries,
  type FsState,
  type Inode,
  type InodeInit,
  type Lookup,
} from './state.js';

/** Settings of a kernel (see `CrashSimulatorOptions` for their meaning and defaults). */
export interface KernelSettings {
  readonly uid: number;
  readonly gid: number;
  readonly umask: number;
  readonly sectorSize: number | undefined;
  readonly maxCrashStates: number;
  readonly traceLimit: number;
}

/** What a descriptor refers to (Linux's open file description): the file, its flags and position. */
interface OpenDescription {
  readonly fd: number;
  readonly ino: number;
  readonly path: string;
  readonly flags: OpenFlags;
  position: number;
}

/** A directory entry as `readdir` reports it. */
export interface DirectoryEntry {
  readonly name: string;
  readonly kind: Inode['kind'];
}

const FIRST_FD = 100;

export class SimulatedKernel {
  readonly faults = new FaultInjector();
  /** The calls received, and the listeners called as each one enters. */
  readonly calls: CallTrace;
  private volatile: FsState;
  private durable: FsState;
  private readonly log = new ChangeLog();
  private readonly files = new Map<number, OpenDescription>();
  private nextFd = FIRST_FD;
  private nextIno: number;

  constructor(
    readonly settings: KernelSettings,
    initial?: FsState,
  ) {
    this.calls = new CallTrace(settings.traceLimit);
    this.durable = initial === undefined ? createEmptyState(settings.uid, settings.gid) : cloneState(initial);
    this.volatile = cloneState(this.durable);
    this.nextIno = Math.max(...this.durable.inodes.keys()) + 1;
  }

  // ---- observation -------------------------------------------------------------------------

  pendingChanges(): readonly string[] {
    return this.log.pending().map((pending) => pending.label);
  }

  /** The bytes at `path` as processes see them now (following links), or undefined. */
  readVolatile(path: string): Uint8Array | undefined {
    return readFrom(this.volatile, path);
  }

  /** The durable state's contents, for building a simulator from an explored state. */
  durableState(): FsState {
    return cloneState(this.durable);
  }

  crashStates(): Generator<ExploredState, void, undefined> {
    return exploreCrashStates(cloneState(this.durable), [...this.log.pending()], this.settings.maxCrashStates);
  }

  // ---- whole-file-system operations --------------------------------------------------------

  /** A power cut: every volatile change is lost and every descriptor is gone. */
  crash(): void {
    this.log.clear();
    this.volatile = cloneState(this.durable);
    this.files.clear();
  }

  /** Makes every pending change durable (the test-side `sim.sync()`; no fault, no trace). */
  flushAll(): void {
    this.log.flushAll(this.durable);
  }

  sync(): void {
    this.check(this.enter('sync', 'sync', []), 'sync');
    this.log.flushAll(this.durable);
  }

  syncfs(path: string): void {
    this.check(this.enter('syncfs', 'syncfs', [path]), 'syncfs', path);
    this.existing(lookup(this.volatile, path, true, 'syncfs'), 'syncfs', path);
    this.log.flushAll(this.durable);
  }

  // ---- descriptor operations ---------------------------------------------------------------

  open(path: string, flags: OpenFlags, mode = 0o666): number {
    this.check(this.enter('open', 'open', [path]), 'open', path);
    const followLast = !(flags.create && flags.exclusive) && !flags.noFollow;
    const found = lookup(this.volatile, path, followLast, 'open', path);
    let ino = found.ino;
    if (ino !== undefined) {
      if (flags.create && flags.exclusive) throw fsError('EEXIST', 'open', path);
      const node = this.inode(ino);
      if (node.kind === 'symlink') throw fsError('ELOOP', 'open', path);
      if (node.kind === 'directory') {
        if (flags.writable || flags.create) throw fsError('EISDIR', 'open', path);
      } else if (flags.directory) {
        throw fsError('ENOTDIR', 'open', path);
      } else if (flags.truncate && flags.writable && node.data.length > 0) {
        this.change({ type: 'truncate', ino, size: 0, init: initOf(node) }, `truncate ${found.path} to 0 bytes`);
      }
    } else {
      if (!flags.create) throw fsError('ENOENT', 'open', path);
      if (flags.directory) throw fsError('EINVAL', 'open', path);
      ino = this.nextIno++;
      const init: InodeInit = { kind: 'file', mode: mode & 0o7777 & ~this.settings.umask, uid: this.settings.uid, gid: this.settings.gid };
      this.change({ type: 'link', dir: found.parent.ino, name: found.name, ino, init }, `create ${found.path}`);
    }
    const fd = this.nextFd++;
    this.files.set(fd, { fd, ino, path: found.path, flags, position: 0 });
    return fd;
  }

  close(fd: number): void {
    const file = this.file(fd, 'close');
    this.files.delete(fd);
    this.check(this.enter('close', 'close', [file.path], fd), 'close');
  }

  write(fd: number, bytes: Uint8Array, position: number | null): number {
    const file = this.file(fd, 'write');
    const fired = this.enter('write', 'write', [file.path], fd);
    if (fired !== undefined && fired.shortWrite === undefined) throw fsError(fired.code, 'write');
    if (!file.flags.writable) throw fsError('EBADF', 'write');
    const node = this.inode(file.ino);
    if (node.kind !== 'file') throw fsError('EISDIR', 'write');
    const length = Math.min(bytes.length, fired?.shortWrite ?? bytes.length);
    const offset = file.flags.append ? node.data.length : (position ?? file.position);
    const sector = this.settings.sectorSize;
    let start = 0;
    while (start < length) {
      const absolute = offset + start;
      const end = sector === undefined ? length : Math.min(length, (Math.floor(absolute / sector) + 1) * sector - offset);
      const chunk = bytes.slice(start, end);
      this.change(
        { type: 'write', ino: file.ino, offset: absolute, bytes: chunk, init: initOf(node) },
        `write ${chunk.length} bytes at ${absolute} to ${file.path}`,
      );
      start = end;
    }
    if (position === null || file.flags.append) file.position = offset + length;
    if (file.flags.synchronous) this.log.flush(this.durable, file.ino);
    return length;
  }

  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    const file = this.file(fd, 'read');
    this.check(this.enter('read', 'read', [file.path], fd), 'read');
    if (!file.flags.readable) throw fsError('EBADF', 'read');
    const node = this.inode(file.ino);
    if (node.kind !== 'file') throw fsError('EISDIR', 'read');
    const from = position ?? file.position;
    const bytes = node.data.subarray(Math.min(from, node.data.length), Math.min(from + length, node.data.length));
    buffer.set(bytes, offset);
    if (position === null) file.position = from + bytes.length;
    return bytes.length;
  }

  /** `fsync` or `fdatasync` (treated alike: both make the file's data, size and mode durable). */
  flush(fd: number, syscall: 'fsync' | 'fdatasync'): void {
    const file = this.file(fd, syscall);
    const fired = this.enter(syscall, syscall, [file.path], fd);
    if (fired !== undefined) {
      if (fired.dropsUnflushed) this.log.drop(file.ino);
      throw fsError(fired.code, syscall);
    }
    this.log.flush(this.durable, file.ino);
  }

  fchmod(fd: number, mode: number): void {
    const file = this.file(fd, 'fchmod');
    this.check(this.enter('fchmod', 'chmod', [file.path], fd), 'fchmod');
    this.setAttributes(file.ino, file.path, { mode: mode & 0o7777 });
  }

  fchown(fd: number, uid: number, gid: number): void {
    const file = this.file(fd, 'fchown');
    this.check(this.enter('fchown', 'chown', [file.path], fd), 'fchown');
    this.setAttributes(file.ino, file.path, { uid, gid });
  }

  fstat(fd: number): SimulatedStats {
    const file = this.file(fd, 'fstat');
    this.check(this.enter('fstat', 'stat', [file.path], fd), 'fstat');
    return new SimulatedStats(this.inode(file.ino));
  }

  ftruncate(fd: number, size: number): void {
    const file = this.file(fd, 'ftruncate');
    this.check(this.enter('ftruncate', 'truncate', [file.path], fd), 'ftruncate');
    if (!file.flags.writable) throw fsError('EINVAL', 'ftruncate');
    const node = this.inode(file.ino);
    if (node.kind !== 'file') throw fsError('EINVAL', 'ftruncate');
    this.change({ type: 'truncate', ino: file.ino, size, init: initOf(node) }, `truncate ${file.path} to ${size} bytes`);
  }

  // ---- path operations ---------------------------------------------------------------------

  stat(path: string): SimulatedStats {
    this.check(this.enter('stat', 'stat', [path]), 'stat', path);
    return new SimulatedStats(this.existing(lookup(this.volatile, path, true, 'stat'), 'stat', path));
  }

  lstat(path: string): SimulatedStats {
    this.check(this.enter('lstat', 'lstat', [path]), 'lstat', path);
    return new SimulatedStats(this.existing(lookup(this.volatile, path, false, 'lstat'), 'lstat', path));
  }

  access(path: string): void {
    this.check(this.enter('access', 'stat', [path]), 'access', path);
    this.existing(lookup(this.volatile, path, true, 'access'), 'access', path);
  }

  /** `realpath(3)`: the canonical path of an existing file or directory, every link followed. */
  realpath(path: string): string {
    this.check(this.enter('realpath', 'realpath', [path]), 'realpath', path);
    const found = lookup(this.volatile, path, true, 'realpath');
    this.existing(found, 'realpath', path);
    return found.path;
  }

  readlink(path: string): string {
    this.check(this.enter('readlink', 'readlink', [path]), 'readlink', path);
    const node = this.existing(lookup(this.volatile, path, false, 'readlink'), 'readlink', path);
    if (node.kind !== 'symlink') throw fsError('EINVAL', 'readlink', path);
    return node.target;
  }

  chmod(path: string, mode: number): void {
    this.check(this.enter('chmod', 'chmod', [path]), 'chmod', path);
    const found = lookup(this.volatile, path, true, 'chmod');
    const node = this.existing(found, 'chmod', path);
    this.setAttributes(node.ino, found.path, { mode: mode & 0o7777 });
  }

  rename(from: string, to: string): void {
    this.check(this.enter('rename', 'rename', [from, to]), 'rename', from, to);
    const source = lookup(this.volatile, from, false, 'rename', from);
    const target = lookup(this.volatile, to, false, 'rename', to);
    if (source.ino === undefined) throw fsError('ENOENT', 'rename', from, to);
    if (source.name === '' || target.name === '') throw fsError('EBUSY', 'rename', from, to);
    if (source.ino === target.ino) return;
    const node = this.inode(source.ino);
    if (target.ino !== undefined) {
      const replaced = this.inode(target.ino);
      if (node.kind === 'directory') {
        if (replaced.kind !== 'directory') throw fsError('ENOTDIR', 'rename', from, to);
        if (replaced.entries.size > 0) throw fsError('ENOTEMPTY', 'rename', from, to);
      } else if (replaced.kind === 'directory') {
        throw fsError('EISDIR', 'rename', from, to);
      }
    }
    if (node.kind === 'directory' && target.path.startsWith(`${source.path}/`)) {
      throw fsError('EINVAL', 'rename', from, to);
    }
    const change: Change = {
      type: 'rename',
      fromDir: source.parent.ino,
      fromName: source.name,
      toDir: target.parent.ino,
      toName: target.name,
      ino: source.ino,
      init: initOf(node),
    };
    this.change(change, `rename ${source.path} -> ${target.path}`);
  }

  unlink(path: string): void {
    this.check(this.enter('unlink', 'unlink', [path]), 'unlink', path);
    const found = lookup(this.volatile, path, false, 'unlink');
    const node = this.existing(found, 'unlink', path);
    if (node.kind === 'directory') throw fsError(found.name === '' ? 'EBUSY' : 'EISDIR', 'unlink', path);
    this.change({ type: 'unlink', dir: found.parent.ino, name: found.name, ino: node.ino }, `unlink ${found.path}`);
  }

  rmdir(path: string): void {
    this.check(this.enter('rmdir', 'rmdir', [path]), 'rmdir', path);
    const found = lookup(this.volatile, path, false, 'rmdir');
    const node = this.existing(found, 'rmdir', path);
    if (node.kind !== 'directory') throw fsError('ENOTDIR', 'rmdir', path);
    if (found.name === '') throw fsError('EBUSY', 'rmdir', path);
    if (node.entries.size > 0) throw fsError('ENOTEMPTY', 'rmdir', path);
    this.change({ type: 'unlink', dir: found.parent.ino, name: found.name, ino: node.ino }, `rmdir ${found.path}`);
  }

  /** `mkdir`; with `recursive`, creates each missing parent and returns the first path created. */
  mkdir(path: string, mode = 0o777, recursive = false): string | undefined {
    this.check(this.enter('mkdir', 'mkdir', [path]), 'mkdir', path);
    if (!recursive) {
      const found = lookup(this.volatile, path, false, 'mkdir');
      if (found.ino !== undefined) throw fsError('EEXIST', 'mkdir', path);
      this.createDirectory(found, mode);
      return undefined;
    }
    const parts = path.split('/').filter((part) => part !== '');
    let first: string | undefined;
    for (let i = 1; i <= parts.length; i += 1) {
      const prefix = `/${parts.slice(0, i).join('/')}`;
      const found = lookup(this.volatile, prefix, true, 'mkdir', path);
      if (found.ino !== undefined) {
        if (this.inode(found.ino).kind !== 'directory') throw fsError(i === parts.length ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
        continue;
      }
      this.createDirectory(found, mode);
      first ??= prefix;
    }
    return first;
  }

  readdir(path: string): DirectoryEntry[] {
    this.check(this.enter('readdir', 'readdir', [path]), 'scandir', path);
    const node = this.existing(lookup(this.volatile, path, true, 'scandir'), 'scandir', path);
    if (node.kind !== 'directory') throw fsError('ENOTDIR', 'scandir', path);
    return sortedEntries(node).map(([name, ino]) => ({ name, kind: this.inode(ino).kind }));
  }

  symlink(target: string, path: string): void {
    this.check(this.enter('symlink', 'symlink', [path, target]), 'symlink', target, path);
    const found = lookup(this.volatile, path, false, 'symlink');
    if (found.ino !== undefined) throw fsError('EEXIST', 'symlink', target, path);
    const ino = this.nextIno++;
    const init: InodeInit = { kind: 'symlink', mode: 0o777, uid: this.settings.uid, gid: this.settings.gid, target };
    this.change({ type: 'link', dir: found.parent.ino, name: found.name, ino, init }, `symlink ${found.path} -> ${target}`);
  }

  // ---- internals ---------------------------------------------------------------------------

  private createDirectory(found: Lookup, mode: number): void {
    const ino = this.nextIno++;
    const init: InodeInit = { kind: 'directory', mode: mode & 0o7777 & ~this.settings.umask, uid: this.settings.uid, gid: this.settings.gid };
    this.change({ type: 'link', dir: found.parent.ino, name: found.name, ino, init }, `mkdir ${found.path}`);
  }

  private setAttributes(ino: number, path: string, attributes: { mode?: number; uid?: number; gid?: number }): void {
    const node = this.inode(ino);
    const what = attributes.mode !== undefined ? `chmod ${path} ${attributes.mode.toString(8)}` : `chown ${path} ${attributes.uid}:${attributes.gid}`;
    this.change({ type: 'attributes', ino, ...attributes, init: initOf(node) }, what);
  }

  private change(change: Change, label: string): void {
    applyChange(this.volatile, change);
    this.log.record(change, label);
  }

  /** A call enters: it is traced (its listeners run, and may throw), then its fault, if any, fires. */
  private enter(syscall: string, op: FaultOperation, paths: readonly string[], fd?: number): FiredFault | undefined {
    this.calls.record(syscall, paths, fd);
    return this.faults.fire(op, paths);
  }

  private check(fired: FiredFault | undefined, syscall: string, path?: string, dest?: string): void {
    if (fired !== undefined) throw fsError(fired.code, syscall, path, dest);
  }

  private file(fd: number, syscall: string): OpenDescription {
    const file = this.files.get(fd);
    if (file === undefined) throw fsError('EBADF', syscall);
    return file;
  }

  private inode(ino: number): Inode {
    const node = this.volatile.inodes.get(ino);
    /* c8 ignore next */
    if (node === undefined) throw new Error(`crash simulator: inode ${ino} is missing (a bug in the simulator)`);
    return node;
  }

  private existing(found: Lookup, syscall: string, path: string): Inode {
    if (found.ino === undefined) throw fsError('ENOENT', syscall, path);
    return this.inode(found.ino);
  }
}
