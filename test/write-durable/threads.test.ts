/**
 * Order holds within one JavaScript thread (issue 20 item 2, the documented rule): a
 * `worker_threads` Worker has its own `globalThis`, hence its own per-file queue, so a Worker's
 * older write and the main thread's newer one to the same file are not ordered. What holds across
 * threads: each write is atomic and durable, each promise resolves, and the file holds one whole
 * content, never a mix and never a temp file left behind.
 *
 * Contract tests, not regression tests: 0.2.0 behaves the same. The older call is held at its
 * rename (a seam whose `rename` waits for a message), so the outcome does not depend on timing.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { distEsm, requireBuild } from '../support/built-package.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * `older` writes 4 MiB of `o` to the target through a seam that, before its rename, posts
 * `renaming` and waits for `go`; `newer` writes `NEW` to the same target once the older call is
 * held there, then sends `go`. With `where` = `worker`, the older call runs on a Worker thread;
 * with `main`, on the main thread too. Prints how each call settled and what the file holds.
 */
const SCRIPT = `
import { Worker } from 'node:worker_threads';
import { readdirSync, readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
const [lib, dir, where] = process.argv.slice(1);
const target = dir + '/target';
const { writeDurable } = await import(lib);

const OLDER = \`
  const { writeDurable, nodeFileSystem } = await import(lib);
  let go;
  const released = new Promise((resolve) => (go = resolve));
  channel.on('message', (message) => message === 'go' && go());
  const fs = { ...nodeFileSystem, rename: async (from, to) => { channel.postMessage('renaming'); await released; return nodeFileSystem.rename(from, to); } };
  const outcome = await writeDurable(target, Buffer.alloc(4 * 1024 * 1024, 'o'), { fs }).then(() => 'resolved', (error) => String(error));
  channel.postMessage({ outcome });
\`;

let channel;
if (where === 'worker') {
  const preamble = 'import { parentPort as channel, workerData } from "node:worker_threads"; const { lib, target } = workerData;';
  channel = new Worker(preamble + OLDER, { eval: true, workerData: { lib, target }, execArgv: ['--input-type=module'] });
} else {
  // Both calls on this thread; the same messages, through an emitter.
  const toOlder = new EventEmitter();
  channel = new EventEmitter();
  channel.postMessage = (message) => toOlder.emit('message', message);
  const older = new Function('lib', 'target', 'channel', 'return (async () => {' + OLDER + '})()');
  older(lib, target, { on: (event, listener) => toOlder.on(event, listener), postMessage: (message) => channel.emit('message', message) });
}
const report = await new Promise((resolve) => {
  let newer;
  channel.on('message', async (message) => {
    if (message === 'renaming') {
      newer = writeDurable(target, 'NEW').then(() => 'resolved', (error) => String(error));
      if (where === 'worker') await newer;
      channel.postMessage('go');
    } else {
      resolve({ older: message.outcome, newer: await newer });
    }
  });
});
const content = readFileSync(target);
report.content = content.equals(Buffer.from('NEW')) ? 'NEW' : content.equals(Buffer.alloc(4 * 1024 * 1024, 'o')) ? 'the older 4 MiB, whole' : 'something else';
report.temps = readdirSync(dir).filter((name) => name.startsWith('.'));
console.log(JSON.stringify(report));
if (where === 'worker') await channel.terminate();
`;

function race(where: 'worker' | 'main'): unknown {
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT, distEsm, tempDir(), where], { encoding: 'utf8', timeout: 60_000 }));
}

describe('writes to one file from two threads (contract)', () => {
  it('not ordered across threads: the Worker\'s older write, renamed last, wins over the main thread\'s newer one; each is atomic and durable, both resolve, the file holds one whole content', () => {
    requireBuild();
    expect(race('worker')).toEqual({ older: 'resolved', newer: 'resolved', content: 'the older 4 MiB, whole', temps: [] });
  });

  it('within one thread the same two calls run in call order, and the newer one wins', () => {
    requireBuild();
    expect(race('main')).toEqual({ older: 'resolved', newer: 'resolved', content: 'NEW', temps: [] });
  });
});
