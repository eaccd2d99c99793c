/**
 * Every copy of durable-write in one thread shares one per-file write queue and one registry of
 * temp files in use, kept on `globalThis` under `Symbol.for('durable-write.process-state.v1')`:
 * the compat entry and the main one, and the ESM and CommonJS builds, which are two copies (an ES
 * module application whose CommonJS dependency `require()`s durable-write loads both).
 *
 * Regression tests for issue 20 item 1: in 0.2.0 the state was module state, so the two builds
 * each had their own; `writeDurable(f, <4 MiB>)` through the ESM build, then at once
 * `writeDurable(f, 'NEW')` through the CJS build, left the older data in place in 39 of 40
 * trials, both promises resolved; and one build's `removeStaleTemps` removed the temp file of a
 * write in flight through the other.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type * as CompatModule from '../../src/compat.js';
import type * as MainModule from '../../src/index.js';
import { distCompatCjs, distCompatEsm, distCjs, distEsm, requireBuild, requireCompatBuild } from '../support/built-package.js';
import { tempDir } from '../support/temp-dir.js';

type Compat = typeof CompatModule;
type Main = typeof MainModule;

/** Trials per direction of the race below (raise it to look harder). */
const TRIALS = Number(process.env['DURABLE_WRITE_SHARED_STATE_TRIALS'] ?? '10');

/** An async compat write, then a sync main-entry write to the same file made while the first is still resolving: what each did. */
async function asyncThenSync(compat: Compat, main: Main): Promise<{ asyncError: unknown; content: string }> {
  const target = join(tempDir(), 'target');
  const older = compat.writeFile(target, 'older, async');
  main.writeDurableSync(target, 'newer, sync');
  const asyncError = await older.then(
    () => undefined,
    (error: unknown) => error,
  );
  return { asyncError, content: readFileSync(target, 'utf8') };
}

describe('the built compat entry shares the write path with the main entry', () => {
  const load = async (): Promise<{ cjs: [Compat, Main]; esm: [Compat, Main] }> => {
    requireCompatBuild();
    const require = createRequire(import.meta.url);
    return {
      cjs: [require(distCompatCjs) as Compat, require(distCjs) as Main],
      esm: [(await import(distCompatEsm)) as Compat, (await import(distEsm)) as Main],
    };
  };

  it.each(['cjs', 'esm'] as const)('%s: the last call wins across entries: an older async compat write gives way (EBUSY) to a newer writeDurableSync', async (format) => {
    const [compat, main] = (await load())[format];
    const { asyncError, content } = await asyncThenSync(compat, main);
    expect(content).toBe('newer, sync');
    expect(asyncError).toBeInstanceOf(main.DurableWriteError);
    expect(asyncError).toMatchObject({ code: 'EBUSY', stage: 'validate' });
  });

  it('across the builds too (regression): an older async write through the CJS compat entry gives way to a newer writeDurableSync through the ESM main entry', async () => {
    const { cjs, esm } = await load();
    const { asyncError, content } = await asyncThenSync(cjs[0], esm[1]);
    expect(content).toBe('newer, sync');
    expect(asyncError).toMatchObject({ code: 'EBUSY', stage: 'validate' });
  });
});

/**
 * Runs in a child process with two copies of the library: `first` (ESM) and `second` (CJS).
 * `trials` times each way, writes 4 MiB through one copy and, at once, `NEW` through the other,
 * to the same file; prints which data each trial left and how the calls settled.
 */
const RACE = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const [esmPath, cjsPath, target, trials] = process.argv.slice(1);
const copies = { esm: await import(esmPath), cjs: createRequire(cjsPath)(cjsPath) };
const older = Buffer.alloc(4 * 1024 * 1024, 'o');
const report = { newer: 0, older: 0, other: 0, rejections: [] };
for (let i = 0; i < 2 * Number(trials); i++) {
  const [first, second] = i % 2 === 0 ? [copies.esm, copies.cjs] : [copies.cjs, copies.esm];
  const outcomes = await Promise.allSettled([first.writeDurable(target, older), second.writeDurable(target, 'NEW')]);
  for (const outcome of outcomes) if (outcome.status === 'rejected') report.rejections.push(String(outcome.reason?.message ?? outcome.reason));
  const content = readFileSync(target);
  if (content.equals(Buffer.from('NEW'))) report.newer += 1;
  else if (content.equals(older)) report.older += 1;
  else report.other += 1;
}
console.log(JSON.stringify(report));
`;

interface RaceReport {
  newer: number;
  older: number;
  other: number;
  rejections: string[];
}

function race(esm: string, cjs: string): RaceReport {
  const target = join(tempDir(), 'race');
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', RACE, esm, cjs, target, String(TRIALS)], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(output) as RaceReport;
}

/**
 * A copy of the build whose shared state lives under another key, as a version that does not
 * join version 1 would: two copies that share nothing, as the ESM and CJS builds of 0.2.0 were.
 */
function buildUnderAnotherKey(): { esm: string; cjs: string } {
  const copy = join(tempDir(), 'dist');
  cpSync(dirname(distEsm), copy, { recursive: true });
  writeFileSync(join(copy, 'package.json'), '{ "type": "module" }\n');
  let patched = 0;
  for (const name of readdirSync(copy).filter((file) => /\.c?js$/.test(file))) {
    const file = join(copy, name);
    const source = readFileSync(file, 'utf8');
    if (!source.includes('durable-write.process-state.v1')) continue;
    writeFileSync(file, source.replaceAll('durable-write.process-state.v1', 'durable-write.process-state.twin'));
    patched += 1;
  }
  expect(patched, 'build files holding the state key').toBeGreaterThan(0);
  return { esm: join(copy, 'index.js'), cjs: join(copy, 'index.cjs') };
}

describe('the ESM and CJS builds loaded in one process share one write queue (regression)', () => {
  it(`4 MiB through one build then at once NEW through the other, ${TRIALS} trials each way: NEW wins every time and both calls resolve`, () => {
    requireBuild();
    const report = race(distEsm, distCjs);
    expect(report).toEqual({ newer: 2 * TRIALS, older: 0, other: 0, rejections: [] });
  });

  it('twin: copies that share no state (one under another state key, as a version that does not join) let the older data win', () => {
    requireBuild();
    const unshared = buildUnderAnotherKey();
    const report = race(distEsm, unshared.cjs);
    expect(report.other).toBe(0);
    expect(report.older, 'trials the older data won').toBeGreaterThan(0);
  });
});

/**
 * In a child process: a write through `writer` (`esm` or `cjs`) holds its temp file (its data
 * paused after the first chunk) while the other build's `removeStaleTemps` cleans the
 * directory with `olderThanMs: 0`; then the write goes on. Prints what the cleanup did and how the
 * write ended.
 */
const CLEAN_DURING_WRITE = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const [esmPath, cjsPath, dir, writer] = process.argv.slice(1);
const copies = { esm: await import(esmPath), cjs: createRequire(cjsPath)(cjsPath) };
const [writing, cleaning] = writer === 'esm' ? [copies.esm, copies.cjs] : [copies.cjs, copies.esm];
let release, created;
const released = new Promise((resolve) => (release = resolve));
const tempCreated = new Promise((resolve) => (created = resolve));
// A first chunk of a whole first batch (64 KiB), so that the temp file is created before the pause.
const firstHalf = 'f'.repeat(64 * 1024);
async function* data() {
  yield firstHalf;
  await released;
  yield 'second half';
}
const target = dir + '/target';
// The second open is the temp file's (the first, the directory's, held for its fsync).
let opens = 0;
const pending = writing.writeDurable(target, data(), { onStep: ({ step }) => step === 'open' && (opens += 1) === 2 && created() });
await tempCreated;
const cleanup = await cleaning.removeStaleTemps(dir, { olderThanMs: 0 });
release();
const outcome = await pending.then(() => 'resolved', (error) => error.code + ' at ' + error.stage);
console.log(JSON.stringify({
  kept: cleanup.kept.map((temp) => temp.reason),
  removed: cleanup.removed.length,
  outcome,
  content: readFileSync(target, 'utf8') === firstHalf + 'second half' ? 'both halves' : 'something else',
}));
`;

describe('the ESM and CJS builds loaded in one process share one registry of temp files in use (regression)', () => {
  it.each(['esm', 'cjs'] as const)('removeStaleTemps through one build keeps the temp file of a write in flight through the other (%s writes)', (writer) => {
    requireBuild();
    const dir = tempDir();
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', CLEAN_DURING_WRITE, distEsm, distCjs, dir, writer], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(JSON.parse(output)).toEqual({ kept: ['held'], removed: 0, outcome: 'resolved', content: 'both halves' });
  });
});
