/**
 * Base images, and the host-side check of one rebuilt disk.
 *
 * The base image is made on the host: a sparse image, `mkfs`, and, when the scenario replaces a
 * file, the old contents written through a loop mount (so every file system is populated the same
 * way), then a clean unmount. A rebuilt crash state is checked by mounting it over a loop device
 * READ-WRITE, so that the kernel recovers the journal (ext4), the log (XFS) or the log tree
 * (btrfs) as the rebooted machine would; then the target is read and the image unmounted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';

/**
 * @param {{ file: string, fsDef: any, populate?: (root: string) => void, mountDir: string }} o
 */
export function makeBaseImage({ file, fsDef, populate, mountDir }) {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, '');
  fs.truncateSync(file, fsDef.sizeMiB * 1024 * 1024);
  execFileSync(fsDef.mkfs[0], [...fsDef.mkfs.slice(1), file], { stdio: 'pipe' });
  if (populate !== undefined) {
    fs.mkdirSync(mountDir, { recursive: true });
    mount(file, mountDir, fsDef);
    try {
      populate(mountDir);
      execFileSync('sync', ['-f', mountDir]);
    } finally {
      umount(mountDir);
    }
  }
}

/**
 * @param {string} image @param {string} dir @param {any} fsDef
 * @returns {string | undefined} an error message when the mount failed
 */
export function mount(image, dir, fsDef) {
  const options = ['loop', ...fsDef.hostMount].join(',');
  const r = spawnSync('mount', ['-t', fsDef.type, '-o', options, image, dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    const message = `mount failed (${r.status}): ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
    return message;
  }
  return undefined;
}

/** @param {string} dir */
export function umount(dir) {
  const r = spawnSync('umount', [dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    // A busy or half-mounted loop: retry lazily so the loop device is released.
    spawnSync('umount', ['-l', dir]);
  }
}

/**
 * @typedef {{ outcome: 'old' | 'new' | 'absent' | 'empty' | 'torn' | 'unmountable', size: number | null, detail?: string }} Found
 */

/**
 * What the rebuilt disk holds at each target: mounts `image` read-write (journal recovery), reads
 * every target, unmounts.
 * @param {{ image: string, dir: string, fsDef: any, targets: Record<string, string>,
 *   expected: Map<string, { old: Buffer | null, new: Buffer }> }} o
 * @returns {Record<string, Found>}
 */
export function checkImage({ image, dir, fsDef, targets, expected }) {
  fs.mkdirSync(dir, { recursive: true });
  const error = mount(image, dir, fsDef);
  if (error !== undefined) {
    return Object.fromEntries(Object.keys(targets).map((id) => [id, { outcome: 'unmountable', size: null, detail: error }]));
  }
  try {
    return Object.fromEntries(
      Object.entries(targets).map(([id, target]) => [id, readTarget(path.join(dir, target), /** @type {any} */ (expected.get(id)))]),
    );
  } finally {
    umount(dir);
  }
}

/**
 * @param {string} file @param {{ old: Buffer | null, new: Buffer }} expected
 * @returns {Found}
 */
function readTarget(file, expected) {
  let found;
  try {
    found = fs.readFileSync(file);
  } catch (e) {
    const code = /** @type {NodeJS.ErrnoException} */ (e).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { outcome: 'absent', size: null };
    return { outcome: 'torn', size: null, detail: `read failed: ${code}` };
  }
  if (found.length === 0) return { outcome: 'empty', size: 0 };
  if (found.equals(expected.new)) return { outcome: 'new', size: found.length };
  if (expected.old !== null && found.equals(expected.old)) return { outcome: 'old', size: found.length };
  return { outcome: 'torn', size: found.length, detail: describe(found, expected) };
}

/** @param {Buffer} found @param {{ old: Buffer | null, new: Buffer }} expected */
function describe(found, expected) {
  let zero = 0;
  let fromNew = 0;
  let fromOld = 0;
  for (let at = 0; at < found.length; at += 4096) {
    const page = found.subarray(at, at + 4096);
    if (page.every((b) => b === 0)) zero += 1;
    else if (page.equals(expected.new.subarray(at, at + page.length))) fromNew += 1;
    else if (expected.old !== null && page.equals(expected.old.subarray(at, at + page.length))) fromOld += 1;
  }
  return `${found.length} bytes: ${fromNew} pages new, ${fromOld} old, ${zero} zero`;
}
