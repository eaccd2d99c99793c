/**
 * What the harness needs on the host, found or explained. Locally a missing piece makes the run
 * skip with one line; with `CI` set it is a failure (CI installs everything in `.ci/run`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

/** Whether this is CI's run (`CI` set to anything but empty, `0` or `false`). */
export const inCI = (() => {
  const value = process.env['CI'];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
})();

/** @param {string} tool @returns {string | undefined} */
function which(tool) {
  try {
    return execFileSync('sh', ['-c', 'command -v "$0"', tool], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether an ELF executable is static (no PT_INTERP program header), read from its headers.
 * @param {string} file
 */
function isStaticElf(file) {
  const head = Buffer.alloc(4096);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false; // ELF64 only
  const phoff = Number(head.readBigUInt64LE(32));
  const phentsize = head.readUInt16LE(54);
  const phnum = head.readUInt16LE(56);
  for (let i = 0; i < phnum; i += 1) {
    const at = phoff + i * phentsize;
    if (at + 4 > head.length) return false;
    if (head.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}

/**
 * @typedef {object} Rig
 * @property {string} qemu
 * @property {string} kernel
 * @property {string} kernelVersion
 * @property {string} moduleDir
 * @property {string} busybox
 */

/**
 * Finds the rig's pieces; returns them, or the list of what is missing.
 * @param {{ repoDir: string, libModule: string }} options
 * @returns {{ rig: Rig } | { missing: string[] }}
 */
export function findRig({ repoDir, libModule }) {
  /** @type {string[]} */
  const missing = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') missing.push('needs Linux on x86-64');
  const qemu = which('qemu-system-x86_64');
  if (qemu === undefined) missing.push('qemu-system-x86_64 (Debian: qemu-system-x86)');
  for (const [tool, pkg] of [
    ['mkfs.ext4', 'e2fsprogs'],
    ['e2fsck', 'e2fsprogs'],
    ['debugfs', 'e2fsprogs'],
    ['cpio', 'cpio'],
  ]) {
    if (which(tool) === undefined) missing.push(`${tool} (Debian: ${pkg})`);
  }
  // The guest runs the host's own /usr/bin/ipmitool and node through the /usr share.
  const ipmitool = which('ipmitool');
  if (ipmitool === undefined || !ipmitool.startsWith('/usr/')) missing.push('ipmitool under /usr (Debian: ipmitool)');
  if (!process.execPath.startsWith('/usr/')) {
    missing.push(`node under /usr (the guest sees only the host's /usr; this node is ${process.execPath})`);
  }
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p) && isStaticElf(p));
  if (busybox === undefined) missing.push('a static busybox (Debian: busybox-static)');
  let kernel;
  let kernelVersion;
  let moduleDir;
  const versions = fs.existsSync('/boot')
    ? fs
        .readdirSync('/boot')
        .filter((name) => name.startsWith('vmlinuz-'))
        .map((name) => name.slice('vmlinuz-'.length))
        .filter((version) => fs.existsSync(path.join('/lib/modules', version, 'modules.dep')))
        .sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))
    : [];
  kernelVersion = versions.at(-1);
  if (kernelVersion === undefined) {
    missing.push('a kernel image /boot/vmlinuz-* with its modules (Debian: linux-image-amd64)');
  } else {
    kernel = path.join('/boot', `vmlinuz-${kernelVersion}`);
    moduleDir = path.join('/lib/modules', kernelVersion);
    try {
      fs.accessSync(kernel, fs.constants.R_OK);
    } catch {
      missing.push(`read access to ${kernel} (run as root)`);
    }
  }
  if (!fs.existsSync(libModule)) {
    missing.push(`the built package ${path.relative(repoDir, libModule)} (run npm run build)`);
  }
  if (missing.length > 0 || qemu === undefined || busybox === undefined || !kernel || !kernelVersion || !moduleDir) {
    return { missing };
  }
  return { rig: { qemu, kernel, kernelVersion, moduleDir, busybox } };
}

/**
 * Whether the built package exports what the guest calls; the reason when it does not.
 * @param {string} libModule
 * @returns {Promise<string | undefined>}
 */
export async function checkLibrary(libModule) {
  try {
    const lib = await import(new URL(`file://${libModule}`).href);
    const absent = ['writeDurable', 'syncAll', 'IpmitoolPowerController'].filter((name) => typeof lib[name] !== 'function');
    return absent.length === 0 ? undefined : `${libModule} does not export ${absent.join(', ')} (rebuild: npm run build)`;
  } catch (error) {
    return `cannot import ${libModule}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
