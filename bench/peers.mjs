#!/usr/bin/env node
// Side-by-side cost of a durable write: writeDurable against fs.writeFile (no flush at all),
// fs-extra's outputFile (no flush) and write-file-atomic (fsyncs the file, not the directory).
// Usage: npm run build && node bench/peers.mjs [rounds]   (npm run bench:peers)
// Prints the median time per write for each and its ratio to write-file-atomic.
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fsExtra from 'fs-extra';
import writeFileAtomic from 'write-file-atomic';
import { writeDurable, writeDurableSync } from '../dist/index.js';

const rounds = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'durable-write-bench-'));
const contenders = {
  'fs.writeFile (no fsync)': (p, d) => writeFile(p, d),
  'fs-extra outputFile (no fsync)': (p, d) => fsExtra.outputFile(p, d),
  'write-file-atomic (file fsync)': (p, d) => writeFileAtomic(p, d),
  'writeDurable (file + dir fsync)': (p, d) => writeDurable(p, d),
  'writeDurable fdatasync': (p, d) => writeDurable(p, d, { flush: 'fdatasync' }),
  'writeDurableSync': async (p, d) => writeDurableSync(p, d),
};

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

console.log(`node ${process.version}, ${rounds} rounds per size, interleaved, in ${dir}`);
for (const size of [1024, 1024 * 1024]) {
  const data = Buffer.alloc(size, 'x');
  const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  const rs = size >= 1024 * 1024 ? Math.max(10, Math.floor(rounds / 5)) : rounds;
  for (let round = 0; round < rs; round += 1) {
    // Interleave contenders so disk state and background writeback hit all alike.
    for (const [name, write] of Object.entries(contenders)) {
      const target = join(dir, `${name.replace(/\W+/g, '-')}-${size}`);
      const started = process.hrtime.bigint();
      await write(target, data);
      times[name].push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  const baseline = median(times['write-file-atomic (file fsync)']);
  console.log(`\n${size === 1024 ? '1 KiB' : '1 MiB'} writes (${rs} each): median ms, ratio to write-file-atomic`);
  for (const [name, values] of Object.entries(times)) {
    const m = median(values);
    console.log(`  ${name.padEnd(34)} ${m.toFixed(3).padStart(9)} ms  ${(m / baseline).toFixed(2)}x`);
  }
}
rmSync(dir, { recursive: true, force: true });
