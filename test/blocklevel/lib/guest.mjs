/**
 * One guest boot on a logged disk: QEMU (TCG) with the disk behind its `blklogwrites` block
 * driver, which appends every write and flush the guest sends to the virtual disk to a log file on
 * the host, in dm-log-writes' format (see lib/log-format.mjs). The guest prints
 * `BLOCKLEVEL:MARK <name>` and then blocks reading its console; the host reads the log's entry
 * count (the superblock is rewritten after every entry: log-super-update-interval=1), waits until
 * it is stable, records it for the marker and only then answers on the console (QEMU's
 * `-serial stdio`, stdin a pipe). Every entry below the count of `pre` was therefore completed
 * before the call started, and every entry the call waited for is below the count of `post`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readEntryCount } from './log-format.mjs';

/** Every QEMU this harness started and that has not exited yet. */
const liveChildren = new Set();

/** Kills every QEMU this harness started (by process, never by name). */
export function killAllGuests() {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** QEMU's option syntax doubles a comma inside a value. @param {string} value */
const qemuEscape = (value) => value.replace(/,/g, ',,');

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {string} logPath
 * @returns {Promise<number>} the log's entry count once it has not moved for 300 ms
 */
async function stableCount(logPath) {
  let last = readEntryCount(logPath);
  for (let same = 0; same < 3; ) {
    await sleep(100);
    const now = readEntryCount(logPath);
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * @param {{ dir: string, qemu: string, kernel: string, initrd: string, image: string, log: string,
 *   repoDir: string, libModule: string, extraShare?: string, scenarioIds: string[], seeds: number[], fsId: string,
 *   expectMarks: string[],
 *   timeoutMs: number }} o
 *   `extraShare`: a host directory (the run's snapshot of the library) shared read-only at the same path
 * @returns {Promise<{ counts: Record<string, number>, error?: string, durationMs: number, ready?: string }>}
 */
export async function bootLogged(o) {
  const append = [
    'console=ttyS0',
    'panic=-1',
    'quiet',
    'loglevel=3',
    `blocklevel.scenario=${o.scenarioIds.join(',')}`,
    `blocklevel.fs=${o.fsId}`,
    `blocklevel.seed=${o.seeds.join(',')}`,
    `blocklevel.repo=${o.repoDir}`,
    `blocklevel.lib=${o.libModule}`,
    ...(o.extraShare === undefined ? [] : [`blocklevel.work=${o.extraShare}`]),
  ].join(' ');
  const args = [
    '-machine', 'pc,accel=tcg',
    '-cpu', 'max',
    '-smp', '1',
    '-m', '768',
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-no-reboot',
    '-serial', 'stdio',
    '-kernel', o.kernel,
    '-initrd', o.initrd,
    '-append', append,
    '-blockdev',
    [
      'driver=blklogwrites',
      'node-name=logged0',
      'file.driver=file',
      `file.filename=${qemuEscape(o.image)}`,
      'log.driver=file',
      `log.filename=${qemuEscape(o.log)}`,
      'log-sector-size=512',
      'log-super-update-interval=1',
    ].join(','),
    // A volatile write cache as far as the guest knows (so fsync sends flushes); no discard and no
    // write-zeroes requests, so every entry is a plain write or a flush.
    '-device', 'virtio-blk-pci,drive=logged0,write-cache=on,discard=off,write-zeroes=off',
    '-virtfs', 'local,path=/usr,mount_tag=hostusr,security_model=none,readonly=on',
    '-virtfs', `local,path=${qemuEscape(o.repoDir)},mount_tag=repo,security_model=none,readonly=on`,
    ...(o.extraShare === undefined
      ? []
      : ['-virtfs', `local,path=${qemuEscape(o.extraShare)},mount_tag=work,security_model=none,readonly=on`]),
  ];
  fs.writeFileSync(path.join(o.dir, 'qemu-args.json'), JSON.stringify([o.qemu, ...args], null, 2));
  const started = Date.now();
  const since = () => Date.now() - started;
  const consoleLog = fs.createWriteStream(path.join(o.dir, 'console.log'));
  const child = spawn(o.qemu, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  liveChildren.add(child);
  /** @type {{ counts: Record<string, number>, error?: string, durationMs: number, ready?: string }} */
  const result = { counts: {}, durationMs: 0 };
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  child.stdin.on('error', () => {});
  /** Marker handling is serialised: one marker at a time, in console order. */
  let chain = Promise.resolve();
  createInterface({ input: child.stdout }).on('line', (raw) => {
    const line = raw.replace(/\r$/, '');
    consoleLog.write(`[${(since() / 1000).toFixed(3)}] ${line}\n`);
    const m = /BLOCKLEVEL:(\S+)(?: (.*))?/.exec(line);
    if (m === null) return;
    const [, kind = '', rest = ''] = m;
    if (kind === 'GUEST-ERROR') result.error ??= `guest: ${rest}`;
    else if (kind === 'READY') result.ready = rest;
    else if (kind === 'MARK') {
      const name = rest.split(' ')[0] ?? rest;
      chain = chain.then(async () => {
        result.counts[name] = await stableCount(o.log);
        consoleLog.write(`[${(since() / 1000).toFixed(3)}] host: ${name} at log entry ${result.counts[name]}\n`);
        child.stdin.write('go\n');
      });
    }
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (error) => {
      liveChildren.delete(child);
      result.error ??= `qemu did not start: ${error.message}`;
      resolve({ code: null, signal: null });
    });
  });
  let timer;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), o.timeoutMs);
  });
  const outcome = await Promise.race([exited, deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    result.error ??= `the guest did not power off within ${Math.round(o.timeoutMs / 1000)} s`;
    child.kill('SIGKILL');
    await exited;
  } else if (outcome.code !== 0) {
    result.error ??= `qemu exited with ${outcome.code ?? outcome.signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
  }
  await chain;
  fs.writeFileSync(path.join(o.dir, 'qemu-stderr.log'), stderr);
  await new Promise((resolve) => consoleLog.end(resolve));
  for (const name of o.expectMarks) {
    if (result.counts[name] === undefined) result.error ??= `the guest never printed the "${name}" marker`;
  }
  result.durationMs = since();
  return result;
}
