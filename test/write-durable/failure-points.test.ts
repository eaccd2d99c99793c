/**
 * Where a write may fail, and what each failure tells the caller (regression tests for 0.1.0):
 * running out of descriptors must fail before anything changes, never after the rename; after
 * the rename only the directory fsync can fail, and it says the new content is in place; each
 * failure names its real step; a target near PATH_MAX that fs.writeFile accepts gets a temp file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renameDurable, renameDurableSync } from '../../src/write/rename-durable.js';
import { distCjs, requireBuild } from '../support/built-package.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { missing } from '../support/prerequisites.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';
import { writeModes } from './modes.js';

/**
 * A child under `prlimit --nofile=40` making 500 writes to distinct new files (a burst of 100,
 * then 400 spread over 200 ms, so that writes finish while others open), then reporting each
 * write's outcome: a write that rejected must not have replaced its file. 0.1.0 opened the
 * directory after the rename: about 45 of 500 replaced their file, then rejected. Since a write
 * short of descriptors waits for one of the library's own (descriptor-burst.test.ts), the limit
 * alone no longer bites: once the write worker is up, the child holds every descriptor but one
 * until the burst has settled, so that a write can open its directory but never its temp file,
 * and none of the library's is left to wait for.
 */
const DESCRIPTOR_EXHAUSTION = `
const { writeDurable } = require(process.argv[1]);
const fs = require('node:fs');
const dir = process.argv[2];
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const write = (i) => writeDurable(dir + '/f' + i, 'content ' + i).then(() => ({ i, ok: true }), (e) => ({ i, ok: false, code: e.code, stage: e.stage }));
const writes = (async () => {
  await writeDurable(dir + '/warm', 'x');
  await writeDurable(dir + '/warm', 'y');
  await delay(300);
  const hog = [];
  try { for (;;) hog.push(fs.openSync('/dev/null', 'r')); } catch {}
  fs.closeSync(hog.pop());
  const burst = await Promise.all(Array.from({ length: 100 }, (_, i) => write(i)));
  for (const fd of hog) fs.closeSync(fd);
  return [...burst, ...(await Promise.all(Array.from({ length: 400 }, (_, i) => delay(i / 2).then(() => write(100 + i)))))];
})();
writes.then((results) => {
  const rejected = results.filter((r) => !r.ok);
  const replacedThenRejected = rejected.filter((r) => fs.existsSync(dir + '/f' + r.i));
  const stages = [...new Set(rejected.map((r) => r.stage))];
  const codes = [...new Set(rejected.map((r) => r.code))];
  const temps = fs.readdirSync(dir).filter((n) => n.endsWith('.dwtmp')).length;
  console.log(JSON.stringify({ resolved: results.length - rejected.length, rejected: rejected.length, replacedThenRejected: replacedThenRejected.length, stages, codes, temps }));
});
`;

const lacking = missing({ tools: ['prlimit'] });

describe.skipIf(lacking !== undefined)(`out of descriptors${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  it('500 writes under a 40-descriptor limit: every EMFILE comes before anything changes, none after the rename', () => {
    requireBuild();
    const dir = tempDir();
    const out = execFileSync('prlimit', ['--nofile=40:40', process.execPath, '-e', DESCRIPTOR_EXHAUSTION, distCjs, dir], { encoding: 'utf8' });
    const report = JSON.parse(out) as { resolved: number; rejected: number; replacedThenRejected: number; stages: string[]; codes: string[]; temps: number };
    expect(report.rejected, 'the limit must bite, or the test shows nothing').toBeGreaterThan(0);
    expect(report.codes).toEqual(['EMFILE']);
    expect(report.replacedThenRejected).toBe(0);
    expect(report.stages).not.toContain('flush-directory');
    expect(report.temps).toBe(0);
  });
});

describe('after the rename, only the directory fsync can fail, and it says the content is in place', () => {
  it.each(writeModes)('$name: a directory fsync EIO rejects with flush-directory; the new content is there and the message says so', async ({ write }) => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'sync' && call.path === dir ? 'EIO' : undefined) });
    const error: unknown = await write(join(dir, 't'), 'new', { fs }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DurableWriteError', stage: 'flush-directory', code: 'EIO' });
    expect((error as Error).message).toMatch(/the new content is in place at .*\/t, but its name may not survive a crash/);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('new');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it.each(writeModes)('$name: a directory that cannot be opened fails before the temp file exists, and the target is unchanged', async ({ write }) => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const { fs, calls } = faultyFileSystem({ fail: (call) => (call.op === 'open' && call.path === dir ? 'EMFILE' : undefined) });
    await expect(write(join(dir, 't'), 'new', { fs })).rejects.toMatchObject({ stage: 'open', code: 'EMFILE' });
    expect(calls.some((call) => call.path.endsWith('.dwtmp'))).toBe(false);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
  });
});

describe('each failure names its real step', () => {
  it.each([
    ['renameDurable', (from: string, to: string) => renameDurable(from, to)],
    ['renameDurableSync', async (from: string, to: string) => renameDurableSync(from, to)],
  ])('%s with a missing source says it could not open the source, not that it created a temporary file', async (_name, rename) => {
    const dir = tempDir();
    const error: unknown = await rename(join(dir, 'nope'), join(dir, 'b')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOENT', stage: 'open' });
    expect((error as Error).message).toContain(`opening ${join(dir, 'nope')} to flush it failed with ENOENT`);
    expect((error as Error).message).not.toMatch(/temporary/);
  });
});

describe('a target near PATH_MAX', () => {
  it.each(writeModes)('$name: a path fs.writeFileSync accepts gets a shorter temp name instead of ENAMETOOLONG', async ({ write }) => {
    const root = tempDir();
    // Nested 200-byte directory names up to ~4070 bytes, then a 20-byte file name: 4091 bytes in all.
    let dir = root;
    while (Buffer.byteLength(dir) + 201 < 4070) dir = join(dir, 'd'.repeat(200));
    dir = join(dir, 'e'.repeat(4070 - Buffer.byteLength(dir) - 1));
    mkdirSync(dir, { recursive: true });
    const target = join(dir, 'file-name-20-bytes__');
    expect(Buffer.byteLength(target)).toBeGreaterThan(4080);
    writeFileSync(target, 'twin'); // the kernel takes this path
    const result = await write(target, 'durable');
    expect(result.path).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('durable');
    expect(leftoverTemps(dir)).toEqual([]);
  });
});
