/**
 * The exploring crash model: every state the persistence rules allow (per-file and per-directory
 * prefixes, atomic renames, torn writes with a sector size), the cap, and restore().
 */
import { constants } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCrashSimulator, type CrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';

function contents(sim: CrashSimulator, path: string): (string | undefined)[] {
  return [...sim.crashStates()].map((state) => state.readFile(path)?.toString('utf8'));
}

async function fsyncDirectory(sim: CrashSimulator, path: string): Promise<void> {
  const fd = sim.fs.openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  sim.fs.fsyncSync(fd);
  sim.fs.closeSync(fd);
}

describe('exploring crash model', () => {
  it('with nothing pending there is exactly one state, the current one', () => {
    const sim = createCrashSimulator({ files: { '/a': 'x' } });
    expect(contents(sim, '/a')).toEqual(['x']);
  });

  it('first state is the simple model; a file’s writes reach the disk as prefixes, in order', async () => {
    const sim = createCrashSimulator({ files: { '/a': '' } });
    const handle = await sim.fs.open('/a', 'r+');
    await handle.write('aa');
    await handle.write('bb');
    await handle.write('cc');
    expect(contents(sim, '/a')).toEqual(['', 'aa', 'aabb', 'aabbcc']);
  });

  it('an fs.writeFile over a durable file may leave it empty (the O_TRUNC reached the disk, the data not)', async () => {
    const sim = createCrashSimulator({ files: { '/a': 'old' } });
    await sim.fs.writeFile('/a', 'new');
    expect(contents(sim, '/a')).toEqual(['old', '', 'new']);
  });

  it('files and directories are independent: a name can reach the disk before its data', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    await sim.fs.writeFile('/d/a', 'x');
    const states = [...sim.crashStates()].map((s) => `${String(s.readdir('/d'))}=${String(s.readFile('/d/a'))}`);
    expect(states.sort()).toEqual(['=undefined', 'a=', 'a=x'].sort());
  });

  it('a rename is atomic: the name is at its old place or its new one, never both or neither', async () => {
    const sim = createCrashSimulator({ files: { '/s/f': 'data' }, directories: ['/t'] });
    await sim.fs.rename('/s/f', '/t/f');
    await sim.fs.writeFile('/t/g', '');
    for (const state of sim.crashStates()) {
      const places = [state.readFile('/s/f'), state.readFile('/t/f')].filter((x) => x !== undefined);
      expect(places, state.describe()).toHaveLength(1);
    }
  });

  it('flushed changes are in every state', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const handle = await sim.fs.open('/d/a', 'w');
    await handle.writeFile('x');
    await handle.sync();
    await fsyncDirectory(sim, '/d');
    await handle.writeFile('y');
    expect(contents(sim, '/d/a')).toEqual(['x', 'xy']);
  });

  it('a sector size splits writes, so a state may hold part of one write', async () => {
    const sim = createCrashSimulator({ files: { '/a': '' }, sectorSize: 4 });
    const handle = await sim.fs.open('/a', 'r+');
    await handle.write('0123456789', 2);
    // sectors [0,4) [4,8) [8,12): the write covers bytes 2..11
    expect(contents(sim, '/a')).toEqual(['', '\0\x0001', '\0\x00012345', '\0\x000123456789']);
  });

  it('kept and lost name the changes; describe() prints them', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    await sim.fs.writeFile('/d/a', 'x');
    const [first] = sim.crashStates();
    expect(first?.kept).toEqual([]);
    expect(first?.lost).toEqual(['create /d/a', 'write 1 bytes at 0 to /d/a']);
    expect(first?.describe()).toBe('kept: []; lost: [create /d/a; write 1 bytes at 0 to /d/a]');
  });

  it('throws a RangeError before yielding when the candidates exceed maxCrashStates', async () => {
    const sim = createCrashSimulator({ directories: ['/d'], maxCrashStates: 8 });
    for (const name of ['a', 'b', 'c']) await sim.fs.writeFile(`/d/${name}`, name);
    // groups: /d (3 creates) and three files (1 write each): 4 * 2 * 2 * 2 = 32 candidates
    expect(() => [...sim.crashStates()]).toThrow(/32 candidate crash states.*cap of 8/);
  });

  it('exploring does not change the simulator; restore() boots a new one on a state', async () => {
    const sim = createCrashSimulator({ files: { '/a': 'old' } });
    await sim.fs.writeFile('/a', 'new');
    const states = [...sim.crashStates()];
    expect(sim.pendingChanges()).toHaveLength(2);
    expect(sim.readFile('/a')?.toString()).toBe('new');
    const rebooted = states[1]?.restore();
    expect(rebooted?.readFile('/a')?.toString()).toBe('');
    expect(rebooted?.pendingChanges()).toEqual([]);
    await rebooted?.fs.writeFile('/a', 'recovered');
    expect(sim.readFile('/a')?.toString()).toBe('new');
  });
});
