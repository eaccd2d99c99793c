import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDurable } from '../../src/write/write-durable.js';
import { distEsm, requireBuild } from '../support/built-package.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';

describe('concurrent writeDurable calls on one path in one process', () => {
  it('run in call order: each promise resolves once its own data is there, and the last call wins', async () => {
    const dir = tempDir();
    const target = join(dir, 'counter');
    const seen: string[] = [];
    const writes = Array.from({ length: 40 }, (_, i) =>
      writeDurable(target, `version ${i}`).then(() => {
        seen.push(readFileSync(target, 'utf8'));
        return i;
      }),
    );
    const order = await Promise.all(writes);
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => `version ${i}`));
    expect(readFileSync(target, 'utf8')).toBe('version 39');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('a failing write does not stop the ones queued after it', async () => {
    const dir = tempDir();
    const target = join(dir, 'f');
    const first = writeDurable(target, 'one');
    const bad = writeDurable(
      target,
      (function* () {
        yield Buffer.alloc(70_000, 1);
        yield 5 as unknown as string;
      })(),
    );
    const last = writeDurable(target, 'three');
    await expect(first).resolves.toMatchObject({ bytesWritten: 3 });
    await expect(bad).rejects.toMatchObject({ stage: 'write' });
    await expect(last).resolves.toMatchObject({ bytesWritten: 5 });
    expect(readFileSync(target, 'utf8')).toBe('three');
  });
});

/** A child that rewrites `target` with blocks of one byte value, `rounds` times. */
const WRITER = `
const [mode, lib, target, byte, rounds, size] = process.argv.slice(1);
const fs = require('node:fs');
const block = Buffer.alloc(Number(size), Number(byte));
(async () => {
  const { writeDurable } = await import(lib);
  for (let i = 0; i < Number(rounds); i++) {
    if (mode === 'durable') await writeDurable(target, block);
    else fs.writeFileSync(target, block);
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

interface TornReport {
  reads: number;
  torn: number;
}

async function raceWriters(mode: 'durable' | 'naive', dir: string): Promise<TornReport> {
  const target = join(dir, 'shared');
  const size = 256 * 1024;
  writeFileSync(target, Buffer.alloc(size, 9));
  const children = [1, 2, 3].map((byte) =>
    spawn(process.execPath, ['-e', WRITER, mode, distEsm, target, String(byte), mode === 'durable' ? '60' : '300', String(size)], { stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  const exited = children.map((child) => new Promise<number | null>((resolve) => child.on('exit', resolve)));
  let running = children.length;
  for (const done of exited) void done.then(() => (running -= 1));
  const report: TornReport = { reads: 0, torn: 0 };
  while (running > 0) {
    const content = readFileSync(target);
    report.reads += 1;
    const first = content[0];
    if (content.length !== size || first === undefined || content.some((b) => b !== first)) report.torn += 1;
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(await Promise.all(exited)).toEqual([0, 0, 0]);
  return report;
}

describe('writers in several processes', () => {
  it('writeDurable never lets a reader see a torn or partial file', async () => {
    requireBuild();
    const dir = tempDir();
    const report = await raceWriters('durable', dir);
    expect(report.reads).toBeGreaterThan(20);
    expect(report.torn).toBe(0);
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('twin: fs.writeFileSync under the same harness shows torn or partial files', async () => {
    requireBuild();
    const report = await raceWriters('naive', tempDir());
    expect(report.torn).toBeGreaterThan(0);
  });
});
