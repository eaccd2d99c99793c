/**
 * Starting the write worker can never crash the process or fail a write (0.2.0 did both: a
 * process's second eligible write starts the worker, and under `ulimit -v` of about 1.5 GB V8
 * aborted the whole process, "Fatal process OOM in Failed to reserve virtual memory for
 * CodeRange", where a process writing once ran fine; under the permission model without
 * `--allow-worker`, `new Worker` threw synchronously out of `writeDurable`). And the opt-out,
 * `DURABLE_WRITE_WORKER=0`, keeps the worker from ever starting. Child processes of the built
 * package, as a user runs it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { distEsm, requireBuild } from '../support/built-package.js';
import { missing } from '../support/prerequisites.js';
import { tempDir } from '../support/temp-dir.js';

/** Writes `count` times into the directory given (pausing after the second, which starts the worker), then prints `done`. */
const WRITES = `
  const { writeDurable } = await import(process.argv[1]);
  const [dir, count] = [process.argv[2], Number(process.argv[3])];
  for (let i = 0; i < count; i += 1) {
    await writeDurable(dir + '/f', 'v' + i);
    if (i === 1) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.log('done');`;

/** Runs `node [flags] -e script dist args` (under `prefix`, e.g. prlimit): its status, signal, stdout and stderr. */
function runChild(script: string, args: readonly string[], options: { prefix?: readonly string[]; flags?: readonly string[]; env?: NodeJS.ProcessEnv } = {}) {
  const node = [process.execPath, ...(options.flags ?? []), '--input-type=module', '-e', script, distEsm, ...args];
  const [command = process.execPath, ...argv] = [...(options.prefix ?? []), ...node];
  return spawnSync(command, argv, {
    encoding: 'utf8',
    timeout: 30_000,
    env: options.env ?? process.env,
  });
}

const lacking = missing({ tools: ['prlimit'] });

describe.skipIf(lacking !== undefined)(`under an address-space limit (prlimit --as)${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  // Node 20 on Linux x64 needs about 750 MiB of address space to write at all; 0.2.0's worker
  // aborted the process under each of these (it needed about 1.6 GiB in all).
  const limits = [1.0, 1.25, 1.5].map((gib) => Math.round(gib * 1024 ** 3));

  it('wherever one write works, ten writes work too: the worker starts within its limits or not at all, never aborting the process', () => {
    requireBuild();
    let tried = 0;
    for (const limit of limits) {
      const prefix = ['prlimit', `--as=${limit}`];
      const once = runChild(WRITES, [tempDir(), '1'], { prefix });
      if (once.status !== 0) continue; // this machine needs more address space than that to write at all
      tried += 1;
      const ten = runChild(WRITES, [tempDir(), '10'], { prefix });
      expect({ limit, status: ten.status, signal: ten.signal, stdout: ten.stdout, aborted: ten.stderr.includes('Fatal process OOM') }).toEqual({
        limit,
        status: 0,
        signal: null,
        stdout: 'done\n',
        aborted: false,
      });
    }
    expect(tried, 'no limit tried let even one write run: the test shows nothing').toBeGreaterThan(0);
  });
});

describe('under the permission model without --allow-worker', () => {
  // `--permission` from Node 22.13 and 23.5 on; Node 20 knows only `--experimental-permission`.
  const permission = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';

  it('no write throws synchronously, and every write ends as the first, which never needs the worker', () => {
    requireBuild();
    const script = `
      const { writeDurable } = await import(process.argv[1]);
      const outcomes = [];
      for (let i = 0; i < 4; i += 1) {
        let call;
        try {
          call = writeDurable(process.argv[2] + '/f', 'v' + i);
        } catch (error) {
          outcomes.push('threw ' + error.code);
          continue;
        }
        outcomes.push(await call.then(() => 'resolved', (error) => 'rejected ' + error.code + ' at ' + error.stage));
        if (i === 1) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      console.log(JSON.stringify(outcomes));`;
    const child = runChild(script, [tempDir()], { flags: [permission, '--allow-fs-read=*', '--allow-fs-write=*'] });
    expect(child.status, child.stderr).toBe(0);
    const outcomes = JSON.parse(child.stdout) as string[];
    // On Node 20 every write rejects at chmod (the permission model refuses fchmod), worker or not.
    expect(outcomes).toEqual(Array.from({ length: 4 }, () => outcomes[0]));
    expect(outcomes[0]).not.toMatch(/^threw/);
  });
});

describe('DURABLE_WRITE_WORKER=0', () => {
  /**
   * Starts the worker (if it may), then makes a write that fails (procfs refuses a new file) and
   * prints whether it failed on the worker: an error from there carries the worker's file in its stack.
   */
  const PROBE = `
    const { writeDurable } = await import(process.argv[1]);
    await writeDurable(process.argv[2] + '/warm', 'x');
    await writeDurable(process.argv[2] + '/warm', 'y');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const error = await writeDurable('/proc/durable-write-worker-start-' + process.pid, 'z').catch((e) => e);
    console.log(JSON.stringify({ code: error.code, onWorker: error.stack.includes('write-worker.js') }));`;

  it('keeps the worker from starting: a write fails on the calling thread, where without it the same write fails on the worker', () => {
    requireBuild();
    const off = runChild(PROBE, [tempDir()], { env: { ...process.env, DURABLE_WRITE_WORKER: '0' } });
    const on = runChild(PROBE, [tempDir()], { env: { ...process.env, DURABLE_WRITE_WORKER: '' } });
    expect([off.status, on.status]).toEqual([0, 0]);
    expect(JSON.parse(on.stdout)).toMatchObject({ onWorker: true }); // the twin: the probe sees the worker when there is one
    expect(JSON.parse(off.stdout)).toEqual({ ...(JSON.parse(on.stdout) as object), onWorker: false });
  });
});
