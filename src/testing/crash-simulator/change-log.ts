/**
 * The crash simulator's log of volatile changes: every change made since it was last made durable,
 * in order, each with the inodes whose flush it still waits for.
 *
 * A flush of inode N (`fsync`/`fdatasync` of a file or directory) clears N from every pending
 * change; a change with nothing left to wait for is applied to the durable state, in the order
 * the changes were made. `sync`/`syncfs` flush everything.
 *
 * @module
 */
import { applyChange, scopesOf, type Change } from './changes.js';
import type { FsState } from './state.js';

/** A change that has not reached the disk yet. */
export interface PendingChange {
  /** Order in which the change was made. */
  readonly seq: number;
  readonly change: Change;
  /** Human-readable: `create /data/state.json.tmp-1a2b`, `write 5 bytes at 0 to /data/x`. */
  readonly label: string;
  /** Inodes whose flush this change still waits for. */
  readonly scopes: Set<number>;
}

export class ChangeLog {
  private readonly changes: PendingChange[] = [];
  private seq = 0;

  /** Records a change already applied to the volatile state. */
  record(change: Change, label: string): void {
    this.seq += 1;
    this.changes.push({ seq: this.seq, change, label, scopes: new Set(scopesOf(change)) });
  }

  /** The pending changes, oldest first. */
  pending(): readonly PendingChange[] {
    return this.changes;
  }

  /** Makes durable every change that waited for inode `ino` and nothing else. */
  flush(durable: FsState, ino: number): void {
    for (const pending of this.changes) pending.scopes.delete(ino);
    this.settle(durable);
  }

  /** Makes every pending change durable, in order. */
  flushAll(durable: FsState): void {
    for (const pending of this.changes) pending.scopes.clear();
    this.settle(durable);
  }

  /**
   * Forgets every pending change that waited for inode `ino`: they will never reach the disk
   * (what Linux does to the dirty pages of a file whose writeback failed).
   */
  drop(ino: number): number {
    const before = this.changes.length;
    const kept = this.changes.filter((pending) => !pending.scopes.has(ino));
    this.changes.splice(0, this.changes.length, ...kept);
    return before - kept.length;
  }

  /** Forgets every pending change (a crash). */
  clear(): void {
    this.changes.splice(0, this.changes.length);
  }

  private settle(durable: FsState): void {
    const waiting: PendingChange[] = [];
    for (const pending of this.changes) {
      if (pending.scopes.size === 0) applyChange(durable, pending.change);
      else waiting.push(pending);
    }
    this.changes.splice(0, this.changes.length, ...waiting);
  }
}
