/**
 * `durable-write probe`: run in-process through `runProbe` on real temp directories, and once as
 * the built command; its device detection against fake sysfs trees and mountinfo texts; its
 * warnings against made-up devices and timings.
 */
import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/cli/probe.js';
import { describeBlockDevice, describeDevice, majorMinor, mountHolding, parseMountInfo, type DeviceInfo } from '../../src/cli/probe-device.js';
import { PROBE_METHODS, percentile, timeMethod, type MethodResult, type ProbeMethod } from '../../src/cli/probe-methods.js';
import { reportRow, type ProbeReport } from '../../src/cli/probe-report.js';
import { probeWarnings, type WarningKind } from '../../src/cli/probe-warnings.js';
import { tempDir } from '../support/temp-dir.js';
import { cli, onlyJson } from './support/cli.js';

const METHOD_NAMES = ['write+fsync', 'write+fdatasync', 'O_DSYNC write', 'directory fsync', 'writeDurable', 'writeDurableSync', 'sync()'];

/** `durable-write probe ...argv` in this process, its output captured. */
async function probe(argv: string[], isTTY = false): Promise<{ status: number; stdout: string; stderr: string }> {
  const captured = { stdout: '', stderr: '' };
  const sink = (name: 'stdout' | 'stderr'): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        captured[name] += chunk.toString();
        done();
      },
    });
  const status = await runProbe(argv, { stdout: sink('stdout'), stderr: sink('stderr'), isTTY });
  return { status, ...captured };
}

/** Checks that `value` is a well-formed report of a probe of `dir`, and returns it typed. */
function wellFormedReport(value: unknown, dir: string): ProbeReport {
  expect(value).toMatchObject({ command: 'probe', directory: dir, blockSize: 4096, warnings: expect.any(Array) });
  // Checked just above and below: the object is what --json documents.
  const report = value as ProbeReport;
  expect(report.methods.map((method) => method.name)).toEqual(METHOD_NAMES);
  for (const method of report.methods) {
    expect(method, method.name).toMatchObject({ count: expect.any(Number), opsPerSecond: expect.any(Number), p50Us: expect.any(Number), p99Us: expect.any(Number) });
    if (!('count' in method)) continue;
    expect(method.count, method.name).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(method.opsPerSecond) && method.opsPerSecond > 0, method.name).toBe(true);
    expect(Number.isFinite(method.p99Us), method.name).toBe(true);
    expect(method.p50Us, method.name).toBeGreaterThanOrEqual(0);
    expect(method.p50Us, method.name).toBeLessThanOrEqual(method.p99Us);
  }
  const device = report.device;
  expect(device.dev).toMatch(/^\d+:\d+$/);
  for (const field of ['fsType', 'mountPoint', 'mountSource', 'blockDevice', 'disk', 'driver', 'model'] as const) {
    expect(typeof device[field], field).toBe('string');
  }
  expect([true, false, 'unknown']).toContain(device.rotational);
  expect(['write back', 'write through', 'unknown']).toContain(device.writeCache);
  for (const warning of report.warnings) expect(warning).toEqual({ kind: expect.any(String), message: expect.any(String) });
  return report;
}

describe('durable-write probe, in-process', () => {
  it('--json: one object on stdout with well-formed numbers for every method and the device; nothing on stderr; its subdirectory removed', async () => {
    const dir = tempDir();
    const { status, stdout, stderr } = await probe(['--seconds', '0.2', '--json', dir]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    wellFormedReport(onlyJson(stdout), dir);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('for people: the directory, mount and device lines, a row per method, the warnings; progress on a terminal only, erased', async () => {
    const dir = tempDir();
    const { status, stdout, stderr } = await probe(['--seconds', '0.4', dir], true);
    expect(status).toBe(0);
    expect(stdout).toMatch(new RegExp(`^directory  ${dir} \\(4 KiB writes, 0.4 s per method\\)\nmount      .+\ndevice     .+\n\nmethod +ops/s +p50 +p99 +count\n`));
    for (const name of METHOD_NAMES) {
      expect(stdout).toMatch(new RegExp(`^${name.replace(/[+()]/g, '\\$&')} +[\\d.]+ +[\\d.]+ (µs|ms|s) +[\\d.]+ (µs|ms|s) +\\d+$`, 'm'));
    }
    expect(stdout).toMatch(/\n\n(warning: |no warnings )/);
    // Progress: a status line redrawn in place (\r, erase line), erased again, never a line of its own.
    expect(stderr).toContain('\r\u001b[K');
    expect(stderr).not.toContain('\n');
    expect(stderr.replace(/\r\u001b\[K[^\r]*/g, '')).toBe('');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an unknown option: exit 2, the closest option suggested, nothing measured', async () => {
    const dir = tempDir();
    const { status, stdout, stderr } = await probe(['--secnds', '1', dir]);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown option --secnds (did you mean --seconds?)');
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    [['--seconds', 'abc'], '--seconds must be a number'],
    [['--seconds', '0'], '--seconds must be a number'],
    [['--seconds'], '--seconds needs a value'],
    [['a', 'b'], "unexpected argument 'b'"],
  ])('usage error %j: exit 2', async (argv, message) => {
    const { status, stdout, stderr } = await probe(argv);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });

  it('a missing DIR: exit 1 with ENOENT, for people and as JSON on stderr', async () => {
    const missing = join(tempDir(), 'missing');
    const human = await probe(['--seconds', '0.2', missing]);
    expect(human.status).toBe(1);
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain('ENOENT');
    const json = await probe(['--json', missing]);
    expect(json.status).toBe(1);
    expect(json.stdout).toBe('');
    expect(onlyJson(json.stderr)).toMatchObject({ code: 'ENOENT', stage: 'probe', path: missing });
  });

  it('a DIR that is a file: exit 1 with ENOTDIR', async () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, '');
    const { status, stderr } = await probe([file]);
    expect(status).toBe(1);
    expect(stderr).toContain('ENOTDIR');
  });

  it('--help: the usage on stdout, exit 0', async () => {
    const { status, stdout, stderr } = await probe(['--help']);
    expect(status).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: durable-write probe \[options\] \[DIR\]/);
    expect(stdout).toContain('--seconds N');
    expect(stdout).toContain('--json');
  });
});

describe('the built command', () => {
  it('node dist/cli.js probe --seconds 0.2 --json DIR prints the same report', async () => {
    const dir = tempDir();
    const { status, stdout, stderr } = await cli(['probe', '--seconds', '0.2', '--json', dir]);
    expect(stderr, 'dist/cli.js must bundle src/cli/probe.ts (src/cli/main.ts importing ./probe.js literally), built with npx tsup').toBe('');
    expect(status).toBe(0);
    wellFormedReport(onlyJson(stdout), dir);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('the timing loop', () => {
  it('a method that fails is reported with its errno code, and what it opened is closed', async () => {
    const failing: ProbeMethod = {
      name: 'failing',
      prepare: () => {
        throw Object.assign(new Error('EINVAL: invalid argument, open'), { code: 'EINVAL' });
      },
    };
    const result = await timeMethod(failing, tempDir(), 0.01, () => undefined, new AbortController().signal);
    expect(result).toMatchObject({ name: 'failing', error: { code: 'EINVAL' } });
    let closed = 0;
    const failsLater: ProbeMethod = {
      name: 'fails later',
      prepare: () => ({
        run: () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })),
        close: () => void (closed += 1),
      }),
    };
    expect(await timeMethod(failsLater, tempDir(), 0.01, () => undefined, new AbortController().signal)).toMatchObject({ error: { code: 'EIO' } });
    expect(closed).toBe(1);
  });

  it('runs for the time given, reports progress about ten times a second, and stops when the signal fires', async () => {
    const counts: number[] = [];
    const noop: ProbeMethod = { name: 'noop', prepare: () => ({ run: () => undefined, close: () => undefined }) };
    const started = performance.now();
    const result = await timeMethod(noop, tempDir(), 0.25, (count) => counts.push(count), new AbortController().signal);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(counts.length).toBeGreaterThanOrEqual(1);
    expect(result).toMatchObject({ name: 'noop', count: expect.any(Number) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const stopped = performance.now();
    await timeMethod(noop, tempDir(), 60, () => undefined, controller.signal);
    expect(performance.now() - stopped).toBeLessThan(1000);
  });

  it('a failed method\'s row says so, with its code', () => {
    const row = reportRow({ name: 'O_DSYNC write', error: { code: 'EINVAL', stage: null, path: null, message: 'EINVAL: invalid argument' } });
    expect(row).toMatch(/^O_DSYNC write +failed \(EINVAL; the error is on stderr\)$/);
  });

  it('percentiles by nearest rank', () => {
    const samples = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(samples, 0.5)).toBe(50);
    expect(percentile(samples, 0.99)).toBe(99);
    expect(percentile(Float64Array.of(7), 0.99)).toBe(7);
  });

  it('the methods are the seven documented, in order', () => {
    expect(PROBE_METHODS.map((method) => method.name)).toEqual(METHOD_NAMES);
  });
});

describe('the device under a directory', () => {
  it('decodes device numbers as glibc does', () => {
    expect(majorMinor(0xfe00n)).toBe('254:0');
    expect(majorMinor(0x1231_0345n)).toBe('259:74565');
    expect(majorMinor(0x1000_0002_3401n)).toBe('4660:1');
  });

  const MOUNTINFO = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
    '40 27 0:45 / /mnt/with\\040space rw,nosuid - tmpfs tmpfs rw,size=1024k',
    '41 27 8:2 / /data rw,relatime shared:1 master:2 - xfs /dev/sda2 rw,nobarrier',
    'garbage',
    '',
  ].join('\n');

  it('reads mountinfo (escapes, optional fields, both option lists) and finds the deepest mount holding a path', () => {
    const mounts = parseMountInfo(MOUNTINFO);
    expect(mounts).toEqual([
      { dev: '254:0', mountPoint: '/', fsType: 'ext4', source: '/dev/vda', options: ['rw', 'relatime', 'rw', 'discard'] },
      { dev: '0:45', mountPoint: '/mnt/with space', fsType: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'rw', 'size=1024k'] },
      { dev: '8:2', mountPoint: '/data', fsType: 'xfs', source: '/dev/sda2', options: ['rw', 'relatime', 'rw', 'nobarrier'] },
    ]);
    expect(mountHolding('/data/db', mounts)?.fsType).toBe('xfs');
    expect(mountHolding('/data', mounts)?.fsType).toBe('xfs');
    expect(mountHolding('/database', mounts)?.fsType).toBe('ext4');
    expect(mountHolding('/mnt/with space/x', mounts)?.fsType).toBe('tmpfs');
    expect(mountHolding('/x', [])).toBeUndefined();
  });

  /** Writes `files` (path → content; a content starting with `->` makes a symlink to that absolute path) under `root`. */
  function tree(root: string, files: Record<string, string>): void {
    for (const [path, content] of Object.entries(files)) {
      const full = join(root, path);
      mkdirSync(dirname(full), { recursive: true });
      if (content.startsWith('->')) symlinkSync(join(root, content.slice(2)), full);
      else if (content === '/') mkdirSync(full);
      else writeFileSync(full, content);
    }
  }

  const SCSI = 'devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0';

  it('a partition: the flags of its disk, the driver and model of the disk', () => {
    const sys = tempDir();
    tree(sys, {
      [`${SCSI}/vendor`]: 'ATA     \n',
      [`${SCSI}/model`]: 'ST2000DM008-2FR1\n',
      [`${SCSI}/driver`]: '->bus/scsi/drivers/sd',
      [`${SCSI}/block/sda/device`]: `->${SCSI}`,
      [`${SCSI}/block/sda/queue/rotational`]: '1\n',
      [`${SCSI}/block/sda/queue/write_cache`]: 'write back\n',
      [`${SCSI}/block/sda/sda2/partition`]: '2\n',
      'dev/block/8:2': `->${SCSI}/block/sda/sda2`,
    });
    expect(describeBlockDevice('8:2', sys)).toEqual({
      blockDevice: 'sda2',
      kind: 'partition',
      disk: 'sda',
      rotational: true,
      writeCache: 'write back',
      driver: 'sd',
      model: 'ATA ST2000DM008-2FR1',
      virtualDisk: false,
      underlying: [],
    });
    expect(describeBlockDevice('8:3', sys)).toBeUndefined();
  });

  it('device-mapper and loop devices: their own flags, and what they are built on', () => {
    const sys = tempDir();
    tree(sys, {
      'devices/virtual/block/dm-0/dm/name': 'vg0-root\n',
      'devices/virtual/block/dm-0/queue/rotational': '0\n',
      'devices/virtual/block/dm-0/queue/write_cache': 'write through\n',
      'devices/virtual/block/dm-0/slaves/sda2': '/',
      'devices/virtual/block/dm-0/slaves/sdb2': '/',
      'devices/virtual/block/loop3/loop/backing_file': '/var/lib/images/disk.img\n',
      'devices/virtual/block/loop3/queue/rotational': '0\n',
      'dev/block/253:0': '->devices/virtual/block/dm-0',
      'dev/block/7:3': '->devices/virtual/block/loop3',
    });
    expect(describeBlockDevice('253:0', sys)).toMatchObject({ kind: 'device-mapper', rotational: false, writeCache: 'write through', underlying: ['sda2', 'sdb2'], driver: 'unknown' });
    expect(describeBlockDevice('7:3', sys)).toMatchObject({ kind: 'loop', writeCache: 'unknown', underlying: ['/var/lib/images/disk.img'] });
  });

  it('a virtio disk is recognised as virtual', () => {
    const sys = tempDir();
    const vda = 'devices/pci0000:00/0000:00:02.0/virtio1/block/vda';
    tree(sys, {
      [`${vda}/queue/rotational`]: '1\n',
      [`${vda}/queue/write_cache`]: 'write back\n',
      'devices/pci0000:00/0000:00:02.0/virtio1/driver': '->bus/virtio/drivers/virtio_blk',
      [`${vda}/device`]: '->devices/pci0000:00/0000:00:02.0/virtio1',
      'dev/block/254:0': `->${vda}`,
    });
    expect(describeBlockDevice('254:0', sys)).toMatchObject({ blockDevice: 'vda', kind: 'disk', driver: 'virtio_blk', virtualDisk: true, rotational: true });
  });

  it('a real directory: the mount from mountinfo; the device from st_dev, or from the mount source when st_dev has none (btrfs)', () => {
    const dir = tempDir();
    const fake = tempDir();
    const dev = majorMinor(statSync(dir, { bigint: true }).dev);
    tree(fake, {
      mountinfo: `1 0 ${dev} / / rw - ext4 /dev/fake rw,barrier=0\n`,
      'sys/devices/virtual/block/fake0/queue/rotational': '0\n',
      [`sys/dev/block/${dev}`]: '->sys/devices/virtual/block/fake0',
    });
    expect(describeDevice(dir, { sys: join(fake, 'sys'), mountinfo: join(fake, 'mountinfo') })).toMatchObject({
      dev,
      fsType: 'ext4',
      mountPoint: '/',
      mountSource: '/dev/fake',
      mountOptions: ['rw', 'rw', 'barrier=0'],
      blockDevice: 'fake0',
      rotational: false,
    });
    // No sysfs entry for st_dev: the mount source's device number is looked up instead (/dev/null is 1:3).
    tree(fake, {
      btrfs: `1 0 0:99 / / rw - btrfs /dev/null rw\n`,
      'other/devices/virtual/block/nvme9n1/queue/write_cache': 'write back\n',
      'other/dev/block/1:3': '->other/devices/virtual/block/nvme9n1',
    });
    expect(describeDevice(dir, { sys: join(fake, 'other'), mountinfo: join(fake, 'btrfs') })).toMatchObject({ fsType: 'btrfs', blockDevice: 'nvme9n1', writeCache: 'write back' });
    // Neither file: everything but st_dev unknown.
    expect(describeDevice(dir, { sys: join(fake, 'none'), mountinfo: join(fake, 'none') })).toMatchObject({
      dev,
      fsType: 'unknown',
      mountPoint: 'unknown',
      blockDevice: 'unknown',
      rotational: 'unknown',
      writeCache: 'unknown',
      virtualDisk: false,
    });
  });
});

describe('the warnings', () => {
  const SSD: DeviceInfo = {
    dev: '8:2',
    fsType: 'ext4',
    mountPoint: '/',
    mountSource: '/dev/sda2',
    mountOptions: ['rw', 'relatime'],
    blockDevice: 'sda2',
    kind: 'partition',
    disk: 'sda',
    rotational: false,
    writeCache: 'write back',
    driver: 'sd',
    model: 'ATA Samsung SSD 860',
    virtualDisk: false,
    underlying: [],
  };
  const HDD: DeviceInfo = { ...SSD, rotational: true, model: 'ATA ST2000DM008' };
  const NO_DEVICE: DeviceInfo = { ...SSD, blockDevice: 'unknown', kind: 'unknown', disk: 'unknown', rotational: 'unknown', writeCache: 'unknown', driver: 'unknown', model: 'unknown' };

  /** Results of every method with median `p50Us`. */
  function timings(p50Us: number): MethodResult[] {
    return METHOD_NAMES.map((name) => ({ name, count: 10, opsPerSecond: 1e6 / p50Us, p50Us, p99Us: p50Us * 3 }));
  }

  const cases: readonly [string, DeviceInfo, number, NodeJS.ProcessEnv, WarningKind[]][] = [
    ['a disk flushing at disk speed', HDD, 8000, {}, []],
    ['a rotational disk flushing in 300 µs', HDD, 300, {}, ['rotational-fast-flush']],
    ['a virtual disk flagged rotational flushing in 300 µs', { ...HDD, driver: 'virtio_blk', virtualDisk: true }, 300, {}, ['rotational-fast-flush']],
    ['an SSD with a volatile cache flushing in 400 µs', SSD, 400, {}, []],
    ['an SSD with a volatile cache flushing in 40 µs', SSD, 40, {}, ['write-back-fast-flush']],
    ['an SSD without a volatile cache flushing in 20 µs', { ...SSD, writeCache: 'write through' }, 20, {}, []],
    ['tmpfs', { ...NO_DEVICE, fsType: 'tmpfs' }, 2, {}, ['no-durability']],
    ['zram', { ...SSD, kind: 'zram', blockDevice: 'zram0', rotational: false, writeCache: 'write through' }, 2, {}, ['no-durability']],
    ['nfs4', { ...NO_DEVICE, fsType: 'nfs4' }, 900, {}, ['remote-file-system']],
    ['overlay', { ...NO_DEVICE, fsType: 'overlay' }, 900, {}, ['overlay']],
    ['no block device found', NO_DEVICE, 900, {}, ['device-unknown']],
    ['nobarrier', { ...SSD, mountOptions: ['rw', 'nobarrier'] }, 400, {}, ['no-barrier']],
    ['eatmydata', SSD, 400, { LD_PRELOAD: '/usr/lib/libeatmydata.so' }, ['fsync-disabled']],
  ];

  it.each(cases)('%s', (_, device, p50Us, env, kinds) => {
    const warnings = probeWarnings(device, timings(p50Us), env);
    expect(warnings.map((warning) => warning.kind)).toEqual(kinds);
  });

  it('a warning drawn from timing says "probably" and why; on a virtual disk it says it cannot tell', () => {
    const [hdd] = probeWarnings(HDD, timings(300), {});
    expect(hdd?.message).toMatch(/probably/);
    expect(hdd?.message).toContain('300 µs');
    expect(hdd?.message).toContain('rotational');
    const [virtual] = probeWarnings({ ...HDD, driver: 'virtio_blk', virtualDisk: true }, timings(300), {});
    expect(virtual?.message).toContain('virtio_blk');
    expect(virtual?.message).toContain('cannot tell');
    const [ssd] = probeWarnings(SSD, timings(40), {});
    expect(ssd?.message).toMatch(/probably.*power-loss protection/);
  });

  it('a failed method is left out of the judgement', () => {
    const failed: MethodResult = { name: 'O_DSYNC write', error: { code: 'EINVAL', stage: null, path: null, message: 'x' } };
    const results = timings(8000).map((result) => (result.name === failed.name ? failed : result));
    expect(probeWarnings(HDD, results, {})).toEqual([]);
  });
});
