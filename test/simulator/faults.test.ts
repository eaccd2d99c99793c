/**
 * Fault injection on the crash simulator: named operations failing with an errno once, n times or
 * always, path filters, short writes, and Linux's fsync error semantics.
 */
import { describe, expect, it } from 'vitest';
import { createCrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';

const text = (bytes: Buffer | undefined): string | undefined => bytes?.toString('utf8');

describe('fault injection', () => {
  it('fails the named operation once with the errno, Node-style, then succeeds', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const fault = sim.injectFault({ op: 'write', code: 'ENOSPC' });
    const handle = await sim.fs.open('/d/a', 'w');
    const error = await handle.write('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'ENOSPC', errno: -28, syscall: 'write' });
    expect((error as Error).message).toBe('ENOSPC: no space left on device, write');
    await expect(handle.write('x')).resolves.toMatchObject({ bytesWritten: 1 });
    expect([fault.hits, fault.active]).toEqual([1, false]);
  });

  it('times, after and always', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    sim.injectFault({ op: 'open', code: 'EMFILE', times: 2, after: 1 });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      outcomes.push(await sim.fs.open('/d/a', 'w').then(() => 'ok', (e: { code: string }) => e.code));
    }
    expect(outcomes).toEqual(['ok', 'EMFILE', 'EMFILE', 'ok']);

    const always = sim.injectFault({ op: 'rename', code: 'EROFS', times: 'always' });
    for (let i = 0; i < 3; i += 1) await expect(sim.fs.rename('/d/a', '/d/b')).rejects.toMatchObject({ code: 'EROFS', path: '/d/a', dest: '/d/b' });
    always.remove();
    await expect(sim.fs.rename('/d/a', '/d/b')).resolves.toBeUndefined();
  });

  it('filters by path (string, RegExp, predicate) and covers descriptor calls by the path they were opened with', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    sim.injectFault({ op: 'fsync', path: /\.tmp$/, times: 'always' });
    const other = await sim.fs.open('/d/a', 'w');
    await expect(other.sync()).resolves.toBeUndefined();
    const tmp = await sim.fs.open('/d/a.tmp', 'w');
    await expect(tmp.sync()).rejects.toMatchObject({ code: 'EIO', syscall: 'fsync' });
    sim.clearFaults();
    sim.injectFault({ op: 'stat', path: '/d/a' });
    sim.injectFault({ op: 'unlink', path: (p) => p.startsWith('/d/') });
    await expect(sim.fs.stat('/d/a.tmp')).resolves.toBeDefined();
    await expect(sim.fs.stat('/d/a')).rejects.toMatchObject({ code: 'EIO', syscall: 'stat', path: '/d/a' });
    await expect(sim.fs.unlink('/d/a')).rejects.toMatchObject({ code: 'EIO', syscall: 'unlink' });
  });

  it('a short write writes only some bytes; fs.writeFile loops until all are written', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    sim.injectFault({ op: 'write', shortWrite: 2, times: 3 });
    const handle = await sim.fs.open('/d/a', 'w');
    await expect(handle.write(Buffer.from('hello'))).resolves.toMatchObject({ bytesWritten: 2 });
    expect(sim.fs.writeSync(handle.fd, Buffer.from('llo'))).toBe(2);
    await handle.close();
    expect(text(sim.readFile('/d/a'))).toBe('hell');
    await sim.fs.writeFile('/d/b', 'hello');
    expect(text(sim.readFile('/d/b'))).toBe('hello');
  });

  it('Linux fsync semantics: the error is reported once, the data is dropped, the next fsync succeeds without it', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'old' } });
    sim.injectFault({ op: 'fsync', code: 'EIO' });
    const handle = await sim.fs.open('/d/a', 'r+');
    await handle.write('new', 0);
    await expect(handle.sync()).rejects.toMatchObject({ code: 'EIO', syscall: 'fsync' });
    // The page cache still serves the new bytes...
    expect(text(sim.readFile('/d/a'))).toBe('new');
    // ...and a retried fsync "succeeds": that success must not be trusted.
    await expect(handle.sync()).resolves.toBeUndefined();
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('old');
  });

  it('dropsUnflushed: false keeps the changes pending (a platform that retries writeback)', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'old' } });
    sim.injectFault({ op: 'fdatasync', dropsUnflushed: false });
    const fd = sim.fs.openSync('/d/a', 'r+');
    sim.fs.writeSync(fd, 'new', 0);
    expect(() => sim.fs.fdatasyncSync(fd)).toThrow(expect.objectContaining({ code: 'EIO', syscall: 'fdatasync' }));
    sim.fs.fdatasyncSync(fd);
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('new');
  });

  it('a failed directory fsync drops the directory’s pending entries', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    await sim.fs.writeFile('/d/a', '');
    sim.injectFault({ op: 'fsync', path: '/d' });
    const dir = await sim.fs.open('/d', 'r');
    await expect(dir.sync()).rejects.toMatchObject({ code: 'EIO' });
    await dir.sync();
    sim.crash();
    expect(await sim.fs.readdir('/d')).toEqual([]);
  });

  it('sync and syncfs faults flush nothing and lose nothing', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    await sim.fs.writeFile('/d/a', 'x');
    sim.injectFault({ op: ['sync', 'syncfs'], times: 2 });
    await expect(sim.fs.sync()).rejects.toMatchObject({ code: 'EIO', syscall: 'sync' });
    await expect(sim.fs.syncfs('/d')).rejects.toMatchObject({ code: 'EIO', syscall: 'syncfs' });
    expect(sim.pendingChanges()).toHaveLength(2);
    await sim.fs.syncfs('/d');
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('x');
  });

  it('a close fault still releases the descriptor, as close(2) does', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    sim.injectFault({ op: 'close' });
    const handle = await sim.fs.open('/d/a', 'w');
    await expect(handle.close()).rejects.toMatchObject({ code: 'EIO', syscall: 'close' });
    await expect(handle.close()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('rejects a negative shortWrite', () => {
    const sim = createCrashSimulator();
    expect(() => sim.injectFault({ op: 'write', shortWrite: -1 })).toThrow(RangeError);
  });
});
