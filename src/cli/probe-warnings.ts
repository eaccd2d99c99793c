/**
 * What `durable-write probe` warns about: storage that cannot keep data at all (tmpfs), storage
 * the probe cannot see (a network or overlay file system), flushes switched off (`nobarrier`,
 * eatmydata), and flushes too fast for the device that claims to complete them. Every warning
 * says what it saw and why it draws its conclusion; a conclusion from timing is only ever
 * "probably": the probe cannot open the device to look.
 *
 * @module
 */
import type { DeviceInfo } from './probe-device.js';
import { FILE_FLUSH_METHODS, measured, type MethodResult } from './probe-methods.js';
import { formatLatency } from './probe-units.js';

/** What a warning is about, for scripts reading `--json`. */
export type WarningKind =
  | 'no-durability'
  | 'remote-file-system'
  | 'overlay'
  | 'device-unknown'
  | 'no-barrier'
  | 'fsync-disabled'
  | 'rotational-fast-flush'
  | 'write-back-fast-flush';

export interface ProbeWarning {
  readonly kind: WarningKind;
  readonly message: string;
}

/** A flush a spinning disk completes faster than this was probably not written to its platter. */
export const ROTATIONAL_FLOOR_US = 1000;
/** A flush of a volatile cache completed faster than this was probably not written to flash. */
export const WRITE_BACK_FLOOR_US = 100;

const MEMORY_FILE_SYSTEMS = ['tmpfs', 'ramfs'];
const REMOTE_FILE_SYSTEMS = /^(nfs4?|cifs|smb3|9p|virtiofs|ceph|glusterfs|lustre|afs|fuse(\..+)?)$/;

/** The file flush with the lowest median, the one that best shows what the device does on a flush. */
function fastestFileFlush(results: readonly MethodResult[]): { name: string; p50Us: number } | undefined {
  const flushes = results.filter(measured).filter((result) => FILE_FLUSH_METHODS.some((name) => name === result.name));
  return flushes.reduce<{ name: string; p50Us: number } | undefined>(
    (fastest, result) => (fastest === undefined || result.p50Us < fastest.p50Us ? result : fastest),
    undefined,
  );
}

/** Where the file system's own nature decides what a flush is worth. */
function fileSystemWarnings(device: DeviceInfo): ProbeWarning[] {
  const fs = device.fsType;
  if (MEMORY_FILE_SYSTEMS.includes(fs) || device.kind === 'zram') {
    const where = device.kind === 'zram' ? `a zram device (${device.blockDevice}), a compressed RAM disk` : fs;
    return [
      {
        kind: 'no-durability',
        message: `this directory is on ${where}: its files live in memory only, so no flush makes them durable and everything written here is lost on reboot or power loss; the numbers measure memory, not storage`,
      },
    ];
  }
  if (REMOTE_FILE_SYSTEMS.test(fs)) {
    return [
      {
        kind: 'remote-file-system',
        message: `this directory is on ${fs}: a flush is answered by the server (or the FUSE daemon), so the numbers say how fast it answers, not whether its storage keeps the data; the probe cannot see that storage`,
      },
    ];
  }
  if (fs === 'overlay') {
    return [
      {
        kind: 'overlay',
        message: 'this directory is on an overlay file system: flushes go to the file system of its upper layer, which the probe cannot identify from here, so the numbers cannot be checked against a device',
      },
    ];
  }
  if (device.blockDevice === 'unknown') {
    return [
      {
        kind: 'device-unknown',
        message: `the probe found no block device under this directory (file system ${fs}), so the numbers cannot be checked against one`,
      },
    ];
  }
  return [];
}

/** Where a flush is switched off before it reaches the device. */
function disabledFlushWarnings(device: DeviceInfo, env: NodeJS.ProcessEnv): ProbeWarning[] {
  const warnings: ProbeWarning[] = [];
  const noBarrier = device.mountOptions.find((option) => option === 'nobarrier' || option === 'barrier=0');
  if (noBarrier !== undefined) {
    warnings.push({
      kind: 'no-barrier',
      message: `the file system is mounted with ${noBarrier}: it does not ask the device to empty its write cache on a flush, so with a volatile cache a completed fsync is probably not on stable storage`,
    });
  }
  if (/eatmydata/.test(env['LD_PRELOAD'] ?? '')) {
    warnings.push({
      kind: 'fsync-disabled',
      message: 'LD_PRELOAD loads libeatmydata, which turns fsync, fdatasync and O_DSYNC into no-ops in this process: nothing measured here was flushed',
    });
  }
  return warnings;
}

/** Where the flushes are faster than the device could honestly complete them. */
function implausibleSpeedWarnings(device: DeviceInfo, results: readonly MethodResult[]): ProbeWarning[] {
  const fastest = fastestFileFlush(results);
  if (fastest === undefined) return [];
  const seen = `${fastest.name} completes in ${formatLatency(fastest.p50Us)} (median)`;
  const host = `it is a virtual disk (driver ${device.driver}, vendor/model ${device.model})`;
  if (device.rotational === true && fastest.p50Us < ROTATIONAL_FLOOR_US) {
    return [
      {
        kind: 'rotational-fast-flush',
        message: device.virtualDisk
          ? `the device says it is rotational, but ${host}, whose rotational flag the hypervisor sets whatever the host stores it on; ${seen}, too fast for a spinning disk, so either the host's storage is solid-state or the host acknowledges flushes from a volatile cache (QEMU's cache=unsafe ignores them): the probe cannot tell which from inside the guest`
          : `the device says it is rotational, but ${seen}; a spinning disk needs milliseconds to put a block on its platter (one revolution at 7200 rpm takes 8.3 ms), so it probably acknowledges flushes from a volatile cache and the data is not safe on power loss`,
      },
    ];
  }
  if (device.writeCache === 'write back' && device.rotational !== true && fastest.p50Us < WRITE_BACK_FLOOR_US) {
    return [
      {
        kind: 'write-back-fast-flush',
        message: `the device reports a volatile write cache ('write back'), yet ${seen}, faster than flash usually takes to program a page; it probably does not empty its cache on a flush (data not safe on power loss), unless it has power-loss protection, which such drives usually report as 'write through'${device.virtualDisk ? `; ${host}, so the host decides what a flush does` : ''}`,
      },
    ];
  }
  return [];
}

/** Every warning the device and the measured results call for, most fundamental first. */
export function probeWarnings(device: DeviceInfo, results: readonly MethodResult[], env: NodeJS.ProcessEnv = process.env): ProbeWarning[] {
  return [...fileSystemWarnings(device), ...disabledFlushWarnings(device, env), ...implausibleSpeedWarnings(device, results)];
}
