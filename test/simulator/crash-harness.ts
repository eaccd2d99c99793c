/**
 * The crash-consistency harness of the property tests: runs a sequence of writes of one file
 * through a writer (writeDurable, or a naive twin) on the crash simulator and checks, before every
 * file-system call, after the last one, in every explored crash state, and after an actual power
 * cut at a chosen call (then again after writing on the rebooted simulator), that the file holds
 * exactly one complete version, never empty, never torn, and never older than a write whose
 * promise had resolved.
 */
import { constants } from 'node:fs';
import { posix } from 'node:path';
import fc from 'fast-check';
import { createCrashSimulator, type CrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';

/** How one write hands its data and options over (writers that do not care ignore them). */
export interface WriteStep {
  /** Index of the version written (versions start at 1; 0 is the initial file, if any). */
  readonly version: number;
  readonly shape: 'string' | 'buffer' | 'chunks';
  readonly api: 'async' | 'sync';
  readonly flush: 'fsync' | 'fdatasync';
  /** Start this write together with the previous one, without awaiting it (async only). */
  readonly concurrent: boolean;
}

/** A whole scenario: the target, the initial state, the writes, where the power fails. */
export interface Scenario {
  /** `/data/state.json`, or a path under directories that do not exist yet (createParents). */
  readonly nested: boolean;
  readonly initialFile: boolean;
  readonly sectorSize: number | undefined;
  readonly padding: number;
  readonly steps: readonly WriteStep[];
  /** The index of the file-system call at which the power fails (modulo the number of calls). */
  readonly cutAt: number;
}

/** What a writer writes: the file's full content, in one of three shapes. */
export type WriteInput = string | Buffer | readonly string[];

/** A way of replacing the file's content (the library's, or a naive one). */
export type Writer = (sim: CrashSimulator, path: string, data: WriteInput, step: WriteStep) => Promise<void>;

/** A power cut injected by the harness at one call: every later call fails with it too. */
class PowerCut extends Error {
  constructor() {
    super('simulated power cut');
  }
}

/** The content of version `n`: a header naming it, padding, and an end marker. */
export function versionContent(version: number, padding: number): string {
  return `<v${version}:${'x'.repeat(padding + (version % 3) * 7)}:v${version}>`;
}

function input(content: string, shape: WriteStep['shape']): WriteInput {
  if (shape === 'buffer') return Buffer.from(content);
  if (shape === 'chunks') {
    const middle = Math.floor(content.length / 2);
    return [content.slice(0, middle), content.slice(middle)];
  }
  return content;
}

export const writeStepArbitrary: fc.Arbitrary<WriteStep> = fc.record({
  version: fc.constant(0),
  shape: fc.constantFrom('string' as const, 'buffer' as const, 'chunks' as const),
  api: fc.constantFrom('async' as const, 'sync' as const),
  flush: fc.constantFrom('fsync' as const, 'fdatasync' as const),
  concurrent: fc.boolean(),
});

export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .record({
    nested: fc.boolean(),
    initialFile: fc.boolean(),
    sectorSize: fc.constantFrom(undefined, 8),
    padding: fc.integer({ min: 0, max: 12 }),
    steps: fc.array(writeStepArbitrary, { minLength: 1, maxLength: 5 }),
    cutAt: fc.integer({ min: 1, max: 90 }),
  })
  .map((scenario) => ({
    ...scenario,
    initialFile: scenario.initialFile && !scenario.nested,
    steps: scenario.steps.map((step, index) => ({ ...step, version: index + 1 })),
  }));

/** Scenarios a naive writer could pass: an existing directory, one write at a time. */
export const sequentialScenarioArbitrary: fc.Arbitrary<Scenario> = scenarioArbitrary.map((scenario) => ({
  ...scenario,
  nested: false,
  steps: scenario.steps.map((step) => ({ ...step, concurrent: false })),
}));

/** The file the scenario writes. */
function targetOf(scenario: Scenario): string {
  return scenario.nested ? '/data/new/deeper/state.json' : '/data/state.json';
}

/**
 * Runs `scenario` with `writer` and throws an Error describing the first violation, if any.
 * Checked: before every call and after the last, every explored crash state (with `model`
 * `'simple'`, only the first, which is the simple model's: every unflushed change lost); then, after a real power cut at call `cutAt`, the rebooted state; then
 * the rebooted simulator gets one more write, checked the same way.
 */
export async function checkScenario(scenario: Scenario, writer: Writer, model: 'explore' | 'simple' = 'explore'): Promise<void> {
  const target = targetOf(scenario);
  const versions = [versionContent(0, scenario.padding), ...scenario.steps.map((s) => versionContent(s.version, scenario.padding))];
  const sim = createCrashSimulator({
    directories: ['/data'],
    ...(scenario.initialFile ? { files: { [target]: versions[0] as string } } : {}),
    ...(scenario.sectorSize === undefined ? {} : { sectorSize: scenario.sectorSize }),
    maxCrashStates: 100_000,
  });
  // The newest version whose promise resolved (or that was durable at the start); -1: none.
  let resolved = scenario.initialFile ? 0 : -1;
  // The newest version whose write was started.
  let started = resolved;
  let calls = 0;
  let dead = false;

  const verify = (content: Buffer | undefined, where: string): void => {
    if (content === undefined) {
      if (resolved >= 0) throw new Error(`${where}: ${target} is missing, though version ${resolved} had been made durable`);
      return;
    }
    const text = content.toString('utf8');
    const version = versions.indexOf(text);
    if (version < 0) throw new Error(`${where}: ${target} holds ${JSON.stringify(text)}: not one complete version (empty or torn)`);
    if (version < resolved) throw new Error(`${where}: ${target} holds version ${version}, older than version ${resolved} whose write had resolved`);
    if (version > started) throw new Error(`${where}: ${target} holds version ${version}, which was never written`);
  };
  // The first violation; once found, every later call fails with it, so that the writer's own
  // clean-up cannot hide it behind another error.
  let violation: Error | undefined;
  const verifyAllStates = (where: string): void => {
    if (violation !== undefined) throw violation;
    try {
      for (const state of sim.crashStates()) {
        verify(state.readFile(target), `${where}, crash state {${state.describe()}}`);
        if (model === 'simple') break; // the first explored state is the simple model's
      }
    } catch (error) {
      violation = error instanceof Error ? error : new Error(String(error));
      throw violation;
    }
  };
  const watch = (current: CrashSimulator): void => {
    current.onOperation((entry) => {
      if (violation !== undefined) throw violation;
      if (dead) throw new PowerCut();
      calls += 1;
      verifyAllStates(`before call ${calls} (${entry.syscall} ${entry.path ?? ''})`);
      if (calls === scenario.cutAt) {
        dead = true;
        throw new PowerCut();
      }
    });
  };
  watch(sim);

  const runWrite = (step: WriteStep): Promise<void> => {
    started = Math.max(started, step.version);
    const data = input(versions[step.version] as string, step.shape);
    return writer(sim, target, data, step).then(() => {
      if (!dead) resolved = Math.max(resolved, step.version);
    });
  };

  const settle = async (pending: Promise<void>[]): Promise<void> => {
    const results = await Promise.allSettled(pending);
    if (violation !== undefined) throw violation;
    for (const result of results) {
      if (result.status === 'rejected' && !dead) throw result.reason;
    }
  };

  let inFlight: Promise<void>[] = [];
  for (const step of scenario.steps) {
    if (!(step.concurrent && step.api === 'async')) await settle(inFlight.splice(0));
    inFlight.push(runWrite(step).catch((error: unknown) => {
      if (violation !== undefined) throw violation;
      if (!(dead || error instanceof PowerCut)) throw error;
    }));
  }
  await settle(inFlight.splice(0));
  if (!dead) {
    verifyAllStates('after the last write');
    return;
  }

  // The power failed at call `cutAt`: reboot on the durable state and check it.
  sim.crash();
  try {
    verify(sim.readFile(target), `after a power cut at call ${scenario.cutAt}`);
  } catch (error) {
    violation = error as Error;
    throw error;
  }
  // The next boot writes again, over whatever temporary files the cut left behind.
  dead = false;
  const survivor = sim.readFile(target);
  const survived = survivor === undefined ? -1 : versions.indexOf(survivor.toString('utf8'));
  resolved = Math.max(resolved, survived);
  const next = createRebootedVersion(versions, scenario.padding);
  started = next;
  const last = scenario.steps[scenario.steps.length - 1] as WriteStep;
  await writer(sim, target, versions[next] as string, { ...last, version: next, concurrent: false }).catch((error: unknown) => {
    throw violation ?? error;
  });
  resolved = next;
  verifyAllStates('after a write on the rebooted machine');
}

function createRebootedVersion(versions: string[], padding: number): number {
  versions.push(versionContent(versions.length, padding));
  return versions.length - 1;
}

/** Opens the directory `dir` and fsyncs it, through the simulator (for the writers below). */
export async function fsyncDirectory(sim: CrashSimulator, dir: string): Promise<void> {
  const handle = await sim.fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `fs.writeFile`-style twin: open 'w' (truncate), write, close; no fsync at all. */
export const writeFileStyle: Writer = async (sim, path, data) => {
  await sim.fs.mkdir(posix.dirname(path), { recursive: true });
  await sim.fs.writeFile(path, typeof data === 'string' || Buffer.isBuffer(data) ? data : data.join(''));
};

/** write-file-atomic-style twin: temp file, write, fsync, close, rename; no directory fsync. */
export const renameWithoutDirectoryFsync: Writer = async (sim, path, data) => {
  await sim.fs.mkdir(posix.dirname(path), { recursive: true });
  const tmp = `${path}.${Math.random().toString(16).slice(2)}.tmp`;
  const handle = await sim.fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  await handle.writeFile(typeof data === 'string' || Buffer.isBuffer(data) ? data : data.join(''));
  await handle.sync();
  await handle.close();
  await sim.fs.rename(tmp, path);
};

/**
 * In-place overwrite, flushed: open 'w' (truncate), write, fsync, close, fsync the directory.
 * Every flush is there, so the simple crash model (all unflushed changes lost) never sees a bad
 * state; only the exploring model finds the state where the truncation reached the disk and the
 * new data did not (an empty file).
 */
export const overwriteInPlaceWithFsync: Writer = async (sim, path, data) => {
  await sim.fs.mkdir(posix.dirname(path), { recursive: true });
  const handle = await sim.fs.open(path, 'w');
  await handle.writeFile(typeof data === 'string' || Buffer.isBuffer(data) ? data : data.join(''));
  await handle.sync();
  await handle.close();
  await fsyncDirectory(sim, posix.dirname(path));
};

/** The zero-length-file bug: temp file, write, close, rename, directory fsync; no fsync of the file. */
export const renameWithoutFileFsync: Writer = async (sim, path, data) => {
  await sim.fs.mkdir(posix.dirname(path), { recursive: true });
  const tmp = `${path}.${Math.random().toString(16).slice(2)}.tmp`;
  const handle = await sim.fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  await handle.writeFile(typeof data === 'string' || Buffer.isBuffer(data) ? data : data.join(''));
  await handle.close();
  await sim.fs.rename(tmp, path);
  await fsyncDirectory(sim, posix.dirname(path));
};
