/**
 * One trial in one QEMU guest: a fresh ext4 image, a TCG boot with QEMU's simulated BMC
 * (`ipmi-bmc-sim` behind an `isa-ipmi-kcs` interface, which the guest reaches as /dev/ipmi0), the
 * host's /usr and the repository shared read-only over 9p, console markers read from the serial
 * port, and QMP events read from a unix socket.
 *
 * QEMU runs with `-no-reboot`: the guest's in-band `ipmitool chassis power reset` makes the BMC
 * request a hard reset, which QMP reports as `SHUTDOWN` with reason `guest-reset`, and QEMU then
 * exits instead of booting again. The guest's page cache is gone at that instant, exactly as at a
 * real reset; what the guest had submitted to the virtual disk is in the image file
 * (`cache=writeback` on the host side still lands in the file when QEMU exits or is killed), so
 * the host can inspect the disk as the rebooted machine would find it.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { payload, OLD_SIZE } from './payload.mjs';

/** Every QEMU process this harness started and that has not exited yet. */
export const liveChildren = new Set();

/** Kills every QEMU this harness started (used on exit, on a signal and on failure). */
export function killAllChildren() {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Creates the trial's disk: a 64 MiB sparse ext4 image, holding the old version of the target
 * when the scenario replaces an existing file.
 * @param {{ trialDir: string, scenario: import('./scenarios.mjs').Scenario, seed: number }} options
 * @returns {string} the image path
 */
export function makeDisk({ trialDir, scenario, seed }) {
  const image = path.join(trialDir, 'disk.img');
  const content = path.join(trialDir, 'content');
  fs.mkdirSync(content, { recursive: true });
  if (scenario.preexisting === true) {
    const target = path.join(content, scenario.target);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, payload(`old:${scenario.id}`, seed, OLD_SIZE));
  }
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'powerloss', '-d', content, image, '64M'], { stdio: 'pipe' });
  fs.rmSync(content, { recursive: true, force: true });
  return image;
}

/**
 * @typedef {object} BootResult
 * @property {Record<string, number>} markers  console marker name -> ms since QEMU was spawned
 * @property {string | undefined} resetReason  the QMP SHUTDOWN/RESET reason, if one came
 * @property {number | undefined} resetAtMs
 * @property {string | undefined} error        why the trial is not usable (harness error)
 * @property {number} durationMs
 */

/**
 * Boots the guest on `image` and waits until the guest resets itself (or the deadline passes).
 * @param {{ trialDir: string, image: string, qemu: string, kernel: string, initrd: string,
 *   repoDir: string, libModule: string, scenarioId: string, seed: number, timeoutMs: number,
 *   memoryMiB?: number }} options
 * @returns {Promise<BootResult>}
 */
export async function bootTrial(options) {
  const { trialDir, image, qemu, kernel, initrd, repoDir, libModule, scenarioId, seed, timeoutMs } = options;
  const socketDir =
    path.join(trialDir, 'qmp.sock').length < 100 ? trialDir : fs.mkdtempSync(path.join(os.tmpdir(), 'powerloss-'));
  const qmpPath = path.join(socketDir, 'qmp.sock');
  const append = [
    'console=ttyS0',
    'panic=-1',
    'quiet',
    'loglevel=3',
    `powerloss.scenario=${scenarioId}`,
    `powerloss.seed=${seed}`,
    `powerloss.repo=${repoDir}`,
    `powerloss.lib=${libModule}`,
  ].join(' ');
  const args = [
    '-machine', 'pc,accel=tcg',
    '-cpu', 'max',
    '-smp', '1',
    '-m', String(options.memoryMiB ?? 512),
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-no-reboot',
    '-serial', 'stdio',
    '-kernel', kernel,
    '-initrd', initrd,
    '-append', append,
    '-drive', `file=${qemuEscape(image)},format=raw,if=virtio,cache=writeback`,
    '-virtfs', 'local,path=/usr,mount_tag=hostusr,security_model=none,readonly=on',
    '-virtfs', `local,path=${qemuEscape(repoDir)},mount_tag=repo,security_model=none,readonly=on`,
    '-device', 'ipmi-bmc-sim,id=bmc0',
    '-device', 'isa-ipmi-kcs,bmc=bmc0',
    '-qmp', `unix:${qemuEscape(qmpPath)},server=on,wait=off`,
  ];
  const started = Date.now();
  const since = () => Date.now() - started;
  const consoleLog = fs.createWriteStream(path.join(trialDir, 'console.log'));
  const qmpLog = fs.createWriteStream(path.join(trialDir, 'qmp.log'));
  fs.writeFileSync(path.join(trialDir, 'qemu-args.json'), JSON.stringify([qemu, ...args], null, 2));
  const child = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  liveChildren.add(child);

  /** @type {BootResult} */
  const result = { markers: {}, resetReason: undefined, resetAtMs: undefined, error: undefined, durationMs: 0 };
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  createInterface({ input: child.stdout }).on('line', (raw) => {
    const line = raw.replace(/\r$/, '');
    const at = since();
    consoleLog.write(`[${(at / 1000).toFixed(3)}] ${line}\n`);
    const m = /POWERLOSS:(\S+)(?: (.*))?/.exec(line);
    if (m === null) return;
    const [, kind = '', rest = ''] = m;
    if (kind === 'MARK') result.markers[rest.split(' ')[0] ?? rest] ??= at;
    else if (kind === 'GUEST-ERROR') result.error ??= `guest: ${rest}`;
    else result.markers[kind.toLowerCase()] ??= at;
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

  const qmp = watchQmp(qmpPath, (event) => {
    qmpLog.write(JSON.stringify({ atMs: since(), ...event }) + '\n');
    if ((event.event === 'SHUTDOWN' || event.event === 'RESET') && result.resetReason === undefined) {
      result.resetReason = String(event.data?.reason ?? 'unknown');
      result.resetAtMs = since();
    }
  });

  let timer;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([exited, deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    result.error ??= `no reset within the ${Math.round(timeoutMs / 1000)} s trial deadline`;
    child.kill('SIGKILL');
    await exited;
  } else if (outcome.code !== 0 && result.resetReason === undefined) {
    result.error ??= `qemu exited with ${outcome.code ?? outcome.signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
  }
  qmp.close();
  fs.writeFileSync(path.join(trialDir, 'qemu-stderr.log'), stderr);
  await Promise.all([endStream(consoleLog), endStream(qmpLog)]);
  if (socketDir !== trialDir) fs.rmSync(socketDir, { recursive: true, force: true });
  if (result.resetReason !== undefined && result.resetReason !== 'guest-reset') {
    result.error ??= `the machine stopped for "${result.resetReason}", not a BMC hard reset`;
  }
  if (result.resetReason === undefined) result.error ??= 'QEMU reported no reset';
  if (result.markers['written'] === undefined) result.error ??= 'the guest never printed the "written" marker';
  result.durationMs = since();
  return result;
}

/** QEMU's option syntax doubles a comma inside a value. @param {string} value */
function qemuEscape(value) {
  return value.replace(/,/g, ',,');
}

/** @param {fs.WriteStream} stream */
function endStream(stream) {
  return new Promise((resolve) => stream.end(resolve));
}

/**
 * Connects to QEMU's QMP socket (retrying until QEMU has created it) and reports every event.
 * @param {string} socketPath
 * @param {(event: { event?: string, data?: Record<string, unknown> }) => void} onEvent
 */
function watchQmp(socketPath, onEvent) {
  let closed = false;
  /** @type {net.Socket | undefined} */
  let socket;
  const attempt = () => {
    if (closed) return;
    const s = net.createConnection(socketPath);
    s.on('error', () => {
      s.destroy();
      if (socket === s) socket = undefined;
      if (!closed) setTimeout(attempt, 50);
    });
    s.on('connect', () => {
      socket = s;
      s.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
      createInterface({ input: s }).on('line', (line) => {
        try {
          const message = JSON.parse(line);
          if (typeof message.event === 'string') onEvent(message);
        } catch {
          // not JSON: ignore
        }
      });
    });
  };
  attempt();
  return {
    close() {
      closed = true;
      socket?.destroy();
    },
  };
}
