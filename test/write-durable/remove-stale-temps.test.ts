/**
 * removeStaleTemps and removeStaleTempsSync on real directories: the leftovers of writer
 * processes killed with SIGKILL mid-stream (the library's real code, transpiled from src/, in
 * child processes), what is never removed (look-alike names, directories, symlinks, temp files a
 * write in this process holds, the temp files of live writers in other processes and in Worker
 * threads, young ones), the pid-reuse bound, 0.2.0's names, dry runs, the cut names of long
 * targets, the two modes alike, the crash simulator, and argument checks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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
import { basename, dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFileSystem, type DurableFileSystem, type DurableStats } from '../../src/core/file-system.js';
import { createCrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';
import {
  removeStaleTemps,
  removeStaleTempsSync,
  type RemoveStaleTempsOptions,
  type RemoveStaleTempsResult,
} from '../../src/write/remove-stale-temps.js';
import { BATCH_BYTES } from '../../src/write/data-source.js';
import { HIGHEST_PID, parseTempPath, tempPathFor } from '../../src/write/temp-name.js';
import { writeDurable } from '../../src/write/write-durable.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { tempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { transpileSources } from '../sync/support/transpile-sources.js';

const root = resolve(import.meta.dirname, '../..');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

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

/** A directory path of exactly `bytes` bytes under `base` (made by the caller), of components of at most 200 bytes. */
function deepPath(base: string, bytes: number): string {
  let dir = base;
  while (Buffer.byteLength(dir) < bytes) {
    const left = bytes - Buffer.byteLength(dir) - 1;
    // Never leave a single byte, which no component can take.
    dir = join(dir, 'd'.repeat(left > 200 ? Math.min(200, left - 2) : left));
  }
  return dir;
}

/** When this test process started, by the clock file times use. */
const processStart = (): number => Date.now() - process.uptime() * 1000;

/** Sets the file's mtime to a minute before this process started, and at least 20 minutes ago: the leftover of an earlier process that had this pid. */
function beforeThisProcess(path: string): void {
  const when = new Date(Math.min(Date.now() - 20 * MINUTE, processStart() - MINUTE));
  utimesSync(path, when, when);
}

/**
 * A pid no process has: pid_max when it is a pid Linux could give elsewhere (no pid here reaches
 * pid_max), else the pid of a child that has exited and been reaped.
 */
const DEAD_PID = ((): number => {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  if (pidMax <= HIGHEST_PID) return pidMax;
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid;
})();

/** A temp name of the current format: target `base`, made by `pid` (by default one that is not running). */
const tempName = (base: string, pid = DEAD_PID, hex = '0123456789ab'): string => `.${base}.${pid}.${hex}.dwtmp`;

/** The name of a temp file of `target` in `dir` holding at least `minBytes`, once there is one. */
function tempOf(dir: string, target: string, minBytes: number): string | undefined {
  return readdirSync(dir).find((name) => name.startsWith(`.${target}.`) && name.endsWith('.dwtmp') && lstatSync(join(dir, name)).size >= minBytes);
}

/** A first batch the data source passes on at once: a write opens its temp file only once it has one. */
const firstBatch = Buffer.alloc(BATCH_BYTES, 0x61);

const paths = (result: RemoveStaleTempsResult): string[] => result.removed.map((temp) => temp.path);
const reasons = (temps: readonly { path: string; reason: string }[]): string[][] => temps.map((temp) => [basename(temp.path), temp.reason]);

/** Look-alikes of temp names, none of which the library makes in an ordinary directory. */
const LOOK_ALIKES = [
  // Issue 21: a user's files that 0.2.0 took for its own (8 hex digits, `.tmp`).
  '.report.20241231.tmp',
  '.session.cafebabe.tmp',
  '.hidden',
  'a.tmp',
  '.x.tmp',
  '.cache.TMP',
  '.t0.tmp',
  '.t0.0123456789ab.tmp.bak',
  '.t0.0123456789AB.tmp',
  '.t0.0123456789a.tmp',
  '.t0.0123456789abc.tmp',
  '.t0.12345.0123456789ab.dwtmp~',
  't0.12345.0123456789ab.dwtmp',
  '.t0.0.0123456789ab.dwtmp',
  '.t0.012345.0123456789ab.dwtmp',
  `.t0.${HIGHEST_PID + 1}.0123456789ab.dwtmp`,
  '.t0.12345678.0123456789ab.dwtmp',
  '.t0.12345.0123456789AB.dwtmp',
  '.t0.12345.0123456789a.dwtmp',
  '.t0.12345.0123456789ab.DWTMP',
  '.t0.0123456789ab.dwtmp',
  // The 8-digit forms exist only at the PATH_MAX edge: never in an ordinary directory.
  '.t0.12345.89abcdef.dwtmp',
  '.t.89abcdef.tmp',
];

describe('writer processes killed with SIGKILL mid-stream, and live ones', () => {
  let lib: string;
  let libUrl: string;
  let writerScript: string;
  let idleWriterScript: string;
  beforeAll(() => {
    lib = mkdtempSync(join(tmpdir(), 'dw-stale-temps-lib-'));
    libUrl = pathToFileURL(transpileSources(join(root, 'src/write/write-durable.ts'), root, join(lib, 'lib'))).href;
    writerScript = join(lib, 'writer.mjs');
    // A slow stream that never ends: 64 KiB now, then 64 KiB every 50 ms, until the process is killed.
    writeFileSync(
      writerScript,
      `import { Readable } from 'node:stream';
import { writeDurable } from ${JSON.stringify(libUrl)};
const chunk = Buffer.alloc(64 * 1024, 0x61);
const data = new Readable({ read() {} });
data.push(chunk);
setInterval(() => data.push(chunk), 50);
await writeDurable(process.argv[2], data);
`,
    );
    // A writer that stalls: one batch, then nothing, its stream open until the process is killed.
    idleWriterScript = join(lib, 'idle-writer.mjs');
    writeFileSync(
      idleWriterScript,
      `import { Readable } from 'node:stream';
import { writeDurable } from ${JSON.stringify(libUrl)};
const data = new Readable({ read() {} });
data.push(Buffer.alloc(${BATCH_BYTES}, 0x61));
setInterval(() => {}, 1 << 30);
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
    for (const name of LOOK_ALIKES) leftover(dir, name, 'user data');
    mkdirSync(join(dir, tempName('dir')));
    leftover(dir, 'outside-target', 'kept');
    symlinkSync(join(dir, 'outside-target'), join(dir, tempName('link')));
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
    expect(leftovers.map((name) => parseTempPath(join(real, name))?.pid)).toEqual(children.map((child) => child.pid));
    const sizes = leftovers.map((name) => lstatSync(join(dir, name)).size);
    expect(sizes.every((size) => size >= 64 * 1024)).toBe(true);

    const fresh = await removeStaleTemps(dir);
    expect(fresh.removed).toEqual([]);
    expect(fresh.kept.map((temp) => [temp.path, temp.reason])).toEqual(leftovers.map((name) => [join(real, name), 'recent']));

    const result = await removeStaleTemps(dir, { olderThanMs: 0 });
    expect(result.removed).toEqual(
      leftovers.map((name, i) => ({ path: join(real, name), size: sizes[i], ageMs: expect.any(Number), pid: children[i]?.pid, reason: 'writer-dead' })),
    );
    expect(result.kept).toEqual([]);
    expect(new Set(readdirSync(dir))).toEqual(before);
    for (const target of targets) expect(readFileSync(join(dir, target), 'utf8')).toBe(`old ${target}`);
    expect(readFileSync(join(dir, 'outside-target'), 'utf8')).toBe('kept');

    expect(await removeStaleTemps(dir, { olderThanMs: 0 })).toEqual({ removed: [], kept: [] });
  });

  it('a live writer in another process keeps its temp file whatever its age, in both modes; SIGKILLed, its temp file goes', async () => {
    const dir = tempDir();
    const real = realpathSync(dir);
    writeFileSync(join(dir, 'state'), 'old');
    const child = spawn(process.execPath, [idleWriterScript, join(dir, 'state')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exit = new Promise<NodeJS.Signals | null>((settle) => child.once('exit', (_code, signal) => settle(signal)));
    let temp: string | undefined;
    try {
      temp = await waitFor('the temp file of the live writer', () => tempOf(dir, 'state', BATCH_BYTES));
      // Stalled for an hour, by its clock: older than the default age, younger than pidReuseAfterMs.
      age(join(dir, temp), HOUR);
      const expected = { path: join(real, temp), size: BATCH_BYTES, ageMs: expect.any(Number), pid: child.pid, reason: 'writer-alive' };
      expect(await removeStaleTemps(dir)).toEqual({ removed: [], kept: [expected] });
      expect(await removeStaleTemps(dir, { olderThanMs: 0 })).toEqual({ removed: [], kept: [expected] });
      expect(removeStaleTempsSync(dir, { olderThanMs: 0 })).toEqual({ removed: [], kept: [expected] });
      expect(readdirSync(dir).sort()).toEqual([temp, 'state']);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exit).toBe('SIGKILL');
    const after = await removeStaleTemps(dir);
    expect(reasons(after.removed)).toEqual([[temp, 'writer-dead']]);
    expect(readdirSync(dir)).toEqual(['state']);
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe('old');
  });

  it('issue 20: a write in a Worker thread of this process keeps its temp file, and commits', async () => {
    const dir = tempDir();
    const real = realpathSync(dir);
    writeFileSync(join(dir, 'state'), 'old');
    const script = join(lib, 'worker-writer.mjs');
    // The library loaded in the Worker is its own copy: this thread does not hold its temp file.
    writeFileSync(
      script,
      `import { parentPort, workerData } from 'node:worker_threads';
import { Readable } from 'node:stream';
import { writeDurable } from ${JSON.stringify(libUrl)};
const data = new Readable({ read() {} });
data.push(Buffer.alloc(${BATCH_BYTES}, 0x61));
parentPort.once('message', () => { data.push('end'); data.push(null); });
writeDurable(workerData, data).then(
  (result) => parentPort.postMessage({ bytesWritten: result.bytesWritten }),
  (error) => parentPort.postMessage({ code: error.code, stage: error.stage, message: error.message }),
);
`,
    );
    const worker = new Worker(script, { workerData: join(dir, 'state') });
    const outcome = new Promise<unknown>((settle, fail) => {
      worker.once('message', settle);
      worker.once('error', fail);
    });
    try {
      const temp = await waitFor('the temp file of the Worker', () => tempOf(dir, 'state', BATCH_BYTES));
      expect(parseTempPath(join(real, temp))?.pid).toBe(process.pid);
      // Any age: its mtime is not set back, which would date it before this process started (see the own-pid test).
      const kept = [{ path: join(real, temp), size: BATCH_BYTES, ageMs: expect.any(Number), pid: process.pid, reason: 'writer-alive' }];
      expect(await removeStaleTemps(dir, { olderThanMs: 0 })).toEqual({ removed: [], kept });
      expect(removeStaleTempsSync(dir, { olderThanMs: 0 })).toEqual({ removed: [], kept });
      worker.postMessage('end');
      expect(await outcome).toEqual({ bytesWritten: BATCH_BYTES + 'end'.length });
    } finally {
      await worker.terminate();
    }
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe(`${'a'.repeat(BATCH_BYTES)}end`);
    expect(readdirSync(dir)).toEqual(['state']);
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
    const unheld = leftover(dir, tempName('state'), 'crashed');

    const result = await removeStaleTemps(dir, { olderThanMs: 0 });
    expect(paths(result)).toEqual([join(real, basename(unheld))]);
    expect(result.kept).toEqual([{ path: join(real, held), size: BATCH_BYTES, ageMs: expect.any(Number), pid: process.pid, reason: 'held' }]);
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

describe('the writer named in the temp file: liveness, and the bound for pid reuse', () => {
  it('issue 21: look-alike names are never removed, whatever their age', async () => {
    const dir = tempDir();
    for (const name of LOOK_ALIKES) leftover(dir, name, 'user data', 30 * 24 * HOUR);
    expect(await removeStaleTemps(dir, { olderThanMs: 0 })).toEqual({ removed: [], kept: [] });
    expect(removeStaleTempsSync(dir, { olderThanMs: 0, pidReuseAfterMs: 0 })).toEqual({ removed: [], kept: [] });
    expect(readdirSync(dir).sort()).toEqual([...LOOK_ALIKES].sort());
  });

  it('a writer that is not running: removed once older than olderThanMs, kept as recent before', async () => {
    const dir = tempDir();
    leftover(dir, tempName('old'), 'x', 20 * MINUTE);
    leftover(dir, tempName('young'), 'x', MINUTE);
    const result = await removeStaleTemps(dir);
    expect(result.removed).toEqual([{ path: join(realpathSync(dir), tempName('old')), size: 1, ageMs: expect.any(Number), pid: DEAD_PID, reason: 'writer-dead' }]);
    expect(reasons(result.kept)).toEqual([[tempName('young'), 'recent']]);
  });

  it('a running pid is trusted for pidReuseAfterMs (default 24 hours); past it, it is taken as reused and age alone guards the file', async () => {
    const dir = tempDir();
    // pid 1 always runs: init, or a container's first process.
    leftover(dir, tempName('a', 1), 'x', 2 * HOUR);
    leftover(dir, tempName('b', 1), 'x', 25 * HOUR);
    const byDefault = await removeStaleTemps(dir, { dryRun: true });
    expect(reasons(byDefault.kept)).toEqual([[tempName('a', 1), 'writer-alive']]);
    expect(reasons(byDefault.removed)).toEqual([[tempName('b', 1), 'pid-reused']]);
    expect(byDefault.removed[0]?.pid).toBe(1);

    const anHour = removeStaleTempsSync(dir, { dryRun: true, pidReuseAfterMs: HOUR });
    expect(reasons(anHour.removed)).toEqual([
      [tempName('a', 1), 'pid-reused'],
      [tempName('b', 1), 'pid-reused'],
    ]);
    // Past the bound, olderThanMs still guards.
    const older = await removeStaleTemps(dir, { dryRun: true, pidReuseAfterMs: HOUR, olderThanMs: 3 * HOUR });
    expect(reasons(older.kept)).toEqual([[tempName('a', 1), 'recent']]);
    // 0 trusts no pid.
    expect(reasons((await removeStaleTemps(dir, { pidReuseAfterMs: 0 })).removed)).toEqual([
      [tempName('a', 1), 'pid-reused'],
      [tempName('b', 1), 'pid-reused'],
    ]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("this process's own pid: kept when made since this process started (another thread may be writing), removed when older than this process", async () => {
    const dir = tempDir();
    leftover(dir, tempName('mine', process.pid), 'x', 0);
    const earlier = leftover(dir, tempName('restarted', process.pid), 'x');
    beforeThisProcess(earlier);
    const result = await removeStaleTemps(dir, { olderThanMs: 0 });
    expect(reasons(result.kept)).toEqual([[tempName('mine', process.pid), 'writer-alive']]);
    expect(reasons(result.removed)).toEqual([[tempName('restarted', process.pid), 'pid-reused']]);
    expect(readdirSync(dir)).toEqual([tempName('mine', process.pid)]);
  });

  it("0.2.0's names, exactly: removed by age alone (they carry no pid)", async () => {
    const dir = tempDir();
    leftover(dir, '.state.json.0123456789ab.tmp', 'partial');
    leftover(dir, '.young.0123456789ab.tmp', 'partial', MINUTE);
    const result = await removeStaleTemps(dir);
    expect(result.removed).toEqual([{ path: join(realpathSync(dir), '.state.json.0123456789ab.tmp'), size: 7, ageMs: expect.any(Number), pid: undefined, reason: 'no-pid' }]);
    expect(reasons(result.kept)).toEqual([['.young.0123456789ab.tmp', 'recent']]);
  });
});

describe('what is removed', () => {
  it('by age: the default (15 minutes) and olderThanMs, with mtimes set by utimes', async () => {
    const dir = tempDir();
    const real = realpathSync(dir);
    leftover(dir, tempName('a'), 'old', 20 * MINUTE);
    leftover(dir, tempName('b'), 'five minutes', 5 * MINUTE);
    leftover(dir, tempName('c'), 'just now', 0);
    leftover(dir, tempName('d'), 'just under 15 minutes', 14 * MINUTE);

    const byDefault = await removeStaleTemps(dir);
    expect(byDefault.removed).toEqual([{ path: join(real, tempName('a')), size: 3, ageMs: expect.any(Number), pid: DEAD_PID, reason: 'writer-dead' }]);
    expect(byDefault.removed[0]?.ageMs).toBeGreaterThanOrEqual(20 * MINUTE - 1000);
    expect(byDefault.removed[0]?.ageMs).toBeLessThan(21 * MINUTE);
    expect(reasons(byDefault.kept)).toEqual([
      [tempName('b'), 'recent'],
      [tempName('c'), 'recent'],
      [tempName('d'), 'recent'],
    ]);

    const byMinute = removeStaleTempsSync(dir, { olderThanMs: MINUTE });
    expect(byMinute.removed.map((temp) => basename(temp.path))).toEqual([tempName('b'), tempName('d')]);
    expect(readdirSync(dir)).toEqual([tempName('c')]);
  });

  it('dryRun reports what would be removed and why, and removes nothing, in both modes', async () => {
    const dir = tempDir();
    leftover(dir, tempName('a'), 'aa');
    leftover(dir, '.b.0123456789ab.tmp', 'bbbb');
    leftover(dir, tempName('c', 1), 'alive');
    const before = readdirSync(dir);

    const asyncRun = await removeStaleTemps(dir, { dryRun: true });
    const syncRun = removeStaleTempsSync(dir, { dryRun: true });
    expect(readdirSync(dir)).toEqual(before);
    expect(paths(asyncRun)).toEqual([join(realpathSync(dir), tempName('a')), join(realpathSync(dir), '.b.0123456789ab.tmp')]);
    expect(asyncRun.removed.map((temp) => [temp.size, temp.pid, temp.reason])).toEqual([
      [2, DEAD_PID, 'writer-dead'],
      [4, undefined, 'no-pid'],
    ]);
    expect(reasons(asyncRun.kept)).toEqual([[tempName('c', 1), 'writer-alive']]);
    const strip = ({ ageMs: _ageMs, ...rest }: { ageMs: number }): object => rest;
    expect({ removed: syncRun.removed.map(strip), kept: syncRun.kept.map(strip) }).toEqual({ removed: asyncRun.removed.map(strip), kept: asyncRun.kept.map(strip) });

    const real = await removeStaleTemps(dir);
    expect(paths(real)).toEqual(paths(asyncRun));
    expect(readdirSync(dir)).toEqual([tempName('c', 1)]);
  });

  it('in name order, whatever order the directory lists names in', async () => {
    const dir = tempDir();
    const names = [tempName('a'), tempName('b'), tempName('c')];
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
      leftover(dir, tempName('a'), 'stale');
      leftover(dir, tempName('b'), 'young', MINUTE);
      leftover(dir, 'b', 'target');
      mkdirSync(join(dir, tempName('c')));
      return dir;
    };
    const run = async (mode: 'async' | 'sync'): Promise<{ result: unknown; calls: string[] }> => {
      const dir = fixture();
      const { fs, calls } = faultyFileSystem();
      const raw = mode === 'async' ? await removeStaleTemps(dir, { fs }) : removeStaleTempsSync(dir, { fs });
      const relative = (path: string): string => path.replace(realpathSync(dir), '<dir>').replace(dir, '<dir>');
      const strip = ({ path, size, reason }: { path: string; size: number; reason: string }) => ({ path: relative(path), size, reason });
      return {
        result: { removed: raw.removed.map(strip), kept: raw.kept.map(strip) },
        calls: calls.map((call) => `${call.op} ${relative(call.path)}`),
      };
    };
    const asyncRun = await run('async');
    expect(asyncRun.calls).toEqual([
      'realpath <dir>',
      'readdir <dir>',
      `lstat <dir>/${tempName('a')}`,
      `unlink <dir>/${tempName('a')}`,
      `lstat <dir>/${tempName('b')}`,
      `lstat <dir>/${tempName('c')}`,
    ]);
    expect(asyncRun.result).toEqual({
      removed: [{ path: `<dir>/${tempName('a')}`, size: 5, reason: 'writer-dead' }],
      kept: [{ path: `<dir>/${tempName('b')}`, size: 5, reason: 'recent' }],
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
      // NAME_MAX, or a byte short where a 2-byte character did not fit.
      expect(Buffer.byteLength(name)).toBeGreaterThanOrEqual(254);
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
      expect(parseTempPath(join(dir, name))?.pid).toBe(process.pid);
      // Made by this process, but left before it started: the leftover of an earlier process that had this pid.
      beforeThisProcess(leftover(dir, name, 'partial'));
    }
    expect(names[1]).not.toContain('x');
    writeFileSync(join(dir, long), 'target');
    writeFileSync(join(dir, multibyte), 'target');
    const result = removeStaleTempsSync(dir);
    expect(paths(result)).toEqual(names.map((name) => join(realpathSync(dir), name)).sort());
    expect(readdirSync(dir).sort()).toEqual([long, multibyte].sort());
  });

  it('the shortest form, at the PATH_MAX edge: .<2 bytes of the name>.<pid>.<8 hex>.dwtmp', async () => {
    const base = realpathSync(tempDir());
    // A directory leaving exactly room for `.ta.<pid>.<8 hex>.dwtmp`: the full form does not fit, the 8-hex one does.
    const room = `.ta.${process.pid}.01234567.dwtmp`.length;
    const length = 4095 - 1 - room;
    const deep = deepPath(base, length);
    expect(Buffer.byteLength(deep)).toBe(length);
    mkdirSync(deep, { recursive: true });
    const name = basename(tempPathFor(join(deep, 'target')));
    expect(name).toMatch(new RegExp(`^\\.ta\\.${process.pid}\\.[0-9a-f]{8}\\.dwtmp$`));
    expect(parseTempPath(join(deep, name))).toEqual({ format: 'current', base: 'ta', pid: process.pid });
    // The same name one directory level up, where the full form fits, is no temp name.
    expect(parseTempPath(join(dirname(deep), name))).toBeUndefined();
    beforeThisProcess(leftover(deep, name, 'partial'));
    // ...and 0.2.0's edge form, which left 17 bytes here: `.<3 bytes>.<8 hex>.tmp`.
    const legacy = deepPath(join(base, 'legacy'), 4077);
    mkdirSync(legacy, { recursive: true });
    leftover(legacy, '.tar.89abcdef.tmp', 'partial');
    expect(paths(await removeStaleTemps(deep))).toEqual([join(deep, name)]);
    expect(reasons((await removeStaleTemps(legacy)).removed)).toEqual([['.tar.89abcdef.tmp', 'no-pid']]);
    expect(readdirSync(deep)).toEqual([]);
    expect(readdirSync(legacy)).toEqual([]);
  });

  it('a directory given through a symlink: paths are canonical, the files removed are in the real directory', async () => {
    const dir = tempDir();
    const real = join(realpathSync(dir), 'real');
    mkdirSync(real);
    symlinkSync(real, join(dir, 'link'));
    leftover(real, tempName('a'), 'x');
    expect(paths(await removeStaleTemps(join(dir, 'link')))).toEqual([join(real, tempName('a'))]);
    expect(readdirSync(real)).toEqual([]);
  });
});

describe('parseTempPath: the one reader of temp names', () => {
  it('reads what tempPathFor makes: the format, what is left of the name, and this process\'s pid', () => {
    for (const target of ['state.json', 'a', '.bashrc', 'x.tmp', 'x.dwtmp', 'a.123.0123456789ab', 'with space', '日本語.txt', 'n'.repeat(255)]) {
      const name = parseTempPath(tempPathFor(`/d/${target}`));
      expect(name, target).toEqual({ format: 'current', base: expect.any(String), pid: process.pid });
      expect(target.startsWith(name?.base ?? '-'), target).toBe(true);
    }
    expect(parseTempPath('/d/.state.json.4194303.0123456789ab.dwtmp')).toEqual({ format: 'current', base: 'state.json', pid: 4194303 });
    expect(parseTempPath('/d/..7.0123456789ab.dwtmp')).toEqual({ format: 'current', base: '', pid: 7 });
  });

  it("reads 0.2.0's names, which carry no pid", () => {
    for (const [name, base] of [
      ['.state.json.0123456789ab.tmp', 'state.json'],
      ['..0123456789ab.tmp', ''],
      ['.a.b.c.0123456789ab.tmp', 'a.b.c'],
    ] as const) {
      expect(parseTempPath(`/d/${name}`), name).toEqual({ format: '0.2.0', base, pid: undefined });
    }
  });

  it('refuses look-alikes', () => {
    for (const name of [...LOOK_ALIKES, '.0123456789ab.tmp', 'state.0123456789ab.tmp', '.s.0123456789ab', '.s-0123456789ab.tmp', '.s.89abcdeg.tmp', '.s.1.0123456789ab.dwtmp/x']) {
      expect(parseTempPath(`/d/${name}`), name).toBeUndefined();
    }
  });

  it('takes an 8-hex form only where its directory leaves too little room for the full form, and the name fills it (within 3 bytes)', () => {
    // A directory path of `bytes` bytes.
    const dirOf = (bytes: number): string => `/${'d'.repeat(bytes - 1)}`;
    // 0.2.0: the full form needs 18 bytes; the 8-hex form was made where 14 to 17 were left.
    for (const [name, room, made] of [
      ['.abc.89abcdef.tmp', 17, true],
      ['.ab.89abcdef.tmp', 17, true],
      ['.a.89abcdef.tmp', 15, true],
      ['..89abcdef.tmp', 14, true],
      ['.a.89abcdef.tmp', 18, false],
      ['..89abcdef.tmp', 18, false],
      ['.a.89abcdef.tmp', 19, false],
      ['.abc.89abcdef.tmp', 16, false],
      ['.report.20241231.tmp', 20, false],
      ['.report.20241231.tmp', 255, false],
    ] as const) {
      const path = `${dirOf(4095 - 1 - room)}/${name}`;
      expect(parseTempPath(path) !== undefined, `${name} with ${room} bytes of room`).toBe(made);
    }
    // Now: `.<pid>.<12 hex>.dwtmp` plus the leading dot; 8 hex where that does not fit.
    const full = `..12345.0123456789ab.dwtmp`.length;
    for (const [name, room, made] of [
      ['.ab.12345.89abcdef.dwtmp', full - 1, true],
      ['..12345.89abcdef.dwtmp', full - 4, true],
      ['.ab.12345.89abcdef.dwtmp', full, false],
      ['.a.12345.89abcdef.dwtmp', full + 40, false],
    ] as const) {
      const path = `${dirOf(4095 - 1 - room)}/${name}`;
      expect(parseTempPath(path) !== undefined, `${name} with ${room} bytes of room`).toBe(made);
    }
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
    leftover(dir, tempName('a'), 'x');
    leftover(dir, tempName('b'), 'x');
    leftover(dir, tempName('c'), 'x');
    const { fs } = faultyFileSystem({
      fail: ({ op, path }) =>
        (op === 'lstat' && path.endsWith(tempName('a'))) || (op === 'unlink' && path.endsWith(tempName('b'))) ? 'ENOENT' : undefined,
    });
    const result = await removeStaleTemps(dir, { fs });
    expect(result.removed.map((temp) => basename(temp.path))).toEqual([tempName('c')]);
    expect(result.kept).toEqual([]);
  });

  it('stats without an mtime (an untyped custom seam): the age is unknown, so the file counts as recent', async () => {
    const dir = tempDir();
    leftover(dir, tempName('a'), 'x');
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
    expect(readdirSync(dir)).toEqual([tempName('a')]);
  });

  it('a refused unlink: DurableWriteError, stage rename, naming what was already removed', async () => {
    const dir = tempDir();
    leftover(dir, tempName('a'), 'x');
    leftover(dir, tempName('b'), 'x');
    leftover(dir, tempName('c'), 'x');
    const { fs } = faultyFileSystem({ fail: ({ op, path }) => (op === 'unlink' && path.endsWith(tempName('b')) ? 'EACCES' : undefined) });
    const error = await removeStaleTemps(dir, { fs, olderThanMs: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DurableWriteError', code: 'EACCES', stage: 'remove', path: dir });
    expect(String((error as Error).message)).toContain(`1 stale temp file(s) were removed before it: ${join(realpathSync(dir), tempName('a'))}`);
    expect(readdirSync(dir).sort()).toEqual([tempName('b'), tempName('c')]);
  });

  it('an aborted signal: AbortError before anything is touched', async () => {
    const dir = tempDir();
    leftover(dir, tempName('a'), 'x');
    const { fs, calls } = faultyFileSystem();
    await expect(removeStaleTemps(dir, { fs, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toEqual([]);
  });
});

describe('on the crash simulator', () => {
  const leftoverPath = `/d/${tempName('state')}`;
  const files = { '/d/state': 'v1', [leftoverPath]: 'partial', '/d/.hidden': 'h', '/d/.report.20241231.tmp': 'mine' };

  it('removes the leftover (the simulator has no timestamps: every file is old), the same calls in both modes', async () => {
    const sims = [createCrashSimulator({ files, directories: [`/d/${tempName('dir')}`] }), createCrashSimulator({ files, directories: [`/d/${tempName('dir')}`] })];
    const [first, second] = sims;
    if (first === undefined || second === undefined) throw new Error('unreachable');
    const asyncResult = await removeStaleTemps('/d', { fs: first.fs });
    const syncResult = removeStaleTempsSync('/d', { fs: second.fs });
    expect(asyncResult.removed).toEqual([{ path: leftoverPath, size: 'partial'.length, ageMs: expect.any(Number), pid: DEAD_PID, reason: 'writer-dead' }]);
    expect(asyncResult.removed[0]?.ageMs).toBeGreaterThan(0);
    expect(syncResult.removed.map((temp) => temp.path)).toEqual([leftoverPath]);
    const calls = sims.map((sim) => sim.trace().map((entry) => `${entry.syscall} ${entry.path ?? ''}`));
    for (const sim of sims) expect(sim.fs.readdirSync('/d').sort()).toEqual([tempName('dir'), '.hidden', '.report.20241231.tmp', 'state'].sort());
    expect(calls[0]).toEqual(['realpath /d', 'readdir /d', `lstat /d/${tempName('dir')}`, `lstat ${leftoverPath}`, `unlink ${leftoverPath}`]);
    expect(calls[1]).toEqual(calls[0]);
  });

  it('a removal is not made durable: a crash may bring the leftover back, for the next cleanup', async () => {
    const sim = createCrashSimulator({ files });
    await removeStaleTemps('/d', { fs: sim.fs });
    sim.crash();
    expect(sim.fs.existsSync(leftoverPath)).toBe(true);
    expect(paths(await removeStaleTemps('/d', { fs: sim.fs }))).toEqual([leftoverPath]);
  });

  it('keeps the temp file of a pending write on the simulator', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const data = new PassThrough();
    data.write(firstBatch);
    const write = writeDurable('/d/state', data, { fs: sim.fs });
    const held = await waitFor('the temp file', () => sim.fs.readdirSync('/d').find((name) => sim.fs.statSync(`/d/${name}`).size === BATCH_BYTES));
    const result = await removeStaleTemps('/d', { fs: sim.fs, olderThanMs: 0 });
    expect(result).toEqual({ removed: [], kept: [{ path: `/d/${held}`, size: BATCH_BYTES, ageMs: expect.any(Number), pid: process.pid, reason: 'held' }] });
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
    { name: 'a negative pidReuseAfterMs', options: (fs) => ({ fs, pidReuseAfterMs: -1 }), code: 'ERR_INVALID_ARG_VALUE', message: /pidReuseAfterMs must be a non-negative finite number/ },
    { name: 'pidReuseAfterMs as a string', options: (fs) => ({ fs, pidReuseAfterMs: '24h' }), code: 'ERR_INVALID_ARG_TYPE', message: /pidReuseAfterMs must be a number/ },
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
      leftover(real, tempName('a'), 'x');
      const { fs, calls } = faultyFileSystem();
      const error: unknown = await call(dir === undefined ? real : dir, options(fs)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ code, ...(message === undefined ? {} : { message: expect.stringMatching(message) }) });
      expect(calls).toEqual([]);
      expect(readdirSync(real)).toEqual([tempName('a')]);
    });
  });

  it('the sync twin takes no signal, and needs readdirSync (readdir alone is not enough)', () => {
    const dir = tempDir();
    expect(() => removeStaleTempsSync(dir, { signal: AbortSignal.timeout(1000) } as RemoveStaleTempsOptions)).toThrow(/unknown option 'signal'/);
    const { readdirSync: _readdirSync, ...asyncOnly } = nodeFileSystem;
    expect(() => removeStaleTempsSync(dir, { fs: asyncOnly })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/lacks readdirSync/) }));
  });
});
