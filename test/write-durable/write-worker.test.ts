/**
 * The write worker (src/write/write-offload.ts): small writes on Node's own file system run in
 * one hop on a worker thread. Through the built package, in child processes, as a user runs it:
 * the process still exits on its own, errors and results are the general path's, and 64
 * concurrent writes share directory fsyncs (counted under strace). And the parts that need no
 * thread: the protocol's errors survive a structured clone, and a held target holds its temps.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurableWriteError, FlushError, isFlushError } from '../../src/core/errors.js';
import { holdTarget, isTempHeld, releaseTarget } from '../../src/write/held-temps.js';
import { tempPathFor } from '../../src/write/temp-name.js';
import { receiveError, receiveResult, receiveTarget, sendError, sendResult, sendTarget } from '../../src/write/write-worker-protocol.js';
import { distCjs, distEsm, requireBuild } from '../support/built-package.js';
import { missing } from '../support/prerequisites.js';
import { fdArg, traceNode } from '../support/strace.js';
import { tempDir } from '../support/temp-dir.js';

/** Runs an ESM snippet against the built package; its stdout. */
function runEsm(script: string, args: readonly string[]): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script, distEsm, ...args], { encoding: 'utf8', timeout: 20_000 });
}

/** Starts the worker (a process's second eligible call does) and waits long enough for it to load. */
const WARM = `
  const { writeDurable } = await import(process.argv[1]);
  const warm = process.argv[2] + '/warm';
  await writeDurable(warm, 'x');
  await writeDurable(warm, 'y');
  await new Promise((resolve) => setTimeout(resolve, 500));`;

describe('through the built package', () => {
  it('a process that wrote through the worker exits on its own once its writes are done (the idle worker holds no reference)', () => {
    requireBuild();
    const dir = tempDir();
    const script = `${WARM}
      for (let i = 0; i < 20; i++) await writeDurable(process.argv[2] + '/f', 'v' + i);
      console.log('written');`;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, distEsm, dir], { encoding: 'utf8', timeout: 15_000 });
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('written\n');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('v19');
  });

  it('a write the worker runs fails as the general path fails it: same class, code, stage, message, path and cause', () => {
    requireBuild();
    // procfs exists and resolves, but refuses a new file: the write fails on the worker, at the temp file.
    const target = `/proc/durable-write-worker-test-${process.pid}`;
    const script = `
      const { writeDurable, isDurableWriteError, isFlushError } = await import(process.argv[1]);
      const describe = (error) => ({
        name: error.name, code: error.code, stage: error.stage,
        durable: isDurableWriteError(error), flush: isFlushError(error), path: error.path,
        cause: error.cause === undefined ? undefined : { code: error.cause.code, syscall: error.cause.syscall },
        message: error.message.replace(/\\.[0-9a-f]{12}\\.dwtmp/g, '.<random>.dwtmp'),
        onWorker: error.stack.includes('write-worker.js'),
      });
      const outcomes = [];
      // The first call takes the general path; the second starts the worker and takes it too; the third, once the worker is up, runs there.
      for (const wait of [0, 0, 500]) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        outcomes.push(await writeDurable(process.argv[2], 'payload').then(() => 'resolved', describe));
      }
      console.log(JSON.stringify(outcomes));`;
    const [general, generalToo, worker] = JSON.parse(runEsm(script, [target])) as unknown[];
    expect(generalToo).toEqual(general);
    expect(general).toMatchObject({ durable: true, path: target, stage: 'open' });
    // The worker's error carries its stack, from the worker's file: proof that it ran there.
    expect(general).toMatchObject({ onWorker: false });
    expect(worker).toEqual({ ...(general as object), onWorker: true });
  });

  it('a result from the worker is the general path\'s', () => {
    requireBuild();
    const dir = tempDir();
    const script = `
      const { writeDurable } = await import(process.argv[1]);
      const results = [];
      // Two on the general path (the second starts the worker), the third on the worker.
      for (const wait of [0, 0, 500]) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        results.push(await writeDurable(process.argv[2] + '/f', Buffer.from('bytes'), { flush: 'fdatasync', mode: 0o600 }));
      }
      console.log(JSON.stringify(results));`;
    const [first, ...later] = JSON.parse(runEsm(script, [dir])) as unknown[];
    for (const result of later) expect(result).toEqual(first);
    expect(first).toEqual({ path: join(dir, 'f'), bytesWritten: 5, directorySynced: true, directorySyncErrors: [], createdDirectories: [] });
  });

  it('the worker writes the file the calling thread resolved: through a symlink, keeping the existing mode', () => {
    requireBuild();
    const dir = tempDir();
    writeFileSync(join(dir, 'real'), 'old', { mode: 0o640 });
    symlinkSync('real', join(dir, 'link'));
    const script = `${WARM}
      const result = await writeDurable(process.argv[2] + '/link', 'new');
      console.log(JSON.stringify(result.path));`;
    expect(JSON.parse(runEsm(script, [dir]))).toBe(join(dir, 'real'));
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real'), 'utf8')).toBe('new');
    expect(lstatSync(join(dir, 'real')).mode & 0o777).toBe(0o640);
  });

  const lacking = missing({ tools: ['strace'] });
  it.skipIf(lacking !== undefined)(`64 concurrent writes into one directory share its fsyncs (strace counts them)${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
    requireBuild();
    const dir = tempDir();
    const script = `
      const { writeDurable } = require(process.argv[1]);
      const dir = process.argv[2];
      (async () => {
        await Promise.all(Array.from({ length: 64 }, (_, i) => writeDurable(dir + '/f' + i, 'payload ' + i)));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    const trace = traceNode(script, [distCjs, dir]);
    const directoryFds = new Set<string>();
    let directoryFsyncs = 0;
    let renames = 0;
    for (const call of trace) {
      if (call.name === 'openat' && call.args.includes(`"${dir}"`) && call.args.includes('O_DIRECTORY')) directoryFds.add(call.result.split(' ')[0] ?? '');
      else if (call.name === 'fsync' && directoryFds.has(fdArg(call))) directoryFsyncs += 1;
      else if (call.name === 'close') directoryFds.delete(fdArg(call));
      else if (call.name.startsWith('rename') && call.args.includes(`"${dir}/f`)) renames += 1;
    }
    expect(renames).toBe(64);
    expect(directoryFsyncs).toBeGreaterThanOrEqual(1);
    // Without group commit, one per write: 64.
    expect(directoryFsyncs).toBeLessThan(16);
    for (let i = 0; i < 64; i++) expect(readFileSync(join(dir, `f${i}`), 'utf8')).toBe(`payload ${i}`);
  });
});

describe('the protocol', () => {
  it('a FlushError with an errno cause survives a structured clone: brand, code, stage, paths and the cause\'s fields', () => {
    const cause = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO', errno: -5, syscall: 'fsync' });
    const error = new FlushError("writeDurable: fsync failed for '/d/f'", { code: 'EIO', stage: 'flush', path: '/d/f', tmpPath: '/d/.f.1234.0123456789ab.dwtmp', cause });
    const back = receiveError(structuredClone(sendError(error)));
    expect(isFlushError(back)).toBe(true);
    expect(back).toBeInstanceOf(DurableWriteError);
    expect(back).toMatchObject({ message: error.message, code: 'EIO', stage: 'flush', path: '/d/f', tmpPath: '/d/.f.1234.0123456789ab.dwtmp', stack: error.stack });
    expect((back as DurableWriteError).cause).toMatchObject({ message: cause.message, code: 'EIO', errno: -5, syscall: 'fsync' });
  });

  it('a TypeError stays a TypeError; anything else thrown becomes an Error with its text', () => {
    expect(receiveError(structuredClone(sendError(new TypeError('bad'))))).toBeInstanceOf(TypeError);
    expect(receiveError(structuredClone(sendError('text')))).toMatchObject({ name: 'Error', message: 'text' });
  });

  it('a result with tolerated directory fsync errors comes back with DurableWriteErrors', () => {
    const tolerated = new DurableWriteError('directory fsync refused', { code: 'EINVAL', stage: 'flush-directory', path: '/d/f' });
    const result = { path: '/d/f', bytesWritten: 3, directorySynced: false, directorySyncErrors: [tolerated], createdDirectories: ['/d'] };
    const back = receiveResult(structuredClone(sendResult(result)));
    expect(back).toEqual(result);
    expect(back.directorySyncErrors[0]).toBeInstanceOf(DurableWriteError);
  });
  it('a resolved target survives a structured clone: its stats fields, and isFile/isDirectory/isSymbolicLink from its mode', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    mkdirSync(join(dir, 'sub'));
    symlinkSync('file', join(dir, 'link'));
    for (const name of ['file', 'sub', 'link']) {
      const stats = lstatSync(join(dir, name));
      const back = receiveTarget(structuredClone(sendTarget({ path: join(dir, name), stats, directoryExists: true })));
      expect(back.stats).toMatchObject({ ino: stats.ino, mode: stats.mode, uid: stats.uid, gid: stats.gid, size: stats.size, mtimeMs: stats.mtimeMs });
      expect([back.stats?.isFile(), back.stats?.isDirectory(), back.stats?.isSymbolicLink()]).toEqual([stats.isFile(), stats.isDirectory(), stats.isSymbolicLink()]);
    }
    expect(receiveTarget(structuredClone(sendTarget({ path: '/d/new', stats: undefined, directoryExists: false })))).toEqual({ path: '/d/new', stats: undefined, directoryExists: false });
  });
});

describe('a target the worker writes holds its temp files', () => {
  it('every temp name of a held target counts as held, until its last write ends', () => {
    const target = '/d/state.json';
    const tmp = tempPathFor(target);
    expect(isTempHeld(tmp)).toBe(false);
    holdTarget(target);
    holdTarget(target);
    expect(isTempHeld(tmp)).toBe(true);
    expect(isTempHeld(`/other/.state.json.${process.pid}.0123456789ab.dwtmp`)).toBe(false);
    expect(isTempHeld(`/d/.other.json.${process.pid}.0123456789ab.dwtmp`)).toBe(false);
    // Another process's temp for the same target is not this process's to hold; nor is a 0.2.0 name.
    expect(isTempHeld(`/d/.state.json.${process.pid + 1}.0123456789ab.dwtmp`)).toBe(false);
    expect(isTempHeld('/d/.state.json.0123456789ab.tmp')).toBe(false);
    expect(isTempHeld('/d/state.json.tmp')).toBe(false);
    releaseTarget(target);
    expect(isTempHeld(tmp)).toBe(true);
    releaseTarget(target);
    expect(isTempHeld(tmp)).toBe(false);
  });

  it('a long name, cut in its temp name, is still recognised', () => {
    const target = `/d/${'n'.repeat(250)}`;
    holdTarget(target);
    try {
      expect(isTempHeld(tempPathFor(target))).toBe(true);
    } finally {
      releaseTarget(target);
    }
  });
});
