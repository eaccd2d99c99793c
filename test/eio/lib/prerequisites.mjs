/**
 * What the EIO harness needs on the host, found or explained. Locally a missing piece makes the
 * run skip with one line; with `CI` set it is a failure (as test/powerloss/lib/prerequisites.mjs).
 * The guest runs the host's own node, strace, dmsetup, e2fsck and filefrag through the /usr
 * share, so those must live under /usr.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

export { inCI } from '../../powerloss/lib/prerequisites.mjs';

/** The kernel modules the guest loads (names as in modules.dep; dependencies are added). */
export const EIO_GUEST_MODULES = [
  'virtio_pci',
  'virtio_blk',
  'crc32c_intel',
  'crc32c_generic',
  'ext4',
  '9pnet_virtio',
  '9p',
  'dm_mod',
  'dm_flakey',
];

/** @param {string} tool @returns {string | undefined} */
function which(tool) {
  try {
    return execFileSync('sh', ['-c', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH command -v "$0"', tool], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether an ELF64 executable is static (no PT_INTERP). @param {string} file */
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

/** A module by name in modules.dep or modules.builtin. @param {string} moduleDir @param {string} name */
function hasModule(moduleDir, name) {
  const norm = (/** @type {string} */ f) => path.basename(f).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
  for (const file of ['modules.dep', 'modules.builtin']) {
    const p = path.join(moduleDir, file);
    if (!fs.existsSync(p)) continue;
    for (const line of fs.readFileSync(p, 'utf8').split('\n')) {
      const f = line.split(':')[0] ?? '';
      if (f !== '' && norm(f) === name) return true;
    }
  }
  return false;
}

/**
 * @typedef {{ qemu: string, kernel: string, kernelVersion: string, moduleDir: string, busybox: string }} Rig
 * @param {{ repoDir: string, libModule: string }} options
 * @returns {{ rig: Rig } | { missing: string[] }}
 */
export function findRig({ repoDir, libModule }) {
  /** @type {string[]} */
  const missing = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') missing.push('needs Linux on x86-64');
  const qemu = which('qemu-system-x86_64');
  if (qemu === undefined) missing.push('qemu-system-x86_64 (Debian: qemu-system-x86)');
  for (const [tool, pkg] of [['mkfs.ext4', 'e2fsprogs'], ['cpio', 'cpio']]) {
    if (which(tool) === undefined) missing.push(`${tool} (Debian: ${pkg})`);
  }
  // Run by the guest from the host's /usr.
  for (const [tool, pkg] of [['strace', 'strace'], ['dmsetup', 'dmsetup'], ['e2fsck', 'e2fsprogs'], ['filefrag', 'e2fsprogs'], ['dumpe2fs', 'e2fsprogs']]) {
    const found = which(tool);
    if (found === undefined || !fs.realpathSync(found).startsWith('/usr/')) missing.push(`${tool} under /usr (Debian: ${pkg})`);
  }
  if (!process.execPath.startsWith('/usr/')) missing.push(`node under /usr (the guest sees only the host's /usr; this node is ${process.execPath})`);
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p) && isStaticElf(p));
  if (busybox === undefined) missing.push('a static busybox (Debian: busybox-static)');
  const versions = fs.existsSync('/boot')
    ? fs
        .readdirSync('/boot')
        .filter((n) => n.startsWith('vmlinuz-'))
        .map((n) => n.slice('vmlinuz-'.length))
        .filter((v) => fs.existsSync(path.join('/lib/modules', v, 'modules.dep')))
        .sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))
    : [];
  const kernelVersion = versions.at(-1);
  let kernel;
  let moduleDir;
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
    for (const name of EIO_GUEST_MODULES) {
      if (!hasModule(moduleDir, name)) missing.push(`kernel module ${name} in ${moduleDir}`);
    }
  }
  if (!fs.existsSync(libModule)) missing.push(`the built package ${path.relative(repoDir, libModule)} (run npm run build)`);
  if (missing.length > 0 || !qemu || !busybox || !kernel || !kernelVersion || !moduleDir) return { missing };
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
    const absent = ['writeDurable', 'writeDurableSync', 'isFlushError', 'isDurableWriteError', 'FlushError', 'removeStaleTemps'].filter(
      (name) => typeof lib[name] !== 'function',
    );
    return absent.length === 0 ? undefined : `${libModule} does not export ${absent.join(', ')} (rebuild: npm run build)`;
  } catch (error) {
    return `cannot import ${libModule}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
