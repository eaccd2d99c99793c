/**
 * The library on the crash simulator: writeDurable's calls in order, its fsync-failure handling
 * under Linux semantics, syncAll/syncFilesystem through `fs`, and FakePowerController crashing a
 * linked simulator, each next to the naive sequence that loses data under the same conditions.
 */
import { describe, expect, it } from 'vitest';
import { createCrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';
import { isFlushError } from '../../src/core/errors.js';
import { FakePowerController } from '../../src/testing/fake-power-controller.js';
import { syncAll } from '../../src/sync/sync.js';
import { syncFilesystem } from '../../src/sync/sync.js';
import { writeDurable, writeDurableSync } from '../../src/write/write-durable.js';

const text = (bytes: Buffer | undefined): string | undefined => bytes?.toString('utf8');

describe('writeDurable on the crash simulator', () => {
  it('makes the calls in the durable order: directory held open, temp file, write, fsync, close, rename, directory fsync', async () => {
    const sim = createCrashSimulator({ directories: ['/data'] });
    await writeDurable('/data/state.json', '{"v":1}', { fs: sim.fs });
    const calls = sim.trace().map((e) => `${e.syscall} ${e.path === '/data' ? 'dir' : e.path === '/data/state.json' ? 'target' : 'tmp'}`);
    const order = ['open dir', 'open tmp', 'write tmp', 'fsync tmp', 'close tmp', 'rename tmp', 'fsync dir', 'close dir'];
    const positions = order.map((call) => calls.indexOf(call));
    expect(positions.every((p) => p >= 0), calls.join(', ')).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    sim.crash();
    expect(text(sim.readFile('/data/state.json'))).toBe('{"v":1}');
    expect(await sim.fs.readdir('/data')).toEqual(['state.json']);
  });

  it('writeDurableSync (fdatasync) survives the crash too', () => {
    const sim = createCrashSimulator({ files: { '/data/state.json': 'old' } });
    writeDurableSync('/data/state.json', 'new', { fs: sim.fs, flush: 'fdatasync' });
    sim.crash();
    expect(text(sim.readFile('/data/state.json'))).toBe('new');
  });

  it('createParents makes a new directory path survive', async () => {
    const sim = createCrashSimulator();
    await writeDurable('/a/b/c/state.json', 'x', { fs: sim.fs, createParents: true });
    sim.crash();
    expect(text(sim.readFile('/a/b/c/state.json'))).toBe('x');
  });

  it('a failed fsync (EIO, data dropped as on Linux) rejects with a FlushError; the old content survives, no temp file is left', async () => {
    const sim = createCrashSimulator({ files: { '/data/state.json': 'old' } });
    sim.injectFault({ op: ['fsync', 'fdatasync'], path: (p) => p !== '/data', code: 'EIO' });
    const error = await writeDurable('/data/state.json', 'new', { fs: sim.fs }).catch((e: unknown) => e);
    expect(isFlushError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'EIO', stage: 'flush' });
    expect(text(sim.readFile('/data/state.json'))).toBe('old');
    expect(await sim.fs.readdir('/data')).toEqual(['state.json']);
    sim.crash();
    expect(text(sim.readFile('/data/state.json'))).toBe('old');
  });

  it('twin: trusting a retried fsync after EIO renames a file whose data never reached the disk', async () => {
    const sim = createCrashSimulator({ files: { '/data/state.json': 'old' } });
    sim.injectFault({ op: 'fsync', path: '/data/state.json.tmp' });
    const handle = await sim.fs.open('/data/state.json.tmp', 'wx');
    await handle.writeFile('new');
    await handle.sync().catch(async () => handle.sync()); // the retry "succeeds"
    await handle.close();
    await sim.fs.rename('/data/state.json.tmp', '/data/state.json');
    const dir = await sim.fs.open('/data', 'r');
    await dir.sync();
    await dir.close();
    sim.crash();
    expect(text(sim.readFile('/data/state.json'))).toBe('');
  });
});

describe('FakePowerController linked to the simulator', () => {
  it('a naive write followed by reset() is lost; writeDurable + syncAll + reset() is kept', async () => {
    const sim = createCrashSimulator({ directories: ['/naive', '/durable'] });
    const power = new FakePowerController({ simulator: sim });
    await sim.fs.writeFile('/naive/state.json', 'v1');
    await writeDurable('/durable/state.json', 'v1', { fs: sim.fs });
    await syncAll({ fs: sim.fs });
    // the naive file is flushed too by syncAll; write it again after the sync to see the loss
    await sim.fs.writeFile('/naive/state.json', 'v2');
    await power.reset();
    expect(text(sim.readFile('/naive/state.json'))).toBe('v1');
    expect(text(sim.readFile('/durable/state.json'))).toBe('v1');
    expect(power.verbs).toEqual(['reset']);
  });

  it('off() and cycle() crash it; softOff() syncs first', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const power = new FakePowerController({ simulator: sim });
    await sim.fs.writeFile('/d/a', 'x');
    await power.cycle();
    expect(sim.readFile('/d/a')).toBeUndefined();
    await sim.fs.writeFile('/d/a', 'x');
    await power.off();
    expect(sim.readFile('/d/a')).toBeUndefined();
    await power.on();
    await sim.fs.writeFile('/d/a', 'y');
    await power.softOff();
    expect(text(sim.readFile('/d/a'))).toBe('y');
  });

  it('syncFilesystem(path, { fs }) flushes through the simulator’s syncfs', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const power = new FakePowerController({ simulator: sim });
    await sim.fs.writeFile('/d/a', 'x');
    await syncFilesystem('/d', { fs: sim.fs });
    await power.reset();
    expect(text(sim.readFile('/d/a'))).toBe('x');
    expect(sim.trace().map((e) => e.syscall)).toContain('syncfs');
  });
});
