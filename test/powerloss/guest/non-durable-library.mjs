/**
 * A deliberately NON-durable stand-in for the library, for the harness's own self-check:
 *
 *   POWERLOSS_LIB=test/powerloss/guest/non-durable-library.mjs POWERLOSS_SCENARIOS=b,c,d,e,f node test/powerloss/run.mjs
 *
 * must FAIL, with losses in every durable scenario. It has the library's names and shapes, but
 * `writeDurable` is a plain `writeFile` (no fsync, no rename, no directory fsync) and `syncAll`
 * does nothing, so a harness that still reports "no loss" with it cannot see what it claims to.
 * The reset is real: the same in-band `ipmitool -I open chassis power reset` the library runs.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * @param {string} file
 * @param {Uint8Array} data
 * @param {{ createParents?: boolean }} [options]
 */
export async function writeDurable(file, data, options = {}) {
  if (options.createParents === true) await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, data);
}

export async function syncAll() {}

export class IpmitoolPowerController {
  /** @param {{ interface: 'open' }} options */
  constructor(options) {
    this.options = options;
  }

  async reset() {
    await run('ipmitool', ['-I', 'open', 'chassis', 'power', 'reset'], { stdio: 'ignore' });
  }
}
