/**
 * Differential testing of the compat layer: the same call made through the original package
 * and through durable-write/compat, each in its own fresh directory prepared alike, and the two
 * directories compared whole afterwards (every entry's bytes, mode and owner: a temp file left
 * behind, or a parent created with another mode, shows up as a difference).
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tempDir } from '../support/temp-dir.js';

/** One entry of a directory tree, as the comparison sees it. */
export interface EntryState {
  readonly path: string;
  readonly kind: 'file' | 'directory' | 'symlink' | 'other';
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  /** The file's bytes, base64 (files only). */
  readonly bytes?: string;
}

/** Every entry under `root`, in name order, paths relative to it. */
export function treeOf(root: string, dir = root): EntryState[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      const stats = lstatSync(path);
      const kind = stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : stats.isSymbolicLink() ? 'symlink' : 'other';
      const entry: EntryState = {
        path: relative(root, path),
        kind,
        mode: (stats.mode & 0o7777).toString(8),
        uid: stats.uid,
        gid: stats.gid,
        ...(kind === 'file' ? { bytes: readFileSync(path).toString('base64') } : {}),
      };
      return kind === 'directory' ? [entry, ...treeOf(root, path)] : [entry];
    });
}

/** A call of one side: the target's path in its own directory. */
export type SideCall = (target: string) => unknown;

/** The two trees after the same call through each side. */
export interface TwinOutcome {
  readonly original: EntryState[];
  readonly compat: EntryState[];
}

/**
 * Makes two fresh directories, runs `prepare` on each (creating an existing target, say), then
 * the original's call in one and compat's in the other on `name` (which may have parent
 * directories), and returns both trees.
 */
export async function twins(name: string, prepare: (dir: string, target: string) => void, original: SideCall, compat: SideCall): Promise<TwinOutcome> {
  const outcome = async (call: SideCall): Promise<EntryState[]> => {
    const dir = tempDir('durable-write-compat-');
    prepare(dir, join(dir, name));
    await call(join(dir, name));
    return treeOf(dir);
  };
  return { original: await outcome(original), compat: await outcome(compat) };
}

/** Waits for the callback of a callback-form call: every argument of every call it gets, a little after the first. */
export function callbackCalls(start: (callback: (...args: unknown[]) => void) => unknown): Promise<{ calls: unknown[][]; returned: unknown }> {
  return new Promise((resolve) => {
    const calls: unknown[][] = [];
    const returned = start((...args) => {
      calls.push(args);
      if (calls.length === 1) setTimeout(() => resolve({ calls, returned }), 50);
    });
  });
}
