/**
 * The pending file (`openDurable` + a third-party writer that only takes a path + `commit()`) and
 * the durable write stream on the crash simulator, under the same harness as writeDurable: for
 * random sequences of writes, before every file-system call, after the last, in every explored
 * crash state and after a real power cut followed by a write on the rebooted machine, the file
 * holds exactly one complete version. The writes are sequential: a pending file is ordered by
 * its commit() (the last commit wins), not by when it was opened, which the harness's concurrent
 * steps would assume; test/write-durable/open-durable.test.ts checks commit order.
 * Twin: the same third-party writer writing a temp path and
 * renaming it itself (the ~12 hand-written lines the pending file replaces, without its flushes)
 * is caught.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDurable } from '../../src/write/open-durable.js';
import { createDurableWriteStream } from '../../src/write/write-stream.js';
import { checkScenario, sequentialScenarioArbitrary, type WriteInput, type Writer } from './crash-harness.js';

const FIXED_SEED = 20_261_122;
const fromEnvironment = process.env['FC_SEED'];
const randomSeed = fromEnvironment !== undefined && fromEnvironment !== '' ? Number(fromEnvironment) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const RUNS = 100;

const text = (data: WriteInput): string | Buffer => (typeof data === 'string' || Buffer.isBuffer(data) ? data : data.join(''));

/** A third-party writer that only takes a path writes the pending file's tmpPath (twice: it truncates and rewrites), then commit(). */
const pendingWithThirdParty: Writer = async (sim, path, data, step) => {
  const pending = await openDurable(path, { fs: sim.fs, flush: step.flush, createParents: true });
  try {
    await sim.fs.writeFile(pending.tmpPath, 'draft that the writer replaces');
    await sim.fs.writeFile(pending.tmpPath, text(data));
    await pending.commit();
  } finally {
    await pending.discard();
  }
};

/** The caller writes through the pending file itself, chunk by chunk. */
const pendingWrites: Writer = async (sim, path, data, step) => {
  const pending = await openDurable(path, { fs: sim.fs, flush: step.flush, createParents: true });
  try {
    for (const chunk of typeof data === 'string' || Buffer.isBuffer(data) ? [data] : data) await pending.write(chunk);
    await pending.commit();
  } finally {
    await pending.discard();
  }
};

const durableStream: Writer = async (sim, path, data, step) => {
  await pipeline(Readable.from(typeof data === 'string' || Buffer.isBuffer(data) ? [data] : [...data]), createDurableWriteStream(path, { fs: sim.fs, flush: step.flush, createParents: true }));
};

/** The twin: a temp path written by the third party and renamed by hand, with no flush. */
const thirdPartyThenRename: Writer = async (sim, path, data) => {
  const tmp = `${path}.partial`;
  await sim.fs.writeFile(tmp, text(data));
  await sim.fs.rename(tmp, path);
};

const survives = (writer: Writer) => fc.asyncProperty(sequentialScenarioArbitrary, (scenario) => checkScenario(scenario, writer));

describe.each([
  ['openDurable + a third-party writer + commit()', pendingWithThirdParty],
  ['openDurable + write() + commit()', pendingWrites],
  ['createDurableWriteStream in a pipeline', durableStream],
])('%s survives a crash at every point, in every explored crash state', (_name, writer) => {
  it(`fixed seed ${FIXED_SEED}`, async () => {
    await fc.assert(survives(writer), { seed: FIXED_SEED, numRuns: RUNS });
  }, 60_000);

  it(`random seed ${randomSeed} (rerun with FC_SEED=${randomSeed})`, async () => {
    await fc.assert(survives(writer), { seed: randomSeed, numRuns: RUNS });
  }, 60_000);
});

describe('twin: the same harness catches the hand-rolled version', () => {
  it('a third-party writer writing a temp path and renaming it itself loses or tears the file', async () => {
    const result = await fc.check(survives(thirdPartyThenRename), { seed: FIXED_SEED, numRuns: RUNS });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(/missing|not one complete version|older than/);
  }, 60_000);
});
