/**
 * Differential testing of the compat layer: the same call made through the original package
 * and through durable-write/compat, each in its own fresh directory prepared alike, and the two
 * directories compared whole afterwards (every entry's bytes, mode and owner: a temp file left
 * behind, or a parent created with another mode, shows up as a difference), and with
 * {@link differential} how each call ended (its result, or its error's code).
 *
 * Run as root (CI), the differential files also run again as the unprivileged user `nobody`
 * (test/compat/unprivileged.test.ts); run as another user, they are that run.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
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

/**
 * A file's bytes, base64; a file its owner may not read (mode 0, say, without root) is made
 * readable for the read and given its mode back.
 */
function bytesOf(path: string, mode: number): string {
  try {
    return readFileSync(path).toString('base64');
  } catch (error) {
    if (Reflect.get(Object(error), 'code') !== 'EACCES') throw error;
    chmodSync(path, (mode & 0o7777) | 0o400);
    try {
      return readFileSync(path).toString('base64');
    } finally {
      chmodSync(path, mode & 0o7777);
    }
  }
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
        ...(kind === 'file' ? { bytes: bytesOf(path, stats.mode) } : {}),
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

/**
 * How a call ended, as the comparison sees it: what it returned (or resolved to), or the error's
 * `code` (an errno name, `ABORT_ERR`, or Node's `ERR_*`) and whether it is a `TypeError`. Not
 * compared here (docs/migrating.md lists both): the class of a failed step's error (a
 * `DurableWriteError` where the original throws Node's `Error`, with the same errno `code`), and
 * the wording of a `TypeError`'s message; tests that need a message compare {@link
 * DifferentialOutcome.errors}.
 */
export type CallOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code: unknown; readonly typeError: boolean };

/** How `call` ended, and the error it threw or rejected with (an assertion error is rethrown). */
async function settledOf(call: () => unknown): Promise<{ outcome: CallOutcome; error?: unknown }> {
  try {
    return { outcome: { ok: true, value: await call() } };
  } catch (error) {
    if (error instanceof Error && error.name === 'AssertionError') throw error;
    return { outcome: { ok: false, code: Reflect.get(Object(error), 'code'), typeError: error instanceof TypeError }, error };
  }
}

/** {@link TwinOutcome}, how each side's call ended, and the error each raised (`undefined` when none). */
export interface DifferentialOutcome extends TwinOutcome {
  readonly outcomes: { readonly original: CallOutcome; readonly compat: CallOutcome };
  readonly errors: { readonly original: unknown; readonly compat: unknown };
}

/**
 * {@link twins}, each side's call settled: its result or its error recorded (see
 * {@link CallOutcome}) rather than thrown, so that a failure is compared as a result is.
 */
export async function differential(
  name: string,
  prepare: (dir: string, target: string) => void,
  original: SideCall,
  compat: SideCall,
): Promise<DifferentialOutcome> {
  const settled: { outcome: CallOutcome; error?: unknown }[] = [];
  const trees = await twins(
    name,
    prepare,
    async (t) => settled.push(await settledOf(() => original(t))),
    async (t) => settled.push(await settledOf(() => compat(t))),
  );
  const [first, second] = settled;
  if (first === undefined || second === undefined) throw new Error('differential: a side was not called');
  return { ...trees, outcomes: { original: first.outcome, compat: second.outcome }, errors: { original: first.error, compat: second.error } };
}

/** Both sides left the same tree and ended the same way. */
export function expectAlike(outcome: DifferentialOutcome): void {
  expect(outcome.compat).toEqual(outcome.original);
  expect(outcome.outcomes.compat).toEqual(outcome.outcomes.original);
}

/** Prepares a directory for calls that fail on a bad path: a regular file `file` and a directory `dir` in it. */
export function fileAndDirectory(dir: string): void {
  writeFileSync(`${dir}/file`, 'a file');
  mkdirSync(`${dir}/dir`);
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
