/**
 * Property test of appendDurable and appendDurableSync on the crash simulator (which models
 * O_APPEND writes): for random sequences of appends (async or sync, fsync or fdatasync, some
 * concurrent; to an existing file, a new one, or one under directories that do not exist yet;
 * with or without torn sector writes), before every file-system call and after the last, in
 * every explored crash state, the file begins with every byte of every append whose promise had
 * resolved (and of the file's content before them). What lies beyond that may be anything: a
 * torn tail is the later part's (recovery of logs).
 *
 * The twin: `fs.appendFile` without a flush, run through the same check, leaves a crash state
 * missing an acknowledged record.
 *
 * Seeds: a fixed one, and a random one named in the test. Reproduce with
 * `FC_SEED=<seed> npx vitest run test/write-durable/append-durable-crash.test.ts`; raise the runs
 * with `APPEND_CRASH_RUNS`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendDurable, appendDurableSync } from '../../src/write/append-durable.js';
import { createCrashSimulator, type CrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';

const FIXED_SEED = 20_261_207;
const fromEnvironment = process.env['FC_SEED'];
const randomSeed = fromEnvironment !== undefined && fromEnvironment !== '' ? Number(fromEnvironment) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const RUNS = Number(process.env['APPEND_CRASH_RUNS'] ?? 60);

interface AppendStep {
  readonly api: 'async' | 'sync';
  readonly flush: 'fsync' | 'fdatasync';
  /** Started together with the previous append, without awaiting it (async only). */
  readonly concurrent: boolean;
  readonly length: number;
}

interface AppendScenario {
  readonly start: 'existing' | 'absent' | 'nested';
  readonly sectorSize: number | undefined;
  readonly steps: readonly AppendStep[];
}

type Appender = (sim: CrashSimulator, path: string, record: string, step: AppendStep) => Promise<void>;

const scenarios: fc.Arbitrary<AppendScenario> = fc.record({
  start: fc.constantFrom('existing' as const, 'absent' as const, 'nested' as const),
  sectorSize: fc.constantFrom(undefined, 8),
  steps: fc.array(
    fc.record({
      api: fc.constantFrom('async' as const, 'sync' as const),
      flush: fc.constantFrom('fsync' as const, 'fdatasync' as const),
      concurrent: fc.boolean(),
      length: fc.integer({ min: 1, max: 12 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

/** Record `index`: a line naming itself, `length` letters long before its end marker. */
function record(index: number, length: number): string {
  return `<${index}:${'r'.repeat(length)}>\n`;
}

/** Runs `scenario` with `appender`; throws the first violation. */
async function checkAppends(scenario: AppendScenario, appender: Appender): Promise<void> {
  const target = scenario.start === 'nested' ? '/data/logs/today/events.log' : '/data/events.log';
  const initial = scenario.start === 'existing' ? 'header\n' : '';
  const sim = createCrashSimulator({
    directories: ['/data'],
    ...(scenario.start === 'existing' ? { files: { [target]: initial } } : {}),
    ...(scenario.sectorSize === undefined ? {} : { sectorSize: scenario.sectorSize }),
    maxCrashStates: 100_000,
  });
  const records = scenario.steps.map((step, index) => record(index, step.length));
  // The newest record whose promise resolved: appends land in call order, so every record up to it is acknowledged.
  let acknowledged = -1;
  let violation: Error | undefined;
  const check = (where: string): void => {
    if (violation !== undefined) return;
    const durable = initial + records.slice(0, acknowledged + 1).join('');
    if (durable === '') return;
    for (const state of sim.crashStates()) {
      const text = state.readFile(target)?.toString('utf8');
      if (text === undefined || !text.startsWith(durable)) {
        violation = new Error(
          `${where}, crash state {${state.describe()}}: ${target} holds ${JSON.stringify(text)}, not beginning with the acknowledged ${JSON.stringify(durable)}`,
        );
        return;
      }
    }
  };
  let calls = 0;
  sim.onOperation((entry) => {
    calls += 1;
    check(`before call ${calls} (${entry.syscall} ${entry.path ?? ''})`);
  });
  let inFlight: Promise<void>[] = [];
  for (const [index, step] of scenario.steps.entries()) {
    if (!(step.concurrent && step.api === 'async')) await Promise.all(inFlight.splice(0));
    inFlight.push(
      appender(sim, target, records[index] as string, step).then(() => {
        acknowledged = Math.max(acknowledged, index);
        check(`once record ${index} resolved`);
      }),
    );
  }
  await Promise.all(inFlight);
  check('after the last append');
  if (violation !== undefined) throw violation;
  expect(sim.readFile(target)?.toString('utf8')).toBe(initial + records.join(''));
}

const library: Appender = async (sim, path, text, step) => {
  const options = { fs: sim.fs, flush: step.flush, createParents: true } as const;
  if (step.api === 'sync') appendDurableSync(path, text, options);
  else await appendDurable(path, text, options);
};

/** The naive way: `fs.appendFile`, no flush (parents made as the scenario needs, durably, so only the append is naive). */
const naive: Appender = async (sim, path, text) => {
  if (path.includes('/logs/')) await appendDurable(path, '', { fs: sim.fs, createParents: true }).catch(() => undefined);
  await sim.fs.appendFile(path, text);
};

const holds = (appender: Appender) => fc.asyncProperty(scenarios, (scenario) => checkAppends(scenario, appender));

describe('appendDurable: every acknowledged byte survives a crash at every point, in every explored crash state', () => {
  it(`fixed seed ${FIXED_SEED}`, async () => {
    await fc.assert(holds(library), { seed: FIXED_SEED, numRuns: RUNS });
  }, 60_000);

  it(`random seed ${randomSeed} (rerun with FC_SEED=${randomSeed})`, async () => {
    await fc.assert(holds(library), { seed: randomSeed, numRuns: RUNS });
  }, 60_000);

  it('twin: fs.appendFile without a flush loses an acknowledged record', async () => {
    const result = await fc.check(holds(naive), { seed: FIXED_SEED, numRuns: RUNS });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/not beginning with the acknowledged/);
  }, 60_000);
});
