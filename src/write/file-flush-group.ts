/**
 * Group commit for the flushes of appends: concurrent async `appendDurable` calls to one file
 * share its `fsync`/`fdatasync` instead of each making one.
 *
 * The mechanism is the directory group commit's (`directory-fsync-group.ts`), unchanged, keyed
 * by the file's canonical path under a seam object of its own per file system and flush method
 * (so a file flush never stands in for a directory fsync, nor an `fdatasync` for an `fsync`):
 *
 * - at most one flush of that method is in flight per file;
 * - a caller is covered only by a flush that started after it asked, and it asks only once its
 *   own write has returned;
 * - a flush's outcome is every covered caller's: all resolve, or all reject with its error.
 *   Nothing is retried.
 *
 * Why it is sound: `fsync(2)`/`fdatasync(2)` flush the inode's dirty data, whichever descriptor
 * wrote it; the flush runs on the descriptor of the first caller of the batch.
 *
 * @internal
 * @module
 */
import type { FlushMethod } from '../core/file-io.js';
import { sharedDirectoryFsync } from './directory-fsync-group.js';

/** The objects that stand for a seam's file flushes, one per method. */
const namespaces = new WeakMap<object, Readonly<Record<FlushMethod, object>>>();

function namespaceOf(seam: object, method: FlushMethod): object {
  let own = namespaces.get(seam);
  if (own === undefined) {
    own = { fsync: {}, fdatasync: {} };
    namespaces.set(seam, own);
  }
  return own[method];
}

/**
 * Resolves once a `method` flush of `file` that started after this call has succeeded; rejects
 * with that flush's error. `seam` identifies the file system, `file` the file by canonical path,
 * and `flush` flushes through the caller's own descriptor, used if it is the first of its batch.
 */
export function sharedFileFlush(seam: object, file: string, method: FlushMethod, flush: () => Promise<void>): Promise<void> {
  return sharedDirectoryFsync(namespaceOf(seam, method), file, flush);
}
