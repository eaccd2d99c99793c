/**
 * Runs INSIDE the guest (started by test/blocklevel/guest/init): the scenarios, one after the
 * other, on the logged disk.
 *
 *   node scenario.mjs <id,id,...> <seed,seed,...> <mountpoint> <library-module> <repo-dir>
 *
 * For each scenario, prints `BLOCKLEVEL:MARK <name>:<id>` on the serial console and then WAITS for
 * a line from the host (the serial console's input) at each point, so that the host reads the
 * number of entries in QEMU's write log while the guest is idle:
 *   pre            before the call: every entry below the count happened before it started;
 *   post           after the call returned: every entry the call waited for is below the count;
 *   fsynced-other  after an unrelated file was written and fsynced (with its directory);
 *   end            after sync(2): the next scenario starts from a clean disk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { payload, NEW_SIZE } from '../../powerloss/lib/payload.mjs';
import { scenarioById } from '../lib/scenarios.mjs';

/** Reads one line from the console (stdin), blocking. */
function waitForHost() {
  const buf = Buffer.alloc(64);
  let text = '';
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!text.includes('\n')) {
    let n = 0;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 20);
      continue;
    }
    if (n === 0) throw new Error('console input closed');
    text += buf.subarray(0, n).toString('latin1').replace(/\r/g, '\n');
  }
}

/** @param {string} name */
function mark(name) {
  process.stdout.write(`BLOCKLEVEL:MARK ${name}\n`);
  waitForHost();
}

const [idList, seedList, mountpoint, libraryModule, repoDir] = process.argv.slice(2);
if (idList === undefined || seedList === undefined || mountpoint === undefined || libraryModule === undefined || repoDir === undefined) {
  process.stdout.write('BLOCKLEVEL:GUEST-ERROR usage: scenario.mjs <ids> <seeds> <mountpoint> <library> <repo>\n');
  process.exit(2);
}
try {
  const lib = await import(pathToFileURL(libraryModule).href);
  const ids = idList.split(',');
  const seeds = seedList.split(',').map(Number);
  if (seeds.length !== ids.length) throw new Error('one seed per scenario expected');
  for (const [i, id] of ids.entries()) {
    // Each scenario works in its own directory, <mountpoint>/<id>/, made on the base image.
    const scenario = scenarioById(id);
    const home = path.join(mountpoint, id);
    const data = payload(`new:${id}`, /** @type {number} */ (seeds[i]), NEW_SIZE);
    const ctx = { lib, repoDir, path: path.join(home, scenario.target), data };
    scenario.prepare?.(ctx);
    mark(`pre:${id}`);
    await scenario.run(ctx);
    mark(`post:${id}`);
    // Later activity of the system: another program fsyncs an unrelated file (on ext4 its journal
    // commit takes every pending metadata change with it), then sync(2) writes everything back, so
    // that the next scenario starts from a clean disk.
    const fd = fs.openSync(path.join(home, 'unrelated.log'), 'w');
    fs.writeSync(fd, 'unrelated\n');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const dir = fs.openSync(home, 'r');
    fs.fsyncSync(dir);
    fs.closeSync(dir);
    mark(`fsynced-other:${id}`);
    execFileSync('/bin/sync');
    mark(`end:${id}`);
  }
  process.exit(0);
} catch (error) {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stdout.write(`BLOCKLEVEL:GUEST-ERROR ${text.replace(/\s+/g, ' ')}\n`);
  process.exit(1);
}
