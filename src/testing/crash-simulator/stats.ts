/**
 * `fs.Stats`-shaped results of the crash simulator's `stat`, `lstat` and `fstat`, and the
 * `fs.Dirent`-shaped entries of `readdir({ withFileTypes: true })`.
 *
 * @module
 */
import { constants } from 'node:fs';
import type { DurableStats } from '../../core/file-system.js';
import type { Inode } from './state.js';

/** The device number every simulated file reports (one simulated file system). */
export const SIMULATED_DEVICE = 0x5eed;

const TYPE_BITS: Readonly<Record<Inode['kind'], number>> = {
  file: constants.S_IFREG,
  directory: constants.S_IFDIR,
  symlink: constants.S_IFLNK,
};

/** The file-type questions `fs.Stats` and `fs.Dirent` both answer, from the inode's kind. */
abstract class KindQuestions {
  protected abstract readonly kind: Inode['kind'];

  isFile(): boolean {
    return this.kind === 'file';
  }
  isDirectory(): boolean {
    return this.kind === 'directory';
  }
  isSymbolicLink(): boolean {
    return this.kind === 'symlink';
  }
}

/** What a simulated `stat` returns: the fields of `fs.Stats` that have a meaning here. */
export class SimulatedStats extends KindQuestions implements DurableStats {
  readonly dev = SIMULATED_DEVICE;
  readonly ino: number;
  /** File-type bits and permission bits, as in `fs.Stats`. */
  readonly mode: number;
  readonly nlink = 1;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly blksize = 4096;
  readonly blocks: number;
  /**
   * Always 0 (the epoch): the simulator does not model timestamps, so every simulated file is
   * as old as a file can be (`removeStaleTemps` on the simulator finds every leftover stale).
   */
  readonly mtimeMs = 0;
  protected readonly kind: Inode['kind'];

  constructor(node: Inode) {
    super();
    this.kind = node.kind;
    this.ino = node.ino;
    this.mode = TYPE_BITS[node.kind] | node.mode;
    this.uid = node.uid;
    this.gid = node.gid;
    this.size = node.kind === 'file' ? node.data.length : node.kind === 'symlink' ? Buffer.byteLength(node.target) : 4096;
    this.blocks = Math.ceil(this.size / 512);
  }

  isFIFO(): boolean {
    return false;
  }
  isSocket(): boolean {
    return false;
  }
  isBlockDevice(): boolean {
    return false;
  }
  isCharacterDevice(): boolean {
    return false;
  }
}

/** A `readdir({ withFileTypes: true })` entry. */
export class SimulatedDirent extends KindQuestions {
  constructor(
    readonly name: string,
    /** The directory that holds the entry. */
    readonly parentPath: string,
    protected readonly kind: Inode['kind'],
  ) {
    super();
  }
}
