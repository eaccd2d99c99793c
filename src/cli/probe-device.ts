/**
 * What `durable-write probe` can learn about the storage under a directory on Linux: the mount
 * that holds it (`/proc/self/mountinfo`: file system type, source, options) and the block device
 * behind it (`/sys/dev/block/MAJ:MIN`: whether it is rotational, whether it has a volatile write
 * cache, which driver presents it). Whatever cannot be found is `'unknown'`: tmpfs, overlay and
 * network file systems have no block device, and other systems have neither file.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** What the probe says of a fact it could not find. */
export const UNKNOWN = 'unknown';

/** What a block device is, from its sysfs directory. */
export type DeviceKind = 'disk' | 'partition' | 'device-mapper' | 'md-raid' | 'loop' | 'zram' | 'virtual';

/** The storage under a directory, as far as the probe can tell. */
export interface DeviceInfo {
  /** The directory's `st_dev` as `MAJ:MIN`. */
  readonly dev: string;
  /** The type of the file system holding the directory (`ext4`, `tmpfs`, `nfs4`...). */
  readonly fsType: string;
  /** Where that file system is mounted. */
  readonly mountPoint: string;
  /** What is mounted there (`/dev/sda2`, `server:/export`, `tmpfs`...). */
  readonly mountSource: string;
  /** The mount's options and the file system's own (`nobarrier` shows here). */
  readonly mountOptions: readonly string[];
  /** The block device behind the file system (`sda2`, `dm-0`, `vda`). */
  readonly blockDevice: string;
  readonly kind: DeviceKind | typeof UNKNOWN;
  /** The device whose `queue/` was read: the disk of a partition, else the device itself. */
  readonly disk: string;
  /** `queue/rotational`: whether the device says it spins. */
  readonly rotational: boolean | typeof UNKNOWN;
  /** `queue/write_cache`: `write back` (a volatile cache, emptied on a flush) or `write through`. */
  readonly writeCache: 'write back' | 'write through' | typeof UNKNOWN;
  /** The kernel driver of the disk (`sd`, `nvme`, `virtio_blk`...). */
  readonly driver: string;
  /** The disk's vendor and model, as it reports them. */
  readonly model: string;
  /** Whether the disk is probably presented by a hypervisor (its flags then describe the virtual disk, not the host's). */
  readonly virtualDisk: boolean;
  /** What a device-mapper or RAID device is built on (`slaves/`), or a loop device's backing file. */
  readonly underlying: readonly string[];
}

/** One line of `/proc/self/mountinfo`. */
export interface MountEntry {
  readonly dev: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** Where the probe reads the kernel's answers; tests point these at a fake tree. */
export interface DeviceSources {
  readonly sys: string;
  readonly mountinfo: string;
}

const KERNEL: DeviceSources = { sys: '/sys', mountinfo: '/proc/self/mountinfo' };

/** Undoes mountinfo's octal escapes (`\040` for a space). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The mounts of a `/proc/PID/mountinfo` text (see proc(5)); malformed lines are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  return text.split('\n').flatMap((line) => {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    const [, , dev, , mountPoint, mountOptions] = fields;
    const [fsType, source, superOptions] = fields.slice(separator + 1);
    if (separator < 0 || dev === undefined || mountPoint === undefined || fsType === undefined) return [];
    const options = `${mountOptions ?? ''},${superOptions ?? ''}`.split(',').filter((option) => option !== '');
    return [{ dev, mountPoint: unescapeMountField(mountPoint), fsType, source: unescapeMountField(source ?? ''), options }];
  });
}

/** The mount holding the absolute, symlink-free `path`: the deepest mount point above it, the last mounted on a tie. */
export function mountHolding(path: string, mounts: readonly MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const mount of mounts) {
    const point = mount.mountPoint;
    const holds = point === '/' || path === point || path.startsWith(`${point}/`);
    if (holds && (best === undefined || point.length >= best.mountPoint.length)) best = mount;
  }
  return best;
}

/** A Linux device number (`st_dev`, `st_rdev`) as `MAJ:MIN`, decoded as glibc's major()/minor() do. */
export function majorMinor(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xffff_f000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffff_ff00n);
  return `${major}:${minor}`;
}

/** The trimmed text of a sysfs file, or undefined when there is no such file. */
function readSysfs(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The names in a sysfs directory, or none. */
function listSysfs(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** What the device at sysfs directory `node` is. */
function kindOf(node: string, partition: boolean): DeviceKind {
  const name = basename(node);
  if (partition) return 'partition';
  if (existsSync(join(node, 'dm'))) return 'device-mapper';
  if (existsSync(join(node, 'md'))) return 'md-raid';
  if (name.startsWith('loop')) return 'loop';
  if (name.startsWith('zram')) return 'zram';
  return node.includes('/devices/virtual/') ? 'virtual' : 'disk';
}

/** Whether a disk's driver or model says a hypervisor presents it. */
function presentedByHypervisor(driver: string, model: string, node: string): boolean {
  return (
    ['virtio_blk', 'vbd', 'xen-blkfront'].includes(driver) ||
    /\/virtio\d+\//.test(node) ||
    /qemu|vbox|virtualbox|vmware|virtual disk|msft|xen|amazon elastic block store|persistentdisk/i.test(model)
  );
}

/** The fields of {@link DeviceInfo} that describe the block device. */
type BlockDeviceFields = Omit<DeviceInfo, 'dev' | 'fsType' | 'mountPoint' | 'mountSource' | 'mountOptions'>;

/** The block device fields, all unknown. */
const NO_BLOCK_DEVICE = {
  blockDevice: UNKNOWN,
  kind: UNKNOWN,
  disk: UNKNOWN,
  rotational: UNKNOWN,
  writeCache: UNKNOWN,
  driver: UNKNOWN,
  model: UNKNOWN,
  virtualDisk: false,
  underlying: [],
} as const satisfies BlockDeviceFields;

/**
 * The block device numbered `majMin`, from `/sys/dev/block/MAJ:MIN`: for a partition, the
 * flags are those of its disk (the parent directory, which holds `queue/`). Undefined when sysfs
 * has no such device.
 */
export function describeBlockDevice(majMin: string, sys: string = KERNEL.sys): BlockDeviceFields | undefined {
  const link = join(sys, 'dev/block', majMin);
  if (!existsSync(link)) return undefined;
  const node = realpathSync(link);
  const partition = existsSync(join(node, 'partition')) && !existsSync(join(node, 'queue'));
  const disk = partition ? dirname(node) : node;
  const rotational = readSysfs(join(disk, 'queue/rotational'));
  const writeCache = readSysfs(join(disk, 'queue/write_cache'));
  let driver: string = UNKNOWN;
  try {
    driver = basename(readlinkSync(join(disk, 'device/driver')));
  } catch {
    // No driver link: a virtual device (dm, loop, md), or an old kernel.
  }
  const vendorModel = [readSysfs(join(disk, 'device/vendor')), readSysfs(join(disk, 'device/model'))].filter((part) => part !== undefined);
  const model = vendorModel.length > 0 ? vendorModel.join(' ') : UNKNOWN;
  const backingFile = readSysfs(join(node, 'loop/backing_file'));
  return {
    blockDevice: basename(node),
    kind: kindOf(node, partition),
    disk: basename(disk),
    rotational: rotational === '1' ? true : rotational === '0' ? false : UNKNOWN,
    writeCache: writeCache === 'write back' || writeCache === 'write through' ? writeCache : UNKNOWN,
    driver,
    model,
    virtualDisk: presentedByHypervisor(driver, model, disk),
    underlying: backingFile === undefined ? listSysfs(join(node, 'slaves')) : [backingFile],
  };
}

/**
 * The storage under the existing directory `dir`. Throws only what `realpath` and `stat` of
 * `dir` throw; every fact the kernel does not offer is {@link UNKNOWN}.
 */
export function describeDevice(dir: string, sources: DeviceSources = KERNEL): DeviceInfo {
  const real = realpathSync(dir);
  const dev = majorMinor(statSync(real, { bigint: true }).dev);
  const mount = mountHolding(real, parseMountInfo(readSysfs(sources.mountinfo) ?? ''));
  let block = describeBlockDevice(dev, sources.sys);
  if (block === undefined && mount?.source.startsWith('/dev/') === true) {
    // Btrfs and others give files an anonymous st_dev (0:N); the mount's source names the device.
    try {
      block = describeBlockDevice(majorMinor(statSync(mount.source, { bigint: true }).rdev), sources.sys);
    } catch {
      // The source is not visible here (a container): the device stays unknown.
    }
  }
  return {
    dev,
    fsType: mount?.fsType ?? UNKNOWN,
    mountPoint: mount?.mountPoint ?? UNKNOWN,
    mountSource: mount?.source ?? UNKNOWN,
    mountOptions: mount?.options ?? [],
    ...(block ?? NO_BLOCK_DEVICE),
  };
}
