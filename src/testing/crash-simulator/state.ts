/**
 * The crash simulator's model of one file system's contents: a table of inodes (regular files,
 * directories, symbolic links) reachable from the root directory, inode 1, and the functions that
 * read it (path lookup, a file's bytes, a directory's names, a fingerprint).
 *
 * The simulator keeps two of these: the volatile state (what processes see: the page cache) and
 * the durable state (what the disk holds and a crash leaves behind). Both are plain data, cloned
 * for each explored crash state.
 *
 * @module
 */
import { posix } from 'node:path';
import { fsError } from './fs-error.js';

/** The inode number of the root directory. */
export const ROOT_INO = 1;

/** What every inode carries. */
interface InodeBase {
  readonly ino: number;
  /** Permission bits only (`0o644`), without the file-type bits. */
  mode: number;
  uid: number;
  gid: number;
}

/** A regular file: its bytes, exactly `data.length` long. */
export interface FileInode extends InodeBase {
  readonly kind: 'file';
  data: Uint8Array;
}

/** A directory: its entries, name to inode number. */
export interface DirectoryInode extends InodeBase {
  readonly kind: 'directory';
  readonly entries: Map<string, number>;
}

/** A symbolic link and the path it holds. */
export interface SymlinkInode extends InodeBase {
  readonly kind: 'symlink';
  readonly target: string;
}

export type Inode = FileInode | DirectoryInode | SymlinkInode;

/** The attributes an inode is created with (kept in each change, so a change can create it). */
export interface InodeInit {
  readonly kind: Inode['kind'];
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** The link's target, for a symlink. */
  readonly target?: string;
}

/** One file system's contents. */
export interface FsState {
  readonly inodes: Map<number, Inode>;
}

/** A state holding only an empty root directory. */
export function createEmptyState(uid: number, gid: number): FsState {
  const root: DirectoryInode = { ino: ROOT_INO, kind: 'directory', mode: 0o755, uid, gid, entries: new Map() };
  return { inodes: new Map<number, Inode>([[ROOT_INO, root]]) };
}

/** A deep copy: file bytes are shared, since every change replaces `data` instead of mutating it. */
export function cloneState(state: FsState): FsState {
  const inodes = new Map<number, Inode>();
  for (const [ino, node] of state.inodes) {
    if (node.kind === 'directory') inodes.set(ino, { ...node, entries: new Map(node.entries) });
    else inodes.set(ino, { ...node });
  }
  return { inodes };
}

/** Creates the inode `ino` from `init` unless it already exists; returns it. */
export function ensureInode(state: FsState, ino: number, init: InodeInit): Inode {
  const existing = state.inodes.get(ino);
  if (existing !== undefined) return existing;
  const base = { ino, mode: init.mode, uid: init.uid, gid: init.gid };
  let node: Inode;
  if (init.kind === 'directory') node = { ...base, kind: 'directory', entries: new Map() };
  else if (init.kind === 'symlink') node = { ...base, kind: 'symlink', target: init.target ?? '' };
  else node = { ...base, kind: 'file', data: new Uint8Array(0) };
  state.inodes.set(ino, node);
  return node;
}

/** The attributes `node` would be recreated with. */
export function initOf(node: Inode): InodeInit {
  const init = { kind: node.kind, mode: node.mode, uid: node.uid, gid: node.gid };
  return node.kind === 'symlink' ? { ...init, target: node.target } : init;
}

/** The entries of directory `dir`, sorted by name (as `readdir` lists them). */
export function sortedEntries(dir: DirectoryInode): Array<[name: string, ino: number]> {
  return [...dir.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function rootOf(state: FsState): DirectoryInode {
  const root = state.inodes.get(ROOT_INO);
  /* c8 ignore next */
  if (root?.kind !== 'directory') throw new Error('crash simulator: the root directory is missing (a bug in the simulator)');
  return root;
}

/** Where a path leads: the directory holding its last component, and what that name holds. */
export interface Lookup {
  /** The directory holding the final name (the root itself for `/`). */
  readonly parent: DirectoryInode;
  /** The final name; empty for the root directory. */
  readonly name: string;
  /** The inode the name holds, or undefined when absent. */
  readonly ino: number | undefined;
  /** The resolved absolute path (after following symbolic links). */
  readonly path: string;
}

const MAX_SYMLINKS = 40;

/**
 * Resolves the absolute `path` in `state` as the kernel's path walk does: component by
 * component, following symbolic links in every directory component (and in the final one when
 * `followLast` is set), and taking `..` from the directory actually reached, so that `..` after a
 * symlinked directory leads to the parent of the link's target, not of the link. Throws Node's
 * ENOENT, ENOTDIR or ELOOP (reporting `displayPath` and `syscall`). A path whose last component
 * is `.` or `..` resolves to that directory with an empty `name`, as the root does.
 */
export function lookup(
  state: FsState,
  path: string,
  followLast: boolean,
  syscall: string,
  displayPath: string = path,
  depth = 0,
): Lookup {
  if (depth > MAX_SYMLINKS) throw fsError('ELOOP', syscall, displayPath);
  const root = rootOf(state);
  // The directories walked through, root first: `..` pops one.
  const walked: { dir: DirectoryInode; path: string }[] = [{ dir: root, path: '/' }];
  const here = (): { dir: DirectoryInode; path: string } => walked[walked.length - 1] ?? { dir: root, path: '/' };
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  for (const [i, name] of parts.entries()) {
    const last = i === parts.length - 1;
    if (name === '..') {
      if (walked.length > 1) walked.pop();
      if (last) break;
      continue;
    }
    const { dir, path: dirPath } = here();
    const ino = dir.entries.get(name);
    const node = ino === undefined ? undefined : state.inodes.get(ino);
    if (node?.kind === 'symlink' && (followLast || !last)) {
      // Splice the link's target in place of the link, unnormalised: the walk resolves its `..`.
      const start = node.target.startsWith('/') ? node.target : `${dirPath === '/' ? '' : dirPath}/${node.target}`;
      return lookup(state, [start, ...parts.slice(i + 1)].join('/'), followLast, syscall, displayPath, depth + 1);
    }
    if (last) return { parent: dir, name, ino, path: posix.join(dirPath, name) };
    if (node === undefined) throw fsError('ENOENT', syscall, displayPath);
    if (node.kind !== 'directory') throw fsError('ENOTDIR', syscall, displayPath);
    walked.push({ dir: node, path: posix.join(dirPath, name) });
  }
  const reached = here();
  const parent = walked[walked.length - 2]?.dir ?? root;
  return { parent, name: '', ino: reached.dir.ino, path: reached.path };
}

/** The bytes of the regular file at `path` in `state` (following links), or undefined. */
export function readFrom(state: FsState, path: string): Uint8Array | undefined {
  let found: Lookup;
  try {
    found = lookup(state, path, true, 'open');
  } catch {
    return undefined;
  }
  if (found.ino === undefined) return undefined;
  const node = state.inodes.get(found.ino);
  if (node === undefined) return undefined;
  if (node.kind === 'directory') throw fsError('EISDIR', 'read', path);
  return node.kind === 'file' ? node.data.slice() : undefined;
}

/** The entry names of the directory at `path` in `state`, sorted, or undefined when it is not one. */
export function listFrom(state: FsState, path: string): string[] | undefined {
  try {
    const found = lookup(state, path, true, 'scandir');
    const node = found.ino === undefined ? undefined : state.inodes.get(found.ino);
    return node?.kind === 'directory' ? [...node.entries.keys()].sort() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A canonical text of everything reachable from the root: two states with the same fingerprint
 * look the same to every process. Used to report each explored crash state once.
 */
export function fingerprint(state: FsState): string {
  const lines: string[] = [];
  const visit = (ino: number, path: string, seen: Set<number>): void => {
    const node = state.inodes.get(ino);
    if (node === undefined) return;
    const head = `${path} ${node.kind} ${node.mode.toString(8)} ${node.uid}:${node.gid}`;
    if (node.kind === 'file') lines.push(`${head} ${Buffer.from(node.data).toString('base64')}`);
    else if (node.kind === 'symlink') lines.push(`${head} -> ${node.target}`);
    else {
      lines.push(head);
      if (seen.has(ino)) return;
      const inner = new Set(seen).add(ino);
      for (const [name, child] of sortedEntries(node)) visit(child, posix.join(path, name), inner);
    }
  };
  visit(ROOT_INO, '/', new Set());
  return lines.join('\n');
}
