/**
 * Builds the guest's initramfs: busybox-static as /bin/busybox, guest/init as /init, and the
 * kernel modules the guest loads before it can reach anything else (virtio PCI and block, ext4
 * with its crc32c driver, 9p over virtio, the IPMI KCS driver and /dev/ipmi0), in dependency
 * order from modules.dep. Everything else (node, ipmitool, their libraries) comes from the host's
 * /usr over 9p, so the image is a few MiB and is built once per run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

/** Modules the guest needs, by name; their dependencies are added from modules.dep. */
export const GUEST_MODULES = [
  'virtio_pci',
  'virtio_blk',
  'crc32c_intel',
  'crc32c_generic',
  'ext4',
  '9pnet_virtio',
  '9p',
  'ipmi_msghandler',
  'ipmi_devintf',
  'ipmi_si',
];

/**
 * Module files (relative to /lib/modules/<version>) in load order.
 * @param {string} moduleDir
 * @param {readonly string[]} [modules] the modules wanted, by name (default {@link GUEST_MODULES})
 * @returns {string[]}
 */
export function moduleLoadOrder(moduleDir, modules = GUEST_MODULES) {
  /** @type {Map<string, { file: string, deps: string[] }>} */
  const byName = new Map();
  for (const line of fs.readFileSync(path.join(moduleDir, 'modules.dep'), 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const file = line.slice(0, colon);
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean);
    byName.set(moduleName(file), { file, deps });
  }
  /** @type {string[]} */
  const order = [];
  const seen = new Set();
  /** @param {string} file */
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const entry = byName.get(moduleName(file));
    for (const dep of entry?.deps ?? []) visit(dep);
    order.push(file);
  };
  for (const name of modules) {
    const entry = byName.get(name);
    if (entry === undefined) {
      // Built into this kernel (or absent): the guest's init reports a missing device if absent.
      if (!isBuiltIn(moduleDir, name)) throw new Error(`kernel module ${name} not found in ${moduleDir}`);
      continue;
    }
    visit(entry.file);
  }
  return order;
}

/** @param {string} file */
function moduleName(file) {
  return path.basename(file).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** @param {string} moduleDir @param {string} name */
function isBuiltIn(moduleDir, name) {
  const builtin = path.join(moduleDir, 'modules.builtin');
  if (!fs.existsSync(builtin)) return false;
  return fs
    .readFileSync(builtin, 'utf8')
    .split('\n')
    .some((line) => line !== '' && moduleName(line) === name);
}

/**
 * Writes `<workDir>/initramfs.cpio` and returns its path.
 * @param {{ workDir: string, moduleDir: string, busybox: string, init: string, modules?: readonly string[] }} options
 *   `modules`: the kernel modules to include and load, by name (default {@link GUEST_MODULES}).
 * @returns {string}
 */
export function buildInitramfs({ workDir, moduleDir, busybox, init, modules = GUEST_MODULES }) {
  const root = path.join(workDir, 'initramfs');
  fs.rmSync(root, { recursive: true, force: true });
  for (const dir of ['bin', 'sbin', 'dev', 'proc', 'sys', 'tmp', 'usr', 'mnt', 'etc', 'modules']) {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
  }
  // Merged-/usr layout, so the host's binaries find their loader and libraries once /usr is mounted.
  fs.symlinkSync('usr/lib', path.join(root, 'lib'));
  fs.symlinkSync('usr/lib64', path.join(root, 'lib64'));
  fs.copyFileSync(busybox, path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  fs.copyFileSync(init, path.join(root, 'init'));
  fs.chmodSync(path.join(root, 'init'), 0o755);
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/tmp:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\n');
  const names = [];
  moduleLoadOrder(moduleDir, modules).forEach((file, index) => {
    const src = path.join(moduleDir, file);
    let name = `${String(index).padStart(2, '0')}-${path.basename(file)}`;
    if (/\.ko\.xz$/.test(file)) {
      name = name.replace(/\.xz$/, '');
      fs.writeFileSync(path.join(root, 'modules', name), execFileSync('xz', ['-dc', src], { maxBuffer: 1 << 28 }));
    } else if (/\.ko\.zst$/.test(file)) {
      name = name.replace(/\.zst$/, '');
      fs.writeFileSync(path.join(root, 'modules', name), execFileSync('zstd', ['-dc', src], { maxBuffer: 1 << 28 }));
    } else {
      fs.copyFileSync(src, path.join(root, 'modules', name));
    }
    names.push(name);
  });
  fs.writeFileSync(path.join(root, 'modules', 'order'), names.join('\n') + '\n');
  const out = path.join(workDir, 'initramfs.cpio');
  execFileSync('sh', ['-c', 'find . | LC_ALL=C sort | cpio -o -H newc --quiet > "$0"', out], { cwd: root });
  fs.rmSync(root, { recursive: true, force: true });
  return out;
}
