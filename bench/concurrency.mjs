#!/usr/bin/env node
// Writing many distinct files: awaited one after another, or all at once under Promise.all.
// Each durable write waits for two flushes; concurrent writes overlap their waits in libuv's
// thread pool (4 threads by default, UV_THREADPOOL_SIZE), so the per-file cost falls.
// Usage: npm run build && node bench/concurrency.mjs [files] [runs]
// Prints, per run and as medians, the time per file of each way and their ratio.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDurable } from '../dist/index.js';

const files = Number(process.argv[2] ?? 500);
const runs = Number(process.argv[3] ?? 5);
const data = Buffer.alloc(1024, 'x');
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(write) {
  const dir = mkdtempSync(join(tmpdir(), 'durable-write-concurrency-'));
  const started = process.hrtime.bigint();
  await write(dir);
  const ms = Number(process.hrtime.bigint() - started) / 1e6 / files;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const oneByOne = async (dir) => {
  for (let i = 0; i < files; i += 1) await writeDurable(join(dir, `f${i}`), data);
};
const allAtOnce = (dir) => Promise.all(Array.from({ length: files }, (_, i) => writeDurable(join(dir, `f${i}`), data)));

console.log(`node ${process.version}, ${files} files of 1 KiB per run, ${runs} runs, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 4}`);
const sequential = [];
const concurrent = [];
for (let run = 0; run < runs; run += 1) {
  sequential.push(await timed(oneByOne));
  concurrent.push(await timed(allAtOnce));
  console.log(`  run ${run + 1}: one after another ${sequential.at(-1).toFixed(3)} ms/file, Promise.all ${concurrent.at(-1).toFixed(3)} ms/file`);
}
const s = median(sequential);
const c = median(concurrent);
console.log(`median: one after another ${s.toFixed(3)} ms/file, Promise.all ${c.toFixed(3)} ms/file: ${(s / c).toFixed(1)}x the throughput`);
