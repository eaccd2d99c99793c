/**
 * Regression tests for issue 9 item 1: a path names exactly the file the kernel would open for
 * it. In 0.1.0 paths were normalised lexically (`path.resolve`) and relative link targets joined
 * the same way, but the kernel takes `..` from the directory it actually reached after following
 * a symlink: with `d -> real/sub` and `real/sub/link -> ../target`, `writeDurable('d/link')`
 * replaced `target` instead of `real/target`, and `writeDurable('d/../f')` wrote `f` where
 * `fs.writeFileSync` writes `real/f`.
 *
 * Every case asks the kernel itself: the same operation is done through `node:fs` on an identical
 * twin tree, and the library, run on a fresh tree, must change exactly the files the kernel
 * changed (or fail with the kernel's errno), report the canonical path of the file it replaced,
 * and leave no temporary file anywhere. Paths are joined with `/`, never with `path.join`, which
 * would normalise the `..` away before the library sees it.
 */
import {
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errnoCode } from '../../src/core/errors.js';
import { fsyncDirectory, fsyncDirectorySync } from '../../src/write/fsync-directory.js';
import { fsyncFile, fsyncFileSync } from '../../src/write/fsync-file.js';
import { renameDurable, renameDurableSync } from '../../src/write/rename-durable.js';
import type { WriteDurableResult } from '../../src/write/write-durable.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';
import { writeModes } from './modes.js';

/** Stands for the tree's root in absolute link targets (and in snapshots, so that two trees compare). */
const ROOT = '<root>';

/**
 * The tree every case starts from: `d -> real/sub` is the linked directory, and each name that a
 * lexical `..` could reach (`target`, `f`, `moveme`, `sub/`) exists both where the kernel goes and
 * where a lexical resolution would go, with different content, so that a wrong choice shows.
 */
const BASE_DIRS = ['real', 'real/sub', 'real/sub/nested', 'sub'];
const BASE_FILES: Readonly<Record<string, string>> = {
  target: 'top target',
  'real/target': 'real target',
  'real/sub/target': 'sub target',
  f: 'top f',
  'real/f': 'real f',
  'real/sub/nested/file': 'nested file',
  moveme: 'top moveme',
  'real/moveme': 'real moveme',
};
const BASE_LINKS: readonly Link[] = [['d', 'real/sub']];

/** A symlink: its name and its target (`<root>` stands for the tree's root). */
type Link = readonly [name: string, target: string];

/** What a case adds to (or takes from) the base tree. */
interface Layout {
  readonly links?: readonly Link[];
  readonly dirs?: readonly string[];
  readonly remove?: readonly string[];
}

function buildTree(layout: Layout): string {
  const root = tempDir();
  for (const dir of [...BASE_DIRS, ...(layout.dirs ?? [])]) mkdirSync(join(root, dir));
  for (const [name, content] of Object.entries(BASE_FILES)) writeFileSync(join(root, name), content);
  for (const [name, target] of [...BASE_LINKS, ...(layout.links ?? [])]) symlinkSync(target.replace(ROOT, root), join(root, name));
  for (const name of layout.remove ?? []) rmSync(join(root, name));
  return root;
}

/** Every entry below `root`, links not followed: `dir`, `link <target>` or `file <content>`. */
function snapshot(root: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(root, relative))) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const full = join(root, path);
      const stats = lstatSync(full);
      if (stats.isSymbolicLink()) entries.set(path, `link ${readlinkSync(full).replace(root, ROOT)}`);
      else if (stats.isDirectory()) {
        entries.set(path, 'dir');
        walk(path);
      } else entries.set(path, `file ${readFileSync(full, 'utf8')}`);
    }
  };
  walk('');
  return entries;
}

/** What changed between two snapshots, one line per entry: `path: before -> after`. */
function changes(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  return paths
    .filter((path) => before.get(path) !== after.get(path))
    .map((path) => `${path}: ${before.get(path) ?? '(none)'} -> ${after.get(path) ?? '(none)'}`);
}

/** The path of the changed entries that are now files. */
function changedFiles(changed: readonly string[]): string[] {
  return changed.filter((line) => / -> file /.test(line)).map((line) => line.slice(0, line.indexOf(': ')));
}

/** Turns a path relative to a tree's root into an absolute one, keeping its `..`. */
type At = (relative: string) => string;

/** One operation, done through node:fs on the twin and through the library on the subject. */
interface KernelCase<R> {
  readonly layout: Layout;
  /** The operation through node:fs: the kernel's own answer. */
  kernel(at: At): void;
  /** The same operation through the library. */
  library(at: At): Promise<R>;
  /** The library's `stage` when the kernel fails. */
  readonly stage?: string;
}

interface Compared<R> {
  readonly root: string;
  readonly result: R | undefined;
  /** The changes the kernel made (and the library too, since they were compared). */
  readonly changed: readonly string[];
  /** The errno with which the kernel refused the operation; undefined if it succeeded. */
  readonly kernelCode: string | undefined;
}

/**
 * Runs `c` through the kernel on a twin tree and through the library on a fresh one, and checks
 * that the library did what the kernel did: the same changes, the same errno, no temporary file.
 */
async function compareWithKernel<R>(c: KernelCase<R>): Promise<Compared<R>> {
  const twin = buildTree(c.layout);
  const twinBefore = snapshot(twin);
  let kernelCode: string | undefined;
  try {
    c.kernel((relative) => `${twin}/${relative}`);
  } catch (error) {
    kernelCode = errnoCode(error) ?? String(error);
  }
  const expected = changes(twinBefore, snapshot(twin));

  const root = buildTree(c.layout);
  const before = snapshot(root);
  let result: R | undefined;
  let failure: unknown;
  try {
    result = await c.library((relative) => `${root}/${relative}`);
  } catch (error) {
    failure = error;
  }
  const after = snapshot(root);
  const changed = changes(before, after);
  expect(changed, `the library changed [${changed.join('; ')}]; node:fs changed [${expected.join('; ')}]`).toEqual(expected);
  if (kernelCode === undefined) expect(failure, 'node:fs succeeded').toBeUndefined();
  else expect(failure, `node:fs failed with ${kernelCode}`).toMatchObject(c.stage === undefined ? { code: kernelCode } : { code: kernelCode, stage: c.stage });
  const directories = [root, ...[...after].filter(([, entry]) => entry === 'dir').map(([path]) => join(root, path))];
  for (const dir of directories) expect(leftoverTemps(dir), `temporary files in ${dir}`).toEqual([]);
  return { root, result, changed: expected, kernelCode };
}

/** Checks a write's result against the one file the kernel wrote. */
function expectReplaced(compared: Compared<WriteDurableResult>): string {
  const [written, ...others] = changedFiles(compared.changed);
  expect(others, 'node:fs wrote one file').toEqual([]);
  if (written === undefined) throw new Error('node:fs wrote no file');
  expect(compared.result?.path, 'result.path').toBe(realpathSync(join(compared.root, written)));
  return written;
}

const DATA = 'NEW CONTENT';

/** A write through a link shape: `path` relative to the root, as the caller spells it. */
interface WriteCase extends Layout {
  readonly name: string;
  readonly path: string;
  /** The file node:fs writes (a check on the layout), or the errno with which it refuses. */
  readonly kernelWrites: string;
}

const writeCases: readonly WriteCase[] = [
  { name: 'an absolute link (whose target passes a linked directory)', path: 'abs', links: [['abs', `${ROOT}/d/target`]], kernelWrites: 'real/sub/target' },
  { name: 'a relative link (whose target passes a linked directory)', path: 'rel', links: [['rel', 'd/target']], kernelWrites: 'real/sub/target' },
  { name: "a chain of links, absolute then relative with '..'", path: 'chain', links: [['chain', `${ROOT}/d/hop`], ['real/sub/hop', '../target']], kernelWrites: 'real/target' },
  { name: "'..' in a relative link's target, after a linked directory", path: 'd/link', links: [['real/sub/link', '../target']], kernelWrites: 'real/target' },
  { name: "'..' in the caller's path, after a linked directory", path: 'd/../f', kernelWrites: 'real/f' },
  { name: 'a linked directory in the middle of the path', path: 'd/nested/file', kernelWrites: 'real/sub/nested/file' },
  { name: 'a dangling link (names the file to create)', path: 'dangle', links: [['dangle', 'd/created']], kernelWrites: 'real/sub/created' },
  { name: "a dangling link whose target has '..' after a linked directory", path: 'd/dangle', links: [['real/sub/dangle', '../created']], kernelWrites: 'real/created' },
  { name: "a link loop through '..' (ELOOP at stage 'stat', nothing created)", path: 'd/loop', links: [['real/sub/loop', '../sub/loop']], kernelWrites: 'ELOOP' },
];

describe.each(writeModes)('$name writes the file the kernel opens for the path', ({ write }) => {
  for (const { name, path, kernelWrites, ...layout } of writeCases) {
    it(name, async () => {
      const compared = await compareWithKernel({
        layout,
        kernel: (at) => writeFileSync(at(path), DATA),
        library: (at) => write(at(path), DATA),
        stage: 'stat',
      });
      if (compared.kernelCode === undefined) expect(expectReplaced(compared)).toBe(kernelWrites);
      else expect([compared.kernelCode, compared.changed]).toEqual([kernelWrites, []]);
    });
  }

  it.each([
    ["a missing directory followed by '..' in the caller's path", 'missing/../f', []],
    ["a dangling link whose target passes a missing directory and '..'", 'via', [['via', 'nowhere/../f']]],
  ] as const)('%s: ENOENT at stage open, as the kernel fails the walk, nothing changed', async (_name, path, links) => {
    const compared = await compareWithKernel({
      layout: { links },
      kernel: (at) => writeFileSync(at(path), DATA),
      library: (at) => write(at(path), DATA),
      stage: 'open',
    });
    expect([compared.kernelCode, compared.changed]).toEqual(['ENOENT', []]);
  });

  it("createParents with d/../newdir/deeper/file creates the directories under real/, where mkdir -p puts them", async () => {
    const path = 'd/../newdir/deeper/file';
    const compared = await compareWithKernel({
      layout: {},
      kernel: (at) => {
        mkdirSync(dirname(at(path)), { recursive: true });
        writeFileSync(at(path), DATA);
      },
      library: (at) => write(at(path), DATA, { createParents: true }),
    });
    expect(expectReplaced(compared)).toBe('real/newdir/deeper/file');
    expect(compared.result?.createdDirectories).toEqual([
      realpathSync(join(compared.root, 'real/newdir')),
      realpathSync(join(compared.root, 'real/newdir/deeper')),
    ]);
  });
});

const renames = [
  { name: 'renameDurable', rename: renameDurable },
  { name: 'renameDurableSync', rename: async (...args: Parameters<typeof renameDurableSync>) => renameDurableSync(...args) },
];

const renameCases = [
  {
    name: "a 'to' of d/../moved lands where rename(2) puts it (real/moved)",
    from: 'moveme',
    to: 'd/../moved',
    kernelMoves: ['moveme: file top moveme -> (none)', 'real/moved: (none) -> file top moveme'],
  },
  {
    name: "a 'from' of d/../moveme moves the file rename(2) means (real/moveme)",
    from: 'd/../moveme',
    to: 'moved',
    kernelMoves: ['moved: (none) -> file real moveme', 'real/moveme: file real moveme -> (none)'],
  },
];

describe.each(renames)('$name renames the files the kernel means', ({ rename }) => {
  for (const { name, from, to, kernelMoves } of renameCases) {
    it(name, async () => {
      const compared = await compareWithKernel({
        layout: {},
        kernel: (at) => renameSync(at(from), at(to)),
        library: (at) => rename(at(from), at(to)),
      });
      expect(compared.changed, 'what node:fs moved').toEqual(kernelMoves);
    });
  }
});

/** The kernel's flush of a path: what `fsyncFile` and `fsyncDirectory` do through node:fs. */
function kernelFlush(path: string, flags: number): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

interface Flusher {
  readonly name: string;
  /** The flags node:fs opens the path with, as the library does. */
  readonly flags: number;
  flush(path: string): Promise<unknown>;
}

const fileFlushers: readonly Flusher[] = [
  { name: 'fsyncFile', flags: constants.O_RDONLY, flush: (path) => fsyncFile(path) },
  { name: 'fsyncFileSync', flags: constants.O_RDONLY, flush: async (path) => fsyncFileSync(path) },
];
const directoryFlushers: readonly Flusher[] = [
  { name: 'fsyncDirectory', flags: constants.O_RDONLY | constants.O_DIRECTORY, flush: (path) => fsyncDirectory(path) },
  { name: 'fsyncDirectorySync', flags: constants.O_RDONLY | constants.O_DIRECTORY, flush: async (path) => fsyncDirectorySync(path) },
];

/**
 * `d/../<entry>` where only the entry the kernel reaches (`real/<entry>`) exists: the flush
 * succeeds; and where only the one a lexical resolution would reach (`<entry>` at the root)
 * exists: it fails with ENOENT, as open(2) does.
 */
const flushCases = [
  ...fileFlushers.flatMap((flusher) => [
    { ...flusher, path: 'd/../f', layout: { remove: ['f'] }, kernelCode: undefined, outcome: 'succeeds on real/f (no f at the root)' },
    { ...flusher, path: 'd/../f', layout: { remove: ['real/f'] }, kernelCode: 'ENOENT', outcome: 'rejects with ENOENT where only f at the root exists' },
  ]),
  ...directoryFlushers.flatMap((flusher) => [
    { ...flusher, path: 'd/../only', layout: { dirs: ['real/only'] }, kernelCode: undefined, outcome: 'succeeds on real/only (no only/ at the root)' },
    { ...flusher, path: 'd/../only', layout: { dirs: ['only'] }, kernelCode: 'ENOENT', outcome: 'rejects with ENOENT where only only/ at the root exists' },
  ]),
];

describe('fsyncFile and fsyncDirectory open the path the kernel resolves', () => {
  for (const { name, path, outcome, layout, kernelCode, flags, flush } of flushCases) {
    it(`${name}(${path}) ${outcome}`, async () => {
      const compared = await compareWithKernel({
        layout,
        kernel: (at) => kernelFlush(at(path), flags),
        library: (at) => flush(at(path)),
        stage: 'open',
      });
      expect(compared.kernelCode, 'what node:fs did').toBe(kernelCode);
    });
  }
});
