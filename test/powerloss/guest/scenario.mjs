/**
 * Runs INSIDE the guest (started by guest/init): one trial of one scenario.
 *
 *   node scenario.mjs <scenario-id> <seed> <mountpoint> <library-module>
 *
 * Imports the library (the repo's built dist/index.js, shared read-only over 9p), writes the
 * trial's payload with the scenario's method (for (g) and (g0): a shell script, with the
 * durable-write command, dist/cli.js, on PATH), and resets the machine. Prints `POWERLOSS:MARK x`
 * lines on the console, which the host timestamps. If the reset does not come, it reports so and
 * exits non-zero after a while; the host counts that trial as a harness error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { payload, NEW_SIZE } from '../lib/payload.mjs';
import { scenarioById } from '../lib/scenarios.mjs';

/** Prints a marker with the guest's uptime (/proc/uptime, the clock the shell's `mark` prints too). @param {string} name */
function mark(name) {
  const uptime = fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0];
  process.stdout.write(`POWERLOSS:MARK ${name} uptime=${uptime}\n`);
}

/** A single-quoted shell word. @param {string} text */
function shellQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `script` as an operator's shell script (see GuestContext.shell in lib/scenarios.mjs). The
 * wrapper and the payload go to /tmp, the initramfs root in the guest's RAM, never to the disk
 * under test. The host times every marker itself, when the line arrives.
 * @param {string} script
 * @param {{ file: string, data: Buffer, cli: string }} options
 */
async function shell(script, { file, data, cli }) {
  const scratch = '/tmp/powerloss';
  const bin = path.join(scratch, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'durable-write'), `#!/bin/sh\nexec node ${shellQuote(cli)} "$@"\n`, { mode: 0o755 });
  const payloadFile = path.join(scratch, 'payload');
  fs.writeFileSync(payloadFile, data);
  const preamble = `set -eu\nmark() { read -r up _ < /proc/uptime; printf 'POWERLOSS:MARK %s uptime=%s\\n' "$1" "$up"; }\n`;
  const child = spawn('/bin/sh', ['-c', preamble + script], {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, FILE: file, PAYLOAD: payloadFile },
  });
  const status = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? signal));
  });
  if (status !== 0) throw new Error(`the shell script exited with ${status}`);
}

const [id, seedText, mountpoint, libraryModule] = process.argv.slice(2);
if (id === undefined || seedText === undefined || mountpoint === undefined || libraryModule === undefined) {
  process.stdout.write('POWERLOSS:GUEST-ERROR usage: scenario.mjs <id> <seed> <mountpoint> <library>\n');
  process.exit(2);
}
try {
  const scenario = scenarioById(id);
  const lib = await import(pathToFileURL(libraryModule).href);
  for (const name of ['writeDurable', 'syncAll', 'IpmitoolPowerController']) {
    if (typeof lib[name] !== 'function') throw new Error(`${libraryModule} does not export ${name}`);
  }
  const data = payload(`new:${id}`, Number(seedText), NEW_SIZE);
  mark('start');
  const settle = async () => {
    if ((scenario.settleMs ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, scenario.settleMs));
    mark('settled');
  };
  const target = path.join(mountpoint, scenario.target);
  const cli = path.join(path.dirname(libraryModule), 'cli.js');
  await scenario.run({ lib, path: target, data, mark, settle, shell: (script) => shell(script, { file: target, data, cli }) });
  mark('reset-returned');
  // The BMC resets the machine a moment after acknowledging; wait for it without touching the disk.
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  process.stdout.write('POWERLOSS:GUEST-ERROR still running 60 s after reset() returned\n');
  process.exit(3);
} catch (error) {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stdout.write(`POWERLOSS:GUEST-ERROR ${text.replace(/\s+/g, ' ')}\n`);
  process.exit(1);
}
