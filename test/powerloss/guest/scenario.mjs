/**
 * Runs INSIDE the guest (started by guest/init): one trial of one scenario.
 *
 *   node scenario.mjs <scenario-id> <seed> <mountpoint> <library-module>
 *
 * Imports the library (the repo's built dist/index.js, shared read-only over 9p), writes the
 * trial's payload with the scenario's method, and resets the machine. Prints `POWERLOSS:MARK x`
 * lines on the console, which the host timestamps. If the reset does not come, it reports so and
 * exits non-zero after a while; the host counts that trial as a harness error.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { payload, NEW_SIZE } from '../lib/payload.mjs';
import { scenarioById } from '../lib/scenarios.mjs';

/** @param {string} name */
function mark(name) {
  process.stdout.write(`POWERLOSS:MARK ${name} uptime=${process.uptime().toFixed(3)}\n`);
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
  await scenario.run({ lib, path: path.join(mountpoint, scenario.target), data, mark, settle });
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
