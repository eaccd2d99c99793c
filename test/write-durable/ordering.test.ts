/**
 * The order of writes to one file, whatever name reaches it (a symlink to the file, a symlinked
 * directory, `x/../`), and the sync/async contract.
 *
 * Regression tests for issue 9 item 4: in 0.1.0 the per-path queue keyed on the normalised string,
 * so `writeDurable('dir/a', <20 MiB>)` then `writeDurable('link-to-dir/a', 'SECOND')` ran side by
 * side, the small one finished first and the file ended holding the first call's data.
 *
 * Issue 20 changed the rule for names: a call waits at most 250 ms for the resolutions of older
 * calls through other paths (one stalled mount held up every write, stalled-resolution.test.ts),
 * so two calls through different names of one file can be admitted out of call order; the older
 * one then gives way (EBUSY, nothing written) if the newer one has already replaced the file, and
 * writes as usual if the newer one failed first. Either way the last call's data wins, and each promise that
 * resolves does so with its own data in place. Calls through the same path stay in call order
 * whatever their resolutions give (issue 20 item 5: a directory swapped for a symlink between two
 * calls let the older data win).
 *
 * The sync/async contract (issue 20 item 14a): `writeDurableSync` cannot wait, so it refuses
 * (EBUSY) while an async write through the same path or to the same file is queued or running
 * (its target resolved); an async call still resolving its target when a `writeDurableSync`
 * replaced the file gives way (EBUSY) at its turn.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurableWriteError } from '../../src/core/errors.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { writeDurable, writeDurableSync } from '../../src/write/write-durable.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';
import { gatedFileSystem, settled, unlessHung } from './gated-fs.js';
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

/** Expects `error` to be the EBUSY of an older call that gave way to newer data. */
function expectGaveWay(error: unknown): void {
  expect(error).toBeInstanceOf(DurableWriteError);
  expect(error).toMatchObject({ code: 'EBUSY', stage: 'validate' });
}

/** The steps a call made past looking its target up (none: it created, wrote and renamed nothing). */
function pastLookup(steps: readonly string[]): string[] {
  return steps.filter((step) => !['lstat', 'readlink', 'realpath', 'stat', 'access'].includes(step));
}

/**
 * Holds an older `writeDurable` through `olderName` at its resolution, runs `newer` (which must
 * replace the file), then lets the older call go: it must give way (EBUSY) having written
 * nothing, and the file must end holding `expected`.
 */
async function expectOlderGivesWay(tree: Tree, olderName: string, newer: () => unknown, expected: string): Promise<void> {
  const gate = gatedFileSystem((call) => call.op === 'realpath');
  const steps: string[] = [];
  try {
    const older = settled(writeDurable(tree.at(olderName), payload('OLDER', 0), { fs: gate.fs, onStep: ({ step }) => steps.push(step) }));
    await gate.reached;
    await unlessHung(Promise.resolve(newer()), 'the newer call');
    gate.release();
    const outcome = await older;
    expect(outcome).toHaveProperty('error');
    if ('error' in outcome) expectGaveWay(outcome.error);
  } finally {
    gate.release();
  }
  expect(pastLookup(steps), 'steps of the older call past the lookup').toEqual([]);
  expect(contentOf(tree.at(FILE))).toBe(expected);
  expectNoTemps(tree);
}

describe('writeDurable calls through different names of one file: the last call wins (regression)', () => {
  for (const { through, second } of [
    { through: 'a symlink to the file', second: LINK_TO_FILE },
    { through: 'a symlinked directory', second: THROUGH_LINKED_DIR },
    { through: "'..' after a symlinked directory", second: DOT_DOT },
  ]) {
    it(`${through} (${second}): a 20 MiB streamed write then a small one: the second one wins, the first resolves before it or gives way`, async () => {
      const tree = buildTree();
      const resolved: string[] = [];
      const first = settled(writeDurable(tree.at(FILE), slowly(payload('FIRST', 20 * MiB))).then(() => resolved.push('first')));
      const last = settled(writeDurable(tree.at(second), payload('SECOND', 0)).then(() => resolved.push('second')));
      const [firstOutcome, lastOutcome] = await Promise.all([first, last]);
      expect(lastOutcome).not.toHaveProperty('error');
      if ('error' in firstOutcome) {
        expectGaveWay(firstOutcome.error);
        expect(resolved).toEqual(['second']);
      } else {
        expect(resolved).toEqual(['first', 'second']);
      }
      expect(contentOf(tree.at(FILE))).toBe('SECOND (7 bytes)');
      expect(existsSync(tree.at('a')), 'a file at the lexical path a').toBe(false);
      expectNoTemps(tree);
    });
  }

  it('20 interleaved calls through 3 names, some of several MiB: those that resolve do so in call order with their own data in place, the others give way, and the last wins', async () => {
    const tree = buildTree();
    const names = [LINK_TO_FILE, THROUGH_LINKED_DIR, DOT_DOT];
    const calls = Array.from({ length: 20 }, (_, i) => {
      const size = i % 5 === 0 ? 3 * MiB : i % 5 === 2 ? MiB + i : 16 * i;
      return { name: names[i % names.length] ?? FILE, data: payload(`call ${i}`, size) };
    });
    const seen: string[] = [];
    const order: number[] = [];
    const outcomes = await Promise.all(
      calls.map(({ name, data }, i) =>
        settled(
          writeDurable(tree.at(name), data).then(() => {
            order.push(i);
            seen.push(contentOf(tree.at(FILE)));
          }),
        ),
      ),
    );
    const resolvedCalls = outcomes.flatMap((outcome, i) => ('error' in outcome ? [] : [i]));
    expect(order, 'the calls that resolved, in the order they did').toEqual(resolvedCalls);
    expect(seen).toEqual(resolvedCalls.map((i) => describeData(calls[i]?.data ?? Buffer.alloc(0))));
    for (const outcome of outcomes) if ('error' in outcome) expectGaveWay(outcome.error);
    expect(resolvedCalls.at(-1), 'the last call resolves').toBe(calls.length - 1);
    const lastCall = calls[calls.length - 1];
    expect(contentOf(tree.at(FILE))).toBe(lastCall === undefined ? '' : describeData(lastCall.data));
    expectNoTemps(tree);
  });

  it('an older call whose resolution is still pending when a newer call through another name has replaced the file gives way: EBUSY, nothing written', async () => {
    const tree = buildTree();
    await expectOlderGivesWay(tree, LINK_TO_FILE, () => writeDurable(tree.at(THROUGH_LINKED_DIR), payload('NEWER', 0)), 'NEWER (6 bytes)');
  });

  it('but if the newer call failed before its rename, the older one writes, as it would have in call order', async () => {
    const tree = buildTree();
    const gate = gatedFileSystem((call) => call.op === 'realpath');
    try {
      const older = writeDurable(tree.at(LINK_TO_FILE), payload('OLDER', 0), { fs: gate.fs });
      await gate.reached;
      const failing = writeDurable(
        tree.at(DOT_DOT),
        (function* () {
          yield payload('NEWER', 70_000);
          yield 5 as unknown as string;
        })(),
      );
      await expect(unlessHung(failing, 'the newer call')).rejects.toMatchObject({ stage: 'write' });
      gate.release();
      await expect(older).resolves.toMatchObject({ path: realpathSync(tree.at(FILE)) });
    } finally {
      gate.release();
    }
    expect(contentOf(tree.at(FILE))).toBe('OLDER (6 bytes)');
    expectNoTemps(tree);
  });
});

describe('a directory on the path swapped for a symlink between two calls through the same path (regression)', () => {
  it('the calls still run in call order, and the newer data wins', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'd'));
    mkdirSync(join(root, 'e'));
    writeFileSync(join(root, 'd/f'), 'D ORIGINAL');
    writeFileSync(join(root, 'e/f'), 'E ORIGINAL');
    const path = `${root}/d/f`;
    // The older call is held once it has resolved its target (root/d/f), before it opens the directory.
    const gate = gatedFileSystem((call) => call.op === 'open-directory');
    const order: string[] = [];
    try {
      const older = writeDurable(path, 'OLDER', { fs: gate.fs }).then(() => order.push('older'));
      await gate.reached;
      renameSync(join(root, 'd'), join(root, 'd-old'));
      symlinkSync('e', join(root, 'd'));
      // It resolves to root/e/f: another file than the older call's resolution, through the same path.
      const newer = writeDurable(path, 'NEWER').then(() => order.push('newer'));
      // Let the newer call finish first if it is not ordered behind the older one (then the older data would win).
      await Promise.race([newer, new Promise((resolve) => setTimeout(resolve, 200))]);
      gate.release();
      await Promise.all([older, newer]);
    } finally {
      gate.release();
    }
    expect(order).toEqual(['older', 'newer']);
    expect(readFileSync(join(root, 'e/f'), 'utf8')).toBe('NEWER');
    expect(readFileSync(join(root, 'd-old/f'), 'utf8')).toBe('D ORIGINAL');
    for (const dir of ['d-old', 'e']) expect(leftoverTemps(join(root, dir)), dir).toEqual([]);
  });

  it('writeDurableSync through the same path is refused (EBUSY) while the older call is queued, though it resolves to another file', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'd'));
    mkdirSync(join(root, 'e'));
    writeFileSync(join(root, 'e/f'), 'E ORIGINAL');
    const path = `${root}/d/f`;
    const gate = gatedFileSystem((call) => call.op === 'open-directory');
    try {
      const older = writeDurable(path, 'OLDER', { fs: gate.fs });
      await gate.reached;
      renameSync(join(root, 'd'), join(root, 'd-old'));
      symlinkSync('e', join(root, 'd'));
      expect(() => writeDurableSync(path, 'SYNC')).toThrow(expect.objectContaining({ code: 'EBUSY', stage: 'validate' }));
      expect(readFileSync(join(root, 'e/f'), 'utf8')).toBe('E ORIGINAL');
      gate.release();
      await older;
    } finally {
      gate.release();
    }
    expect(readFileSync(join(root, 'e/f'), 'utf8')).toBe('OLDER');
    writeDurableSync(path, 'SYNC');
    expect(readFileSync(join(root, 'e/f'), 'utf8')).toBe('SYNC');
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

describe('writeDurableSync and an async writeDurable to the same file, in either order (regression)', () => {
  /** Expects `writeDurableSync(name)` to refuse with EBUSY at 'validate' before creating or writing anything. */
  function expectBusy(tree: Tree, name: string): void {
    const content = contentOf(tree.at(FILE));
    const steps: string[] = [];
    const error = thrownBy(() => writeDurableSync(tree.at(name), payload('SYNC', 0), { onStep: ({ step }) => steps.push(step) }));
    expect(error, `writeDurableSync(${name})`).toBeInstanceOf(DurableWriteError);
    expect(error).toMatchObject({ code: 'EBUSY', stage: 'validate' });
    // Only looked the target up: no temp file opened, nothing written or renamed.
    expect(pastLookup(steps), 'steps past the lookup').toEqual([]);
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

  it('a writeDurableSync right after an awaited writeDurable of the same file is not refused (contract test)', async () => {
    const tree = buildTree();
    for (const data of [payload('WHOLE', 0), slowly(payload('STREAMED', 70_000))]) {
      await writeDurable(tree.at(LINK_TO_FILE), data);
      writeDurableSync(tree.at(FILE), payload('SYNC', 0));
      expect(contentOf(tree.at(FILE))).toBe('SYNC (5 bytes)');
    }
    expectNoTemps(tree);
  });

  for (const name of [FILE, LINK_TO_FILE]) {
    it(`an async write still resolving its target when writeDurableSync (through ${name}) replaces the file: the sync call writes, the async one gives way (EBUSY) at its turn, writing nothing`, async () => {
      const tree = buildTree();
      await expectOlderGivesWay(tree, FILE, () => writeDurableSync(tree.at(name), payload('SYNC', 0)), 'SYNC (5 bytes)');
    });
  }

  it('an async write still resolving its target when a writeDurableSync fails before its rename: the async one writes', async () => {
    const tree = buildTree();
    const gate = gatedFileSystem((call) => call.op === 'realpath');
    const failingFlush = faultyFileSystem({ fail: (call) => (call.op === 'sync' ? 'EIO' : undefined) });
    try {
      const older = settled(writeDurable(tree.at(FILE), payload('ASYNC', 0), { fs: gate.fs }));
      await gate.reached;
      expect(() => writeDurableSync(tree.at(LINK_TO_FILE), payload('SYNC', 0), { fs: failingFlush.fs })).toThrow(
        expect.objectContaining({ code: 'EIO', stage: 'flush' }),
      );
      expect(readFileSync(tree.at(FILE), 'utf8')).toBe('ORIGINAL');
      gate.release();
      expect(await older).toMatchObject({ value: { bytesWritten: 6 } });
    } finally {
      gate.release();
    }
    expect(contentOf(tree.at(FILE))).toBe('ASYNC (6 bytes)');
    expectNoTemps(tree);
  });
});
