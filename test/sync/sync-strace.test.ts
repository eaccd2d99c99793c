/**
 * Proves with strace that syncAll makes a successful sync(2) and syncFilesystem a successful
 * syncfs(2): strace attaches to this very test process (-p, root in CI) and follows its children
 * (-f), so it sees the syscalls of the `sync` program the functions spawn. The twin runs the same
 * harness around code that does not call them and sees neither syscall.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncAll } from '../../src/sync-all.js';
import { syncFilesystem } from '../../src/sync-filesystem.js';
import { missing } from '../support/prerequisites.js';

const skip = missing({ tools: ['strace', 'sync'], root: true });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dw-sync-strace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `body` with strace attached to this process and its children; returns strace's log. */
async function traced(name: string, body: () => Promise<void>): Promise<string> {
  const out = join(dir, `${name}.strace`);
  const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=sync,syncfs', '-o', out, '-p', String(process.pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  strace.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
  // strace has attached once it created its output file and stopped every thread; wait for the
  // file, then a little more for the threads.
  const deadline = Date.now() + 5000;
  for (;;) {
    const exists = await readFile(out).then(() => true, () => false);
    if (exists) break;
    if (Date.now() > deadline) throw new Error(`strace did not attach: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
  try {
    await body();
  } finally {
    strace.kill('SIGINT'); // detaches, leaving this process running
    await exited;
  }
  return readFile(out, 'utf8');
}

describe.skipIf(skip !== undefined)('syscalls made by syncAll and syncFilesystem' + (skip ? ` (skipped: ${skip})` : ''), () => {
  it('syncAll makes sync() and syncFilesystem makes syncfs(...) = 0', async () => {
    const log = await traced('both', async () => {
      await syncAll();
      await syncFilesystem(dir);
    });
    expect(log).toMatch(/^\d+\s+sync\(\)\s+= 0$/m);
    expect(log).toMatch(/^\d+\s+syncfs\(\d+\)\s+= 0$/m);
    // sync() came first: the calls were awaited in order.
    expect(log.search(/sync\(\)/)).toBeLessThan(log.search(/syncfs\(/));
  });

  it('twin: the same harness around a plain await sees neither syscall', async () => {
    const log = await traced('twin', async () => {
      await new Promise((r) => setTimeout(r, 50));
    });
    expect(log).not.toMatch(/sync\(\)|syncfs\(/);
  });
});
