/**
 * Group commit of directory fsyncs (src/write/directory-fsync-group.ts): concurrent async
 * writes renaming into one directory share its fsyncs; a caller is covered only by an fsync that
 * started after it asked; a shared error rejects every caller it covered.
 *
 * Two levels: the rule itself, with fsyncs a test starts and ends by hand; and writeDurable on
 * the crash simulator, with the directory's fsync held open by a gate, checking in every
 * resolved write's `.then` that no explored crash state lacks its file. The twin: a sharing rule
 * that lets a late caller join the fsync in flight, run against the same simulator, leaves a
 * crash state where a resolved write's name is missing.
 */
import { constants } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCrashSimulator, type CrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';
import type { DurableFileHandle, DurableFileSystem } from '../../src/core/file-system.js';
import { reserveDirectoryFsync, sharedDirectoryFsync } from '../../src/write/directory-fsync-group.js';
import { writeDurable } from '../../src/write/write-durable.js';

/** A promise with its resolve and reject. */
interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether `promise` has settled, after the pending microtasks and one macrotask have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** An fsync a test ends by hand, counting the ones started. */
function manualFsyncs() {
  const started: Deferred<void>[] = [];
  return {
    started,
    fsync: (): Promise<void> => {
      const one = deferred<void>();
      started.push(one);
      return one.promise;
    },
  };
}

describe('the sharing rule', () => {
  it('a lone caller starts an fsync at once and resolves with it', async () => {
    const seam = {};
    const fsyncs = manualFsyncs();
    const call = sharedDirectoryFsync(seam, '/d', fsyncs.fsync);
    expect(fsyncs.started).toHaveLength(1);
    fsyncs.started[0]?.resolve();
    await expect(call).resolves.toBeUndefined();
  });

  it('callers asking while one fsync is in flight share the next one: 8 callers, 2 fsyncs', async () => {
    const seam = {};
    const fsyncs = manualFsyncs();
    const calls = Array.from({ length: 8 }, () => sharedDirectoryFsync(seam, '/d', fsyncs.fsync));
    expect(fsyncs.started).toHaveLength(1);
    fsyncs.started[0]?.resolve();
    expect(await settled(calls[0]!)).toBe(true);
    expect(fsyncs.started).toHaveLength(2);
    for (const call of calls.slice(1)) expect(await settled(call)).toBe(false);
    fsyncs.started[1]?.resolve();
    await Promise.all(calls);
    expect(fsyncs.started).toHaveLength(2);
  });

  it('a caller that asks after an fsync started is not covered by it: it resolves only with the next one', async () => {
    const seam = {};
    const fsyncs = manualFsyncs();
    const first = sharedDirectoryFsync(seam, '/d', fsyncs.fsync);
    const late = sharedDirectoryFsync(seam, '/d', fsyncs.fsync);
    fsyncs.started[0]?.resolve();
    await first;
    expect(await settled(late)).toBe(false);
    expect(fsyncs.started).toHaveLength(2);
    fsyncs.started[1]?.resolve();
    await expect(late).resolves.toBeUndefined();
  });

  it('an error from the shared fsync rejects every caller it covered, and only those; nothing is retried', async () => {
    const seam = {};
    const fsyncs = manualFsyncs();
    const first = sharedDirectoryFsync(seam, '/d', fsyncs.fsync);
    const covered = [sharedDirectoryFsync(seam, '/d', fsyncs.fsync), sharedDirectoryFsync(seam, '/d', fsyncs.fsync)];
    fsyncs.started[0]?.resolve();
    await first;
    const eio = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    const later = sharedDirectoryFsync(seam, '/d', fsyncs.fsync);
    fsyncs.started[1]?.reject(eio);
    for (const call of covered) await expect(call).rejects.toBe(eio);
    expect(fsyncs.started).toHaveLength(3);
    fsyncs.started[2]?.resolve();
    await expect(later).resolves.toBeUndefined();
  });

  it('directories and seams never share', () => {
    const fsyncs = manualFsyncs();
    const seamA = {};
    void sharedDirectoryFsync(seamA, '/d', fsyncs.fsync);
    void sharedDirectoryFsync(seamA, '/e', fsyncs.fsync);
    void sharedDirectoryFsync({}, '/d', fsyncs.fsync);
    expect(fsyncs.started).toHaveLength(3);
    for (const one of fsyncs.started) one.resolve();
  });

  it('a reservation (the write worker) counts as the fsync in flight: callers wait, then share one fsync', async () => {
    const seam = {};
    const fsyncs = manualFsyncs();
    const release = reserveDirectoryFsync(seam, '/d');
    expect(release).toBeTypeOf('function');
    expect(reserveDirectoryFsync(seam, '/d')).toBeUndefined();
    const calls = [sharedDirectoryFsync(seam, '/d', fsyncs.fsync), sharedDirectoryFsync(seam, '/d', fsyncs.fsync)];
    expect(fsyncs.started).toHaveLength(0);
    release?.();
    expect(fsyncs.started).toHaveLength(1);
    expect(reserveDirectoryFsync(seam, '/d')).toBeUndefined();
    fsyncs.started[0]?.resolve();
    await Promise.all(calls);
    expect(reserveDirectoryFsync(seam, '/d')).toBeTypeOf('function');
  });
});

/** Proxies `target`, replacing the members in `overrides` and binding the rest to it. */
function override<T extends object>(target: T, overrides: Partial<T>): T {
  // Over a fresh object: the simulator's objects are frozen, and a proxy of a frozen object must return its own values.
  return new Proxy({} as T, {
    get(_, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof T];
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (_, key) => Object.hasOwn(overrides, key) || Reflect.has(target, key),
  });
}

/**
 * The simulator's fs, with every fsync of `directory` held open after it ran (its effect is
 * made, its promise not yet resolved) until `open()` is called.
 */
function gatedDirectoryFsyncs(sim: CrashSimulator, directory: string) {
  const gate = deferred();
  let fsyncs = 0;
  const fs = override<DurableFileSystem>(sim.fs, {
    open: async (path: string, flags: number, mode?: number): Promise<DurableFileHandle> => {
      const handle = await sim.fs.open(path, flags, mode);
      if (path !== directory) return handle;
      return override<DurableFileHandle>(handle, {
        sync: async () => {
          await handle.sync();
          fsyncs += 1;
          await gate.promise;
        },
      });
    },
  });
  return { fs, open: () => gate.resolve(), fsyncs: () => fsyncs };
}

/** Resolves once `sim` has received `count` calls that match. */
function whenCalls(sim: CrashSimulator, matches: (syscall: string, path: string | undefined, dest: string | undefined) => boolean, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const stop = sim.onOperation((entry) => {
      if (!matches(entry.syscall, entry.path, entry.dest)) return;
      seen += 1;
      if (seen === count) {
        stop();
        setImmediate(resolve);
      }
    });
  });
}

/** The explored crash states in which `path` does not hold `content`. */
function statesLosing(sim: CrashSimulator, path: string, content: string): string[] {
  const losing: string[] = [];
  for (const state of sim.crashStates()) {
    if (state.readFile(path)?.toString() !== content) losing.push(state.describe());
  }
  return losing;
}

describe('writeDurable on the crash simulator', () => {
  it('8 concurrent writes into one directory: 2 directory fsyncs, and no crash state without a resolved write', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const gated = gatedDirectoryFsyncs(sim, '/d');
    const renamed = whenCalls(sim, (syscall) => syscall === 'rename', 8);
    const losses: string[] = [];
    const writes = Array.from({ length: 8 }, (_, i) =>
      writeDurable(`/d/f${i}`, `content ${i}`, { fs: gated.fs }).then(() => {
        losses.push(...statesLosing(sim, `/d/f${i}`, `content ${i}`));
      }),
    );
    await renamed;
    gated.open();
    await Promise.all(writes);
    expect(losses).toEqual([]);
    expect(gated.fsyncs()).toBe(2);
  });

  it('a write whose rename came after the directory fsync started is not covered by it', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const gated = gatedDirectoryFsyncs(sim, '/d');
    const firstFsync = whenCalls(sim, (syscall, path) => syscall === 'fsync' && path === '/d', 1);
    const first = writeDurable('/d/first', 'one', { fs: gated.fs });
    await firstFsync;
    const lateRenamed = whenCalls(sim, (syscall, _path, dest) => syscall === 'rename' && dest === '/d/late', 1);
    let lateLosses: string[] | undefined;
    const late = writeDurable('/d/late', 'two', { fs: gated.fs }).then(() => {
      lateLosses = statesLosing(sim, '/d/late', 'two');
    });
    await lateRenamed;
    // The name is in the page cache, not on disk: the fsync in flight read the directory before it.
    expect(statesLosing(sim, '/d/late', 'two')).not.toEqual([]);
    gated.open();
    await Promise.all([first, late]);
    expect(lateLosses).toEqual([]);
    expect(gated.fsyncs()).toBe(2);
  });

  it('twin: a rule that lets a late caller join the fsync in flight resolves it while its name can still be lost', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const { fs } = sim;
    const gate = deferred();
    // The wrong rule: join the fsync in flight if there is one.
    let inFlight: Promise<void> | undefined;
    const joinInFlight = async (fsync: () => Promise<void>): Promise<void> => {
      inFlight ??= fsync().finally(() => (inFlight = undefined));
      await inFlight;
    };
    const replace = async (name: string, content: string): Promise<void> => {
      const tmp = `/d/.${name}.tmp`;
      const file = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      await file.write(Buffer.from(content), 0, content.length, null);
      await file.sync();
      await file.close();
      await fs.rename(tmp, `/d/${name}`);
      const dir = await fs.open('/d', constants.O_RDONLY);
      await joinInFlight(async () => {
        await dir.sync();
        await gate.promise;
      });
      await dir.close();
    };
    const firstFsync = whenCalls(sim, (syscall, path) => syscall === 'fsync' && path === '/d', 1);
    const first = replace('first', 'one');
    await firstFsync;
    const lateRenamed = whenCalls(sim, (syscall, _path, dest) => syscall === 'rename' && dest === '/d/late', 1);
    let lateLosses: string[] = [];
    const late = replace('late', 'two').then(() => {
      lateLosses = statesLosing(sim, '/d/late', 'two');
    });
    await lateRenamed;
    gate.resolve();
    await Promise.all([first, late]);
    expect(lateLosses).not.toEqual([]);
  });
});
