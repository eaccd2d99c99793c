#!/usr/bin/env node
/**
 * Block-level crash states (issue 13, part 1): is the target file whole in EVERY state the disk
 * itself can be left in, including a drive that loses writes it was not told to flush?
 *
 * Per file system: a base image made on the host; one QEMU (TCG) boot whose virtual disk sits
 * behind QEMU's `blklogwrites` driver, which logs every write and flush on the host in
 * dm-log-writes' format; the guest runs the scenarios one after the other, each in its own
 * directory, each call between console markers at which the guest pauses until the host has read
 * the log's entry count, and each followed by an unrelated fsync and sync(2). Then the replayer (lib/replay.mjs) rebuilds the disk at
 * every crash point (every prefix of the log, and, between two flushes, subsets of the unflushed
 * writes dropped), and each distinct disk is mounted READ-WRITE on the host over a loop device
 * (journal/log recovery), the target read, the image unmounted. Invariants: before the call, the
 * old contents (or absent); during it, old or new, whole; after it returned, the new contents.
 *
 *   node test/blocklevel/run.mjs
 *
 * Environment:
 *   BLOCKLEVEL_ALL=1            every scenario on every file system (btrfs too), cap 64
 *   BLOCKLEVEL_SCENARIOS=a,b    scenario ids (default: the CI subset; see lib/scenarios.mjs)
 *   BLOCKLEVEL_FS=ext4,xfs      file systems (default ext4,ext4-noauto,xfs)
 *   BLOCKLEVEL_CAP=16           dropped-write subsets per flush interval and phase (64 with ALL)
 *   BLOCKLEVEL_SEED=20261204    seed of the subset sampling and of the payloads
 *   BLOCKLEVEL_JOBS=2           guests (one per file system) at a time (default min(2, CPUs))
 *   BLOCKLEVEL_TIMEOUT=400      seconds before a guest is killed (a harness error)
 *   BLOCKLEVEL_WORK=dir         work directory (default $TMPDIR/durable-write-blocklevel)
 *   BLOCKLEVEL_RESULTS=path     JSON results (default <work>/run-.../results.json)
 *   BLOCKLEVEL_LIB=path         module the guest imports (default: the repo's dist/index.js)
 *   BLOCKLEVEL_KEEP=1           keep every boot's images and log (default: only failed boots')
 *
 * Exit status: 0 when every durable row has no violation, every required twin has at least one and
 * no job had a harness error; 1 otherwise. A missing prerequisite: skipped (exit 0) with one line
 * locally, exit 2 with `CI` set.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine, findRig, which, prerequisiteMissingFor, killOnExit, snapshotLibrary, intEnv as harnessIntEnv, runDirName } from '../powerloss/lib/prerequisites.mjs';
import { buildInitramfs, GUEST_MODULES } from '../powerloss/lib/initramfs.mjs';
import { payload, NEW_SIZE, OLD_SIZE } from '../powerloss/lib/payload.mjs';
import { scenarios, fileSystems } from './lib/scenarios.mjs';
import { bootLogged, killAllGuests } from './lib/guest.mjs';
import { parseLog, FLAG_FLUSH, FLAG_DISCARD } from './lib/log-format.mjs';
import { crashStates, loadBase, appliedWrites, stateDigest, buildImage } from './lib/replay.mjs';
import { makeBaseImage, checkImage, umount } from './lib/disk.mjs';
import { selfTest } from './lib/selftest.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.resolve(here, '..', '..');

/** @param {string} name @param {number} fallback */
const intEnv = (name, fallback) => harnessIntEnv('blocklevel', name, fallback);
/** @param {string} name */
const listEnv = (name) => (process.env[name] || '').split(',').map((s) => s.trim()).filter(Boolean);

const all = process.env['BLOCKLEVEL_ALL'] === '1';
const cap = intEnv('BLOCKLEVEL_CAP', all ? 64 : 16);
const baseSeed = intEnv('BLOCKLEVEL_SEED', 20261204);
const jobs = intEnv('BLOCKLEVEL_JOBS', Math.max(1, Math.min(2, os.availableParallelism())));
const timeoutMs = intEnv('BLOCKLEVEL_TIMEOUT', 400) * 1000;
const keepAll = process.env['BLOCKLEVEL_KEEP'] === '1';
const libModule = path.resolve(process.env['BLOCKLEVEL_LIB'] || path.join(repoDir, 'dist', 'index.js'));
const workRoot = path.resolve(process.env['BLOCKLEVEL_WORK'] || path.join(os.tmpdir(), 'durable-write-blocklevel'));

const wantedScenarios = listEnv('BLOCKLEVEL_SCENARIOS');
const wantedFs = listEnv('BLOCKLEVEL_FS');
for (const id of wantedScenarios) if (!scenarios.some((s) => s.id === id)) usage(`unknown scenario ${id} (have ${scenarios.map((s) => s.id).join(',')})`);
for (const id of wantedFs) if (!fileSystems.some((f) => f.id === id)) usage(`unknown file system ${id} (have ${fileSystems.map((f) => f.id).join(',')})`);
const selectedScenarios = scenarios.filter((s) => (wantedScenarios.length ? wantedScenarios.includes(s.id) : all || s.defaultRun));
const selectedFs = fileSystems.filter((f) => (wantedFs.length ? wantedFs.includes(f.id) : all || f.defaultRun));

/** @param {string} message */
function usage(message) {
  console.error(`blocklevel: ${message}`);
  process.exit(2);
}

/** Skips locally, fails in CI. */
const prerequisiteMissing = prerequisiteMissingFor('blocklevel');

killOnExit('blocklevel', killAllGuests, 'every QEMU it started was killed');

// ---- prerequisites ----
// QEMU, a kernel with its modules, a static busybox, node under /usr, cpio (not the power-loss
// harness's ipmitool, e2fsck and debugfs, which this one does not use).
const found = findRig({ tools: [['cpio', 'cpio']], usrTools: [] });
const missing = 'missing' in found ? [...found.missing] : [];
if (typeof process.getuid === 'function' && process.getuid() !== 0) missing.push('root (to mount the rebuilt images over loop devices)');
if (!fs.existsSync('/dev/loop-control')) missing.push('loop devices (/dev/loop-control)');
for (const [tool, pkg] of [['mount', 'mount'], ['umount', 'mount'], ['cp', 'coreutils']]) {
  if (which(tool) === undefined) missing.push(`${tool} (Debian: ${pkg})`);
}
for (const f of selectedFs) {
  if (which(f.mkfs[0]) === undefined) missing.push(`${f.mkfs[0]} (Debian: ${f.type === 'ext4' ? 'e2fsprogs' : f.type === 'xfs' ? 'xfsprogs' : 'btrfs-progs'})`);
}
if (missing.length > 0 || !('rig' in found)) prerequisiteMissing([...new Set(missing)].join('; '));
const { rig } = /** @type {{ rig: any }} */ (found);
if (/\s/.test(repoDir)) prerequisiteMissing(`the repository path ${JSON.stringify(repoDir)} has white space, which the guest's kernel command line cannot carry`);
if (!fs.readFileSync(rig.qemu).includes('log-super-update-interval')) {
  prerequisiteMissing(`${rig.qemu} has no blklogwrites driver with log-super-update-interval (QEMU >= 7.2 needed)`);
}
for (const f of new Set(selectedFs.map((x) => x.type))) {
  const known = () => fs.readFileSync('/proc/filesystems', 'utf8').split('\n').some((l) => l.trim().split(/\s+/).pop() === f);
  if (!known()) {
    try {
      execFileSync('modprobe', [f], { stdio: 'ignore' });
    } catch {
      // reported below
    }
  }
  if (!known()) prerequisiteMissing(`the host kernel cannot mount ${f} (needed to check the rebuilt images)`);
}
const libProblem = await checkLib(libModule);
if (libProblem !== undefined) prerequisiteMissing(libProblem);

/** @param {string} file */
async function checkLib(file) {
  try {
    const lib = await import(pathToFileURL(file).href);
    const absent = ['writeDurable', 'renameDurable', 'openDurable'].filter((name) => typeof lib[name] !== 'function');
    return absent.length === 0 ? undefined : `${file} does not export ${absent.join(', ')} (rebuild: npm run build)`;
  } catch (error) {
    return `cannot import ${file}: ${error instanceof Error ? error.message : String(error)} (run npm run build)`;
  }
}
if (selectedScenarios.some((s) => s.id === 'wfa') && !fs.existsSync(path.join(repoDir, 'node_modules', 'write-file-atomic', 'lib', 'index.js'))) {
  prerequisiteMissing('write-file-atomic (devDependency; run npm install)');
}

// The replayer on a synthetic log first: a broken replayer would make every row meaningless.
try {
  selfTest();
} catch (error) {
  console.error(`blocklevel: FAIL: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

// ---- work directory, snapshot of the library, initramfs per file system ----
const runStarted = Date.now();
fs.mkdirSync(workRoot, { recursive: true });
for (const name of fs.readdirSync(workRoot).filter((n) => /^run-\d{8}T\d{6}-\d+$/.test(n)).sort().slice(0, -5)) {
  const dir = path.join(workRoot, name);
  if (Date.now() - fs.statSync(dir).mtimeMs > 3_600_000) fs.rmSync(dir, { recursive: true, force: true });
}
const runDir = path.join(workRoot, runDirName(runStarted));
fs.mkdirSync(runDir, { recursive: true });
// The guest imports a snapshot of the library taken now (a rebuild of dist/ during the run cannot
// break a boot), shared over 9p at the same path. A custom BLOCKLEVEL_LIB is used in place, so it
// must be inside the repository (the guest sees the repository, read-only).
let guestLib = libModule;
const defaultLib = path.join(repoDir, 'dist', 'index.js');
if (libModule === defaultLib) {
  guestLib = snapshotLibrary(defaultLib, runDir);
  const problem = await checkLib(guestLib);
  if (problem !== undefined) prerequisiteMissing(`the snapshot of dist/ is incomplete (was it being rebuilt?): ${problem}`);
} else if (!libModule.startsWith(repoDir + path.sep)) {
  prerequisiteMissing(`BLOCKLEVEL_LIB must be inside ${repoDir} (the guest sees only that share)`);
}
if (/[\s,]/.test(runDir)) prerequisiteMissing(`the work directory ${runDir} has white space or a comma`);

const baseModules = GUEST_MODULES.filter((m) => !m.startsWith('ipmi') && m !== 'ext4');
/** @type {Map<string, string>} */
const initrds = new Map();
for (const type of new Set(selectedFs.map((f) => f.type))) {
  const dir = path.join(runDir, `initramfs-${type}`);
  fs.mkdirSync(dir, { recursive: true });
  initrds.set(type, buildInitramfs({ workDir: dir, moduleDir: rig.moduleDir, busybox: rig.busybox, init: path.join(here, 'guest', 'init'), modules: [...baseModules, type] }));
}

console.log(
  `blocklevel: ${selectedScenarios.length} scenarios x ${selectedFs.length} file systems, cap ${cap} subsets per flush interval and phase, ` +
    `seed ${baseSeed}, ${jobs} guest(s) at a time, kernel ${rig.kernelVersion}, work dir ${runDir}`,
);

// ---- the jobs: one boot per file system, running the selected scenarios one after the other ----
/** @param {import('./lib/scenarios.mjs').Scenario} scenario @param {any} fsDef */
const seedOf = (scenario, fsDef) => baseSeed + scenarios.indexOf(scenario) * 16 + fileSystems.indexOf(fsDef);
/** Where a scenario's target lives on the disk: in its own directory. @param {import('./lib/scenarios.mjs').Scenario} s */
const targetOf = (s) => path.posix.join(s.id, s.target);
// State images are written and mounted in RAM when /dev/shm is there (half the time of a disk).
const scratchRoot = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').isDirectory() ? '/dev/shm' : os.tmpdir();
const scratchDir = fs.mkdtempSync(path.join(scratchRoot, 'durable-write-blocklevel-'));
process.on('exit', () => fs.rmSync(scratchDir, { recursive: true, force: true }));
const ordered = [...selectedFs];

/** @type {any[]} */
const records = [];
/** @type {any[]} */
const boots = [];
async function worker() {
  for (let fsDef = ordered.shift(); fsDef !== undefined; fsDef = ordered.shift()) {
    await runBoot(fsDef);
  }
}

/** @param {any} fsDef */
async function runBoot(fsDef) {
  const started = Date.now();
  const dir = path.join(runDir, fsDef.id);
  fs.mkdirSync(dir, { recursive: true });
  const scratch = path.join(scratchDir, fsDef.id);
  fs.mkdirSync(scratch, { recursive: true });
  const expected = new Map(
    selectedScenarios.map((s) => {
      const seed = seedOf(s, fsDef);
      return [s.id, { old: s.old ? payload(`old:${s.id}`, seed, OLD_SIZE) : null, new: payload(`new:${s.id}`, seed, NEW_SIZE) }];
    }),
  );
  const boot = { fs: fsDef.id, error: /** @type {string | null} */ (null), bootMs: 0, checkMs: 0, entries: 0, flushes: 0, counts: {}, distinct: 0 };
  const mine = selectedScenarios.map((scenario) => ({
    scenario: scenario.id,
    fs: fsDef.id,
    durable: scenario.durable,
    seed: seedOf(scenario, fsDef),
    error: /** @type {string | null} */ (null),
    counts: /** @type {Record<string, number>} */ ({}),
    entries: 0,
    flushes: 0,
    states: 0,
    distinct: 0,
    byPhase: { before: 0, during: 0, after: 0 },
    /** (flush interval, phase) windows with volatile writes: subsets all enumerated, or sampled (cap). */
    dropWindows: { exhaustive: 0, sampled: 0 },
    outcomes: /** @type {Record<string, number>} */ ({}),
    violations: 0,
    byKind: { torn: 0, 'not-durable': 0, 'changed-before': 0 },
    examples: /** @type {any[]} */ ([]),
  }));
  try {
    const base = path.join(dir, 'base.img');
    const disk = path.join(dir, 'disk.img');
    const log = path.join(dir, 'log.img');
    makeBaseImage({
      file: base,
      fsDef,
      mountDir: path.join(scratch, 'mnt'),
      populate: (root) => {
        for (const s of selectedScenarios) {
          fs.mkdirSync(path.join(root, s.id), { recursive: true });
          if (s.old) fs.writeFileSync(path.join(root, targetOf(s)), /** @type {Buffer} */ (expected.get(s.id)?.old));
        }
      },
    });
    execFileSync('cp', ['--sparse=always', base, disk]);
    fs.writeFileSync(log, '');
    const result = await bootLogged({
      dir,
      qemu: rig.qemu,
      kernel: rig.kernel,
      initrd: /** @type {string} */ (initrds.get(fsDef.type)),
      image: disk,
      log,
      repoDir,
      libModule: guestLib,
      extraShare: libModule === defaultLib ? runDir : undefined,
      scenarioIds: selectedScenarios.map((s) => s.id),
      seeds: selectedScenarios.map((s) => seedOf(s, fsDef)),
      fsId: fsDef.id,
      expectMarks: selectedScenarios.flatMap((s) => ['pre', 'post', 'end'].map((m) => `${m}:${s.id}`)),
      timeoutMs,
    });
    boot.bootMs = result.durationMs;
    boot.counts = result.counts;
    if (result.error !== undefined) throw new Error(result.error);
    const { entries } = parseLog(fs.readFileSync(log));
    boot.entries = entries.length;
    boot.flushes = entries.filter((e) => e.flags & FLAG_FLUSH).length;
    if (entries.some((e) => e.flags & FLAG_DISCARD)) boot.discards = entries.filter((e) => e.flags & FLAG_DISCARD).length;
    const checkStarted = Date.now();
    const baseImage = loadBase(base);
    const stateImage = path.join(scratch, 'state.img');
    const mnt = path.join(scratch, 'mnt');
    /** @type {Map<string, Record<string, ReturnType<typeof checkImage>>>} */
    const seen = new Map();
    let start = 0;
    for (const [i, scenario] of selectedScenarios.entries()) {
      const record = /** @type {any} */ (mine[i]);
      const at = (/** @type {string} */ m) => /** @type {number} */ (result.counts[`${m}:${scenario.id}`]);
      const counts = { start, pre: at('pre'), post: at('post'), end: at('end') };
      record.counts = { ...counts, fsyncedOther: result.counts[`fsynced-other:${scenario.id}`] ?? null };
      if (!(counts.start <= counts.pre && counts.pre <= counts.post && counts.post <= counts.end && counts.end <= entries.length)) {
        throw new Error(`inconsistent marker counts ${JSON.stringify(counts)} for a log of ${entries.length} entries`);
      }
      start = counts.end;
      record.entries = counts.end - counts.start;
      record.flushes = entries.slice(counts.start, counts.end).filter((e) => e.flags & FLAG_FLUSH).length;
      const states = crashStates({ entries, counts, cap, seed: (baseSeed ^ record.seed) >>> 0, stats: record.dropWindows });
      const distinct = new Set();
      for (const state of states) {
        const writes = appliedWrites(entries, state);
        const digest = stateDigest(writes);
        distinct.add(digest);
        let found = seen.get(digest);
        if (found === undefined) {
          buildImage(stateImage, baseImage, writes);
          found = checkImage({ image: stateImage, dir: mnt, fsDef, targets: Object.fromEntries(selectedScenarios.map((s) => [s.id, targetOf(s)])), expected });
          seen.set(digest, found);
          // Mounting is synchronous: let the event loop answer the other guest's markers between disks.
          await new Promise((resolve) => setImmediate(resolve));
        }
        const outcome = /** @type {any} */ (found[scenario.id]);
        record.states += 1;
        record.byPhase[state.phase] += 1;
        record.outcomes[`${state.phase}:${outcome.outcome}`] = (record.outcomes[`${state.phase}:${outcome.outcome}`] ?? 0) + 1;
        const kind = violation(state.phase, outcome.outcome, scenario.old);
        if (kind !== undefined) {
          record.violations += 1;
          record.byKind[kind] += 1;
          // A few examples of each kind of violation.
          if (record.examples.filter((/** @type {any} */ e) => e.kind === kind).length < 4) {
            record.examples.push({ k: state.k, phase: state.phase, dropped: state.dropped, outcome: outcome.outcome, size: outcome.size, detail: outcome.detail ?? null, kind });
          }
        }
      }
      record.distinct = distinct.size;
    }
    boot.distinct = seen.size;
    boot.checkMs = Date.now() - checkStarted;
    fs.rmSync(stateImage, { force: true });
  } catch (error) {
    boot.error = error instanceof Error ? error.message : String(error);
    umount(path.join(scratch, 'mnt'));
    for (const r of mine) r.error = boot.error;
  }
  const failed = boot.error !== null || mine.some((r) => r.durable && r.violations > 0);
  if (!keepAll && !failed) {
    for (const name of ['base.img', 'disk.img', 'log.img']) fs.rmSync(path.join(dir, name), { force: true });
  }
  fs.writeFileSync(path.join(dir, 'result.json'), JSON.stringify({ boot, rows: mine }, null, 2) + '\n');
  console.log(
    `  ${fsDef.id}: ` +
      (boot.error !== null ? `ERROR ${boot.error}` : `${boot.entries} log entries (${boot.flushes} flushes), ${boot.distinct} distinct disks mounted`) +
      `; boot ${(boot.bootMs / 1000).toFixed(1)} s, check ${(boot.checkMs / 1000).toFixed(1)} s, ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
  );
  for (const r of mine) {
    if (r.error !== null) continue;
    console.log(
      `    ${r.scenario}: ${r.states} crash states (${r.distinct} distinct disks) from ${r.entries} log entries, ${r.violations} violations` +
        (r.violations ? ` (${Object.entries(r.byKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''),
    );
  }
  boots.push({ ...boot, jobMs: Date.now() - started });
  records.push(...mine);
}

/**
 * @param {'before' | 'during' | 'after'} phase @param {string} outcome @param {boolean} hadOld
 * @returns {'torn' | 'not-durable' | 'changed-before' | undefined}
 */
function violation(phase, outcome, hadOld) {
  const previous = hadOld ? 'old' : 'absent';
  if (phase === 'before') return outcome === previous ? undefined : outcome === 'new' ? 'changed-before' : 'torn';
  if (phase === 'during') return outcome === previous || outcome === 'new' ? undefined : 'torn';
  if (outcome === 'new') return undefined;
  return outcome === previous ? 'not-durable' : 'torn';
}

try {
  await Promise.all(Array.from({ length: Math.min(jobs, ordered.length) }, () => worker()));
} finally {
  killAllGuests();
}
const totalMs = Date.now() - runStarted;

// ---- verdicts, table, JSON ----
for (const r of records) {
  const scenario = scenarios.find((s) => s.id === r.scenario);
  if (r.error !== null) {
    r.pass = false;
    r.verdict = 'FAIL: harness error';
  } else if (r.durable) {
    r.pass = r.violations === 0;
    r.verdict = r.pass ? 'pass' : `FAIL: ${r.violations} violations`;
  } else if (scenario?.twinRequired === false) {
    r.pass = true;
    r.verdict = r.violations > 0 ? 'pass: twin sees loss' : 'note: no violation';
  } else {
    r.pass = r.violations > 0;
    r.verdict = r.pass ? 'pass: twin sees loss' : 'FAIL: twin shows no violation, checker blind';
  }
}
records.sort((x, y) => scenarios.findIndex((s) => s.id === x.scenario) - scenarios.findIndex((s) => s.id === y.scenario) || fileSystems.findIndex((f) => f.id === x.fs) - fileSystems.findIndex((f) => f.id === y.fs));
const pass = records.length > 0 && records.every((r) => r.pass);
const header = ['scenario', 'fs', 'entries', 'states', 'distinct', 'violations', 'torn', 'not-durable', 'changed-before', 'verdict'];
const rows = records.map((r) => [
  `${r.scenario}${r.durable ? '' : ' (twin)'}`,
  r.fs,
  String(r.entries),
  String(r.states),
  String(r.distinct),
  String(r.violations),
  String(r.byKind.torn),
  String(r.byKind['not-durable']),
  String(r.byKind['changed-before']),
  r.verdict,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
const line = (/** @type {string[]} */ cells) => cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
console.log('');
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log('');
const durableStates = records.filter((r) => r.durable).reduce((n, r) => n + r.states, 0);
const totalStates = records.reduce((n, r) => n + r.states, 0);
console.log(`blocklevel: ${totalStates} crash states checked (${durableStates} on durable rows), ${boots.length} boots, ${(totalMs / 1000).toFixed(0)} s with ${jobs} guest(s) at a time`);

const results = {
  date: new Date(runStarted).toISOString(),
  machine: describeMachine(rig),
  library: path.relative(repoDir, libModule),
  cap,
  seed: baseSeed,
  jobs,
  totalMs,
  totalStates,
  durableStates,
  pass,
  boots,
  rows: records,
};
const resultsPath = path.resolve(process.env['BLOCKLEVEL_RESULTS'] || path.join(runDir, 'results.json'));
fs.mkdirSync(path.dirname(resultsPath), { recursive: true });
fs.writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
const markdown = [
  `Measured ${results.date.slice(0, 16).replace('T', ' ')} UTC on ${results.machine.host}, ${results.machine.cpus} CPUs; guest kernel ${rig.kernelVersion} under QEMU TCG; ` +
    `cap ${cap}, seed ${baseSeed}; ${boots.length} boots, ${jobs} at a time, ${(totalMs / 1000).toFixed(0)} s in all.`,
  '',
  `| scenario | fs | log entries | crash states | distinct disks | violations | torn | not durable | changed before | verdict |`,
  `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |`,
  ...records.map((r) => `| ${r.scenario}${r.durable ? '' : ' (twin)'} | ${r.fs} | ${r.entries} | ${r.states} | ${r.distinct} | ${r.violations} | ${r.byKind.torn} | ${r.byKind['not-durable']} | ${r.byKind['changed-before']} | ${r.verdict} |`),
  '',
].join('\n');
fs.writeFileSync(resultsPath.replace(/\.json$/, '') + '.md', markdown);
console.log(`blocklevel: results written to ${resultsPath} (and .md)`);
console.log(pass ? 'blocklevel: PASS' : 'blocklevel: FAIL');
process.exit(pass ? 0 : 1);
