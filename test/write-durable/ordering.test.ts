/**
 * Regression tests for issue 9 item 4: calls are serialized per file actually replaced, in call
 * order, whatever name reaches it (a symlink to the file, a symlinked directory, `x/../`). In
 * 0.1.0 the per-path queue keyed on the normalised string, so `writeDurable('dir/a', <20 MiB>)`
 * then `writeDurable('link-to-dir/a', 'SECOND')` ran side by side, the small one finished first
 * and the file ended holding the first call's data.
 *
 * Also the sync/async contract: `writeDurableSync` cannot wait, so it refuses (EBUSY) while an
 * async write to the same file is queued or running, and an async call made just before a sync
 * one gives way rather than overwrite the newer data: the last call's data always wins.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurableWriteError } from '../../src/core/errors.js';
import { writeDurable, writeDurableSync } from '../../src/write/write-durable.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';
import { writeModes } from './modes.js';

const MiB = 1024 * 1024;

/** The file every name below reaches, relative to the tree's root. */
const FILE = 'real/sub/a';
/** Other names of {@link FILE}: a link to it, a linked directory, `..` after a linked directory. */
const LINK_TO_FILE = 'link-to-file';
const THROUGH_LINKED_DIR = 'link-to-dir/a';
const DOT_DOT = 'link-to-deep/../a';
const NAMES = [FILE, LINK_TO_FILE, THROUGH_LINKED_DIR, DOT_DOT] as const;

interface Tree {
  /** The absolute path of a name, `..` kept for the kernel to resolve. */
  at(name: string): string;
  /** Every real directory of the tree. */
  readonly dirs: readonly string[];
}

/**
 * `real/sub/a` (holding `ORIGINAL`) and its names: `link-to-file -> real/sub/a`,
 * `link-to-dir -> real/sub`, `link-to-deep -> real/sub/deep` (so `link-to-deep/../a` is
 * `real/sub/a` for the kernel, but `a` at the root for a lexical resolution).
 */
function buildTree(): Tree {
  const root = tempDir();
  mkdirSync(join(root, 'real/sub/deep'), { recursive: true });
  writeFileSync(join(root, FILE), 'ORIGINAL');
  symlinkSync(FILE, join(root, LINK_TO_FILE));
  symlinkSync('real/sub', join(root, 'link-to-dir'));
  symlinkSync('real/sub/deep', join(root, 'link-to-deep'));
  return {
    at: (name) => `${root}/${name}`,
    dirs: [root, join(root, 'real'), join(root, 'real/sub'), join(root, 'real/sub/deep')],
  };
}

/** Data of `size` bytes that starts with `label` and a `|`, so that each call's data is distinct. */
function payload(label: string, size: number): Buffer {
  const data = Buffer.alloc(Math.max(size, label.length + 1), '.');
  data.write(`${label}|`);
  return data;
}

/**
 * `payload(label, size)` as a stream of two halves with a pause between them: a write that is
 * still running, whatever the file system does with fsync, while a later call could overtake it.
 */
async function* slowly(data: Buffer): AsyncGenerator<Buffer> {
  const half = Math.floor(data.length / 2);
  yield data.subarray(0, half);
  await new Promise((resolve) => setTimeout(resolve, 50));
  yield data.subarray(half);
}

/** What a file or a payload holds, short enough for a failure message: its label and size. */
function describeData(data: Buffer): string {
  return `${data.subarray(0, data.indexOf('|')).toString('latin1')} (${data.length} bytes)`;
}

function contentOf(path: string): string {
  return describeData(readFileSync(path));
}

function expectNoTemps(tree: Tree): void {
  for (const dir of tree.dirs) expect(leftoverTemps(dir), `temporary files in ${dir}`).toEqual([]);
}

/** Calls `fn`, returning what it threw (undefined if it returned). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A promise that settles when a write's `onStep` first reports `step`: the write is running. */
function stepReached(step: string): { readonly reached: Promise<void>; onStep(event: { readonly step: string }): void } {
  let resolve: () => void = () => undefined;
  const reached = new Promise<void>((r) => (resolve = r));
  return { reached, onStep: (event) => event.step === step && resolve() };
}

describe('writeDurable calls through different names of one file run in call order (regression)', () => {
  for (const { through, second } of [
    { through: 'a symlink to the file', second: LINK_TO_FILE },
    { through: 'a symlinked directory', second: THROUGH_LINKED_DIR },
    { through: "'..' after a symlinked directory", second: DOT_DOT },
  ]) {
    it(`${through} (${second}): a 20 MiB streamed write then a small one resolve in call order, and the second one wins`, async () => {
      const tree = buildTree();
      const resolved: string[] = [];
      const first = writeDurable(tree.at(FILE), slowly(payload('FIRST', 20 * MiB))).then(() => resolved.push('first'));
      const last = writeDurable(tree.at(second), payload('SECOND', 0)).then(() => resolved.push('second'));
      await Promise.all([first, last]);
      expect(resolved).toEqual(['first', 'second']);
      expect(contentOf(tree.at(FILE))).toBe('SECOND (7 bytes)');
      expect(existsSync(tree.at('a')), 'a file at the lexical path a').toBe(false);
      expectNoTemps(tree);
    });
  }

  it('20 interleaved calls through 3 names, some of several MiB: each resolves in call order with its own data in place, and the last wins', async () => {
    const tree = buildTree();
    const names = [LINK_TO_FILE, THROUGH_LINKED_DIR, DOT_DOT];
    const calls = Array.from({ length: 20 }, (_, i) => {
      const size = i % 5 === 0 ? 3 * MiB : i % 5 === 2 ? MiB + i : 16 * i;
      return { name: names[i % names.length] ?? FILE, data: payload(`call ${i}`, size) };
    });
    const seen: string[] = [];
    const order: number[] = [];
    await Promise.all(
      calls.map(({ name, data }, i) =>
        writeDurable(tree.at(name), data).then(() => {
          order.push(i);
          seen.push(contentOf(tree.at(FILE)));
        }),
      ),
    );
    expect(order).toEqual(calls.map((_, i) => i));
    expect(seen).toEqual(calls.map(({ data }) => describeData(data)));
    const lastCall = calls[calls.length - 1];
    expect(contentOf(tree.at(FILE))).toBe(lastCall === undefined ? '' : describeData(lastCall.data));
    expectNoTemps(tree);
  });
});

describe.each(writeModes)('$name: hard links are separate names (contract test, not a regression test: 0.1.0 passes it too)', ({ write }) => {
  it('a write through one hard link replaces that name only: the other keeps the old inode and content', async () => {
    const tree = buildTree();
    linkSync(tree.at(FILE), tree.at('hard-link'));
    const inode = statSync(tree.at(FILE)).ino;
    await write(tree.at('hard-link'), payload('NEW', 0));
    expect(contentOf(tree.at('hard-link'))).toBe('NEW (4 bytes)');
    expect(readFileSync(tree.at(FILE), 'utf8')).toBe('ORIGINAL');
    expect(statSync(tree.at(FILE)).ino).toBe(inode);
    expect(statSync(tree.at('hard-link')).ino).not.toBe(inode);
    expectNoTemps(tree);
  });
});

describe('writeDurableSync while an async writeDurable to the same file is pending (regression)', () => {
  /** Expects `writeDurableSync(name)` to refuse with EBUSY at 'validate' before creating or writing anything. */
  function expectBusy(tree: Tree, name: string): void {
    const content = contentOf(tree.at(FILE));
    const steps: string[] = [];
    const error = thrownBy(() => writeDurableSync(tree.at(name), payload('SYNC', 0), { onStep: ({ step }) => steps.push(step) }));
    expect(error, `writeDurableSync(${name})`).toBeInstanceOf(DurableWriteError);
    expect(error).toMatchObject({ code: 'EBUSY', stage: 'validate' });
    // Only looked the target up: no temp file opened, nothing written or renamed.
    expect(steps.filter((step) => !['lstat', 'readlink', 'realpath', 'stat'].includes(step)), 'steps past the lookup').toEqual([]);
    // The async write may rename its own data in place meanwhile, never the sync call's.
    expect([content, 'FIRST (20971520 bytes)']).toContain(contentOf(tree.at(FILE)));
  }

  it('throws EBUSY through every name while the async write runs, then succeeds once it has settled', async () => {
    const tree = buildTree();
    const running = stepReached('open');
    const pending = writeDurable(tree.at(LINK_TO_FILE), payload('FIRST', 20 * MiB), { onStep: running.onStep });
    try {
      await running.reached;
      for (const name of NAMES) expectBusy(tree, name);
    } finally {
      // Never leave a write running into the next test (or into the removal of its tree).
      await Promise.allSettled([pending]);
    }
    await pending;
    expect(contentOf(tree.at(FILE))).toBe('FIRST (20971520 bytes)');
    expect(writeDurableSync(tree.at(DOT_DOT), payload('SYNC', 0)).path).toBe(realpathSync(tree.at(FILE)));
    expect(contentOf(tree.at(FILE))).toBe('SYNC (5 bytes)');
    expectNoTemps(tree);
  });

  it('throws EBUSY while a later async write is still queued behind the running one', async () => {
    const tree = buildTree();
    const running = stepReached('open');
    const first = writeDurable(tree.at(FILE), payload('FIRST', 20 * MiB), { onStep: running.onStep });
    const queued = writeDurable(tree.at(THROUGH_LINKED_DIR), payload('QUEUED', 0));
    try {
      await running.reached;
      expectBusy(tree, LINK_TO_FILE);
      await first;
      // The first write has settled; the second is queued or running: still busy.
      expectBusy(tree, DOT_DOT);
    } finally {
      await Promise.allSettled([first, queued]);
    }
    await queued;
    expect(contentOf(tree.at(FILE))).toBe('QUEUED (7 bytes)');
    writeDurableSync(tree.at(LINK_TO_FILE), payload('SYNC', 0));
    expect(contentOf(tree.at(FILE))).toBe('SYNC (5 bytes)');
    expectNoTemps(tree);
  });

  it('an async write immediately followed (same tick) by writeDurableSync through another name: the sync data wins, the async call gives way with EBUSY or was written first', async () => {
    const tree = buildTree();
    const earlier = writeDurable(tree.at(LINK_TO_FILE), payload('OLD', 20 * MiB)).then(
      () => undefined,
      (error: unknown) => error,
    );
    writeDurableSync(tree.at(FILE), payload('NEW', 0));
    const failure = await earlier;
    expect(contentOf(tree.at(FILE))).toBe('NEW (4 bytes)');
    if (failure !== undefined) {
      expect(failure).toBeInstanceOf(DurableWriteError);
      expect(failure).toMatchObject({ code: 'EBUSY', stage: 'validate' });
    }
    expectNoTemps(tree);
  });
});
