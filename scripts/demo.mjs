#!/usr/bin/env node
// npm run demo: 1. on a simulated disk, a power reset after a naive write and after writeDurable +
// syncAll, side by side; 2. writeDurable on the real disk, each step with its time.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncAll, writeDurable } from 'durable-write';
import { createCrashSimulator, FakePowerController } from 'durable-write/testing';

const version = (generation) => JSON.stringify({ service: 'demo', generation });
const V1 = version(41);
const V2 = version(42);
const show = (bytes) => (bytes === undefined ? 'missing' : bytes.length === 0 ? 'EMPTY' : JSON.parse(bytes.toString()).generation === 42 ? 'v2 (new)' : 'v1 (old)');

// ---- 1. The simulated power cut ---------------------------------------------------------------

/** Runs `write` on a fresh simulated disk holding v1, then resets the machine; reports what is left. */
async function powerCut(write) {
  const sim = createCrashSimulator({ files: { '/srv/state.json': V1 } });
  const power = new FakePowerController({ simulator: sim });
  // Before each file-system call, look at every state a crash at that moment could leave.
  const during = new Map();
  sim.onOperation(() => {
    for (const state of sim.crashStates()) {
      const seen = show(state.readFile('/srv/state.json'));
      during.set(seen, (during.get(seen) ?? 0) + 1);
    }
  });
  await write(sim.fs);
  await power.reset(); // the BMC hard reset: the page cache is gone
  return { after: show(sim.readFile('/srv/state.json')), during };
}

const naive = await powerCut(async (fs) => {
  await fs.writeFile('/srv/state.json', V2); // what fs.writeFile does: open(O_TRUNC), write, close
});
const durable = await powerCut(async (fs) => {
  await writeDurable('/srv/state.json', V2, { fs }); // temp file, fsync, rename, fsync directory
  await syncAll({ fs }); // and everyone else's dirty data
});

const verdict = (result) => (result.after === 'v2 (new)' ? 'kept' : 'LOST');
const risky = (result) => [...result.during.keys()].filter((seen) => seen !== 'v1 (old)' && seen !== 'v2 (new)');
const row = (sequence, rest) => console.log(`   ${sequence.padEnd(46)}${rest}`);
const count = (result) => [...result.during.values()].reduce((a, b) => a + b, 0);
console.log('1. Power reset right after writing v2 over v1 (simulated disk, durable-write/testing)\n');
row('sequence', 'after reset   the write');
row('fs.writeFile            -> power.reset()', `${naive.after.padEnd(14)}${verdict(naive)}`);
row('writeDurable + syncAll  -> power.reset()', `${durable.after.padEnd(14)}${verdict(durable)}`);
console.log('\n   a power cut at any moment during the write, every crash state the disk allows:');
row(`fs.writeFile            ${String(count(naive)).padStart(4)} states checked`, [...naive.during.keys()].join(', '));
row(`writeDurable + syncAll  ${String(count(durable)).padStart(4)} states checked`, [...durable.during.keys()].join(', '));
const naiveRisk = risky(naive).length > 0 ? `fs.writeFile can leave the file ${risky(naive).join(' or ')}; ` : '';
console.log(`   => ${naiveRisk}writeDurable: ${risky(durable).length === 0 ? 'always one complete version' : 'BROKEN'}\n`);

// ---- 2. The real thing on the local disk ------------------------------------------------------

const EXPLAIN = {
  realpath: "resolve the target's directory (symlinks and .. as the kernel does)",
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

console.log(`2. writeDurable(${target}) on this machine's disk\n`);
const steps = [];
const started = performance.now();
const result = await writeDurable(target, data, { onStep: (event) => steps.push(event) });
const total = performance.now() - started;

let afterRename = false;
let opens = 0;
for (const { step, milliseconds } of steps) {
  if (step === 'read-data') continue;
  let what = EXPLAIN[step] ?? step;
  // The first open is the directory, held open until its fsync after the rename; the second creates the temp file.
  if (step === 'open' && (opens += 1) === 1) what = 'open the directory, held until its fsync after the rename';
  if (afterRename && step === 'fsync') what = 'flush the directory: the new name is durable';
  if (afterRename && step === 'close') what = 'close the directory';
  if (step === 'rename') afterRename = true;
  console.log(`  ${step.padEnd(8)} ${milliseconds.toFixed(3).padStart(8)} ms  ${what}`);
}
console.log(`  ${'total'.padEnd(8)} ${total.toFixed(3).padStart(8)} ms\n`);
console.log(`${result.bytesWritten} bytes durable at ${result.path}`);
console.log(`content check: ${readFileSync(target, 'utf8') === data ? 'ok' : 'MISMATCH'}; temp files left: ${readdirSync(dir).length - 1}`);
rmSync(dir, { recursive: true, force: true });
