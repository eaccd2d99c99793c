/**
 * A burst of writes under a descriptor limit. Each async write holds two descriptors (its
 * directory and its temp file); 0.2.0 failed every write that found none free: 300 concurrent
 * writes under a 256-descriptor limit, 4 resolved and 296 rejected with EMFILE, where
 * `fs.promises.writeFile` managed 237 and graceful-fs (fs-extra) queues and retries. Now an
 * async write short of descriptors closes what it holds and waits for one of the library's own
 * to be closed (src/core/descriptor-gate.ts); the sync forms cannot wait and fail as before.
 *
 * In-process on a seam that models a descriptor limit (deterministic, and the waiting cannot
 * deadlock: 500 writes through 8 descriptors all finish), and through the built package under
 * `prlimit --nofile=256:256`: `BURST_WRITES` concurrent writes (default 2000; the issue's figure
 * is 10,000), the worker up, all resolve, each file right, no temp file; it prints the time and
 * the peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDescriptorGate, type DescriptorTurn } from '../../src/core/descriptor-gate.js';
import { isAbortError } from '../../src/core/errors.js';
import { nodeFileSystem, type DurableFileHandle, type DurableFileSystem } from '../../src/core/file-system.js';
import { fsyncFile } from '../../src/write/fsync-file.js';
import { writeDurable, writeDurableSync } from '../../src/write/write-durable.js';
import { distEsm, requireBuild } from '../support/built-package.js';
import { missing } from '../support/prerequisites.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';

/** A file system that holds at most `limit` descriptors open (EMFILE beyond), and can hold a file's fsync until released. */
interface LimitedFileSystem {
  readonly fs: DurableFileSystem;
  /** Opens refused for lack of a descriptor so far. */
  shortages(): number;
  /** The most descriptors open at once. */
  peak(): number;
  /** Makes the fsync of the temp file of the target named `name` wait for the returned function. */
  holdFsync(name: string): () => void;
}

function limitedFileSystem(limit: number): LimitedFileSystem {
  let open = 0;
  let peak = 0;
  let shortages = 0;
  let hold: { readonly name: string; readonly released: Promise<void> } | undefined;
  /** Takes a descriptor, or throws EMFILE. */
  const take = (path: string): void => {
    if (open >= limit) {
      shortages += 1;
      throw Object.assign(new Error(`EMFILE: too many open files, open '${path}'`), { code: 'EMFILE', errno: -24, syscall: 'open', path });
    }
    open += 1;
    peak = Math.max(peak, open);
  };
  const fs: DurableFileSystem = {
    ...nodeFileSystem,
    openSync: (path, flags, mode) => {
      take(path);
      try {
        return nodeFileSystem.openSync(path, flags, mode);
      } catch (error) {
        open -= 1;
        throw error;
      }
    },
    closeSync: (fd) => {
      open -= 1;
      nodeFileSystem.closeSync(fd);
    },
    open: async (path, flags, mode) => {
      take(path);
      peak = Math.max(peak, open);
      let handle: DurableFileHandle;
      try {
        handle = await nodeFileSystem.open(path, flags, mode);
      } catch (error) {
        open -= 1;
        throw error;
      }
      return {
        fd: handle.fd,
        write: (buffer, offset, length, position) => handle.write(buffer, offset, length, position),
        sync: async () => {
          if (hold !== undefined && path.includes(`/.${hold.name}.`)) await hold.released;
          await handle.sync();
        },
        datasync: () => handle.datasync(),
        chmod: (m) => handle.chmod(m),
        chown: (uid, gid) => handle.chown(uid, gid),
        close: async () => {
          try {
            await handle.close();
          } finally {
            open -= 1;
          }
        },
      };
    },
  };
  return {
    fs,
    shortages: () => shortages,
    peak: () => peak,
    holdFsync: (name) => {
      let release = (): void => undefined;
      hold = { name, released: new Promise<void>((resolve) => (release = resolve)) };
      return release;
    },
  };
}

/** Waits (a few ms at a time) until `condition()` holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

/**
 * On a seam of two descriptors, a write of `dir/a` that holds both (its fsync held until
 * `release`), once it does: the next open on the seam finds none free.
 */
async function writeHoldingBoth(dir: string): Promise<{ limited: LimitedFileSystem; written: Promise<unknown>; release: () => void }> {
  const limited = limitedFileSystem(2);
  const release = limited.holdFsync('a');
  const written = writeDurable(join(dir, 'a'), 'A', { fs: limited.fs });
  await until(() => limited.peak() === 2);
  return { limited, written, release };
}

describe('in-process, on a seam that models a descriptor limit', () => {
  it('500 concurrent writes through 8 descriptors all resolve (0.2.0: all but a few rejected with EMFILE), never more than 8 open', async () => {
    const dir = tempDir();
    const limited = limitedFileSystem(8);
    const results = await Promise.allSettled(Array.from({ length: 500 }, (_, i) => writeDurable(join(dir, `f${i}`), `content ${i}`, { fs: limited.fs })));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(limited.shortages(), 'the limit must bite, or the test shows nothing').toBeGreaterThan(0);
    expect(limited.peak()).toBeLessThanOrEqual(8);
    for (let i = 0; i < 500; i += 1) expect(readFileSync(join(dir, `f${i}`), 'utf8')).toBe(`content ${i}`);
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('a write short of descriptors waits for a write in flight to close its own, then succeeds', async () => {
    const dir = tempDir();
    const { limited, written, release } = await writeHoldingBoth(dir);
    const b = writeDurable(join(dir, 'b'), 'B', { fs: limited.fs });
    await until(() => limited.shortages() > 0);
    release();
    await expect(Promise.all([written, b])).resolves.toHaveLength(2);
    expect(readFileSync(join(dir, 'b'), 'utf8')).toBe('B');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('fsyncFile waits too', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x'), 'x');
    const { limited, written, release } = await writeHoldingBoth(dir);
    const flushed = fsyncFile(join(dir, 'x'), { fs: limited.fs });
    await until(() => limited.shortages() > 0);
    release();
    await expect(Promise.all([written, flushed])).resolves.toHaveLength(2);
  });

  it('an abort ends the wait at once: AbortError, nothing created, the write in flight unaffected', async () => {
    const dir = tempDir();
    const { limited, written, release } = await writeHoldingBoth(dir);
    const controller = new AbortController();
    const b = writeDurable(join(dir, 'b'), 'B', { fs: limited.fs, signal: controller.signal });
    await until(() => limited.shortages() > 0);
    controller.abort();
    const error: unknown = await b.catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(leftoverTemps(dir).filter((name) => name.includes('.b.'))).toEqual([]);
    release();
    await expect(written).resolves.toMatchObject({ bytesWritten: 1 });
    expect(() => readFileSync(join(dir, 'b'))).toThrow();
  });

  it('with none of the library\'s descriptors to wait for, a write fails with EMFILE before anything changes; the sync form fails at once', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const none = limitedFileSystem(0);
    await expect(writeDurable(join(dir, 't'), 'new', { fs: none.fs })).rejects.toMatchObject({ code: 'EMFILE', stage: 'open' });
    expect(() => writeDurableSync(join(dir, 't'), 'new', { fs: none.fs })).toThrow(expect.objectContaining({ code: 'EMFILE', stage: 'open' }));
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
  });
});

describe('the gate', () => {
  /** A waiter: its turn once given, and whether it has been. */
  function waiter(gate: ReturnType<typeof createDescriptorGate>, turn?: DescriptorTurn): { readonly turn: () => DescriptorTurn | undefined; readonly woken: () => boolean; readonly refused: boolean } {
    let given: DescriptorTurn | undefined;
    let woken = false;
    const waiting = gate.wait(undefined, turn);
    void waiting?.then((t) => {
      given = t;
      woken = true;
    });
    return { turn: () => given, woken: () => woken, refused: waiting === undefined };
  }
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('wakes the first waiter once two descriptors of its own were closed, the next when it got through', async () => {
    const gate = createDescriptorGate();
    const owners = [{}, {}, {}];
    for (const owner of owners) gate.opened(owner);
    gate.exhausted();
    const first = waiter(gate);
    const second = waiter(gate);
    gate.closed(owners[0] ?? {});
    await tick();
    expect([first.woken(), second.woken()]).toEqual([false, false]);
    gate.closed(owners[1] ?? {});
    await tick();
    expect([first.woken(), second.woken()]).toEqual([true, false]);
    first.turn()?.pass();
    await tick();
    expect(second.woken()).toBe(true);
  });

  it('a waiter short again goes back to the head of the line; once nothing of the library\'s is open, it is refused', async () => {
    const gate = createDescriptorGate();
    const [a, b] = [{}, {}];
    gate.opened(a);
    gate.opened(b);
    const first = waiter(gate);
    const second = waiter(gate);
    gate.closed(a);
    gate.closed(b);
    await tick();
    expect(first.woken()).toBe(true);
    // Nothing of ours is open now: the first is refused, and the second gets its own last try.
    expect(waiter(gate, first.turn()).refused).toBe(true);
    await tick();
    expect(second.woken()).toBe(true);
  });

  it('a try that overlapped a close of ours, short with nothing of ours left, gets one more try, never two (its own close would loop it)', async () => {
    const gate = createDescriptorGate();
    const a = {};
    gate.opened(a);
    const first = waiter(gate);
    await tick();
    expect(first.woken()).toBe(false);
    gate.closed(a); // the last of ours: the first tries
    await tick();
    expect(first.woken()).toBe(true);
    const own = {};
    gate.opened(own);
    gate.closed(own); // its own directory, closed after its temp file found none
    const reprieved = waiter(gate, first.turn());
    expect(reprieved.refused).toBe(false);
    await tick();
    expect(reprieved.woken()).toBe(true);
    const ownAgain = {};
    gate.opened(ownAgain);
    gate.closed(ownAgain);
    expect(waiter(gate, reprieved.turn()).refused).toBe(true);
  });

  it('an abort takes a waiter out of the line', async () => {
    const gate = createDescriptorGate();
    gate.opened({});
    const controller = new AbortController();
    const waiting = gate.wait(controller.signal, undefined);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});

const lacking = missing({ tools: ['prlimit'] });

describe.skipIf(lacking !== undefined)(`through the built package under prlimit --nofile=256:256${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  const count = Number(process.env['BURST_WRITES'] ?? 2000);

  /** A child that starts the worker, then makes `count` concurrent writes and reports how they went. */
  const SCRIPT = `
    const { writeDurable } = await import(process.argv[1]);
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = process.argv[2];
    const count = Number(process.argv[3]);
    await writeDurable(dir + '/warm', 'x');
    await writeDurable(dir + '/warm', 'y'); // starts the worker: the burst's first write goes to it
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => writeDurable(dir + '/f' + i, 'content ' + i)));
    const seconds = (performance.now() - started) / 1000;
    const rejected = results.filter((r) => r.status === 'rejected');
    let wrong = 0;
    for (let i = 0; i < count; i += 1) if (readFileSync(dir + '/f' + i, { encoding: 'utf8', flag: 'r' }) !== 'content ' + i) wrong += 1;
    const temps = readdirSync(dir).filter((name) => name.startsWith('.')).length;
    console.log(JSON.stringify({ rejected: rejected.length, firstError: rejected[0]?.reason?.message, wrong, temps, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));`;

  it('a write the worker takes while the library holds every free descriptor waits for them, then succeeds; with none of the library\'s to wait for it fails from the worker', () => {
    requireBuild();
    const dir = tempDir();
    // Under 64 descriptors the child holds all but one, then all but two; a streamed write (the
    // general path) takes the two and holds them while its stream stalls; a small write goes to
    // the worker, which finds none free. 0.2.0 failed it with EMFILE.
    const script = `
      const { writeDurable } = await import(process.argv[1]);
      const fs = await import('node:fs');
      const dir = process.argv[2];
      const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      await writeDurable(dir + '/warm', 'x');
      await writeDurable(dir + '/warm', 'y');
      await delay(500);
      const hog = [];
      try { for (;;) hog.push(fs.openSync('/dev/null', 'r')); } catch {}
      fs.closeSync(hog.pop());
      const alone = await writeDurable(dir + '/alone', 'z').then(() => 'resolved', (e) => ({ code: e.code, onWorker: e.stack.includes('write-worker.js') }));
      fs.closeSync(hog.pop());
      let holding;
      const held = new Promise((resolve) => (holding = resolve));
      let release;
      const released = new Promise((resolve) => (release = resolve));
      async function* stalled() { yield Buffer.alloc(65536, 97); holding(); await released; yield Buffer.from('!'); }
      const streamed = writeDurable(dir + '/streamed', stalled());
      await held; // it holds its directory and its temp file
      let small = 'pending';
      const smallDone = writeDurable(dir + '/small', 'small').then(() => (small = 'resolved'), (e) => (small = 'rejected ' + e.code));
      await delay(1000);
      const whileHeld = small;
      release();
      await Promise.allSettled([streamed, smallDone]);
      for (const fd of hog) fs.closeSync(fd);
      console.log(JSON.stringify({ alone, whileHeld, small, content: fs.readFileSync(dir + '/small', 'utf8') }));`;
    const out = execFileSync('prlimit', ['--nofile=64:64', process.execPath, '--input-type=module', '-e', script, distEsm, dir], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out)).toEqual({ alone: { code: 'EMFILE', onWorker: true }, whileHeld: 'pending', small: 'resolved', content: 'small' });
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it(`${count} concurrent writeDurable calls all resolve, each file right, no temp file left (0.2.0: 300 calls, 296 EMFILE)`, () => {
    requireBuild();
    const dir = tempDir();
    const out = execFileSync('prlimit', ['--nofile=256:256', process.execPath, '--input-type=module', '-e', SCRIPT, distEsm, dir, String(count)], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    const report = JSON.parse(out) as { rejected: number; firstError: string | undefined; wrong: number; temps: number; seconds: number; peakRssMiB: number };
    console.log(`${count} concurrent writes under 256 descriptors: ${report.seconds.toFixed(1)} s, peak RSS ${report.peakRssMiB.toFixed(0)} MiB`);
    expect({ rejected: report.rejected, firstError: report.firstError, wrong: report.wrong, temps: report.temps }).toEqual({ rejected: 0, firstError: undefined, wrong: 0, temps: 0 });
  });
});
