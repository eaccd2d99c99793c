/**
 * Regression tests for issue 20 item 4: in 0.2.0 every call waited for every earlier call's target
 * resolution before it was admitted to its file's queue, so one call whose resolution hung (a hung
 * NFS or FUSE mount; here a seam whose `realpath` never answers) blocked every later write in the
 * process, writes to unrelated local files included. A call now waits for the earlier calls
 * through the same path, and for the resolutions of older calls through other paths at most
 * 250 ms after they began.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDurable } from '../../src/write/open-durable.js';
import { writeDurable } from '../../src/write/write-durable.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';
import { gatedFileSystem, settled, unlessHung } from './gated-fs.js';

/** `root/stalled/target` (holding `ORIGINAL`), whose directory's `realpath` stalls through the gate, and `root/other/`. */
function setUp(): { stalledDir: string; otherDir: string; target: string; gate: ReturnType<typeof gatedFileSystem> } {
  const root = tempDir();
  const stalledDir = join(root, 'stalled');
  const otherDir = join(root, 'other');
  mkdirSync(stalledDir);
  mkdirSync(otherDir);
  const target = join(stalledDir, 'target');
  writeFileSync(target, 'ORIGINAL');
  const gate = gatedFileSystem((call) => call.op === 'realpath' && call.path.startsWith(stalledDir));
  return { stalledDir, otherDir, target, gate };
}

describe('a call whose target resolution stalls (regression)', () => {
  it('holds up no write to another file, in another directory or its own; and it leaves when its signal fires, writing nothing', async () => {
    const { stalledDir, otherDir, target, gate } = setUp();
    const controller = new AbortController();
    try {
      const stalled = settled(writeDurable(target, 'STALLED', { fs: gate.fs, signal: controller.signal }));
      await gate.reached;

      await unlessHung(writeDurable(join(otherDir, 'f'), 'OTHER'), 'a write to another directory');
      await unlessHung(writeDurable(join(stalledDir, 'neighbour'), 'NEIGHBOUR'), 'a write to another file of the same directory');
      const pending = await unlessHung(openDurable(join(otherDir, 'pending')), 'openDurable of another file');
      await pending.write('PENDING');
      await unlessHung(pending.commit(), 'the commit of a pending file to another file');
      expect(readFileSync(join(otherDir, 'f'), 'utf8')).toBe('OTHER');
      expect(readFileSync(join(stalledDir, 'neighbour'), 'utf8')).toBe('NEIGHBOUR');
      expect(readFileSync(join(otherDir, 'pending'), 'utf8')).toBe('PENDING');

      controller.abort();
      const outcome = await unlessHung(stalled, 'the stalled call, once its signal fired');
      expect(outcome).toMatchObject({ error: { name: 'AbortError', stage: 'validate' } });
    } finally {
      gate.release();
    }
    // Its resolution answering late changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readFileSync(target, 'utf8')).toBe('ORIGINAL');
    expect(leftoverTemps(stalledDir)).toEqual([]);
    expect(leftoverTemps(otherDir)).toEqual([]);
  });

  it('holds up the later calls through the same path (contract test: 0.2.0 passes it too): they run after it, in call order, and each leaves on its own signal', async () => {
    const { stalledDir, target, gate } = setUp();
    const order: string[] = [];
    const done = (label: string) => (): void => void order.push(label);
    const controller = new AbortController();
    try {
      const first = settled(writeDurable(target, 'FIRST', { fs: gate.fs }).then(done('first')));
      await gate.reached;
      // Through Node's own file system: their own resolutions answer, and still they wait.
      const leaving = settled(writeDurable(target, 'LEAVING', { signal: controller.signal }).then(done('leaving')));
      const last = settled(writeDurable(target, 'LAST').then(done('last')));
      controller.abort();
      expect(await unlessHung(leaving, 'a waiting call, once its signal fired')).toMatchObject({ error: { name: 'AbortError' } });
      expect(readFileSync(target, 'utf8')).toBe('ORIGINAL');
      gate.release();
      expect(await first).toMatchObject({ value: undefined });
      expect(await last).toMatchObject({ value: undefined });
    } finally {
      gate.release();
    }
    expect(order).toEqual(['first', 'last']);
    expect(readFileSync(target, 'utf8')).toBe('LAST');
    expect(leftoverTemps(stalledDir)).toEqual([]);
  });
});
