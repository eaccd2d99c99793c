/**
 * Runs INSIDE the guest: the device-mapper device `eio` over the test disk, and the table swaps
 * that make its writes fail. There is no udev in the guest: DM_DISABLE_UDEV=1 makes libdevmapper
 * create /dev/mapper/eio itself, and --noudevsync stops dmsetup waiting for udev.
 *
 * A swap is `dmsetup suspend --nolockfs`, `load`, `resume`: --nolockfs matters, since a plain
 * suspend freezes the file system first, which writes every dirty page back and would flush the
 * very data whose writeback the case wants to fail.
 */
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';

export const DM_NAME = 'eio';
const env = { ...process.env, DM_DISABLE_UDEV: '1' };

/** @param {string[]} args @param {string} [input] */
export function dmsetup(args, input) {
  return execFileSync('dmsetup', ['--noudevsync', ...args], { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Size of a whole disk in 512-byte sectors. @param {string} disk e.g. /dev/vda */
export function diskSectors(disk) {
  return Number(fs.readFileSync(`/sys/block/${disk.replace(/^\/dev\//, '')}/size`, 'utf8').trim());
}

/** Tables, one string each (one line per segment). */
export const tables = {
  /** Healthy: every sector maps straight through. @param {string} disk @param {number} sectors */
  linear: (disk, sectors) => `0 ${sectors} linear ${disk} 0\n`,
  /**
   * A dead disk for writes: dm-flakey permanently "down" (up 0 s, down 1 s) with error_writes,
   * so every write (and every flush) fails with EIO while reads still succeed.
   * @param {string} disk @param {number} sectors
   */
  errorWrites: (disk, sectors) => `0 ${sectors} flakey ${disk} 0 0 1 1 error_writes\n`,
  /**
   * Bad sectors: writes to [start, start + length) fail, the rest of the disk (the journal
   * included) stays healthy.
   * @param {string} disk @param {number} sectors @param {number} start @param {number} length
   */
  badRange: (disk, sectors, start, length) =>
    [
      start > 0 ? `0 ${start} linear ${disk} 0` : '',
      `${start} ${length} flakey ${disk} ${start} 0 1 1 error_writes`,
      start + length < sectors ? `${start + length} ${sectors - start - length} linear ${disk} ${start + length}` : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
};

/** Creates the device with a healthy table; returns its node. @param {string} disk */
export function createDevice(disk) {
  dmsetup(['create', DM_NAME], tables.linear(disk, diskSectors(disk)));
  const node = `/dev/mapper/${DM_NAME}`;
  if (!fs.existsSync(node)) dmsetup(['mknodes', DM_NAME]);
  if (!fs.existsSync(node)) throw new Error(`dmsetup created no ${node}`);
  return node;
}

/**
 * Replaces the live table, synchronously; returns how long it took (ms).
 * @param {string} table
 */
export function swapTable(table) {
  const started = performance.now();
  dmsetup(['suspend', '--nolockfs', DM_NAME]);
  dmsetup(['load', DM_NAME], table);
  dmsetup(['resume', '--nolockfs', DM_NAME]);
  return Math.round(performance.now() - started);
}

/** The live table, as dmsetup prints it. */
export function liveTable() {
  return dmsetup(['table', DM_NAME]).trim();
}
