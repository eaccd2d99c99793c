/**
 * The host pieces this harness needs (the power-loss harness's findRig also demands ipmitool,
 * e2fsck and debugfs, which this one does not use): QEMU, a kernel with its modules, a static
 * busybox, node under /usr, cpio.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

/** @param {string} tool @returns {string | undefined} */
export function which(tool) {
  try {
    return execFileSync('sh', ['-c', 'command -v "$0"', tool], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether an ELF64 executable has no PT_INTERP program header (is static). @param {string} file */
function isStaticElf(file) {
  const head = Buffer.alloc(4096);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false;
  const phoff = Number(head.readBigUInt64LE(32));
  const phentsize = head.readUInt16LE(54);
  const phnum = head.readUInt16LE(56);
  for (let i = 0; i < phnum; i += 1) {
    const at = phoff + i * phentsize;
    if (at + 4 > head.length) return false;
    if (head.readUInt32LE(at) === 3) return false;
  }
  return true;
}

/**
 * @returns {{ rig: { qemu: string, kernel: string, kernelVersion: string, moduleDir: string, busybox: string } } | { missing: string[] }}
 */
export function findBlockRig() {
  /** @type {string[]} */
  const missing = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') missing.push('needs Linux on x86-64');
  const qemu = which('qemu-system-x86_64');
  if (qemu === undefined) missing.push('qemu-system-x86_64 (Debian: qemu-system-x86)');
  if (which('cpio') === undefined) missing.push('cpio (Debian: cpio)');
  if (!process.execPath.startsWith('/usr/')) missing.push(`node under /usr (the guest sees only the host's /usr; this node is ${process.execPath})`);
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p) && isStaticElf(p));
  if (busybox === undefined) missing.push('a static busybox (Debian: busybox-static)');
  const versions = fs.existsSync('/boot')
    ? fs
        .readdirSync('/boot')
        .filter((name) => name.startsWith('vmlinuz-'))
        .map((name) => name.slice('vmlinuz-'.length))
        .filter((version) => fs.existsSync(path.join('/lib/modules', version, 'modules.dep')))
        .sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))
    : [];
  const kernelVersion = versions.at(-1);
  let kernel;
  if (kernelVersion === undefined) {
    missing.push('a kernel image /boot/vmlinuz-* with its modules (Debian: linux-image-amd64)');
  } else {
    kernel = path.join('/boot', `vmlinuz-${kernelVersion}`);
    try {
      fs.accessSync(kernel, fs.constants.R_OK);
    } catch {
      missing.push(`read access to ${kernel} (run as root)`);
    }
  }
  if (missing.length > 0 || qemu === undefined || busybox === undefined || kernel === undefined || kernelVersion === undefined) return { missing };
  return { rig: { qemu, kernel, kernelVersion, moduleDir: path.join('/lib/modules', kernelVersion), busybox } };
}
