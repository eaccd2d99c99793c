#!/usr/bin/env node
// npm run demo: writes a file durably in a temporary directory and prints each step with its time.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDurable } from 'durable-write';

const EXPLAIN = {
  lstat: 'look at the target (follow a symlink, keep its mode)',
  open: 'create the temp file, O_CREAT|O_EXCL, mode 0600',
  'read-data': 'take the next chunk of data',
  write: 'write the bytes (looping over short writes)',
  fchmod: 'give the temp file its final mode',
  fsync: 'flush the data to stable storage',
  close: 'close, checking the result',
  rename: 'atomically replace the target',
};

const dir = mkdtempSync(join(tmpdir(), 'durable-write-demo-'));
const target = join(dir, 'state.json');
const data = JSON.stringify({ service: 'demo', generation: 42, at: new Date().toISOString() }, null, 2);

console.log(`writeDurable(${target})\n`);
const steps = [];
const started = performance.now();
const result = await writeDurable(target, data, { onStep: (event) => steps.push(event) });
const total = performance.now() - started;

let afterRename = false;
for (const { step, milliseconds } of steps) {
  if (step === 'read-data') continue;
  let what = EXPLAIN[step] ?? step;
  if (afterRename && step === 'open') what = 'open the directory';
  if (afterRename && step === 'fsync') what = 'flush the directory: the new name is durable';
  if (afterRename && step === 'close') what = 'close the directory';
  if (step === 'rename') afterRename = true;
  console.log(`  ${step.padEnd(8)} ${milliseconds.toFixed(3).padStart(8)} ms  ${what}`);
}
console.log(`  ${'total'.padEnd(8)} ${total.toFixed(3).padStart(8)} ms\n`);
console.log(`${result.bytesWritten} bytes durable at ${result.path}`);
console.log(`content check: ${readFileSync(target, 'utf8') === data ? 'ok' : 'MISMATCH'}; temp files left: ${readdirSync(dir).length - 1}`);
rmSync(dir, { recursive: true, force: true });
