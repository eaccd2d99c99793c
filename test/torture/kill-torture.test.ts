/**
 * The kill -9 torture test (issue 13, part 4): writer processes replacing the same files with the
 * built package's `writeDurable` are SIGKILLed at random instants and restarted while a reader
 * process checks every read; no read may be torn, short or empty, and `removeStaleTemps` must
 * clear every temp file the killed writers left. Its twin runs the same harness with
 * `fs.writeFileSync` in place and must see bad reads, or the harness would be blind.
 *
 * Environment: TORTURE_SECONDS (each durable run, default 8 and 7), TORTURE_TWIN_SECONDS (6),
 * TORTURE_WRITERS (8), TORTURE_FILES (4), TORTURE_READERS (1), TORTURE_KILL_MEAN_MS (100),
 * TORTURE_SEED (the seed of the second durable run, random by default and shown in its name).
 * The standalone runner is test/torture/run.mjs. See the harness in harness.mjs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { requireBuild } from '../support/built-package.js';
import { durableProblems, envNumber, randomSeed, runTorture, summarize, twinProblems, type TortureOptions, type TortureResult } from './harness.mjs';

const FIXED_SEED = 1313;
const RANDOM_SEED = envNumber('TORTURE_SEED', randomSeed()) >>> 0;
const explicitSeconds = process.env['TORTURE_SECONDS'] !== undefined && process.env['TORTURE_SECONDS'] !== '';
const FIXED_SECONDS = envNumber('TORTURE_SECONDS', 8);
const RANDOM_SECONDS = explicitSeconds ? FIXED_SECONDS : 7;
const TWIN_SECONDS = envNumber('TORTURE_TWIN_SECONDS', 6);

function options(mode: TortureOptions['mode'], seed: number, seconds: number): TortureOptions {
  return {
    mode,
    seed,
    seconds,
    writers: envNumber('TORTURE_WRITERS', 8),
    files: envNumber('TORTURE_FILES', 4),
    readers: envNumber('TORTURE_READERS', 1),
    killMeanMs: envNumber('TORTURE_KILL_MEAN_MS', 100),
  };
}

/** Time for the run, its writers' start-up (up to 30 s on a loaded machine) and the cleanup. */
const timeout = (seconds: number): number => (seconds + 90) * 1000;

function expectDurable(result: TortureResult): void {
  console.log(summarize(result));
  // The whole list first, so that a failure shows every problem and its samples.
  expect(durableProblems(result)).toEqual([]);
  expect(result.kills).toBeGreaterThan(0);
  expect(result.writesCompleted).toBeGreaterThan(0);
  expect(result.readsChecked).toBeGreaterThan(0);
  expect(result.badReads).toBe(0);
  expect(result.emptyReads).toBe(0);
  expect(result.missingAfterSeen).toBe(0);
  expect(result.finalFilesOk).toBe(result.finalFiles.length);
  expect(result.tempsRemoved).toBe(result.tempsBeforeCleanup);
  expect(result.leftover).toEqual([]);
  expect(result.remaining).toEqual(result.finalFiles.map((file) => file.name));
}

describe('kill -9 torture: writers SIGKILLed at random instants, a reader checking every read', () => {
  beforeAll(() => {
    requireBuild();
  });

  it(
    `writeDurable, fixed seed ${FIXED_SEED}: no torn, short or empty read; removeStaleTemps leaves only the targets`,
    async () => {
      expectDurable(await runTorture(options('durable', FIXED_SEED, FIXED_SECONDS)));
    },
    timeout(FIXED_SECONDS),
  );

  it(
    `writeDurable, random seed ${RANDOM_SEED} (repeat with TORTURE_SEED=${RANDOM_SEED}): no torn, short or empty read; no temp file left`,
    async () => {
      expectDurable(await runTorture(options('durable', RANDOM_SEED, RANDOM_SECONDS)));
    },
    timeout(RANDOM_SECONDS),
  );

  it(
    `the naive twin, fs.writeFileSync in place (seed ${FIXED_SEED}): the same harness sees torn, short or empty reads`,
    async () => {
      const result = await runTorture(options('naive', FIXED_SEED, TWIN_SECONDS));
      console.log(summarize(result));
      expect(twinProblems(result)).toEqual([]);
      expect(result.writesCompleted).toBeGreaterThan(0);
      expect(result.badReads).toBeGreaterThan(0);
    },
    timeout(TWIN_SECONDS),
  );
});
