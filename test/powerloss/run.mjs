#!/usr/bin/env node
/**
 * Power-loss harness (issue 5): boots a Linux guest under QEMU per trial, lets it write with the
 * library and hard-reset itself through its simulated BMC (`ipmitool -I open chassis power reset`
 * via the library's IpmitoolPowerController; in (g), with the durable-write command from a shell
 * script), then checks on the host what the disk kept.
 *
 *   node test/powerloss/run.mjs
 *
 * Environment:
 *   POWERLOSS_TRIALS=5          trials per scenario
 *   POWERLOSS_JOBS=2            guests run at once (default: min(2, CPU count))
 *   POWERLOSS_SCENARIOS=a,b,... subset of scenarios (default: all)
 *   POWERLOSS_TRIAL_TIMEOUT=150 seconds before a trial's QEMU is killed and the trial fails
 *   POWERLOSS_RESULTS=path      where the JSON results go (default test/powerloss/work/results.json)
 *   POWERLOSS_KEEP=1            keep every trial's disk image and logs (default: only failures')
 *   POWERLOSS_LIB=path          module the guest imports (default: the repo's dist/index.js)
 *
 * Exit status: 0 when every durable scenario kept its data in every trial and the naive twin lost
 * data at least once; 1 otherwise (or on a harness error); 0 with a one-line reason when a
 * prerequisite is missing locally, 2 when one is missing in CI (`CI` set). The measured scenarios
 * (the peers of issue 13: other libraries' writes) never fail the run by what the disk kept; they
 * are reported, with a peers table (writer x new/replace), on the console and in the results.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomInt, createHash } from 'node:crypto';
import { scenarios } from './lib/scenarios.mjs';
import { describeMachine, findRig, checkLibrary, prerequisiteMissingFor, killOnExit, snapshotLibrary, intEnv as harnessIntEnv, makeRunDir } from './lib/prerequisites.mjs';
import { buildInitramfs } from './lib/initramfs.mjs';
import { makeDisk, bootTrial, killAllChildren } from './lib/vm.mjs';
import { classifyDisk, LOSS_OUTCOMES } from './lib/classify.mjs';
import { peersTable, peersConsoleLines, peersMarkdownLines } from './lib/peers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.resolve(here, '..', '..');
const workDir = path.join(here, 'work');

/** @param {string} name @param {number} fallback */
const intEnv = (name, fallback) => harnessIntEnv('powerloss', name, fallback);

const trials = intEnv('POWERLOSS_TRIALS', 5);
const jobs = intEnv('POWERLOSS_JOBS', Math.max(1, Math.min(2, os.availableParallelism())));
const timeoutMs = intEnv('POWERLOSS_TRIAL_TIMEOUT', 150) * 1000;
const keepAll = process.env['POWERLOSS_KEEP'] === '1';
const libModule = path.resolve(process.env['POWERLOSS_LIB'] || path.join(repoDir, 'dist', 'index.js'));
const resultsPath = path.resolve(process.env['POWERLOSS_RESULTS'] || path.join(workDir, 'results.json'));
const wanted = (process.env['POWERLOSS_SCENARIOS'] || '').split(',').map((s) => s.trim()).filter(Boolean);
const selected = wanted.length === 0 ? scenarios : scenarios.filter((s) => wanted.includes(s.id));
if (selected.length !== (wanted.length || scenarios.length)) {
  console.error(`powerloss: unknown scenario in POWERLOSS_SCENARIOS=${wanted.join(',')} (have ${scenarios.map((s) => s.id).join(',')})`);
  process.exit(2);
}

/** Skips locally, fails in CI. */
const prerequisiteMissing = prerequisiteMissingFor('powerloss');

killOnExit('powerloss', killAllChildren, 'every QEMU was killed');

const found = findRig({ repoDir, libModule });
if ('missing' in found) prerequisiteMissing(found.missing.join('; '));
const { rig } = /** @type {{ rig: import('./lib/prerequisites.mjs').Rig }} */ (found);
if (/\s/.test(repoDir)) prerequisiteMissing(`the repository path ${JSON.stringify(repoDir)} has white space, which the guest's kernel command line cannot carry`);
if (!libModule.startsWith(repoDir + path.sep)) prerequisiteMissing(`POWERLOSS_LIB must be inside ${repoDir} (the guest sees only that share)`);
const libProblem = await checkLibrary(libModule);
if (libProblem !== undefined) prerequisiteMissing(libProblem);
// The durable-write command the shell scenarios run: dist/cli.js next to the module the guest imports.
const cliUsers = selected.filter((s) => s.cli === true).map((s) => `(${s.id})`);
/** @param {string} lib */
const lacksCli = (lib) => cliUsers.length > 0 && !fs.existsSync(path.join(path.dirname(lib), 'cli.js'));
if (lacksCli(libModule)) {
  const cli = path.relative(repoDir, path.join(path.dirname(libModule), 'cli.js'));
  prerequisiteMissing(`the durable-write command ${cli}, which scenario ${cliUsers.join(', ')} runs (run npm run build)`);
}

const runStarted = Date.now();
// Keep the newest few runs' artefacts (logs, failed trials' disk images).
const runDir = makeRunDir(workDir, runStarted, 5);
// The guest imports a snapshot of the built package taken now, so that a rebuild of dist/ during
// the run (tsup cleans it first) cannot break a trial halfway.
const defaultLib = path.join(repoDir, 'dist', 'index.js');
let guestLib = libModule;
if (libModule === defaultLib) {
  guestLib = snapshotLibrary(defaultLib, runDir);
  const snapshotProblem = await checkLibrary(guestLib);
  if (snapshotProblem !== undefined) prerequisiteMissing(`the snapshot of dist/ is incomplete (was it being rebuilt?): ${snapshotProblem}`);
  if (lacksCli(guestLib)) prerequisiteMissing('the snapshot of dist/ has no cli.js (was it being rebuilt?)');
}
const libSha256 = createHash('sha256').update(fs.readFileSync(guestLib)).digest('hex');
const initrd = buildInitramfs({
  workDir: runDir,
  moduleDir: rig.moduleDir,
  busybox: rig.busybox,
  init: path.join(here, 'guest', 'init'),
});
console.log(
  `powerloss: ${selected.length} scenarios x ${trials} trials, ${jobs} guest(s) at a time, kernel ${rig.kernelVersion}, ` +
    `library ${path.relative(repoDir, libModule)}, work dir ${path.relative(process.cwd(), runDir) || '.'}`,
);

/** Trials interleaved across scenarios, so slow periods of the host hit every scenario alike. */
const queue = [];
for (let trial = 1; trial <= trials; trial += 1) for (const scenario of selected) queue.push({ scenario, trial });

/** @type {any[]} */
const records = [];
async function worker() {
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
    records.push(await runOne(item.scenario, item.trial));
  }
}

/**
 * @param {import('./lib/scenarios.mjs').Scenario} scenario
 * @param {number} trial
 */
async function runOne(scenario, trial) {
  const seed = randomInt(1, 2 ** 31 - 1);
  const trialDir = path.join(runDir, `${scenario.id}-${trial}`);
  fs.mkdirSync(trialDir, { recursive: true });
  const image = makeDisk({ trialDir, scenario, seed });
  const boot = await bootTrial({
    trialDir,
    image,
    qemu: rig.qemu,
    kernel: rig.kernel,
    initrd,
    repoDir,
    libModule: guestLib,
    scenarioId: scenario.id,
    seed,
    timeoutMs,
  });
  const classification = boot.error === undefined ? classifyDisk({ image, trialDir, scenario, seed }) : undefined;
  const outcome = boot.error !== undefined ? 'error' : /** @type {string} */ (classification?.outcome);
  // A measured scenario (durable undefined) expects anything: like a twin, it keeps no disk image.
  // (e1) is strict (`strictNew`): with the reset at once, the old file back whole means the new
  // data was not durable when the promise resolved, and a naive write would show exactly that.
  const oldAccepted = scenario.strictNew !== true;
  const expected = boot.error === undefined && (scenario.durable === true ? outcome === 'intact' || (outcome === 'old' && oldAccepted) : true);
  const written = boot.markers['written'];
  const record = {
    scenario: scenario.id,
    trial,
    seed,
    outcome,
    detail: boot.error ?? classification?.detail,
    size: classification?.size ?? null,
    fsckExit: classification?.fsckExit ?? null,
    directoryAfter: classification?.directory ?? [],
    leftovers: classification?.leftovers ?? [],
    bootToWrittenMs: written ?? null,
    writtenToResetMs: written !== undefined && boot.resetAtMs !== undefined ? boot.resetAtMs - written : null,
    resetReason: boot.resetReason ?? null,
    trialMs: boot.durationMs,
    markers: boot.markers,
  };
  fs.writeFileSync(path.join(trialDir, 'result.json'), JSON.stringify(record, null, 2) + '\n');
  if (expected && !keepAll) {
    for (const name of ['disk.img', 'found.bin']) fs.rmSync(path.join(trialDir, name), { force: true });
  }
  const gap = record.writtenToResetMs === null ? '' : `, reset ${(record.writtenToResetMs / 1000).toFixed(1)} s after the write returned`;
  const left = record.leftovers.length === 0 ? '' : `, left ${record.leftovers.map((l) => `${l.name} (${l.holds})`).join(', ')}`;
  console.log(
    `  (${scenario.id}) trial ${trial}: ${outcome}${record.detail ? ` (${record.detail})` : ''}${left}${gap}, ${(boot.durationMs / 1000).toFixed(1)} s`,
  );
  return record;
}

try {
  await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, () => worker()));
} finally {
  killAllChildren();
}
const totalMs = Date.now() - runStarted;

const outcomes = ['intact', 'old', 'missing', 'zero-length', 'corrupt', 'error'];
const summary = selected.map((scenario) => {
  const mine = records.filter((r) => r.scenario === scenario.id);
  /** @type {Record<string, number>} */
  const counts = Object.fromEntries(outcomes.map((o) => [o, mine.filter((r) => r.outcome === o).length]));
  const notReplaced = scenario.strictNew === true ? (counts['old'] ?? 0) : 0;
  const losses = LOSS_OUTCOMES.reduce((n, o) => n + (counts[o] ?? 0), 0) + notReplaced;
  let verdict;
  let pass;
  if ((counts['error'] ?? 0) > 0) {
    pass = false;
    verdict = 'FAIL: harness error';
  } else if (scenario.kind === 'measured') {
    // Measured, not judged: a peer's loss is the measurement, not a failure of the run.
    pass = true;
    const kept = counts['intact'] ?? 0;
    verdict = `measured: new data kept in ${kept}/${mine.length}` + (losses > 0 ? `, lost or torn in ${losses}` : '') + ((counts['old'] ?? 0) > 0 ? `, old in ${counts['old']}` : '');
  } else if (scenario.durable) {
    pass = losses === 0;
    verdict = pass
      ? 'pass: no loss'
      : `FAIL: lost or tore data in ${losses}/${mine.length}` + (notReplaced > 0 ? ` (the old file, not the new one, in ${notReplaced})` : '');
  } else {
    pass = losses > 0;
    verdict = pass ? `pass: lost data in ${losses}/${mine.length} (twin sees loss)` : 'FAIL: never lost data, harness is blind';
  }
  const gaps = mine.map((r) => r.writtenToResetMs).filter((g) => typeof g === 'number');
  return {
    id: scenario.id,
    title: scenario.title,
    durable: scenario.durable ?? null,
    kind: scenario.kind ?? (scenario.durable ? 'durable' : 'twin'),
    trials: mine.length,
    counts,
    losses,
    pass,
    verdict,
    writtenToResetMs: gaps.length ? { min: Math.min(...gaps), max: Math.max(...gaps) } : null,
  };
});
const pass = summary.every((s) => s.pass);

const header = ['scenario', 'trials', ...outcomes, 'verdict'];
const rows = summary.map((s) => [`(${s.id}) ${s.title}`, String(s.trials), ...outcomes.map((o) => String(s.counts[o])), s.verdict]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
console.log('');
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log('');
const allGaps = records.map((r) => r.writtenToResetMs).filter((g) => typeof g === 'number');
const trialTimes = records.map((r) => r.trialMs);
console.log(
  `powerloss: ${records.length} trials in ${(totalMs / 1000).toFixed(0)} s with ${jobs} guest(s) at a time ` +
    `(a trial ${(Math.min(...trialTimes) / 1000).toFixed(1)}-${(Math.max(...trialTimes) / 1000).toFixed(1)} s; ` +
    `reset ${allGaps.length ? `${(Math.min(...allGaps) / 1000).toFixed(1)}-${(Math.max(...allGaps) / 1000).toFixed(1)} s` : 'never'} after the write returned)`,
);
// Issue 13: the peers table, writer x (new, replace), when the run has a scenario that names a writer.
const peers = peersTable(selected, records);
if (peers.length > 0) {
  console.log('');
  console.log('powerloss: peers at a hard reset (measured, not judged; writeDurable rows are judged as above)');
  for (const row of peersConsoleLines(peers)) console.log(row);
}

const results = {
  date: new Date(runStarted).toISOString(),
  machine: describeMachine(rig),
  library: path.relative(repoDir, libModule),
  librarySha256: libSha256,
  trialsPerScenario: trials,
  jobs,
  totalMs,
  pass,
  summary,
  peers,
  trials: records.sort((x, y) => x.scenario.localeCompare(y.scenario) || x.trial - y.trial),
};
fs.mkdirSync(path.dirname(resultsPath), { recursive: true });
fs.writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
fs.writeFileSync(path.join(runDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
const markdown = [
  `Measured ${results.date.slice(0, 16).replace('T', ' ')} UTC on ${results.machine.host}, ${results.machine.cpus} CPUs ` +
    `(${results.machine.cpuModel}), ${results.machine.memoryGiB} GiB; guest kernel ${rig.kernelVersion} under QEMU TCG; ` +
    `library ${results.library}; ${trials} trials per scenario, ${jobs} guest(s) at a time, ${(totalMs / 1000).toFixed(0)} s in all.`,
  '',
  `| scenario | trials | ${outcomes.join(' | ')} | verdict |`,
  `| --- | ---: | ${outcomes.map(() => '---:').join(' | ')} | --- |`,
  ...summary.map((s) => `| (${s.id}) ${s.title.replace(/\|/g, '\\|')} | ${s.trials} | ${outcomes.map((o) => s.counts[o]).join(' | ')} | ${s.verdict} |`),
  '',
  ...(peers.length > 0 ? ['Peers at a hard reset (issue 13): writer x (new, replace).', '', ...peersMarkdownLines(peers), ''] : []),
].join('\n');
fs.writeFileSync(resultsPath.replace(/\.json$/, '') + '.md', markdown);
console.log(`powerloss: results written to ${path.relative(process.cwd(), resultsPath)} (and .md)`);
console.log(pass ? 'powerloss: PASS' : 'powerloss: FAIL');
// The plain closing line: one per scenario, each a check that passed or failed.
const judged = summary.filter((s) => s.kind !== 'measured');
const measured = summary.filter((s) => s.kind === 'measured');
console.log(
  `powerloss: ${judged.filter((s) => s.pass).length} passed, ${judged.filter((s) => !s.pass).length} failed` +
    (measured.length > 0 ? `, ${measured.length} measured (${measured.filter((s) => !s.pass).length} with a harness error)` : ''),
);
process.exit(pass ? 0 : 1);
