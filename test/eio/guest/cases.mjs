/**
 * Runs INSIDE the guest (started by guest/init): every EIO case, one after the other, on one ext4
 * file system on the device-mapper device `eio` over the test disk. Each case:
 *
 *   1. prepares its directory with the target's OLD content, made durable (fsync, sync) while
 *      the device is healthy;
 *   2. runs its writer in a child node under `strace -f` (write-case.mjs or twin.mjs), which
 *      swaps the device to failing writes at the chosen step;
 *      Its child also records what a caller might do next while the device still fails (fsync
 *      the directory again, write again at once), after a marker that splits the strace log;
 *   3. while the device still fails: forces the kernel's reaction (`sync`), records the mount
 *      state, whether a new file is refused, what fsync on a descriptor opened now returns,
 *      /sys/fs/ext4/<dev>/errors_count, and dmesg;
 *   4. makes the device healthy again, unmounts, runs `e2fsck -fy` (which replays the journal),
 *      remounts, and records what the disk holds: the target, classified against old and new
 *      content, and the directory listing (temp files left by the failed write, then removed with
 *      the library's removeStaleTemps); for a library case, it then writes again from the
 *      source with writeDurable and checks, after one more remount, that the new content is there;
 *   5. prints one `POWERLOSS:RESULT {json}` line on the console.
 *
 *   node cases.mjs <cases|all> <seed> <library-module> <disk> <mountpoint>
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDevice, diskSectors, swapTable, tables, liveTable } from './dm.mjs';
import { payload, classify, sha256, OLD_SIZE, NEW_SIZE } from '../lib/payload.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const [casesArg = 'all', seedText = '1', libModule = '', disk = '/dev/vda', mnt = '/mnt/disk'] = process.argv.slice(2);
const seed = Number(seedText);
// commit=30: ext4's periodic journal commit (default every 5 s) stays out of the second or so
// between the table swap and the fsync under test, even under a slow TCG guest; every case
// forces its own commit (fsync, sync), so nothing else changes. errors= is left at the
// superblock's default (continue), as mke2fs makes it.
const MOUNT_OPTIONS = 'commit=30';
const ALL = ['flush-async', 'flush-sync', 'dirflush-async', 'dirflush-sync', 'twin'];
const wanted = casesArg === 'all' ? ALL : casesArg.split(',');

/** @param {string} kind @param {unknown} [value] */
function say(kind, value) {
  process.stdout.write(`POWERLOSS:${kind}${value === undefined ? '' : ` ${typeof value === 'string' ? value : JSON.stringify(value)}`}\n`);
}

/** Runs a program; never throws. @param {string} file @param {string[]} args */
function run(file, args) {
  const r = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error?.message };
}

/** The kernel's name of a block device node (dm-0 for /dev/mapper/eio), from its device number. @param {string} node */
function blockName(node) {
  const { rdev } = fs.statSync(node);
  const major = (rdev >> 8) & 0xfff;
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return path.basename(fs.realpathSync(`/sys/dev/block/${major}:${minor}`));
}

/** The mount options of `mnt` in /proc/mounts, or null when not mounted. */
function mountOptions() {
  const line = fs.readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === mnt);
  return line === undefined ? null : line.split(' ')[3];
}

/** Kernel messages since the last call (dmesg -c), the interesting ones, shortened. */
function takeDmesg() {
  const out = run('dmesg', ['-c']).stdout;
  const lines = out
    .split('\n')
    .map((l) => l.replace(/^\[\s*[\d.]+\]\s*/, '').trim())
    .filter((l) => /EXT4|JBD2|I\/O error|Buffer I\/O|blk_update|critical|dm-|device-mapper|flakey|Aborting|read-only/i.test(l));
  // Collapse repeats (a failed writeback logs one line per page).
  /** @type {{ line: string, count: number }[]} */
  const collapsed = [];
  for (const line of lines) {
    const key = line.replace(/\d+/g, '#');
    const last = collapsed.at(-1);
    if (last !== undefined && last.line.replace(/\d+/g, '#') === key) last.count += 1;
    else collapsed.push({ line, count: 1 });
  }
  return collapsed.slice(0, 40).map((c) => (c.count > 1 ? `${c.line} (x${c.count})` : c.line));
}

/**
 * The syscalls strace logged that touch `dir` (by path, or through a descriptor that -y decodes
 * to a path in it), with <unfinished ...>/<... resumed> pairs joined.
 * @param {string} log @param {string} dir
 */
function readStrace(log, dir) {
  /** @type {Map<string, string>} */
  const pending = new Map();
  /** @type {string[]} */
  const calls = [];
  for (const raw of fs.readFileSync(log, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(raw);
    if (m === null) continue;
    const [, pid = '', text = ''] = m;
    if (text.endsWith('<unfinished ...>')) {
      pending.set(pid, text.slice(0, -'<unfinished ...>'.length).trimEnd());
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(text);
    const full = resumed === null ? text : `${pending.get(pid) ?? '?'}${resumed[1]}`;
    if (resumed !== null) pending.delete(pid);
    if (full.includes(dir)) calls.push(full);
  }
  // write-case.mjs marks the end of the call under test by opening a missing '--end-of-call--'.
  const end = calls.findIndex((c) => c.includes('/--end-of-call--'));
  const followUps = end < 0 ? [] : calls.slice(end + 1);
  if (end >= 0) calls.length = end;
  /** @param {RegExp} fd */
  const flushes = (fd) =>
    calls
      .filter((c) => /^f(data)?sync\(/.test(c) && fd.test(c))
      .map((c) => (/\)\s+=\s+(-?\d+)(?:\s+(E[A-Z0-9]+))?[^=]*$/.exec(c)?.slice(1, 3) ?? []).filter(Boolean).join(' '));
  const esc = dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  /** @type {Record<string, string[]>} every fsync/fdatasync of the call, by the path -y decoded */
  const fsyncByPath = {};
  for (const c of calls) {
    const m = /^f(?:data)?sync\(\d+<([^>]*)>\)\s+=\s+(-?\d+)(?:\s+(E[A-Z0-9]+))?/.exec(c);
    if (m === null) continue;
    (fsyncByPath[m[1] ?? ''] ??= []).push([m[2], m[3]].filter(Boolean).join(' '));
  }
  return {
    calls,
    followUps,
    fsyncByPath,
    fsyncTemp: flushes(new RegExp(`^f(data)?sync\\(\\d+<${esc}/\\.[^>]*\\.dwtmp(?: \\(deleted\\))?>\\)`)),
    fsyncTarget: flushes(new RegExp(`^f(data)?sync\\(\\d+<${esc}/[^./][^>]*>\\)`)),
    fsyncDirectory: flushes(new RegExp(`^f(data)?sync\\(\\d+<${esc}>\\)`)),
  };
}

/** Runs a guest script under strace -f; returns its JSON and the strace summary. */
function traced(/** @type {string} */ id, /** @type {string} */ script, /** @type {object} */ spec, /** @type {string} */ dir) {
  const log = `/tmp/strace-${id}.log`;
  const r = run('strace', [
    '-f', '-qq', '-y', '--seccomp-bpf',
    '-e', 'trace=openat,fsync,fdatasync,close,rename,renameat,renameat2,unlink,unlinkat',
    '-o', log,
    process.execPath, path.join(here, script), JSON.stringify(spec),
  ]);
  let child;
  try {
    child = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    throw new Error(`${script} printed no result (status ${r.status}${r.signal ? `, signal ${r.signal}` : ''}): ${r.stderr.trim().split('\n').slice(-6).join(' | ')}`);
  }
  return { child, strace: fs.existsSync(log) ? readStrace(log, dir) : null };
}

/** Writes `data` to `file` and makes it durable, device healthy. */
function writeDurablyByHand(/** @type {string} */ file, /** @type {Buffer} */ data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, data);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const dfd = fs.openSync(path.dirname(file), 'r');
  fs.fsyncSync(dfd);
  fs.closeSync(dfd);
  execFileSync('sync');
}

/** Step 3: the kernel's reaction while the device still fails writes. */
function whileFailing(/** @type {string} */ dir) {
  const before = mountOptions();
  const started = performance.now();
  const syncRun = run('sync', []);
  const syncMs = Math.round(performance.now() - started);
  /** @param {() => void} call */
  const outcome = (call) => {
    try {
      call();
      return 'ok';
    } catch (error) {
      return /** @type {any} */ (error).code ?? String(error);
    }
  };
  /** fsync through a descriptor opened now, after the failure. @param {string} file */
  const freshFsync = (file) => {
    let fd;
    const opened = outcome(() => {
      fd = fs.openSync(file, 'r');
    });
    if (fd === undefined) return `open: ${opened}`;
    const r = outcome(() => fs.fsyncSync(/** @type {number} */ (fd)));
    fs.closeSync(fd);
    return r;
  };
  const newFile = outcome(() => fs.writeFileSync(path.join(dir, 'probe-while-failing'), 'x'));
  return {
    mountOptionsBefore: before,
    syncStatus: syncRun.status,
    syncMs,
    mountOptionsAfterSync: mountOptions(),
    newFileWhileFailing: newFile === 'ok' ? 'created' : newFile,
    fsyncDirectoryFreshFd: freshFsync(dir),
    fsyncTargetFreshFd: freshFsync(path.join(dir, 'target.dat')),
    fsyncTargetFreshFdAgain: freshFsync(path.join(dir, 'target.dat')),
    fsyncNewFileFreshFd: newFile === 'ok' ? freshFsync(path.join(dir, 'probe-while-failing')) : null,
    deviceWriteCache: (() => {
      try {
        return fs.readFileSync(`/sys/block/${blockName('/dev/mapper/eio')}/queue/write_cache`, 'utf8').trim();
      } catch {
        return null;
      }
    })(),
    readTarget: outcome(() => fs.readFileSync(path.join(dir, 'target.dat'))),
    ext4ErrorsCount: (() => {
      try {
        return Number(fs.readFileSync(`/sys/fs/ext4/${blockName('/dev/mapper/eio')}/errors_count`, 'utf8').trim());
      } catch {
        return null;
      }
    })(),
    dmesg: takeDmesg(),
  };
}

/** Step 4: healthy device, unmount, fsck, remount; what the disk holds. */
async function afterHealing(/** @type {string} */ device, /** @type {string} */ dir, /** @type {string} */ target, /** @type {Buffer} */ old, /** @type {Buffer} */ fresh, rewriteAfter = false) {
  const sectors = diskSectors(disk);
  swapTable(tables.linear(disk, sectors));
  const umount = run('umount', [mnt]);
  const fsck = run('e2fsck', ['-fy', device]);
  const fsckLines = `${fsck.stdout}\n${fsck.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Pass \d|^e2fsck \d|^$/.test(l));
  const mount = run('mount', ['-t', 'ext4', '-o', MOUNT_OPTIONS, device, mnt]);
  if (mount.status !== 0) throw new Error(`remount failed: ${mount.stderr.trim()}`);
  let found;
  try {
    found = fs.readFileSync(target);
  } catch {
    found = undefined;
  }
  const listing = fs.readdirSync(dir).sort();
  const temps = listing.filter((n) => /^\..*\.dwtmp$/.test(n)).map((n) => {
    const data = fs.readFileSync(path.join(dir, n));
    return { name: n, size: data.length, content: classify(data, old, fresh) };
  });
  let cleanup = null;
  if (temps.length > 0) {
    const lib = await import(pathToFileURL(libModule).href);
    const r = await lib.removeStaleTemps(dir, { olderThanMs: 0 });
    cleanup = { removed: r.removed.map((/** @type {any} */ t) => path.basename(t.path)), kept: r.kept.map((/** @type {any} */ t) => path.basename(t.path)) };
  }
  // The advice to callers: write again from the source once the device is healthy. Is that durable?
  let rewrite = null;
  if (rewriteAfter) {
    const lib = await import(pathToFileURL(libModule).href);
    let outcome = 'resolved';
    try {
      await lib.writeDurable(target, fresh);
    } catch (error) {
      outcome = `${/** @type {any} */ (error).stage}/${/** @type {any} */ (error).code}`;
    }
    const cycle = [run('umount', [mnt]).status, run('mount', ['-t', 'ext4', '-o', MOUNT_OPTIONS, device, mnt]).status];
    let again;
    try {
      again = fs.readFileSync(target);
    } catch {
      again = undefined;
    }
    rewrite = { outcome, umountMountStatus: cycle, targetAfterRemount: classify(again, old, fresh) };
  }
  return {
    umountStatus: umount.status,
    umountError: umount.status === 0 ? null : umount.stderr.trim(),
    fsckExit: fsck.status,
    fsck: fsckLines.slice(0, 12),
    dmesgAtRemount: takeDmesg(),
    mountOptions: mountOptions(),
    target: classify(found, old, fresh),
    targetSize: found?.length ?? null,
    targetSha256: found === undefined ? null : sha256(found),
    directory: listing,
    temps,
    removeStaleTemps: cleanup,
    directoryAfterCleanup: fs.readdirSync(dir).sort(),
    rewriteAfterHealing: rewrite,
  };
}

async function libraryCase(/** @type {string} */ id, /** @type {string} */ device) {
  const dir = path.join(mnt, id);
  const target = path.join(dir, 'target.dat');
  const old = payload(`old:${id}`, seed, OLD_SIZE);
  const fresh = payload(`new:${id}`, seed, NEW_SIZE);
  writeDurablyByHand(target, old);
  takeDmesg();
  const spec = {
    lib: libModule,
    api: id.endsWith('-sync') ? 'sync' : 'async',
    trigger: id.startsWith('dirflush') ? 'after-rename' : 'after-data',
    target,
    disk,
    sectors: diskSectors(disk),
    label: id,
    seed,
    oldSize: OLD_SIZE,
    newSize: NEW_SIZE,
  };
  const tableDuring = () => liveTable();
  const { child, strace } = traced(id, 'write-case.mjs', spec, dir);
  const table = tableDuring();
  const failing = whileFailing(dir);
  const after = await afterHealing(device, dir, target, old, fresh, true);
  return { case: id, kind: 'library', ...child, tableWhileFailing: table, strace, whileFailing: failing, afterRemount: after };
}

async function twinCase(/** @type {string} */ device) {
  const id = 'twin';
  const dir = path.join(mnt, id);
  const target = path.join(dir, 'target.dat');
  const old = payload(`old:${id}`, seed, OLD_SIZE);
  const fresh = payload(`new:${id}`, seed, OLD_SIZE);
  writeDurablyByHand(target, old);
  const blockSize = fs.statfsSync(mnt).bsize;
  const frag = execFileSync('filefrag', ['-v', target], { encoding: 'utf8' });
  const extents = [...frag.matchAll(/^\s*\d+:\s*(\d+)\.\.\s*(\d+):\s*(\d+)\.\.\s*(\d+):\s*(\d+):/gm)].map((m) => ({
    logical: Number(m[1]),
    physical: Number(m[3]),
    length: Number(m[5]),
  }));
  if (extents.length !== 1) throw new Error(`twin: expected one extent, filefrag says: ${frag.trim()}`);
  const [extent] = extents;
  const start = (extent.physical * blockSize) / 512;
  const length = (extent.length * blockSize) / 512;
  takeDmesg();
  const spec = { target, disk, sectors: diskSectors(disk), start, length, label: id, seed, size: OLD_SIZE };
  const { child, strace } = traced(id, 'twin.mjs', spec, dir);
  const table = liveTable();
  const failing = whileFailing(dir);
  // Without any remount: drop the page cache and read again from the (still failing) device.
  execFileSync('sh', ['-c', 'echo 3 > /proc/sys/vm/drop_caches']);
  const afterDropCaches = classify(fs.readFileSync(target), old, fresh);
  const after = await afterHealing(device, dir, target, old, fresh);
  return { case: id, kind: 'twin', extent: { ...extent, blockSize, startSector: start, sectors: length }, ...child, tableWhileFailing: table, strace, whileFailing: failing, afterDropCaches, afterRemount: after };
}

try {
  const device = createDevice(disk);
  const mounted = run('mount', ['-t', 'ext4', '-o', MOUNT_OPTIONS, device, mnt]);
  if (mounted.status !== 0) throw new Error(`mount ${device}: ${mounted.stderr.trim()}`);
  // As in the power-loss guest: a new device's bdi starts with a writeback share near zero, so
  // the kernel would write dirty pages back within seconds; a 50% minimum share keeps them dirty
  // until the 30 s expiry, so that no background writeback lands the data before the device fails.
  const bdi = `/sys/block/${blockName(device)}/bdi/min_ratio`;
  fs.writeFileSync(bdi, '50');
  const superblock = run('dumpe2fs', ['-h', device]).stdout;
  say('MARK', 'mounted');
  say('SETUP', {
    kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    device,
    table: liveTable(),
    mountOptions: mountOptions(),
    errorsBehavior: /Errors behavior:\s*(.*)/.exec(superblock)?.[1]?.trim() ?? null,
    features: /Filesystem features:\s*(.*)/.exec(superblock)?.[1]?.trim() ?? null,
    blockSize: fs.statfsSync(mnt).bsize,
    strace: run('strace', ['-V']).stdout.split('\n')[0],
    dmsetup: run('dmsetup', ['--version']).stdout.trim().replace(/\n/g, '; '),
    node: process.version,
    bdiMinRatio: fs.readFileSync(bdi, 'utf8').trim(),
  });
  takeDmesg();
  for (const id of wanted) {
    const started = performance.now();
    let record;
    try {
      if (id === 'twin') record = await twinCase(device);
      else if (ALL.includes(id)) record = await libraryCase(id, device);
      else throw new Error(`unknown case ${id}`);
    } catch (error) {
      record = { case: id, harnessError: error instanceof Error ? error.message : String(error) };
      // Leave the device healthy and mounted for the next case, if that is still possible.
      try {
        swapTable(tables.linear(disk, diskSectors(disk)));
      } catch {}
      if (mountOptions() === null) run('mount', ['-t', 'ext4', '-o', MOUNT_OPTIONS, device, mnt]);
    }
    say('RESULT', { ...record, caseMs: Math.round(performance.now() - started) });
  }
  say('DONE');
} catch (error) {
  say('GUEST-ERROR', error instanceof Error ? error.message.replace(/\n/g, ' | ') : String(error));
}
