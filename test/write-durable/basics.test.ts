import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeDurable } from '../../src/write/write-durable.js';
import { currentUmask } from '../../src/write/umask.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';
import { writeModes } from './modes.js';

describe.each(writeModes)('$name', ({ write }) => {
  it('creates a new file with mode 0o666 & ~umask and reports what it did', async () => {
    const dir = tempDir();
    const target = join(dir, 'new.txt');
    const result = await write(target, 'hello');
    expect(readFileSync(target, 'utf8')).toBe('hello');
    expect(statSync(target).mode & 0o7777).toBe(0o666 & ~currentUmask());
    expect(result).toEqual({ path: target, bytesWritten: 5, directorySynced: true, directorySyncErrors: [], createdDirectories: [] });
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('replaces an existing file and keeps its mode', async () => {
    const dir = tempDir();
    const target = join(dir, 'keep-mode');
    writeFileSync(target, 'old content that is longer');
    chmodSync(target, 0o640);
    await write(target, 'new');
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(statSync(target).mode & 0o7777).toBe(0o640);
  });

  it('applies an explicit mode exactly, as a number or an octal string', async () => {
    const dir = tempDir();
    await write(join(dir, 'a'), 'x', { mode: 0o600 });
    await write(join(dir, 'b'), 'x', { mode: '755' });
    expect(statSync(join(dir, 'a')).mode & 0o7777).toBe(0o600);
    expect(statSync(join(dir, 'b')).mode & 0o7777).toBe(0o755);
  });

  it('accepts an encoding string as options, and file: URLs', async () => {
    const dir = tempDir();
    await write(pathToFileURL(join(dir, 'hex')), '68656c6c6f', 'hex');
    expect(readFileSync(join(dir, 'hex'), 'utf8')).toBe('hello');
  });

  it('writes any ArrayBufferView as its bytes', async () => {
    const dir = tempDir();
    const words = new Uint16Array([0x6968, 0x2121]);
    await write(join(dir, 'u16'), words);
    expect(readFileSync(join(dir, 'u16'), 'latin1')).toBe('hi!!');
    const bytes = Buffer.from('..view..');
    await write(join(dir, 'dv'), new DataView(bytes.buffer, bytes.byteOffset + 2, 4));
    expect(readFileSync(join(dir, 'dv'), 'utf8')).toBe('view');
  });

  it('writes an empty file', async () => {
    const dir = tempDir();
    await write(join(dir, 'empty'), '');
    expect(readFileSync(join(dir, 'empty')).length).toBe(0);
  });

  it('creates the temp file beside the target, exclusively, with mode 0600, never reusing a name', async () => {
    const dir = tempDir();
    const target = join(dir, 'target');
    const opened: { path: string; flags: number; mode: number | undefined }[] = [];
    const { fs } = faultyFileSystem();
    const spy = {
      ...fs,
      open: (path: string, flags: number, mode?: number) => (opened.push({ path, flags, mode }), fs.open(path, flags, mode)),
      openSync: (path: string, flags: number, mode?: number) => (opened.push({ path, flags, mode }), fs.openSync(path, flags, mode)),
    };
    await write(target, 'a', { fs: spy });
    await write(target, 'b', { fs: spy });
    const temps = opened.filter((o) => o.path.endsWith('.dwtmp'));
    expect(temps).toHaveLength(2);
    for (const temp of temps) {
      expect(temp.path.startsWith(join(dir, '.target.'))).toBe(true);
      expect(temp.mode).toBe(0o600);
      // O_WRONLY | O_CREAT | O_EXCL
      expect(temp.flags & 0o300).toBe(0o300);
    }
    expect(temps[0]?.path).not.toBe(temps[1]?.path);
  });

  it('fits the temp name in NAME_MAX for a 255-byte target name, multibyte included', async () => {
    const dir = tempDir();
    const ascii = 'a'.repeat(255);
    const multibyte = 'é'.repeat(127) + 'x'; // 255 bytes
    for (const name of [ascii, multibyte]) {
      await write(join(dir, name), name);
      expect(readFileSync(join(dir, name), 'utf8')).toBe(name);
    }
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('writes through a symlink: the link stays, the file it points to is replaced', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'config'), 'old');
    chmodSync(join(dir, 'real', 'config'), 0o604);
    symlinkSync('real/config', join(dir, 'link'));
    const result = await write(join(dir, 'link'), 'new');
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link'))).toBe('real/config');
    expect(readFileSync(join(dir, 'real', 'config'), 'utf8')).toBe('new');
    expect(statSync(join(dir, 'real', 'config')).mode & 0o7777).toBe(0o604);
    expect(result.path).toBe(join(dir, 'real', 'config'));
    expect(leftoverTemps(join(dir, 'real'))).toEqual([]);
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('follows a chain of symlinks and a dangling link to the file it names', async () => {
    const dir = tempDir();
    symlinkSync(join(dir, 'second'), join(dir, 'first'));
    symlinkSync('missing-file', join(dir, 'second'));
    await write(join(dir, 'first'), 'created');
    expect(readFileSync(join(dir, 'missing-file'), 'utf8')).toBe('created');
    expect(lstatSync(join(dir, 'first')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(dir, 'second')).isSymbolicLink()).toBe(true);
  });

  it('rejects a symlink loop with ELOOP and creates nothing', async () => {
    const dir = tempDir();
    symlinkSync(join(dir, 'b'), join(dir, 'a'));
    symlinkSync(join(dir, 'a'), join(dir, 'b'));
    await expect(write(join(dir, 'a'), 'x')).rejects.toMatchObject({ code: 'ELOOP', stage: 'stat' });
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
  });

  it('creates missing parents with createParents, and reports them', async () => {
    const dir = tempDir();
    const target = join(dir, 'a', 'b', 'c', 'file');
    const result = await write(target, 'deep', { createParents: true });
    expect(readFileSync(target, 'utf8')).toBe('deep');
    expect(result.createdDirectories).toEqual([join(dir, 'a'), join(dir, 'a', 'b'), join(dir, 'a', 'b', 'c')]);
  });

  it('fsyncs the parent of every directory it creates, then the file, then its directory', async () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem();
    await write(join(dir, 'x', 'y', 'file'), 'deep', { createParents: true, fs });
    const syncs = calls.filter((c) => c.op === 'sync').map((c) => c.path);
    expect(syncs).toEqual([dir, join(dir, 'x'), expect.stringMatching(new RegExp(`\\.file\\.${process.pid}\\.[0-9a-f]{12}\\.dwtmp$`)), join(dir, 'x', 'y')]);
  });

  it('rejects with ENOENT when the directory is missing and createParents is off, as fs.writeFile does', async () => {
    const dir = tempDir();
    await expect(write(join(dir, 'no', 'file'), 'x')).rejects.toMatchObject({ code: 'ENOENT', stage: 'open' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names the first missing directory and the option that creates it', async () => {
    const dir = tempDir();
    const error = await Promise.resolve()
      .then(() => write(join(dir, 'no', 'deeper', 'file'), 'x'))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'ENOENT' });
    expect((error as Error).message).toContain(`${join(dir, 'no')} does not exist`);
    expect((error as Error).message).toContain('createParents: true');
    expect((error as Error).message).toContain('--create-parents');
  });

  it('reads the umask without changing it: a new file under umask 027 gets 0640', async () => {
    const dir = tempDir();
    const previous = process.umask(0o027);
    try {
      await write(join(dir, 'masked'), 'x');
      expect(process.umask()).toBe(0o027);
    } finally {
      process.umask(previous);
    }
    expect(statSync(join(dir, 'masked')).mode & 0o7777).toBe(0o640);
  });

  it('takes fs.writeFile\'s flush: true as fsync', async () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem();
    await write(join(dir, 'f'), 'data', { flush: true, fs });
    expect(calls.filter((c) => c.op === 'sync').map((c) => c.path)).toEqual([expect.stringMatching(/\.dwtmp$/), dir]);
  });

  it('uses fdatasync when asked', async () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem();
    await write(join(dir, 'f'), 'data', { flush: 'fdatasync', fs });
    expect(calls.filter((c) => c.op === 'datasync')).toHaveLength(1);
    expect(calls.filter((c) => c.op === 'sync').map((c) => c.path)).toEqual([dir]);
  });

  it('reports each step to onStep', async () => {
    const dir = tempDir();
    const steps: string[] = [];
    await write(join(dir, 'f'), 'data', { onStep: (e) => steps.push(e.step) });
    expect(steps).toEqual(['realpath', 'lstat', 'open', 'open', 'write', 'fchmod', 'fsync', 'close', 'rename', 'fsync', 'close']);
  });
});

describe('writeDurable with streamed data', () => {
  it('writes an iterable and an async iterable of strings and bytes', async () => {
    const dir = tempDir();
    await writeDurable(join(dir, 'it'), ['a', Buffer.from('b'), new Uint8Array([99])]);
    expect(readFileSync(join(dir, 'it'), 'utf8')).toBe('abc');
    async function* parts() {
      yield 'x';
      yield Buffer.from('y');
    }
    await writeDurable(join(dir, 'ait'), parts());
    expect(readFileSync(join(dir, 'ait'), 'utf8')).toBe('xy');
  });

  it('streams a large Readable in bounded memory', async () => {
    const dir = tempDir();
    const chunk = Buffer.alloc(1 << 20, 7);
    const chunks = 256; // 256 MiB
    let sent = 0;
    const source = new Readable({
      read() {
        sent += 1;
        this.push(sent <= chunks ? chunk : null);
      },
    });
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    await writeDurable(join(dir, 'big'), source);
    clearInterval(timer);
    expect(statSync(join(dir, 'big')).size).toBe(chunks * chunk.length);
    // A buffered copy would need 256 MiB more; a stream stays within a few chunks.
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('gathers small chunks into fewer writes', async () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem();
    await writeDurable(join(dir, 'lines'), Array.from({ length: 10_000 }, (_, i) => `line ${i}\n`), { fs });
    expect(readFileSync(join(dir, 'lines'), 'utf8').split('\n')).toHaveLength(10_001);
    expect(calls.filter((c) => c.op === 'write').length).toBeLessThan(5);
  });

  it('destroys a stream and keeps the target when the stream fails', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const source = new Readable({ read() {} });
    source.push('partial');
    setTimeout(() => source.destroy(new Error('upstream broke')), 10);
    await expect(writeDurable(join(dir, 't'), source)).rejects.toMatchObject({ stage: 'write', message: expect.stringContaining('upstream broke') });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('rejects a chunk of the wrong type mid-stream, naming the chunk, and keeps the target', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const chunks = (function* () {
      yield Buffer.alloc(70_000, 1); // a whole first batch: the bad chunk arrives once the temp file exists
      yield 42 as unknown as string;
    })();
    const error: unknown = await writeDurable(join(dir, 't'), chunks).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DurableWriteError', stage: 'write' });
    expect((error as Error).message).toMatch(/chunk 1 of the data \(after 70000 bytes\) is number 42/);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
  });
});
