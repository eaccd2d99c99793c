#!/usr/bin/env node
/**
 * Overhead of syncAll() against sync(2) called from C, side by side on the same machine.
 *
 *   npm run build && node bench/sync-overhead/run.mjs [--calls N] [--rounds R] [--module SPEC]
 *
 * Compiles bench/sync-overhead/sync-loop.c with `cc`, then, in R interleaved rounds of N calls
 * each, times:
 *   A. the C program calling sync() N times in one process (the syscall alone),
 *   B. the C program run N times from Node, one sync() per run (spawn + syscall),
 *   C. syncAll() awaited N times (what the library does: spawn coreutils `sync` + syscall).
 * It prints the median per-call time of each and the ratios C/A and C/B. Run it on an idle
 * system: sync(2) with dirty data measures the disk, not the mechanism.
 *
 * --module defaults to 'durable-write' (this package, resolving to its own dist/ once built).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
    module: { type: 'string', default: 'durable-write' },
  },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'dw-sync-bench-'));
const binary = join(work, 'sync-loop');
try {
  execFileSync('cc', ['-O2', '-o', binary, join(here, 'sync-loop.c')], { stdio: 'inherit' });
} catch (err) {
  console.error(`cannot compile the C baseline with cc (install gcc): ${err.message}`);
  process.exit(1);
}

const { syncAll } = await import(values.module);
if (typeof syncAll !== 'function') {
  console.error(`${values.module} exports no syncAll; run npm run build first`);
  process.exit(1);
}

function run(file, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited ${code}`))));
  });
}

async function time(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6 / calls; // ms per call
}

const methods = {
  'A  C loop: sync() x N in one process': () => run(binary, [String(calls)]),
  'B  C program run N times (spawn + sync())': async () => {
    for (let i = 0; i < calls; i++) await run(binary, ['1']);
  },
  'C  syncAll() x N': async () => {
    for (let i = 0; i < calls; i++) await syncAll();
  },
};

// Warm up each once, then interleave rounds so drift hits every method alike.
for (const fn of Object.values(methods)) await fn();
const samples = Object.fromEntries(Object.keys(methods).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(methods)) samples[name].push(await time(fn));
}
rmSync(work, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [a, b, c] = Object.values(samples).map(median);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, Node ${process.version}`);
console.log(`date: ${new Date().toISOString()}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${rounds} rounds x ${calls} calls; median ms per call:`);
for (const [name, xs] of Object.entries(samples)) console.log(`  ${name.padEnd(44)} ${median(xs).toFixed(4)} ms`);
console.log(`ratio C/A (syncAll vs the bare syscall):        ${(c / a).toFixed(1)}x  (+${(c - a).toFixed(3)} ms per call)`);
console.log(`ratio C/B (syncAll vs spawning a C sync()):     ${(c / b).toFixed(2)}x`);
