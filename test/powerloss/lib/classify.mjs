/**
 * What the disk kept, read on the host as the rebooted machine would see it: a copy of the image
 * goes through `e2fsck -fy`, which replays the ext4 journal as a mount would (`-n` would not), and
 * then `debugfs` dumps the target file. The file is classified as
 *
 * - `intact`: exactly the new contents;
 * - `old`: exactly the previous contents (only possible when the scenario replaced a file);
 * - `missing`: no such name (or a directory of its path is missing);
 * - `zero-length`: the name exists with size 0;
 * - `corrupt`: anything else (short, torn, mixed, garbage), or a file system e2fsck cannot repair.
 *
 * It also reports the other regular files left in the target's directory (`leftovers`: a temp file
 * of an atomic writer whose rename did not survive), each with what it holds (`new`: exactly the
 * new contents; `old`; `zero-length`; `other`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { payload, NEW_SIZE, OLD_SIZE } from './payload.mjs';

/** The outcomes that count as data loss. */
export const LOSS_OUTCOMES = ['missing', 'zero-length', 'corrupt'];

/**
 * @typedef {object} Classification
 * @property {'intact' | 'old' | 'missing' | 'zero-length' | 'corrupt'} outcome
 * @property {number | null} size       bytes of the file found, null when missing
 * @property {number | null} fsckExit   e2fsck's exit status (0 clean, 1 repaired, 4+ not repaired)
 * @property {string[]} directory       names in the target's directory after recovery
 * @property {{ name: string, size: number, holds: 'new' | 'old' | 'zero-length' | 'other' }[]} leftovers
 *   the other regular files in that directory (not the target, not lost+found)
 * @property {string} detail
 */

/**
 * @param {{ image: string, trialDir: string, scenario: import('./scenarios.mjs').Scenario, seed: number }} options
 * @returns {Classification}
 */
export function classifyDisk({ image, trialDir, scenario, seed }) {
  const copy = path.join(trialDir, 'check.img');
  fs.copyFileSync(image, copy);
  const fsck = spawnSync('e2fsck', ['-fy', copy], { encoding: 'utf8' });
  fs.writeFileSync(path.join(trialDir, 'e2fsck.log'), `${fsck.stdout}\n${fsck.stderr}\nexit ${fsck.status}\n`);
  const fsckExit = fsck.status;
  const target = '/' + scenario.target;
  const listing = debugfs(copy, `ls -p ${path.posix.dirname(target)}`);
  const entries = listing.stdout
    .split('\n')
    .map((line) => line.split('/'))
    .map((fields) => ({ mode: fields[2] ?? '', name: fields[5] }))
    .filter(({ name }) => name !== undefined && name !== '' && name !== '.' && name !== '..');
  const directory = entries.map(({ name }) => /** @type {string} */ (name));
  const dumped = path.join(trialDir, 'found.bin');
  fs.rmSync(dumped, { force: true });
  const dump = debugfs(copy, `dump ${target} ${dumped}`);
  const leftovers = entries
    .filter(({ mode, name }) => /^10\d{4}$/.test(mode) && name !== path.posix.basename(target))
    .map(({ name }) => leftover(copy, path.posix.join(path.posix.dirname(target), /** @type {string} */ (name)), trialDir, scenario, seed));
  fs.rmSync(copy, { force: true });
  /** @type {(outcome: Classification['outcome'], size: number | null, detail: string) => Classification} */
  const done = (outcome, size, detail) => ({ outcome, size, fsckExit, directory, leftovers, detail });
  if (fsckExit === null || fsckExit >= 4) return done('corrupt', null, `e2fsck could not repair the file system (exit ${fsckExit})`);
  if (!fs.existsSync(dumped) || /not found|File not found/i.test(dump.stderr)) {
    return done('missing', null, `debugfs: ${dump.stderr.trim().split('\n').pop() ?? ''}`);
  }
  const found = fs.readFileSync(dumped);
  fs.rmSync(dumped, { force: true });
  if (found.length === 0) return done('zero-length', 0, 'the name exists, the data does not');
  if (found.equals(payload(`new:${scenario.id}`, seed, NEW_SIZE))) return done('intact', found.length, 'new contents');
  if (scenario.preexisting === true && found.equals(payload(`old:${scenario.id}`, seed, OLD_SIZE))) {
    return done('old', found.length, 'previous contents, whole');
  }
  return done('corrupt', found.length, describeMismatch(found, scenario, seed));
}

/**
 * What a leftover file holds.
 * @param {string} image @param {string} file @param {string} trialDir
 * @param {import('./scenarios.mjs').Scenario} scenario @param {number} seed
 * @returns {Classification['leftovers'][number]}
 */
function leftover(image, file, trialDir, scenario, seed) {
  const out = path.join(trialDir, 'leftover.bin');
  fs.rmSync(out, { force: true });
  debugfs(image, `dump ${file} ${out}`);
  const found = fs.existsSync(out) ? fs.readFileSync(out) : Buffer.alloc(0);
  fs.rmSync(out, { force: true });
  /** @type {Classification['leftovers'][number]['holds']} */
  let holds = 'other';
  if (found.length === 0) holds = 'zero-length';
  else if (found.equals(payload(`new:${scenario.id}`, seed, NEW_SIZE))) holds = 'new';
  else if (scenario.preexisting === true && found.equals(payload(`old:${scenario.id}`, seed, OLD_SIZE))) holds = 'old';
  return { name: path.posix.basename(file), size: found.length, holds };
}

/** @param {string} image @param {string} request */
function debugfs(image, request) {
  return spawnSync('debugfs', ['-R', request, image], { encoding: 'utf8' });
}

/**
 * @param {Buffer} found
 * @param {import('./scenarios.mjs').Scenario} scenario
 * @param {number} seed
 */
function describeMismatch(found, scenario, seed) {
  const expected = payload(`new:${scenario.id}`, seed, NEW_SIZE);
  let zeroPages = 0;
  let matchingPages = 0;
  for (let offset = 0; offset < found.length; offset += 4096) {
    const page = found.subarray(offset, offset + 4096);
    if (page.every((byte) => byte === 0)) zeroPages += 1;
    else if (page.equals(expected.subarray(offset, offset + page.length))) matchingPages += 1;
  }
  return `${found.length} bytes (expected ${NEW_SIZE}): ${matchingPages} pages match, ${zeroPages} pages are zeros`;
}
