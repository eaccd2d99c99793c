/**
 * The pending file (`openDurable`) and the durable write stream on real files: what a
 * third-party writer may do with `tmpPath`, what commit() flushes, discard and dispose, commit
 * order, aborts, and a stream whose 'finish' means durable.
 */
import { chownSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { isAbortError, isFlushError } from '../../src/core/errors.js';
import { openDurable } from '../../src/write/open-durable.js';
import { createDurableWriteStream } from '../../src/write/write-stream.js';
import { writeDurable } from '../../src/write/write-durable.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { isRoot } from '../support/prerequisites.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';

describe('openDurable', () => {
  it('creates the temp file beside the target; write() and commit() replace the target, keeping its mode', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old', { mode: 0o640 });
    const pending = await openDurable(join(dir, 't'));
    expect(pending.path).toBe(join(dir, 't'));
    expect(pending.tmpPath.startsWith(join(dir, '.t.'))).toBe(true);
    expect(statSync(pending.tmpPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    await pending.write('hello ');
    await pending.write(Buffer.from('world'));
    const result = await pending.commit();
    expect(result).toMatchObject({ path: join(dir, 't'), bytesWritten: 11, directorySynced: true });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('hello world');
    expect(statSync(join(dir, 't')).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it.skipIf(!isRoot)('keeps an existing target\'s owner, or gives the owner option\'s', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    chownSync(join(dir, 't'), 1234, 1235);
    const kept = await openDurable(join(dir, 't'));
    await kept.write('x');
    await kept.commit();
    expect([statSync(join(dir, 't')).uid, statSync(join(dir, 't')).gid]).toEqual([1234, 1235]);
    const given = await openDurable(join(dir, 't'), { owner: { uid: 2000, gid: 2001 } });
    await given.commit();
    expect([statSync(join(dir, 't')).uid, statSync(join(dir, 't')).gid]).toEqual([2000, 2001]);
  });

  it('a third-party writer may open and write tmpPath itself, any number of times; commit() flushes that same inode', async () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem();
    const pending = await openDurable(join(dir, 't'), { fs });
    await writeFile(pending.tmpPath, 'first draft');
    await writeFile(pending.tmpPath, 'final: ');
    await appendFile(pending.tmpPath, 'appended');
    const result = await pending.commit();
    expect(result.bytesWritten).toBe('final: appended'.length);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('final: appended');
    // One flush, on the descriptor openDurable created (no second open of the temp file).
    expect(calls.filter((c) => c.op === 'open' && c.path === pending.tmpPath)).toHaveLength(1);
    expect(calls.filter((c) => c.op === 'sync' && c.path === pending.tmpPath)).toHaveLength(1);
  });

  it('a writer that replaced tmpPath with its own rename: commit() opens and flushes what is there', async () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem();
    const pending = await openDurable(join(dir, 't'), { fs });
    writeFileSync(join(dir, 'writers-own-temp'), 'replaced by the writer');
    renameSync(join(dir, 'writers-own-temp'), pending.tmpPath);
    const result = await pending.commit();
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('replaced by the writer');
    expect(result.bytesWritten).toBe('replaced by the writer'.length);
    const onTemp = calls.filter((c) => c.path === pending.tmpPath).map((c) => c.op);
    // created; its inode noted; at commit a new inode is there, so:
    // the writer's file opened, the old descriptor closed, the file fchmod'ed, fsynced once, closed and renamed.
    expect(onTemp).toEqual(['open', 'lstat', 'lstat', 'open', 'close', 'chmod', 'sync', 'close', 'rename']);
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('refuses to commit a symlink (or anything but a regular file) at tmpPath; nothing changes, the link is removed, not followed', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    writeFileSync(join(dir, 'secret'), 'do not touch');
    const pending = await openDurable(join(dir, 't'));
    renameSync(pending.tmpPath, join(dir, 'moved-away'));
    symlinkSync(join(dir, 'secret'), pending.tmpPath);
    await expect(pending.commit()).rejects.toMatchObject({ name: 'DurableWriteError', code: 'EINVAL', stage: 'validate' });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe('do not touch');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('discard() removes the temp file, is idempotent, and leaves the target; await using (asyncDispose) discards unless committed', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const pending = await openDurable(join(dir, 't'));
    await pending.write('never');
    await pending.discard();
    await pending.discard();
    expect(readdirSync(dir)).toEqual(['t']);
    await expect(pending.write('x')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(pending.commit()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });

    const disposed = await openDurable(join(dir, 't'));
    await disposed.write('dropped');
    await disposed[Symbol.asyncDispose]();
    expect(readdirSync(dir)).toEqual(['t']);

    const committed = await openDurable(join(dir, 't'));
    await committed.write('kept');
    await committed.commit();
    await committed[Symbol.asyncDispose]();
    await committed.discard();
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('kept');
  });

  it('a failed commit (fsync EIO) rejects with a FlushError, leaves nothing; discard() afterwards is safe', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'sync' && call.path.endsWith('.dwtmp') ? 'EIO' : undefined) });
    const pending = await openDurable(join(dir, 't'), { fs });
    await pending.write('new');
    const error: unknown = await pending.commit().catch((e: unknown) => e);
    expect(isFlushError(error)).toBe(true);
    await pending.discard();
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('a failed write discards the pending file at once; commit() then rejects with that error', async () => {
    const dir = tempDir();
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'write' ? 'ENOSPC' : undefined) });
    const pending = await openDurable(join(dir, 't'), { fs });
    await expect(pending.write('x')).rejects.toMatchObject({ stage: 'write', code: 'ENOSPC' });
    await expect(pending.commit()).rejects.toMatchObject({ stage: 'write', code: 'ENOSPC' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('commits are serialized with writeDurable on the same file, and the last commit wins', async () => {
    const dir = tempDir();
    const target = join(dir, 't');
    const a = await openDurable(target);
    const b = await openDurable(join(dir, '.', 't'));
    await a.write('A');
    await b.write('B');
    const order: string[] = [];
    const slow = new PassThrough();
    const first = writeDurable(target, slow).then(() => order.push('writeDurable'));
    const commitB = b.commit().then(() => order.push('B'));
    const commitA = a.commit().then(() => order.push('A'));
    setTimeout(() => slow.end('first'), 50);
    await Promise.all([first, commitA, commitB]);
    expect(order).toEqual(['writeDurable', 'B', 'A']);
    expect(readFileSync(target, 'utf8')).toBe('A');
  });

  it('an abort before commit: AbortError, target unchanged, temp removed', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const controller = new AbortController();
    const pending = await openDurable(join(dir, 't'), { signal: controller.signal });
    await pending.write('new');
    controller.abort();
    const error: unknown = await pending.commit().catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('createParents creates the directories when the pending file is opened', async () => {
    const dir = tempDir();
    const pending = await openDurable(join(dir, 'a', 'b', 't'), { createParents: true });
    await pending.write('x');
    const result = await pending.commit();
    expect(result.createdDirectories).toEqual([join(dir, 'a'), join(dir, 'a', 'b')]);
    expect(readFileSync(join(dir, 'a', 'b', 't'), 'utf8')).toBe('x');
  });

  it('rejects bad arguments with a TypeError before anything is created', async () => {
    const dir = tempDir();
    await expect(openDurable(join(dir, 't'), { createParent: true } as never)).rejects.toMatchObject({ name: 'TypeError' });
    await expect(openDurable('')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    const pending = await openDurable(join(dir, 't'));
    await expect(pending.write(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await pending.discard();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('createDurableWriteStream', () => {
  it("'finish' (and so pipeline) comes only once the data and the name are durable", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const { fs, calls } = faultyFileSystem();
    const stream = createDurableWriteStream(join(dir, 't'), { fs });
    let atFinish = '';
    stream.on('finish', () => {
      atFinish = readFileSync(join(dir, 't'), 'utf8');
      expect(calls.at(-2)).toEqual({ op: 'sync', path: dir });
    });
    await pipeline(Readable.from(['a', 'b', Buffer.from('c')]), stream);
    expect(atFinish).toBe('abc');
    expect(stream.result).toMatchObject({ path: join(dir, 't'), bytesWritten: 3 });
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('an error in the source discards the temp file and leaves the target as it was', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const source = new Readable({
      read() {
        this.push('partial');
        this.destroy(new Error('source failed'));
      },
    });
    await expect(pipeline(source, createDurableWriteStream(join(dir, 't')))).rejects.toThrow('source failed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('destroy() before the end discards; an abort through signal too', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const stream = createDurableWriteStream(join(dir, 't'));
    stream.write('half');
    await new Promise((resolve) => setTimeout(resolve, 20));
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    const controller = new AbortController();
    const aborted = createDurableWriteStream(join(dir, 't'), { signal: controller.signal });
    aborted.write('half');
    controller.abort();
    await new Promise((resolve) => aborted.once('close', resolve));
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('throws a TypeError at once for bad arguments', () => {
    expect(() => createDurableWriteStream('')).toThrow(TypeError);
    expect(() => createDurableWriteStream('/tmp/x', { highWaterMark: -1 })).toThrow(TypeError);
    expect(() => createDurableWriteStream('/tmp/x', { creatParents: true } as never)).toThrow(/did you mean createParents/);
  });

  it('writes into a directory created on the way (createParents)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'exists'));
    await pipeline(Readable.from(['x']), createDurableWriteStream(join(dir, 'new', 't'), { createParents: true }));
    expect(readFileSync(join(dir, 'new', 't'), 'utf8')).toBe('x');
  });
});
