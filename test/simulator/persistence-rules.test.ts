/**
 * The crash simulator's persistence rules, one by one, under the simple crash model: what
 * `sim.crash()` keeps after each kind of flush, and what it drops without one.
 */
import { constants } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';

const text = (bytes: Buffer | undefined): string | undefined => bytes?.toString('utf8');

async function fsyncDirectory(sim: ReturnType<typeof createCrashSimulator>, path: string): Promise<void> {
  const dir = await sim.fs.open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  await dir.sync();
  await dir.close();
}

describe('persistence rules (simple crash model)', () => {
  it('a write without any flush is lost, though processes saw it', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    await sim.fs.writeFile('/d/a', 'hello');
    expect(text(sim.readFile('/d/a'))).toBe('hello');
    sim.crash();
    expect(sim.readFile('/d/a')).toBeUndefined();
  });

  it('fsync of a new file keeps its data but not its name', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const handle = await sim.fs.open('/d/a', 'w');
    await handle.write(Buffer.from('hello'));
    await handle.sync();
    await handle.close();
    sim.crash();
    expect(sim.readFile('/d/a')).toBeUndefined();
  });

  it('fsync of the directory keeps the name, and only the data that was fsynced', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    await sim.fs.writeFile('/d/a', 'hello');
    await fsyncDirectory(sim, '/d');
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('');
  });

  it('fsync of the file and of its directory keeps both', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const handle = await sim.fs.open('/d/a', 'w');
    await handle.writeFile('hello');
    await handle.sync();
    await handle.close();
    await fsyncDirectory(sim, '/d');
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('hello');
  });

  it('fdatasync keeps a file’s data like fsync', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'old' } });
    const handle = await sim.fs.open('/d/a', 'r+');
    await handle.write('new', 0);
    await handle.datasync();
    await handle.close();
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('new');
  });

  it('overwriting a durable file in place (open "w") without fsync loses the new data and keeps the old', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'old' } });
    await sim.fs.writeFile('/d/a', 'new');
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('old');
  });

  it('a rename without a directory fsync is lost: the old name and content come back', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'old', '/d/a.tmp': 'new' } });
    await sim.fs.rename('/d/a.tmp', '/d/a');
    expect(text(sim.readFile('/d/a'))).toBe('new');
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('old');
    expect(text(sim.readFile('/d/a.tmp'))).toBe('new');
  });

  it('a rename followed by a directory fsync is kept', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'old', '/d/a.tmp': 'new' } });
    await sim.fs.rename('/d/a.tmp', '/d/a');
    await fsyncDirectory(sim, '/d');
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('new');
    expect(sim.readFile('/d/a.tmp')).toBeUndefined();
  });

  it('a rename between directories needs both directories fsynced', async () => {
    const sim = createCrashSimulator({ files: { '/src/f': 'data' }, directories: ['/dst'] });
    await sim.fs.rename('/src/f', '/dst/f');
    await fsyncDirectory(sim, '/dst');
    sim.crash();
    expect(text(sim.readFile('/src/f'))).toBe('data');
    expect(sim.readFile('/dst/f')).toBeUndefined();

    await sim.fs.rename('/src/f', '/dst/f');
    await fsyncDirectory(sim, '/dst');
    await fsyncDirectory(sim, '/src');
    sim.crash();
    expect(sim.readFile('/src/f')).toBeUndefined();
    expect(text(sim.readFile('/dst/f'))).toBe('data');
  });

  it('an unlink is volatile until the directory is fsynced', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'x' } });
    await sim.fs.unlink('/d/a');
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('x');
    await sim.fs.unlink('/d/a');
    await fsyncDirectory(sim, '/d');
    sim.crash();
    expect(sim.readFile('/d/a')).toBeUndefined();
  });

  it('a new directory needs its parent fsynced, and its entries need it fsynced', async () => {
    const sim = createCrashSimulator();
    await sim.fs.mkdir('/a/b', { recursive: true });
    await sim.fs.writeFile('/a/b/f', 'x');
    await fsyncDirectory(sim, '/a/b');
    await fsyncDirectory(sim, '/a');
    sim.crash();
    expect(await sim.fs.readdir('/')).toEqual([]);

    await sim.fs.mkdir('/a/b', { recursive: true });
    await sim.fs.writeFile('/a/b/f', 'x');
    await fsyncDirectory(sim, '/a/b');
    await fsyncDirectory(sim, '/a');
    await fsyncDirectory(sim, '/');
    sim.crash();
    expect(await sim.fs.readdir('/a/b')).toEqual(['f']);
  });

  it('mode and owner changes are data of the file: kept by its fsync', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'x' } });
    const handle = await sim.fs.open('/d/a', 'r');
    await handle.chmod(0o600);
    await handle.chown(123, 456);
    sim.crash();
    expect((await sim.fs.stat('/d/a')).mode & 0o777).toBe(0o644);
    const again = await sim.fs.open('/d/a', 'r');
    await again.chmod(0o600);
    await again.chown(123, 456);
    await again.sync();
    sim.crash();
    const stats = await sim.fs.stat('/d/a');
    expect([stats.mode & 0o777, stats.uid, stats.gid]).toEqual([0o600, 123, 456]);
  });

  it('O_SYNC writes are durable when they return (the data, not a new name)', async () => {
    const sim = createCrashSimulator({ files: { '/d/a': 'old' } });
    const handle = await sim.fs.open('/d/a', constants.O_WRONLY | constants.O_SYNC);
    await handle.write('new', 0);
    sim.crash();
    expect(text(sim.readFile('/d/a'))).toBe('new');
  });

  it('sim.sync(), fs.sync() and fs.syncfs() make everything durable', async () => {
    for (const flush of ['sim', 'sync', 'syncfs'] as const) {
      const sim = createCrashSimulator();
      await sim.fs.mkdir('/x/y', { recursive: true });
      await sim.fs.writeFile('/x/y/f', flush);
      if (flush === 'sim') sim.sync();
      else if (flush === 'sync') await sim.fs.sync();
      else await sim.fs.syncfs('/x');
      sim.crash();
      expect(text(sim.readFile('/x/y/f'))).toBe(flush);
    }
  });

  it('a crash closes every descriptor and the simulator can be used again', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const handle = await sim.fs.open('/d/a', 'w');
    const fd = sim.fs.openSync('/d/b', 'w');
    sim.crash();
    await expect(handle.write('x')).rejects.toMatchObject({ code: 'EBADF' });
    expect(() => sim.fs.writeSync(fd, Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'EBADF' }));
    await sim.fs.writeFile('/d/c', 'again');
    sim.sync();
    sim.crash();
    expect(text(sim.readFile('/d/c'))).toBe('again');
  });

  it('pendingChanges() lists what a crash would drop', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    await sim.fs.writeFile('/d/a', 'hi');
    expect(sim.pendingChanges()).toEqual(['create /d/a', 'write 2 bytes at 0 to /d/a']);
    sim.sync();
    expect(sim.pendingChanges()).toEqual([]);
  });
});
