#!/usr/bin/env node
/**
 * Real EIO from a real kernel (issue 13, part 2): boots one QEMU guest (the power-loss harness's
 * kernel, initramfs builder and bootTrial) whose ext4 file system sits on a device-mapper device
 * that starts failing writes at a chosen step of a write, then checks what the caller was told,
 * what strace saw, and what the disk holds once the device is healthy and the file system has
 * been checked and remounted. See guest/cases.mjs for the cases.
 *
 *   node test/eio/run.mjs
 *
 * Environment:
 *   EIO_CASES=a,b,...   subset of: flush-async, flush-sync, dirflush-async, dirflush-sync, twin
 *   EIO_TIMEOUT=150     seconds before the guest is killed and the run fails
 *   EIO_RESULTS=path    where the JSON goes (default test/eio/results/latest.json)
 *   EIO_LIB=path        module the guest imports (default: a snapshot of the repo's dist/index.js)
 *   EIO_KEEP=1          keep the disk image (default: kept only when the run fails)
 *
 * Exit status: 0 when every durable expectation held and the fsyncgate twin lost its data;
 * 1 otherwise (or on a harness error); 0 with a one-line reason when a prerequisite is missing
 * locally, 2 when one is missing in CI (`CI` set).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomInt, createHash } from 'node:crypto';
import { buildInitramfs } from '../powerloss/lib/initramfs.mjs';
import { bootTrial, killAllChildren } from '../powerloss/lib/vm.mjs';
import { findRig, checkLibrary, prerequisiteMissingFor, killOnExit, snapshotLibrary, makeRunDir, EIO_GUEST_MODULES } from './lib/prerequisites.mjs';
import { describeMachine } from '../powerloss/lib/prerequisites.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.resolve(here, '..', '..');
const workDir = path.join(here, 'work');
const ALL = ['flush-async', 'flush-sync', 'dirflush-async', 'dirflush-sync', 'twin'];

const timeoutSeconds = Number(process.env['EIO_TIMEOUT'] || 150);
if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
  console.error(`eio: EIO_TIMEOUT must be a positive integer, got ${JSON.stringify(process.env['EIO_TIMEOUT'])}`);
  process.exit(2);
}
const wanted = (process.env['EIO_CASES'] || '').split(',').map((s) => s.trim()).filter(Boolean);
const unknown = wanted.filter((c) => !ALL.includes(c));
if (unknown.length > 0) {
  console.error(`eio: unknown case in EIO_CASES: ${unknown.join(',')} (have ${ALL.join(',')})`);
  process.exit(2);
}
const selected = wanted.length === 0 ? ALL : ALL.filter((c) => wanted.includes(c));
const libModule = path.resolve(process.env['EIO_LIB'] || path.join(repoDir, 'dist', 'index.js'));
const resultsPath = path.resolve(process.env['EIO_RESULTS'] || path.join(here, 'results', 'latest.json'));
const keepAll = process.env['EIO_KEEP'] === '1';

/** Skips locally, fails in CI. */
const prerequisiteMissing = prerequisiteMissingFor('eio');

killOnExit('eio', killAllChildren, 'the guest was killed');

const found = findRig({ repoDir, libModule });
if ('missing' in found) prerequisiteMissing(found.missing.join('; '));
const { rig } = /** @type {{ rig: import('./lib/prerequisites.mjs').Rig }} */ (found);
if (/\s/.test(repoDir)) prerequisiteMissing(`the repository path ${JSON.stringify(repoDir)} has white space, which the guest's kernel command line cannot carry`);
if (!libModule.startsWith(repoDir + path.sep)) prerequisiteMissing(`EIO_LIB must be inside ${repoDir} (the guest sees only that share)`);
const libProblem = await checkLibrary(libModule);
if (libProblem !== undefined) prerequisiteMissing(libProblem);

const runStarted = Date.now();
// Keep the newest few runs; drop older ones untouched for an hour.
const runDir = makeRunDir(workDir, runStarted, 3);
// The guest imports a snapshot of dist/ taken now, so that a rebuild during the run cannot break it.
let guestLib = libModule;
if (libModule === path.join(repoDir, 'dist', 'index.js')) {
  guestLib = snapshotLibrary(libModule, runDir);
  const problem = await checkLibrary(guestLib);
  if (problem !== undefined) prerequisiteMissing(`the snapshot of dist/ is incomplete (was it being rebuilt?): ${problem}`);
}
const libSha256 = createHash('sha256').update(fs.readFileSync(guestLib)).digest('hex');
const initrd = buildInitramfs({
  workDir: runDir,
  moduleDir: rig.moduleDir,
  busybox: rig.busybox,
  init: path.join(here, 'guest', 'init'),
  modules: EIO_GUEST_MODULES,
});
const image = path.join(runDir, 'disk.img');
execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-L', 'eio', image, '64M'], { stdio: 'pipe' });
const seed = randomInt(1, 2 ** 31 - 1);
console.log(`eio: ${selected.length} cases in one guest, kernel ${rig.kernelVersion}, library ${path.relative(repoDir, libModule)}, work dir ${path.relative(process.cwd(), runDir) || '.'}`);

const boot = await bootTrial({
  trialDir: runDir,
  image,
  qemu: rig.qemu,
  kernel: rig.kernel,
  initrd,
  repoDir,
  libModule: guestLib,
  scenarioId: selected.join(','),
  seed,
  timeoutMs: timeoutSeconds * 1000,
});
killAllChildren();

// bootTrial expects a BMC reset and a "written" marker; this guest powers off instead, so its
// verdict is read from the console: a usable boot printed DONE and no GUEST-ERROR, in time.
/** @type {any[]} */
const results = [];
/** @type {any} */
let setup = null;
let guestError;
let done = false;
const consoleLines = fs.readFileSync(path.join(runDir, 'console.log'), 'utf8').split('\n');
for (const line of consoleLines) {
  const m = /POWERLOSS:(RESULT|SETUP|GUEST-ERROR|DONE)(?: (.*))?$/.exec(line);
  if (m === null) continue;
  const [, kind, rest = ''] = m;
  if (kind === 'DONE') done = true;
  else if (kind === 'GUEST-ERROR') guestError ??= rest;
  else {
    try {
      const value = JSON.parse(rest);
      if (kind === 'SETUP') setup = value;
      else results.push(value);
    } catch {
      guestError ??= `unparsable ${kind} line: ${rest.slice(0, 200)}`;
    }
  }
}
let harnessError;
if (guestError !== undefined) harnessError = `guest: ${guestError}`;
else if (boot.error?.startsWith('no reset within')) harnessError = `the guest did not finish within ${timeoutSeconds} s`;
else if (boot.error?.startsWith('qemu did not start')) harnessError = boot.error;
else if (!done) harnessError = `the guest stopped before it finished (${boot.error ?? 'no DONE marker'})`;
else if (boot.resetReason !== undefined && boot.resetReason !== 'guest-shutdown') harnessError = `the guest stopped for "${boot.resetReason}", not its own power-off`;

/** @param {string} name @param {boolean} pass @param {unknown} [seen] */
const check = (name, pass, seen) => ({ name, pass, seen: seen === undefined ? undefined : seen });

/** The checks of one case's record. @param {any} r */
function judge(r) {
  if (r.harnessError !== undefined) return [check('case ran', false, r.harnessError)];
  const e = r.error ?? {};
  const am = r.afterRemount ?? {};
  const leftTemps = (am.directoryAfterCleanup ?? []).filter((/** @type {string} */ n) => /^\..*\.dwtmp$/.test(n));
  if (r.kind === 'twin') {
    return [
      check('first fsync fails with EIO', r.firstFsync?.code === 'EIO', r.firstFsync),
      check('second fsync on the same descriptor returns 0', r.secondFsync?.ok === true, r.secondFsync),
      check('strace: two fsyncs, -1 EIO then 0', JSON.stringify(r.strace?.fsyncTarget) === JSON.stringify(['-1 EIO', '0']), r.strace?.fsyncTarget),
      check('after remount the new data is not there (the loss)', am.target !== 'new', am.target),
    ];
  }
  const common = [
    check('the call rejected', r.resolved === false, r.resolved === false ? 'rejected' : r.result),
    check('code EIO', e.code === 'EIO', e.code),
  ];
  if (r.trigger === 'after-data') {
    return [
      ...common,
      check('FlushError (isFlushError, instanceof)', e.isFlushError === true && e.instanceofFlushError === true && e.name === 'FlushError', `${e.name} isFlushError=${e.isFlushError}`),
      check('stage flush', e.stage === 'flush', e.stage),
      check(
        'strace: exactly one fsync on the temp file (its descriptor), -1 EIO',
        JSON.stringify(r.strace?.fsyncTemp) === JSON.stringify(['-1 EIO']) && JSON.stringify(r.strace?.fsyncByPath?.[e.tmpPath]) === JSON.stringify(['-1 EIO']),
        r.strace?.fsyncByPath,
      ),
      check('strace: no directory fsync', r.strace?.fsyncDirectory?.length === 0, r.strace?.fsyncDirectory),
      check('after remount the target holds its previous content, whole', am.target === 'old', am.target),
      check('no temp file left after cleanup', leftTemps.length === 0, am.directory),
      rewriteCheck(am),
    ];
  }
  return [
    ...common,
    check('stage flush-directory', e.stage === 'flush-directory', e.stage),
    check('strace: one file fsync, succeeded', JSON.stringify(r.strace?.fsyncTemp) === JSON.stringify(['0']), r.strace?.fsyncTemp),
    check('strace: exactly one directory fsync, -1 EIO', JSON.stringify(r.strace?.fsyncDirectory) === JSON.stringify(['-1 EIO']), r.strace?.fsyncDirectory),
    check('after remount the target is whole (old or new, never torn)', am.target === 'old' || am.target === 'new', am.target),
    check('no temp file left after cleanup', leftTemps.length === 0, am.directory),
    rewriteCheck(am),
  ];
}

/** The advice: write again from the source once the device is healthy. @param {any} am */
function rewriteCheck(am) {
  const r = am.rewriteAfterHealing;
  return check('rewrite from the source after healing resolves and is on disk after a remount', r?.outcome === 'resolved' && r?.targetAfterRemount === 'new', r);
}

const cases = selected.map((id) => {
  const record = results.find((r) => r.case === id);
  const checks = record === undefined ? [check('case ran', false, harnessError ?? 'no RESULT line')] : judge(record);
  return { id, pass: checks.every((c) => c.pass), checks, record: record ?? null };
});
const pass = harnessError === undefined && cases.every((c) => c.pass);
const totalMs = Date.now() - runStarted;

/** One short cell per column. @param {any} c */
function cells(c) {
  if (c.record === null || c.record.harnessError !== undefined) {
    return [c.id, '-', '-', '-', '-', '-', '-', `FAIL: ${c.record?.harnessError ?? harnessError ?? 'no result'}`.slice(0, 120)];
  }
  const r = c.record;
  const am = r.afterRemount ?? {};
  const temps = (am.temps ?? []).map((/** @type {any} */ t) => `${t.content} ${t.size} B`).join(', ');
  if (r.kind === 'twin') {
    return [
      c.id,
      'write(2) in place + fsync x2',
      `fsync: ${r.firstFsync?.code ?? 'ok'}, again: ${r.secondFsync?.ok ? '0' : r.secondFsync?.code}`,
      (r.strace?.fsyncTarget ?? []).join(' / '),
      '-',
      `${am.target ?? '?'} (cache showed ${r.cacheView ?? '?'})`,
      '-',
      c.pass ? 'pass: data lost (twin sees loss)' : 'FAIL',
    ];
  }
  return [
    c.id,
    `${r.api === 'sync' ? 'writeDurableSync' : 'writeDurable'}, fail after ${r.swapped?.afterStep ?? '?'}`,
    r.resolved === false ? `${r.error?.name} ${r.error?.stage}/${r.error?.code}` : r.resolved ? 'resolved' : '?',
    (r.strace?.fsyncTemp ?? []).join(' / ') || '-',
    (r.strace?.fsyncDirectory ?? []).join(' / ') || '-',
    am.target ?? '?',
    temps === '' ? 'none' : `${temps}; removed by removeStaleTemps`,
    c.pass ? 'pass' : `FAIL: ${c.checks.filter((k) => !k.pass).map((k) => k.name).join('; ')}`,
  ];
}
const header = ['case', 'call', 'caller told', 'fsync(temp)', 'fsync(dir)', 'target after fsck+remount', 'temp files after remount', 'verdict'];
const rows = cases.map(cells);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i] ?? '').length)));
const fmt = (/** @type {string[]} */ row) => row.map((v, i) => String(v).padEnd(widths[i] ?? 0)).join('  ').trimEnd();
console.log('');
console.log(fmt(header));
for (const row of rows) console.log(fmt(row));
console.log('');
const ext4 = cases
  .map((c) => c.record)
  .filter(Boolean)
  .map((r) => {
    const w = r.whileFailing ?? {};
    const aborted = (w.dmesg ?? []).some((/** @type {string} */ l) => /Aborting journal/.test(l));
    return (
      `${r.case}: ${aborted ? 'journal aborted' : 'journal intact'}; /proc/mounts ${w.mountOptionsAfterSync?.split(',')[0] ?? '?'}; ` +
      `new file: ${w.newFileWhileFailing}; fsync on a new descriptor: dir ${w.fsyncDirectoryFreshFd}, target ${w.fsyncTargetFreshFd}; ` +
      `e2fsck exit ${r.afterRemount?.fsckExit}`
    );
  });
const follow = (/** @type {any} */ f) => (f === null || f === undefined ? '-' : f.ok ? 'ok' : `${f.name} ${f.stage ?? ''}/${f.code}`);
const followUps = cases
  .map((c) => c.record)
  .filter((r) => r && r.kind === 'library')
  .map(
    (r) =>
      `${r.case}: while failing, fsyncDirectory again: ${follow(r.retryDirectoryFsync)}; writeDurableSync again: ${follow(r.immediateRewrite)}; ` +
      `after healing, writeDurable again: ${r.afterRemount?.rewriteAfterHealing?.outcome ?? '?'}, ${r.afterRemount?.rewriteAfterHealing?.targetAfterRemount ?? '?'} after a remount`,
  );
console.log('ext4 while the device failed:');
for (const line of ext4) console.log(`  ${line}`);
console.log('what a caller does next:');
for (const line of followUps) console.log(`  ${line}`);
if (harnessError !== undefined) console.log(`eio: harness error: ${harnessError}`);
console.log(`eio: one guest boot, ${(boot.durationMs / 1000).toFixed(1)} s; run ${(totalMs / 1000).toFixed(1)} s in all`);

const output = {
  date: new Date(runStarted).toISOString(),
  machine: describeMachine(rig),
  library: path.relative(repoDir, libModule),
  librarySha256: libSha256,
  seed,
  bootMs: boot.durationMs,
  // What bootTrial said: it expects a BMC reset, so a power-off reads as an error there.
  boot: { resetReason: boot.resetReason ?? null, bootTrialError: boot.error ?? null, markers: boot.markers },
  totalMs,
  pass,
  harnessError: harnessError ?? null,
  setup,
  summary: cases.map((c, i) => ({ id: c.id, pass: c.pass, row: Object.fromEntries(header.map((h, j) => [h, rows[i]?.[j]])) })),
  cases,
};
fs.mkdirSync(path.dirname(resultsPath), { recursive: true });
fs.writeFileSync(resultsPath, JSON.stringify(output, null, 2) + '\n');
fs.writeFileSync(path.join(runDir, 'results.json'), JSON.stringify(output, null, 2) + '\n');
if (pass && !keepAll) fs.rmSync(image, { force: true });
console.log(`eio: results written to ${path.relative(process.cwd(), resultsPath)}`);
console.log(pass ? 'eio: PASS' : 'eio: FAIL');
console.log(`eio: ${cases.filter((c) => c.pass).length} passed, ${cases.filter((c) => !c.pass).length} failed`);
process.exit(pass ? 0 : 1);
