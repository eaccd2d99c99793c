import { chownSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDurableWriteError, isFlushError } from '../../src/core/errors.js';
import { faultyFileSystem, type Operation, type RecordedCall } from '../support/faulty-fs.js';
import { isRoot } from '../support/prerequisites.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';
import { writeModes } from './modes.js';

const isTemp = (call: RecordedCall): boolean => call.path.endsWith('.dwtmp');

/** Each injected fault: which call fails, the stage it must be reported as. */
const beforeRename: readonly { op: Operation; stage: string; on: (call: RecordedCall, dir: string) => boolean }[] = [
  { op: 'lstat', stage: 'stat', on: () => true },
  { op: 'open', stage: 'open', on: isTemp },
  { op: 'write', stage: 'write', on: isTemp },
  { op: 'chown', stage: 'chown', on: isTemp },
  { op: 'chmod', stage: 'chmod', on: isTemp },
  { op: 'sync', stage: 'flush', on: isTemp },
  { op: 'close', stage: 'close', on: isTemp },
  { op: 'rename', stage: 'rename', on: isTemp },
];

describe.each(writeModes)('$name under injected EIO', ({ write }) => {
  it.each(beforeRename)('EIO at $op: stage $stage, the target keeps its content, no temp file is left', async ({ op, stage, on }) => {
    const dir = tempDir();
    const target = join(dir, 'target');
    writeFileSync(target, 'previous');
    // An owner other than ours makes the write fchown; as non-root that step is skipped silently.
    if (isRoot) chownSync(target, 4242, 4242);
    const { fs, calls } = faultyFileSystem({ fail: (call) => (call.op === op && on(call, dir) ? 'EIO' : undefined) });
    const error: unknown = await write(target, 'replacement', { fs }).catch((e: unknown) => e);
    if (op === 'chown' && !isRoot) return; // nothing to inject into without privilege
    expect(isDurableWriteError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'EIO', stage, path: target });
    expect(readFileSync(target, 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
    // The temp file, once created, is removed: unlinked, never renamed into place.
    if (calls.some((c) => c.op === 'open' && isTemp(c)) && op !== 'open') {
      expect(calls.some((c) => c.op === 'unlink' && isTemp(c))).toBe(true);
    }
  });

  it('never retries a failed fsync, says the data is not on disk, and throws a FlushError', async () => {
    const dir = tempDir();
    const target = join(dir, 'target');
    writeFileSync(target, 'previous');
    const { fs, calls } = faultyFileSystem({ fail: (call) => (call.op === 'sync' && isTemp(call) ? 'EIO' : undefined) });
    const error: unknown = await write(target, 'replacement', { fs }).catch((e: unknown) => e);
    expect(isFlushError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/NOT on disk/);
    expect(calls.filter((c) => c.op === 'sync' || c.op === 'datasync')).toHaveLength(1);
    expect(calls.some((c) => c.op === 'rename')).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('previous');
  });

  it('EIO at the directory fsync rejects after the rename: the new content is in place, the message says it may not survive', async () => {
    const dir = tempDir();
    const target = join(dir, 'target');
    writeFileSync(target, 'previous');
    const { fs, calls } = faultyFileSystem({ fail: (call) => (call.op === 'sync' && call.path === dir ? 'EIO' : undefined) });
    const error: unknown = await write(target, 'replacement', { fs }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EIO', stage: 'flush-directory', path: target });
    // After a successful rename the temp name is the target's inode: it is never unlinked.
    expect(calls.some((c) => c.op === 'unlink')).toBe(false);
    expect(String((error as Error).message)).toMatch(/may not survive a crash/);
    expect(readFileSync(target, 'utf8')).toBe('replacement');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('EIO creating a parent directory: stage mkdir, nothing written', async () => {
    const dir = tempDir();
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'mkdir' ? 'EIO' : undefined) });
    await expect(write(join(dir, 'sub', 'file'), 'x', { fs, createParents: true })).rejects.toMatchObject({ code: 'EIO', stage: 'mkdir' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('directorySync best-effort tolerates a refused directory fsync and reports it', async () => {
    const dir = tempDir();
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'sync' && call.path === dir ? 'EINVAL' : undefined) });
    const result = await write(join(dir, 'f'), 'x', { fs, directorySync: 'best-effort' });
    expect(result.directorySynced).toBe(false);
    expect(result.directorySyncErrors).toHaveLength(1);
    expect(result.directorySyncErrors[0]).toMatchObject({ code: 'EINVAL', stage: 'flush-directory' });
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('x');
  });

  it('directorySync best-effort still rejects an I/O error on the directory', async () => {
    const dir = tempDir();
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'sync' && call.path === dir ? 'EIO' : undefined) });
    await expect(write(join(dir, 'f'), 'x', { fs, directorySync: 'best-effort' })).rejects.toMatchObject({ code: 'EIO', stage: 'flush-directory' });
  });

  it('directorySync required rejects a refused directory fsync', async () => {
    const dir = tempDir();
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'sync' && call.path === dir ? 'EINVAL' : undefined) });
    await expect(write(join(dir, 'f'), 'x', { fs })).rejects.toMatchObject({ code: 'EINVAL', stage: 'flush-directory' });
  });

  it('loops over short writes until every byte is written', async () => {
    const dir = tempDir();
    const data = Buffer.from('0123456789'.repeat(1000));
    const { fs, calls } = faultyFileSystem({ maxWriteBytes: 7 });
    await write(join(dir, 'short'), data, { fs });
    expect(readFileSync(join(dir, 'short')).equals(data)).toBe(true);
    expect(calls.filter((c) => c.op === 'write')).toHaveLength(Math.ceil(data.length / 7));
  });

  it('treats a write that makes no progress as EIO instead of looping forever', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const { fs } = faultyFileSystem({ maxWriteBytes: 0 });
    await expect(write(join(dir, 't'), 'abc', { fs })).rejects.toMatchObject({ code: 'EIO', stage: 'write' });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('retries a taken temporary name with a fresh one', async () => {
    const dir = tempDir();
    let collisions = 2;
    const { fs } = faultyFileSystem({
      fail: (call) => (call.op === 'open' && isTemp(call) && collisions-- > 0 ? 'EEXIST' : undefined),
    });
    await write(join(dir, 'f'), 'x', { fs });
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('x');
  });

  it('never fails because it may not keep the owner (EPERM from fchown)', async () => {
    const dir = tempDir();
    const target = join(dir, 'owned');
    writeFileSync(target, 'previous');
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'chown' ? 'EPERM' : undefined) });
    const stranger = { ...fs, lstat: async (p: string) => ({ ...(await fs.lstat(p)), uid: 4242, isFile: () => true, isDirectory: () => false, isSymbolicLink: () => false }) };
    const strangerSync = { ...fs, lstatSync: (p: string) => ({ ...fs.lstatSync(p), uid: 4242, isFile: () => true, isDirectory: () => false, isSymbolicLink: () => false }) };
    await write(target, 'replacement', { fs: { ...stranger, lstatSync: strangerSync.lstatSync } });
    expect(readFileSync(target, 'utf8')).toBe('replacement');
  });
});
