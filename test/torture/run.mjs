#!/usr/bin/env node
/**
 * The kill -9 torture test, standalone: prints the figures and optionally writes them as JSON.
 *
 *   npm run build
 *   node test/torture/run.mjs                          # durable 15 s, then the naive twin 10 s
 *   node test/torture/run.mjs --seconds 120 --writers 8 --json test/torture/results/latest.json
 *   TORTURE_SEED=123 node test/torture/run.mjs --mode durable
 *
 * Options (environment variable in brackets): --mode durable|naive|both (both), --seconds N
 * [TORTURE_SECONDS] (15) for the durable run, --twin-seconds N [TORTURE_TWIN_SECONDS] (10),
 * --writers N [TORTURE_WRITERS] (8), --files N [TORTURE_FILES] (4), --readers N
 * [TORTURE_READERS] (1), --seed N [TORTURE_SEED] (random, printed), --kill-mean-ms N
 * [TORTURE_KILL_MEAN_MS] (100), --json PATH, --keep (keep the directories).
 * Exit status: 0 when the durable run saw no bad read and left no temp file and the twin saw
 * bad reads; 1 otherwise; 2 for a usage error or a missing build.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DIST_ESM, durableProblems, envNumber, randomSeed, runTorture, twinProblems } from './harness.mjs';

let values;
try {
  ({ values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'both' },
      seconds: { type: 'string' },
      'twin-seconds': { type: 'string' },
      writers: { type: 'string' },
      files: { type: 'string' },
      readers: { type: 'string' },
      seed: { type: 'string' },
      'kill-mean-ms': { type: 'string' },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }));
} catch (error) {
  console.error(`run.mjs: ${error.message}`);
  process.exit(2);
}
if (values.help) {
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  console.log(source.slice(source.indexOf('/**') + 4, source.indexOf('*/')).replace(/^ \* ?/gm, ''));
  process.exit(0);
}
const number = (flag, env, fallback) => {
  if (values[flag] !== undefined) {
    const value = Number(values[flag]);
    if (!Number.isFinite(value) || value < 0) {
      console.error(`run.mjs: --${flag} must be a non-negative number`);
      process.exit(2);
    }
    return value;
  }
  return envNumber(env, fallback);
};
const modes = values.mode === 'both' ? ['durable', 'naive'] : [values.mode];
if (!modes.every((m) => m === 'durable' || m === 'naive')) {
  console.error('run.mjs: --mode must be durable, naive or both');
  process.exit(2);
}
if (!existsSync(DIST_ESM)) {
  console.error(`run.mjs: ${DIST_ESM} is missing: run \`npm run build\` first`);
  process.exit(2);
}
const seed = number('seed', 'TORTURE_SEED', randomSeed()) >>> 0;
const common = {
  seed,
  writers: number('writers', 'TORTURE_WRITERS', 8),
  files: number('files', 'TORTURE_FILES', 4),
  readers: number('readers', 'TORTURE_READERS', 1),
  killMeanMs: number('kill-mean-ms', 'TORTURE_KILL_MEAN_MS', 100),
  keepDir: values.keep,
  log: (line) => console.log(line),
};
console.log(`seed ${seed} (repeat with TORTURE_SEED=${seed} or --seed ${seed})`);

const report = {
  harness: 'test/torture/run.mjs',
  argv: process.argv.slice(2),
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform} ${release()}`,
  cpus: cpus().length,
  tmpdir: tmpdir(),
  // The machine's 1, 5 and 15 min load averages before and after: start-up and write rates depend on them.
  loadAverage: { start: loadavg().map((l) => Math.round(l * 100) / 100), end: [] },
  seed,
  runs: {},
  problems: {},
  pass: true,
};
const started = Date.now();
for (const mode of modes) {
  const seconds = mode === 'durable' ? number('seconds', 'TORTURE_SECONDS', 15) : number('twin-seconds', 'TORTURE_TWIN_SECONDS', 10);
  const result = await runTorture({ ...common, mode, seconds });
  const problems = mode === 'durable' ? durableProblems(result) : twinProblems(result);
  report.runs[mode] = result;
  report.problems[mode] = problems;
  if (problems.length > 0) report.pass = false;
  console.log(problems.length === 0 ? `${mode}: PASS` : `${mode}: FAIL\n  ${problems.join('\n  ')}`);
}
report.wallSeconds = Math.round((Date.now() - started) / 100) / 10;
report.loadAverage.end = loadavg().map((l) => Math.round(l * 100) / 100);
if (values.json !== undefined) {
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${values.json}`);
}
process.exit(report.pass ? 0 : 1);
