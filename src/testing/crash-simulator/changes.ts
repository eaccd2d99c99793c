/**
 * The changes the crash simulator records: each modification of the file system, as a record that
 * can be applied to the volatile state at once and to the durable state later, when the flush
 * that covers it runs (or, in an explored crash state, when that state lets it reach the disk).
 *
 * Changes name inodes by number, never by path, so applying one does not depend on which earlier
 * changes reached the disk: a change creates the inode it needs when that inode is missing.
 *
 * @module
 */
import { ensureInode, type DirectoryInode, type FsState, type InodeInit } from './state.js';

/** A directory entry `name` in directory `dir` now names inode `ino` (create, mkdir, symlink). */
export interface LinkChange {
  readonly type: 'link';
  readonly dir: number;
  readonly name: string;
  readonly ino: number;
  readonly init: InodeInit;
}

/** The entry `name` of directory `dir`, naming `ino`, is removed (unlink, rmdir). */
export interface UnlinkChange {
  readonly type: 'unlink';
  readonly dir: number;
  readonly name: string;
  readonly ino: number;
}

/** The entry `fromName` in `fromDir` moves to `toName` in `toDir`, atomically. */
export interface RenameChange {
  readonly type: 'rename';
  readonly fromDir: number;
  readonly fromName: string;
  readonly toDir: number;
  readonly toName: string;
  readonly ino: number;
  readonly init: InodeInit;
}

/** Bytes written into a regular file at `offset` (the file grows, zero-filled, as needed). */
export interface WriteChange {
  readonly type: 'write';
  readonly ino: number;
  readonly offset: number;
  readonly bytes: Uint8Array;
  readonly init: InodeInit;
}

/** A regular file's size is set (truncate, O_TRUNC). */
export interface TruncateChange {
  readonly type: 'truncate';
  readonly ino: number;
  readonly size: number;
  readonly init: InodeInit;
}

/** An inode's mode or ownership is set (chmod, chown). */
export interface AttributesChange {
  readonly type: 'attributes';
  readonly ino: number;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly init: InodeInit;
}

export type Change = LinkChange | UnlinkChange | RenameChange | WriteChange | TruncateChange | AttributesChange;

const DIRECTORY_INIT: InodeInit = { kind: 'directory', mode: 0o755, uid: 0, gid: 0 };

function directory(state: FsState, ino: number): DirectoryInode | undefined {
  const node = ensureInode(state, ino, DIRECTORY_INIT);
  return node.kind === 'directory' ? node : undefined;
}

/**
 * The inodes whose flush makes `change` durable: the file for data and attributes, the directory
 * for an entry, both directories for a rename between two directories.
 */
export function scopesOf(change: Change): number[] {
  switch (change.type) {
    case 'link':
    case 'unlink':
      return [change.dir];
    case 'rename':
      return change.fromDir === change.toDir ? [change.fromDir] : [change.fromDir, change.toDir];
    default:
      return [change.ino];
  }
}

/** Applies `change` to `state` in place. */
export function applyChange(state: FsState, change: Change): void {
  switch (change.type) {
    case 'link': {
      ensureInode(state, change.ino, change.init);
      directory(state, change.dir)?.entries.set(change.name, change.ino);
      return;
    }
    case 'unlink': {
      const dir = directory(state, change.dir);
      if (dir?.entries.get(change.name) === change.ino) dir.entries.delete(change.name);
      return;
    }
    case 'rename': {
      ensureInode(state, change.ino, change.init);
      const from = directory(state, change.fromDir);
      if (from?.entries.get(change.fromName) === change.ino) from.entries.delete(change.fromName);
      directory(state, change.toDir)?.entries.set(change.toName, change.ino);
      return;
    }
    case 'write': {
      const node = ensureInode(state, change.ino, change.init);
      if (node.kind !== 'file') return;
      const end = change.offset + change.bytes.length;
      const data = new Uint8Array(Math.max(node.data.length, end));
      data.set(node.data);
      data.set(change.bytes, change.offset);
      node.data = data;
      return;
    }
    case 'truncate': {
      const node = ensureInode(state, change.ino, change.init);
      if (node.kind !== 'file') return;
      const data = new Uint8Array(change.size);
      data.set(node.data.subarray(0, change.size));
      node.data = data;
      return;
    }
    case 'attributes': {
      const node = ensureInode(state, change.ino, change.init);
      if (change.mode !== undefined) node.mode = change.mode;
      if (change.uid !== undefined) node.uid = change.uid;
      if (change.gid !== undefined) node.gid = change.gid;
      return;
    }
  }
}
