import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsyncDirectory, fsyncDirectorySync } from '../../src/write/fsync-directory.js';
import { fsyncFile, fsyncFileSync } from '../../src/write/fsync-file.js';
import { renameDurable, renameDurableSync } from '../../src/write/rename-durable.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { tempDir } from '../support/temp-dir.js';

const renames = [
  { name: 'renameDurable', rename: renameDurable },
  { name: 'renameDurableSync', rename: async (...args: Parameters<typeof renameDurableSync>) => renameDurableSync(...args) },
];

describe.each(renames)('$name', ({ rename }) => {
  it('fsyncs the source, opens both directories, renames, then fsyncs the target directory and the source directory', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'in'));
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'in', 'f'), 'data');
    const { fs, calls } = faultyFileSystem();
    const result = await rename(join(dir, 'in', 'f'), join(dir, 'out', 'f'), { fs });
    expect(result).toEqual({ directorySynced: true, directorySyncErrors: [] });
    expect(readFileSync(join(dir, 'out', 'f'), 'utf8')).toBe('data');
    expect(existsSync(join(dir, 'in', 'f'))).toBe(false);
    expect(calls.filter((c) => c.op !== 'close')).toEqual([
      { op: 'open', path: join(dir, 'in', 'f') },
      { op: 'sync', path: join(dir, 'in', 'f') },
      { op: 'open', path: join(dir, 'out') },
      { op: 'open', path: join(dir, 'in') },
      { op: 'rename', path: join(dir, 'in', 'f') },
      { op: 'sync', path: join(dir, 'out') },
      { op: 'sync', path: join(dir, 'in') },
    ]);
  });

  it('fsyncs the directory once when source and target share it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'data');
    const { fs, calls } = faultyFileSystem();
    await rename(join(dir, 'a'), join(dir, 'b'), { fs });
    expect(calls.filter((c) => c.op === 'sync').map((c) => c.path)).toEqual([join(dir, 'a'), dir]);
  });

  it('a failed source fsync renames nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'data');
    const { fs } = faultyFileSystem({ fail: (c) => (c.op === 'sync' ? 'EIO' : undefined) });
    await expect(rename(join(dir, 'a'), join(dir, 'b'), { fs })).rejects.toMatchObject({ name: 'FlushError', code: 'EIO', stage: 'flush' });
    expect(existsSync(join(dir, 'a'))).toBe(true);
    expect(existsSync(join(dir, 'b'))).toBe(false);
  });

  it('a missing source: ENOENT at open', async () => {
    const dir = tempDir();
    await expect(rename(join(dir, 'nope'), join(dir, 'b'))).rejects.toMatchObject({ code: 'ENOENT', stage: 'open' });
  });
});

describe('fsyncFile and fsyncDirectory', () => {
  it('open, fsync (or fdatasync) and close the file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'x');
    const { fs, calls } = faultyFileSystem();
    await fsyncFile(join(dir, 'f'), { fs });
    fsyncFileSync(join(dir, 'f'), { fs, flush: 'fdatasync' });
    expect(calls.map((c) => c.op)).toEqual(['open', 'sync', 'close', 'open', 'datasync', 'close']);
  });

  it('open and fsync the directory; best-effort resolves with the refusal', async () => {
    const dir = tempDir();
    expect(await fsyncDirectory(dir)).toEqual({ synced: true, error: undefined });
    expect(fsyncDirectorySync(dir)).toEqual({ synced: true, error: undefined });
    const { fs } = faultyFileSystem({ fail: (c) => (c.op === 'sync' ? 'EINVAL' : undefined) });
    const refused = await fsyncDirectory(dir, { fs, directorySync: 'best-effort' });
    expect(refused.synced).toBe(false);
    expect(refused.error).toMatchObject({ code: 'EINVAL', stage: 'flush-directory' });
    await expect(fsyncDirectory(dir, { fs })).rejects.toMatchObject({ code: 'EINVAL', stage: 'flush-directory' });
  });

  it('a failed fsync is a FlushError saying the data must be written again', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'x');
    const { fs } = faultyFileSystem({ fail: (c) => (c.op === 'sync' ? 'EIO' : undefined) });
    await expect(fsyncFile(join(dir, 'f'), { fs })).rejects.toMatchObject({ name: 'FlushError', message: expect.stringMatching(/write it again/) });
  });

  it('an aborted signal rejects before anything is opened', async () => {
    const { fs, calls } = faultyFileSystem();
    await expect(fsyncFile('/tmp', { fs, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(fsyncDirectory('/tmp', { fs, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(renameDurable('/tmp/a', '/tmp/b', { fs, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toEqual([]);
  });
});
