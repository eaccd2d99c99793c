/**
 * removeStaleTemps and removeStaleTempsSync on real directories: the leftovers of writer
 * processes killed with SIGKILL mid-stream (the library's real code, transpiled from src/, in
 * child processes), what is never removed (other names, directories, symlinks, temp files a
 * write in this process holds, young ones), dry runs, the cut names of long targets, the two
 * modes alike, the crash simulator, and argument checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFileSystem, type DurableFileSystem, type DurableStats } from '../../src/core/file-system.js';
import { createCrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';
import {
  isTempName,
  removeStaleTemps,
  removeStaleTempsSync,
  type RemoveStaleTempsOptions,
  type RemoveStaleTempsResult,
} from '../../src/write/remove-stale-temps.js';
import { BATCH_BYTES } from '../../src/write/data-source.js';
import { tempPathFor } from '../../src/write/temp-name.js';
import { writeDurable } from '../../src/write/write-durable.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { tempDir } from '../support/temp-dir.js';
import { transpileSources } from '../sync/support/transpile-sources.js';

const root = resolve(import.meta.dirname, '../..');
const MINUTE = 60_000;

/** Sets the file's mtime to `ageMs` ago. */
function age(path: string, ageMs: number): void {
  const when = new Date(Date.now() - ageMs);
  utimesSync(path, when, when);
}

/** Writes `content` at `dir/name`, last modified `ageMs` ago; returns its path. */
function leftover(dir: string, name: string, content: string, ageMs = 20 * MINUTE): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  age(path, ageMs);
  return path;
}

/** Polls until `found()` returns a value, or fails after `ms`. */
async function waitFor<T>(what: string, found: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = found();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((settle) => setTimeout(settle, 20));
  }
}

/** The name of a temp file of `target` in `dir` holding at least `minBytes`, once there is one. */
function tempOf(dir: string, target: string, minBytes: number): string | undefined {
  return readdirSync(dir).find((name) => name.startsWith(`.${target}.`) && name.endsWith('.tmp') && lstatSync(join(dir, name)).size >= minBytes);
}

/** A first batch the data source passes on at once: a write opens its temp file only once it has one. */
const firstBatch = Buffer.alloc(BATCH_BYTES, 0x61);

const paths = (result: RemoveStaleTempsResult): string[] => result.removed.map((temp) => temp.path);

describe('writer processes killed with SIGKILL mid-stream', () => {
  let lib: string;
  let writerScript: string;
  beforeAll(() => {
    lib = mkdtempSync(join(tmpdir(), 'dw-stale-temps-lib-'));
    const url = pathToFileURL(transpileSources(join(root, 'src/write/write-durable.ts'), root, join(lib, 'lib'))).href;
    writerScript = join(lib, 'writer.mjs');
    // A slow stream that never ends: 64 KiB now, then 64 KiB every 50 ms, until the process is killed.
    writeFileSync(
      writerScript,
      `import { Readable } from 'node:stream';
import { writeDurable } from ${JSON.stringify(url)};
const chunk = Buffer.alloc(64 * 1024, 0x61);
const data = new Readable({ read() {} });
data.push(chunk);
setInterval(() => data.push(chunk), 50);
await writeDurable(process.argv[2], data);
`,
    );
  });
  afterAll(() => {
    rmSync(lib, { recursive: true, force: true });
  });

  it('leave one temp file each; the default age keeps them, olderThanMs: 0 removes exactly those, and nothing else', async () => {
    const dir = tempDir();
    const real = realpathSync(dir);
    const targets = ['t0', 't1', 't2'];
    for (const target of targets) writeFileSync(join(dir, target), `old ${target}`);
    // Look-alikes that are not the library's temp files, old enough to be removed if they were.
    const unrelated = ['.hidden', 'a.tmp', '.x.tmp', '.t0.tmp', '.t0.0123456789ab.tmp.bak', '.t0.0123456789AB.tmp', '.t0.0123456789a.tmp'];
    for (const name of unrelated) leftover(dir, name, 'user data');
    mkdirSync(join(dir, '.dir.0123456789ab.tmp'));
    leftover(dir, 'outside-target', 'kept');
    symlinkSync(join(dir, 'outside-target'), join(dir, '.link.0123456789ab.tmp'));
    const before = new Set(readdirSync(dir));

    const children: ChildProcess[] = targets.map((target) =>
      spawn(process.execPath, [writerScript, join(dir, target)], { stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    const exits = children.map((child) => new Promise<NodeJS.Signals | null>((settle) => child.once('exit', (_code, signal) => settle(signal))));
    let leftovers: string[];
    try {
      leftovers = await Promise.all(targets.map((target) => waitFor(`the temp file of ${target}`, () => tempOf(dir, target, 64 * 1024))));
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
    expect(await Promise.all(exits)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);
    const sizes = leftovers.map((name) => lstatSync(join(dir, name)).size);
    expect(sizes.every((size) => size >= 64 * 1024)).toBe(true);

    const fresh = await removeStaleTemps(dir);
    expect(fresh.removed).toEqual([]);
    expect(fresh.kept.map((temp) => [temp.path, temp.reason])).toEqual(leftovers.map((name) => [join(real, name), 'recent']));

    const result = await removeStaleTemps(dir, { olderThanMs: 0 });
    expect(result.removed).toEqual(leftovers.map((name, i) => ({ path: join(real, name), size: sizes[i], ageMs: expect.any(Number) })));
    expect(result.kept).toEqual([]);
    expect(new Set(readdirSync(dir))).toEqual(before);
    for (const target of targets) expect(readFileSync(join(dir, target), 'utf8')).toBe(`old ${target}`);
    expect(readFileSync(join(dir, 'outside-target'), 'utf8')).toBe('kept');

    expect(await removeStaleTemps(dir, { olderThanMs: 0 })).toEqual({ removed: [], kept: [] });
  });
});

describe('a temp file held by a pending write in this process', () => {
  it('is never removed, even with olderThanMs: 0, in either mode; an unheld one beside it is', async () => {
    const dir = tempDir();
    const real = realpathSync(dir);
    const data = new PassThrough();
    data.write(firstBatch);
    const write = writeDurable(join(dir, 'state'), data);
    const held = await waitFor('the pending write to create its temp file', () => tempOf(dir, 'state', BATCH_BYTES));
    age(join(dir, held), 20 * MINUTE);
    const unheld = leftover(dir, '.state.0123456789ab.tmp', 'crashed');

    const result = await removeStaleTemps(dir, { olderThanMs: 0 });
    expect(paths(result)).toEqual([join(real, basename(unheld))]);
    expect(result.kept).toEqual([{ path: join(real, held), size: BATCH_BYTES, ageMs: expect.any(Number), reason: 'held' }]);
    expect(removeStaleTempsSync(dir, { olderThanMs: 0 }).kept.map((temp) => temp.reason)).toEqual(['held']);
    expect(existsSync(join(dir, held))).toBe(true);

    data.end('rest');
    await expect(write).resolves.toMatchObject({ bytesWritten: BATCH_BYTES + 'rest'.length });
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe(`${firstBatch.toString()}rest`);
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it('twin: once the write is aborted, its temp file is gone and nothing is held', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const data = new PassThrough();
    data.write(firstBatch);
    const write = writeDurable(join(dir, 'state'), data, { signal: controller.signal });
    await waitFor('the temp file', () => tempOf(dir, 'state', BATCH_BYTES));
    controller.abort();
    await expect(write).rejects.toMatchObject({ name: 'AbortError' });
    expect(await removeStaleTemps(dir, { olderThanMs: 0 })).toEqual({ removed: [], kept: [] });
  });
});

describe('what is removed', () => {
  it('by age: the default (15 minutes) and olderThanMs, with mtimes set by utimes', async () => {
    const dir = tempDir();
    const real = realpathSync(dir);
    leftover(dir, '.a.0123456789ab.tmp', 'old', 20 * MINUTE);
    leftover(dir, '.b.0123456789ab.tmp', 'five minutes', 5 * MINUTE);
    leftover(dir, '.c.0123456789ab.tmp', 'just now', 0);
    leftover(dir, '.d.0123456789ab.tmp', 'just under 15 minutes', 14 * MINUTE);

    const byDefault = await removeStaleTemps(dir);
    expect(byDefault.removed).toEqual([{ path: join(real, '.a.0123456789ab.tmp'), size: 3, ageMs: expect.any(Number) }]);
    expect(byDefault.removed[0]?.ageMs).toBeGreaterThanOrEqual(20 * MINUTE - 1000);
    expect(byDefault.removed[0]?.ageMs).toBeLessThan(21 * MINUTE);
    expect(byDefault.kept.map((temp) => [basename(temp.path), temp.reason])).toEqual([
      ['.b.0123456789ab.tmp', 'recent'],
      ['.c.0123456789ab.tmp', 'recent'],
      ['.d.0123456789ab.tmp', 'recent'],
    ]);

    const byMinute = removeStaleTempsSync(dir, { olderThanMs: MINUTE });
    expect(byMinute.removed.map((temp) => basename(temp.path))).toEqual(['.b.0123456789ab.tmp', '.d.0123456789ab.tmp']);
    expect(readdirSync(dir)).toEqual(['.c.0123456789ab.tmp']);
  });

  it('dryRun reports what would be removed and removes nothing, in both modes', async () => {
    const dir = tempDir();
    leftover(dir, '.a.0123456789ab.tmp', 'aa');
    leftover(dir, '.b.89abcdef.tmp', 'bbbb');
    const before = readdirSync(dir);

    const asyncRun = await removeStaleTemps(dir, { dryRun: true });
    const syncRun = removeStaleTempsSync(dir, { dryRun: true });
    expect(readdirSync(dir)).toEqual(before);
    expect(paths(asyncRun)).toEqual([join(realpathSync(dir), '.a.0123456789ab.tmp'), join(realpathSync(dir), '.b.89abcdef.tmp')]);
    expect(asyncRun.removed.map((temp) => temp.size)).toEqual([2, 4]);
    expect(syncRun.removed.map(({ path, size }) => ({ path, size }))).toEqual(asyncRun.removed.map(({ path, size }) => ({ path, size })));

    const real = await removeStaleTemps(dir);
    expect(paths(real)).toEqual(paths(asyncRun));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('in name order, whatever order the directory lists names in', async () => {
    const dir = tempDir();
    const names = ['.a.0123456789ab.tmp', '.b.0123456789ab.tmp', '.c.0123456789ab.tmp'];
    for (const name of names) leftover(dir, name, name);
    const reversed: DurableFileSystem = {
      ...nodeFileSystem,
      readdir: async (path) => readdirSync(path).sort().reverse(),
      readdirSync: (path) => readdirSync(path).sort().reverse(),
    };
    expect((await removeStaleTemps(dir, { fs: reversed, dryRun: true })).removed.map((temp) => basename(temp.path))).toEqual(names);
    expect(removeStaleTempsSync(dir, { fs: reversed }).removed.map((temp) => basename(temp.path))).toEqual(names);
  });

  it('the sync twin makes the same calls and gives the same result as the async function', async () => {
    const fixture = (): string => {
      const dir = tempDir();
      leftover(dir, '.a.0123456789ab.tmp', 'stale');
      leftover(dir, '.b.0123456789ab.tmp', 'young', MINUTE);
      leftover(dir, 'b', 'target');
      mkdirSync(join(dir, '.c.0123456789ab.tmp'));
      return dir;
    };
    const run = async (mode: 'async' | 'sync'): Promise<{ result: unknown; calls: string[] }> => {
      const dir = fixture();
      const { fs, calls } = faultyFileSystem();
      const raw = mode === 'async' ? await removeStaleTemps(dir, { fs }) : removeStaleTempsSync(dir, { fs });
      const relative = (path: string): string => path.replace(realpathSync(dir), '<dir>').replace(dir, '<dir>');
      const strip = ({ path, size }: { path: string; size: number }) => ({ path: relative(path), size });
      return {
        result: { removed: raw.removed.map(strip), kept: raw.kept.map((temp) => ({ ...strip(temp), reason: temp.reason })) },
        calls: calls.map((call) => `${call.op} ${relative(call.path)}`),
      };
    };
    const asyncRun = await run('async');
    expect(asyncRun.calls).toEqual([
      'realpath <dir>',
      'readdir <dir>',
      'lstat <dir>/.a.0123456789ab.tmp',
      'unlink <dir>/.a.0123456789ab.tmp',
      'lstat <dir>/.b.0123456789ab.tmp',
      'lstat <dir>/.c.0123456789ab.tmp',
    ]);
    expect(asyncRun.result).toEqual({
      removed: [{ path: '<dir>/.a.0123456789ab.tmp', size: 5 }],
      kept: [{ path: '<dir>/.b.0123456789ab.tmp', size: 5, reason: 'recent' }],
    });
    expect(await run('sync')).toEqual(asyncRun);
  });

  it('temp names of long targets, cut on a UTF-8 boundary: a 255-byte name and a multibyte one', async () => {
    const dir = tempDir();
    const long = 'n'.repeat(255);
    const multibyte = `${'é'.repeat(127)}x`;
    expect(Buffer.byteLength(multibyte)).toBe(255);
    const names = [long, multibyte].map((target) => basename(tempPathFor(join(dir, target))));
    for (const name of names) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
      expect(name.endsWith('.tmp')).toBe(true);
      leftover(dir, name, 'partial');
    }
    expect(names[1]).not.toContain('x');
    writeFileSync(join(dir, long), 'target');
    writeFileSync(join(dir, multibyte), 'target');
    const result = removeStaleTempsSync(dir);
    expect(paths(result)).toEqual(names.map((name) => join(realpathSync(dir), name)).sort());
    expect(readdirSync(dir).sort()).toEqual([long, multibyte].sort());
  });

  it('the shortest form, at the PATH_MAX edge: .<8 hex>.tmp with what is left of the name', async () => {
    const base = realpathSync(tempDir());
    // A directory whose path is 4078 bytes long leaves 16 bytes for a temp name: the 8-hex form.
    let deep = base;
    while (Buffer.byteLength(deep) < 4078) deep = join(deep, 'd'.repeat(Math.min(200, 4078 - Buffer.byteLength(deep) - 1)));
    expect(Buffer.byteLength(deep)).toBe(4078);
    mkdirSync(deep, { recursive: true });
    const name = basename(tempPathFor(join(deep, 'target')));
    expect(name).toMatch(/^\.ta\.[0-9a-f]{8}\.tmp$/);
    leftover(deep, name, 'partial');
    const result = await removeStaleTemps(deep);
    expect(paths(result)).toEqual([join(deep, name)]);
    expect(readdirSync(deep)).toEqual([]);
  });

  it('the temp-name form: what tempPathFor makes and 0.1.0 made, and nothing else', () => {
    for (const target of ['state.json', 'a', '.bashrc', 'x.tmp', 'with space', '日本語.txt', 'n'.repeat(255)]) {
      expect(isTempName(basename(tempPathFor(`/d/${target}`))), target).toBe(true);
    }
    for (const name of ['.state.json.0123456789ab.tmp', '..0123456789ab.tmp', '..89abcdef.tmp', '.t.89abcdef.tmp', '.a.b.c.0123456789ab.tmp']) {
      expect(isTempName(name), name).toBe(true);
    }
    for (const name of [
      '.hidden', 'a.tmp', '.x.tmp', '.0123456789ab.tmp', 'state.0123456789ab.tmp', '.s.0123456789AB.tmp', '.s.0123456789a.tmp',
      '.s.0123456789abc.tmp', '.s.0123456789ab.tmp~', '.s.0123456789ab.TMP', '.s.0123456789ab', '.s-0123456789ab.tmp', '.s.89abcdeg.tmp',
    ]) {
      expect(isTempName(name), name).toBe(false);
    }
  });

  it('a directory given through a symlink: paths are canonical, the files removed are in the real directory', async () => {
    const dir = tempDir();
    const real = join(realpathSync(dir), 'real');
    mkdirSync(real);
    symlinkSync(real, join(dir, 'link'));
    leftover(real, '.a.0123456789ab.tmp', 'x');
    expect(paths(await removeStaleTemps(join(dir, 'link')))).toEqual([join(real, '.a.0123456789ab.tmp')]);
    expect(readdirSync(real)).toEqual([]);
  });
});

describe('failures', () => {
  it('a missing directory, and a file given as the directory: DurableWriteError, stage stat', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    await expect(removeStaleTemps(join(dir, 'missing'))).rejects.toMatchObject({ name: 'DurableWriteError', code: 'ENOENT', stage: 'stat' });
    expect(() => removeStaleTempsSync(join(dir, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR', stage: 'stat' }));
  });

  it('a file that vanishes before its lstat or unlink is skipped, not an error', async () => {
    const dir = tempDir();
    leftover(dir, '.a.0123456789ab.tmp', 'x');
    leftover(dir, '.b.0123456789ab.tmp', 'x');
    leftover(dir, '.c.0123456789ab.tmp', 'x');
    const { fs } = faultyFileSystem({
      fail: ({ op, path }) =>
        (op === 'lstat' && path.endsWith('.a.0123456789ab.tmp')) || (op === 'unlink' && path.endsWith('.b.0123456789ab.tmp')) ? 'ENOENT' : undefined,
    });
    const result = await removeStaleTemps(dir, { fs });
    expect(result.removed.map((temp) => basename(temp.path))).toEqual(['.c.0123456789ab.tmp']);
    expect(result.kept).toEqual([]);
  });

  it('stats without an mtime (an untyped custom seam): the age is unknown, so the file counts as recent', async () => {
    const dir = tempDir();
    leftover(dir, '.a.0123456789ab.tmp', 'x');
    const noTimes: DurableFileSystem = {
      ...nodeFileSystem,
      lstat: async (path) => {
        const { ino, mode, uid, gid, size } = lstatSync(path);
        // What a JavaScript seam written against an older DurableStats may return.
        return { ino, mode, uid, gid, size, isFile: () => true, isDirectory: () => false, isSymbolicLink: () => false } as unknown as DurableStats;
      },
    };
    const result = await removeStaleTemps(dir, { fs: noTimes });
    expect(result.removed).toEqual([]);
    expect(result.kept.map((temp) => temp.reason)).toEqual(['recent']);
    expect(readdirSync(dir)).toEqual(['.a.0123456789ab.tmp']);
  });

  it('a refused unlink: DurableWriteError, stage rename, naming what was already removed', async () => {
    const dir = tempDir();
    leftover(dir, '.a.0123456789ab.tmp', 'x');
    leftover(dir, '.b.0123456789ab.tmp', 'x');
    leftover(dir, '.c.0123456789ab.tmp', 'x');
    const { fs } = faultyFileSystem({ fail: ({ op, path }) => (op === 'unlink' && path.endsWith('.b.0123456789ab.tmp') ? 'EACCES' : undefined) });
    const error = await removeStaleTemps(dir, { fs, olderThanMs: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DurableWriteError', code: 'EACCES', stage: 'remove', path: dir });
    expect(String((error as Error).message)).toContain(`1 stale temp file(s) were removed before it: ${join(realpathSync(dir), '.a.0123456789ab.tmp')}`);
    expect(readdirSync(dir).sort()).toEqual(['.b.0123456789ab.tmp', '.c.0123456789ab.tmp']);
  });

  it('an aborted signal: AbortError before anything is touched', async () => {
    const dir = tempDir();
    leftover(dir, '.a.0123456789ab.tmp', 'x');
    const { fs, calls } = faultyFileSystem();
    await expect(removeStaleTemps(dir, { fs, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toEqual([]);
  });
});

describe('on the crash simulator', () => {
  const files = { '/d/state': 'v1', '/d/.state.0123456789ab.tmp': 'partial', '/d/.hidden': 'h' };

  it('removes the leftover (the simulator has no timestamps: every file is old), the same calls in both modes', async () => {
    const sims = [createCrashSimulator({ files, directories: ['/d/.dir.0123456789ab.tmp'] }), createCrashSimulator({ files, directories: ['/d/.dir.0123456789ab.tmp'] })];
    const [first, second] = sims;
    if (first === undefined || second === undefined) throw new Error('unreachable');
    const asyncResult = await removeStaleTemps('/d', { fs: first.fs });
    const syncResult = removeStaleTempsSync('/d', { fs: second.fs });
    expect(asyncResult.removed).toEqual([{ path: '/d/.state.0123456789ab.tmp', size: 'partial'.length, ageMs: expect.any(Number) }]);
    expect(asyncResult.removed[0]?.ageMs).toBeGreaterThan(0);
    expect(syncResult.removed.map((temp) => temp.path)).toEqual(['/d/.state.0123456789ab.tmp']);
    const calls = sims.map((sim) => sim.trace().map((entry) => `${entry.syscall} ${entry.path ?? ''}`));
    for (const sim of sims) expect(sim.fs.readdirSync('/d')).toEqual(['.dir.0123456789ab.tmp', '.hidden', 'state']);
    expect(calls[0]).toEqual(['realpath /d', 'readdir /d', 'lstat /d/.dir.0123456789ab.tmp', 'lstat /d/.state.0123456789ab.tmp', 'unlink /d/.state.0123456789ab.tmp']);
    expect(calls[1]).toEqual(calls[0]);
  });

  it('a removal is not made durable: a crash may bring the leftover back, for the next cleanup', async () => {
    const sim = createCrashSimulator({ files });
    await removeStaleTemps('/d', { fs: sim.fs });
    sim.crash();
    expect(sim.fs.existsSync('/d/.state.0123456789ab.tmp')).toBe(true);
    expect(paths(await removeStaleTemps('/d', { fs: sim.fs }))).toEqual(['/d/.state.0123456789ab.tmp']);
  });

  it('keeps the temp file of a pending write on the simulator', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const data = new PassThrough();
    data.write(firstBatch);
    const write = writeDurable('/d/state', data, { fs: sim.fs });
    const held = await waitFor('the temp file', () => sim.fs.readdirSync('/d').find((name) => sim.fs.statSync(`/d/${name}`).size === BATCH_BYTES));
    const result = await removeStaleTemps('/d', { fs: sim.fs, olderThanMs: 0 });
    expect(result).toEqual({ removed: [], kept: [{ path: `/d/${held}`, size: BATCH_BYTES, ageMs: expect.any(Number), reason: 'held' }] });
    data.end();
    await write;
    expect(sim.readFile('/d/state')?.length).toBe(BATCH_BYTES);
  });
});

describe('bad arguments: a TypeError before anything is touched', () => {
  const withoutReaddir = (fs: DurableFileSystem): DurableFileSystem => {
    const { readdir: _readdir, readdirSync: _readdirSync, ...rest } = fs;
    return rest;
  };
  const cases: readonly { name: string; dir?: unknown; options: (fs: DurableFileSystem) => unknown; code: string; message?: RegExp }[] = [
    { name: 'an unknown option', options: (fs) => ({ fs, olderThan: 0 }), code: 'ERR_INVALID_ARG_VALUE', message: /unknown option 'olderThan' \(did you mean olderThanMs\?\)/ },
    { name: 'a negative olderThanMs', options: (fs) => ({ fs, olderThanMs: -1 }), code: 'ERR_INVALID_ARG_VALUE', message: /olderThanMs must be a non-negative finite number/ },
    { name: 'olderThanMs NaN', options: (fs) => ({ fs, olderThanMs: Number.NaN }), code: 'ERR_INVALID_ARG_VALUE' },
    { name: 'olderThanMs Infinity', options: (fs) => ({ fs, olderThanMs: Number.POSITIVE_INFINITY }), code: 'ERR_INVALID_ARG_VALUE' },
    { name: 'olderThanMs as a string', options: (fs) => ({ fs, olderThanMs: '900000' }), code: 'ERR_INVALID_ARG_TYPE' },
    { name: 'olderThanMs null', options: (fs) => ({ fs, olderThanMs: null }), code: 'ERR_INVALID_ARG_TYPE' },
    { name: 'a non-boolean dryRun', options: (fs) => ({ fs, dryRun: 'yes' }), code: 'ERR_INVALID_ARG_TYPE' },
    { name: 'options of the wrong type', options: () => 15, code: 'ERR_INVALID_ARG_TYPE' },
    { name: 'an empty dir', dir: '', options: (fs) => ({ fs }), code: 'ERR_INVALID_ARG_VALUE' },
    { name: 'a descriptor as dir', dir: 3, options: (fs) => ({ fs }), code: 'ERR_INVALID_ARG_TYPE' },
    { name: 'a seam without readdir', options: (fs) => ({ fs: withoutReaddir(fs) }), code: 'ERR_INVALID_ARG_TYPE', message: /lacks readdir/ },
  ];
  const modes = [
    { mode: 'removeStaleTemps', call: (dir: unknown, options: unknown) => removeStaleTemps(dir as string, options as RemoveStaleTempsOptions) },
    { mode: 'removeStaleTempsSync', call: async (dir: unknown, options: unknown) => removeStaleTempsSync(dir as string, options as RemoveStaleTempsOptions) },
  ];

  describe.each(modes)('$mode', ({ call }) => {
    it.each(cases)('$name', async ({ dir, options, code, message }) => {
      const real = tempDir();
      leftover(real, '.a.0123456789ab.tmp', 'x');
      const { fs, calls } = faultyFileSystem();
      const error: unknown = await call(dir === undefined ? real : dir, options(fs)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ code, ...(message === undefined ? {} : { message: expect.stringMatching(message) }) });
      expect(calls).toEqual([]);
      expect(readdirSync(real)).toEqual(['.a.0123456789ab.tmp']);
    });
  });

  it('the sync twin takes no signal, and needs readdirSync (readdir alone is not enough)', () => {
    const dir = tempDir();
    expect(() => removeStaleTempsSync(dir, { signal: AbortSignal.timeout(1000) } as RemoveStaleTempsOptions)).toThrow(/unknown option 'signal'/);
    const { readdirSync: _readdirSync, ...asyncOnly } = nodeFileSystem;
    expect(() => removeStaleTempsSync(dir, { fs: asyncOnly })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/lacks readdirSync/) }));
  });
});
