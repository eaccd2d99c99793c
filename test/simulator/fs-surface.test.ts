/**
 * The crash simulator's `sim.fs`: the node:fs/promises calls a service uses and their `*Sync`
 * twins, with Node's error codes; and its fit to the DurableFileSystem seam.
 */
import { constants } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DurableFileSystem } from '../../src/core/file-system.js';
import { createCrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';

describe('sim.fs: node:fs/promises surface', () => {
  it('is a DurableFileSystem and its functions can be destructured', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const seam: DurableFileSystem = sim.fs;
    const { writeFile, readFile } = sim.fs;
    await writeFile('/d/a', 'x');
    expect(await readFile('/d/a', 'utf8')).toBe('x');
    expect(typeof seam.sync).toBe('function');
    expect(typeof seam.syncfs).toBe('function');
  });

  it('open with string and numeric flags; handle write/read/stat/truncate/readFile/appendFile', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const h = await sim.fs.open('/d/a', constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    expect(h.fd).toBeGreaterThan(2);
    expect(await h.write(Buffer.from('xhello'), 1, 5, null)).toMatchObject({ bytesWritten: 5 });
    expect(((await h.stat()).mode & 0o777).toString(8)).toBe('600');
    await h.close();
    await expect(sim.fs.open('/d/a', 'wx')).rejects.toMatchObject({ code: 'EEXIST', syscall: 'open', path: '/d/a' });

    const rw = await sim.fs.open('/d/a', 'r+');
    const buffer = Buffer.alloc(3);
    expect(await rw.read(buffer, 0, 3, 1)).toMatchObject({ bytesRead: 3 });
    expect(buffer.toString()).toBe('ell');
    expect(await rw.readFile('utf8')).toBe('hello');
    await rw.truncate(4);
    await rw.close();
    expect(await sim.fs.readFile('/d/a', { encoding: 'utf8' })).toBe('hell');

    const appender = await sim.fs.open('/d/a', 'a');
    await appender.appendFile('o!');
    await appender.close();
    await sim.fs.appendFile('/d/a', Buffer.from('?'));
    expect(await sim.fs.readFile('/d/a', 'utf8')).toBe('hello!?');
  });

  it('writeFile takes strings with encodings, typed arrays, iterables and async iterables, and a mode', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    await sim.fs.writeFile('/d/hex', '6869', 'hex');
    await sim.fs.writeFile('/d/u16', new Uint16Array([0x6968]));
    await sim.fs.writeFile('/d/iter', ['a', Buffer.from('b')]);
    await sim.fs.writeFile('/d/async', (async function* chunks() {
      yield 'c';
      yield new Uint8Array([100]);
    })());
    await sim.fs.writeFile('/d/mode', 'x', { mode: 0o640 });
    const read = async (p: string): Promise<string> => sim.fs.readFile(p, 'utf8');
    expect([await read('/d/hex'), await read('/d/u16'), await read('/d/iter'), await read('/d/async')]).toEqual(['hi', 'hi', 'ab', 'cd']);
    expect((await sim.fs.stat('/d/mode')).mode & 0o777).toBe(0o640);
  });

  it('mkdir (plain and recursive), readdir (names, withFileTypes), rmdir, rm, access', async () => {
    const sim = createCrashSimulator();
    expect(await sim.fs.mkdir('/a/b/c', { recursive: true })).toBe('/a');
    expect(await sim.fs.mkdir('/a/b/c', { recursive: true })).toBeUndefined();
    expect(await sim.fs.mkdir('/a/x')).toBeUndefined();
    await expect(sim.fs.mkdir('/a/x')).rejects.toMatchObject({ code: 'EEXIST', syscall: 'mkdir' });
    await expect(sim.fs.mkdir('/nope/x')).rejects.toMatchObject({ code: 'ENOENT' });
    await sim.fs.writeFile('/a/f', '');
    expect(await sim.fs.readdir('/a')).toEqual(['b', 'f', 'x']);
    const entries = await sim.fs.readdir('/a', { withFileTypes: true });
    expect(entries.map((e) => [e.name, e.isDirectory(), e.isFile()])).toEqual([['b', true, false], ['f', false, true], ['x', true, false]]);
    await expect(sim.fs.readdir('/a/f')).rejects.toMatchObject({ code: 'ENOTDIR', syscall: 'scandir' });
    await expect(sim.fs.rmdir('/a/b')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    await expect(sim.fs.rmdir('/a/f')).rejects.toMatchObject({ code: 'ENOTDIR' });
    await sim.fs.rmdir('/a/x');
    await expect(sim.fs.rm('/a')).rejects.toMatchObject({ code: 'EISDIR' });
    await sim.fs.rm('/a', { recursive: true });
    await sim.fs.rm('/a', { force: true });
    await expect(sim.fs.access('/a')).rejects.toMatchObject({ code: 'ENOENT', syscall: 'access' });
    expect(await sim.fs.readdir('/')).toEqual([]);
  });

  it('rename: replaces files, refuses the POSIX error cases', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'a', '/d/b': 'b', '/d/sub/x': 'x' }, directories: ['/d/empty'] });
    await sim.fs.rename('/d/a', '/d/b');
    expect(await sim.fs.readFile('/d/b', 'utf8')).toBe('a');
    await expect(sim.fs.rename('/d/a', '/d/c')).rejects.toMatchObject({ code: 'ENOENT', path: '/d/a', dest: '/d/c' });
    await expect(sim.fs.rename('/d/b', '/d/empty')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(sim.fs.rename('/d/empty', '/d/b')).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(sim.fs.rename('/d/empty', '/d/sub')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    await expect(sim.fs.rename('/d/sub', '/d/sub/inner')).rejects.toMatchObject({ code: 'EINVAL' });
    await sim.fs.rename('/d/sub', '/d/empty');
    expect(await sim.fs.readFile('/d/empty/x', 'utf8')).toBe('x');
  });

  it('error codes of open, unlink, stat and paths through files', async () => {
    const sim = createCrashSimulator({ files: { '/d/f': 'x' } });
    const codeOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'ok', (e: { code: string }) => e.code);
    expect(await codeOf(sim.fs.open('/d/missing'))).toBe('ENOENT');
    expect(await codeOf(sim.fs.open('/d', 'w'))).toBe('EISDIR');
    expect(await codeOf(sim.fs.open('/d/f', constants.O_RDONLY | constants.O_DIRECTORY))).toBe('ENOTDIR');
    expect(await codeOf(sim.fs.open('/d/f/x', 'w'))).toBe('ENOTDIR');
    expect(await codeOf(sim.fs.unlink('/d'))).toBe('EISDIR');
    expect(await codeOf(sim.fs.unlink('/d/missing'))).toBe('ENOENT');
    expect(await codeOf(sim.fs.readlink('/d/f'))).toBe('EINVAL');
    expect(await codeOf(sim.fs.stat(''))).toBe('ENOENT');
    const handle = await sim.fs.open('/d/f', 'r');
    expect(await codeOf(handle.write('x'))).toBe('EBADF');
    await handle.close();
    expect(await codeOf(handle.stat())).toBe('EBADF');
    const error = await sim.fs.stat('/d/missing').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'stat', path: '/d/missing' });
    expect((error as Error).message).toBe("ENOENT: no such file or directory, stat '/d/missing'");
  });

  it('symlinks: followed by open/stat/readFile, not by lstat/readlink/unlink; rename replaces the link itself', async () => {
    const sim = createCrashSimulator({ files: { '/d/real': 'v1' } });
    await sim.fs.symlink('real', '/d/link');
    expect(await sim.fs.readlink('/d/link')).toBe('real');
    expect((await sim.fs.lstat('/d/link')).isSymbolicLink()).toBe(true);
    expect((await sim.fs.stat('/d/link')).isFile()).toBe(true);
    await sim.fs.writeFile('/d/link', 'v2');
    expect(await sim.fs.readFile('/d/real', 'utf8')).toBe('v2');
    expect(sim.readFile('/d/link')?.toString()).toBe('v2');
    await sim.fs.symlink('loop', '/d/loop');
    await expect(sim.fs.stat('/d/loop')).rejects.toMatchObject({ code: 'ELOOP' });
    await expect(sim.fs.symlink('x', '/d/real')).rejects.toMatchObject({ code: 'EEXIST' });
    await sim.fs.unlink('/d/link');
    expect(await sim.fs.readdir('/d')).toEqual(['loop', 'real']);
  });

  it('paths: URLs, Buffers and relative paths (against cwd)', async () => {
    const sim = createCrashSimulator({ cwd: '/srv', directories: ['/srv/x'] });
    await sim.fs.writeFile('state.json', '1');
    expect(await sim.fs.readFile(pathToFileURL('/srv/state.json'), 'utf8')).toBe('1');
    expect(await sim.fs.readFile(Buffer.from('/srv/./x/../state.json'), 'utf8')).toBe('1');
    expect(sim.readFile('state.json')?.toString()).toBe('1');
  });

  it('umask, uid and gid options apply to created files', async () => {
    const sim = createCrashSimulator({ umask: 0o077, uid: 1000, gid: 1001, directories: ['/d'] });
    await sim.fs.writeFile('/d/a', '');
    const stats = await sim.fs.stat('/d/a');
    expect([stats.mode & 0o777, stats.uid, stats.gid, stats.dev]).toEqual([0o600, 1000, 1001, 0x5eed]);
    expect(stats.isFile()).toBe(true);
  });

  it('sim.readFile returns undefined when absent and throws EISDIR on a directory', () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    expect(sim.readFile('/d/none')).toBeUndefined();
    expect(() => sim.readFile('/d')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
  });
});

describe('sim.fs: node:fs *Sync surface', () => {
  it('descriptor calls and path calls', () => {
    const sim = createCrashSimulator();
    sim.fs.mkdirSync('/d');
    const fd = sim.fs.openSync('/d/a', constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    expect(sim.fs.writeSync(fd, Buffer.from('hello'), 0, 5, null)).toBe(5);
    expect(sim.fs.writeSync(fd, '!', 5)).toBe(1);
    const buffer = Buffer.alloc(6);
    expect(sim.fs.readSync(fd, buffer, 0, 6, 0)).toBe(6);
    expect(buffer.toString()).toBe('hello!');
    sim.fs.fchmodSync(fd, 0o644);
    sim.fs.fchownSync(fd, 7, 8);
    expect(sim.fs.fstatSync(fd)).toMatchObject({ size: 6, uid: 7, gid: 8 });
    sim.fs.ftruncateSync(fd, 5);
    sim.fs.fsyncSync(fd);
    sim.fs.fdatasyncSync(fd);
    sim.fs.closeSync(fd);
    expect(() => sim.fs.closeSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'close' }));
    sim.fs.renameSync('/d/a', '/d/b');
    expect(sim.fs.readFileSync('/d/b', 'utf8')).toBe('hello');
    sim.fs.writeFileSync('/d/c', 'x');
    sim.fs.appendFileSync('/d/c', 'y');
    sim.fs.symlinkSync('c', '/d/l');
    expect(sim.fs.readlinkSync('/d/l')).toBe('c');
    expect(sim.fs.lstatSync('/d/l').isSymbolicLink()).toBe(true);
    expect(sim.fs.statSync('/d/l').size).toBe(2);
    expect(sim.fs.readdirSync('/d')).toEqual(['b', 'c', 'l']);
    sim.fs.unlinkSync('/d/l');
    expect(sim.fs.existsSync('/d/l')).toBe(false);
    expect(sim.fs.existsSync('/d/c')).toBe(true);
    expect(sim.fs.mkdirSync('/e/f', { recursive: true })).toBe('/e');
    sim.fs.rmdirSync('/e/f');
    expect(() => sim.fs.openSync('/d/x', 'bogus')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('trace() records every call in order, with paths and descriptors', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    await sim.fs.writeFile('/d/a', 'x');
    await sim.fs.rename('/d/a', '/d/b');
    expect(sim.trace().map((e) => [e.syscall, e.path, e.dest])).toEqual([
      ['open', '/d/a', undefined],
      ['write', '/d/a', undefined],
      ['close', '/d/a', undefined],
      ['rename', '/d/a', '/d/b'],
    ]);
    sim.clearTrace();
    expect(sim.trace()).toEqual([]);
  });

  it('onOperation listeners see each call before it runs, and a throwing listener fails it', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const seen: string[] = [];
    const stop = sim.onOperation((entry) => {
      seen.push(`${entry.syscall}:${sim.readFile('/d/a')?.toString() ?? '-'}`);
      if (entry.syscall === 'rename') throw new Error('killed');
    });
    await sim.fs.writeFile('/d/a', 'x');
    await expect(sim.fs.rename('/d/a', '/d/b')).rejects.toThrow('killed');
    stop();
    await sim.fs.rename('/d/a', '/d/b');
    expect(seen).toEqual(['open:-', 'write:', 'close:x', 'rename:x']);
  });
});
