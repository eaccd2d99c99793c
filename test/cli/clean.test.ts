/**
 * `durable-write clean DIR` (the built command, in a child process) on real leftovers: the temp
 * file of a `durable-write write` killed with SIGKILL while its data still streamed, removed and
 * listed with `--older-than 0`, listed and kept with `--dry-run`, kept at the default age (15
 * minutes) while fresh. Never removed, whatever their age: look-alike names (issue 21), and the
 * temp file of a live writer, in another process or in a Worker thread of another process
 * (issue 20), until that writer is SIGKILLed. 0.2.0's names, and `--pid-reuse-after`.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIRST_BATCH_BYTES } from '../../src/write/data-source.js';
import { distEsm, requireBuild } from '../support/built-package.js';
import { tempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { cli, collect, onlyJson, startStreamingWrite } from './support/cli.js';

const HOUR = 3_600_000;

/** `text` as a regular expression matching itself. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Sets the file's mtime to `ageMs` ago. */
function age(path: string, ageMs: number): void {
  const when = new Date(Date.now() - ageMs);
  utimesSync(path, when, when);
}

/**
 * Waits until the temp file holds the first batch (64 KiB) of the 100 KiB fed; the writer keeps
 * the rest until more data or the end comes, so the file then stays as it is. Resolves with its size.
 */
function firstBatchWritten(temp: string): Promise<number> {
  return waitFor(`the first batch in ${temp}`, () => {
    const { size } = statSync(temp);
    return size >= FIRST_BATCH_BYTES ? size : undefined;
  });
}

/** A directory holding `state`, two files of your own, and the temp file a killed writer of `state` left (with its size and the writer's pid). */
async function killedWriter(): Promise<{ dir: string; temp: string; size: number; pid: number }> {
  const dir = realpathSync(tempDir());
  writeFileSync(join(dir, 'state'), 'precious');
  const writer = await startStreamingWrite(join(dir, 'state'));
  await firstBatchWritten(writer.temp);
  writer.child.kill('SIGKILL');
  await writer.exited;
  writeFileSync(join(dir, 'notes.tmp'), 'mine');
  writeFileSync(join(dir, '.hidden'), 'mine');
  return { dir, temp: writer.temp, size: statSync(writer.temp).size, pid: writer.child.pid ?? 0 };
}

describe('durable-write clean', () => {
  it('--older-than 0 removes the leftover of a killed writer and lists it with its size and why; nothing else is touched', async () => {
    const { dir, temp, size, pid } = await killedWriter();
    expect(size).toBeGreaterThan(0);
    expect(basename(temp)).toMatch(new RegExp(`^\\.state\\.${pid}\\.[0-9a-f]{12}\\.dwtmp$`));
    const result = await cli(['clean', '--older-than', '0', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^removed ${literal(temp)} \\(${size} bytes, \\d+ s old, writer pid ${pid} is not running\\)\\n$`));
    expect(readdirSync(dir).sort()).toEqual(['.hidden', 'notes.tmp', 'state']);
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe('precious');
  });

  it('--dry-run lists what it would remove and removes nothing', async () => {
    const { dir, temp, size } = await killedWriter();
    const result = await cli(['clean', '--dry-run', '--older-than', '0s', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^would remove ${literal(temp)} \\(${size} bytes, `));
    expect(readdirSync(dir)).toContain(basename(temp));
  });

  it('the default age (15 minutes) keeps a fresh leftover, saying why', async () => {
    const { dir, temp, pid } = await killedWriter();
    const result = await cli(['clean', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^kept ${literal(temp)} \\(\\d+ bytes, \\d+ s old, younger than --older-than\\)\\n$`));
    expect(readdirSync(dir)).toContain(basename(temp));
    // An hour later, by the file's clock, the default removes it.
    age(temp, HOUR);
    expect((await cli(['clean', dir])).stdout).toMatch(new RegExp(`^removed .* \\(\\d+ bytes, 60 min old, writer pid ${pid} is not running\\)\\n$`));
    expect(readdirSync(dir)).not.toContain(basename(temp));
  });

  it('--older-than takes ms, s, m, h, d and plain milliseconds', async () => {
    const { dir } = await killedWriter();
    for (const value of ['1d', '2h', '30m', '90s', '5000ms', '60000', '1.5h']) {
      const result = await cli(['clean', '--json', '--older-than', value, dir]);
      expect(result.status, value).toBe(0);
      expect(onlyJson(result.stdout)['removed'], value).toEqual([]);
    }
    expect(onlyJson((await cli(['clean', '--json', '--older-than', '1.5h', dir])).stdout)['olderThanMs']).toBe(5_400_000);
  });

  it('--json: one object with what was removed and kept, each with its pid and reason', async () => {
    const { dir, temp, size, pid } = await killedWriter();
    const result = await cli(['clean', '--json', '--older-than', '0', dir]);
    expect(result.stderr).toBe('');
    expect(onlyJson(result.stdout)).toEqual({
      command: 'clean',
      dir,
      dryRun: false,
      olderThanMs: 0,
      pidReuseAfterMs: 24 * HOUR,
      removed: [{ path: temp, size, ageMs: expect.any(Number), pid, reason: 'writer-dead' }],
      kept: [],
    });
  });

  it('a directory that does not exist: exit 1 with ENOENT, stage stat, and its path', async () => {
    const dir = join(realpathSync(tempDir()), 'nope');
    const result = await cli(['clean', dir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^durable-write clean: ENOENT, stage stat, path ${dir}: `));
  });

  it('an empty directory: says so', async () => {
    const dir = tempDir();
    expect(await cli(['clean', dir])).toMatchObject({ status: 0, stdout: `no temp files in ${dir}\n` });
  });
});

describe('durable-write clean never removes what is not a dead writer\'s', () => {
  it('issue 21: look-alike names, however old, even with --older-than 0', async () => {
    const dir = realpathSync(tempDir());
    const mine = ['.report.20241231.tmp', '.session.cafebabe.tmp', '.notes.0123456789AB.tmp', '.cache.12345.89abcdef.dwtmp', 'report.tmp'];
    for (const name of mine) {
      writeFileSync(join(dir, name), 'user data');
      age(join(dir, name), 30 * 24 * HOUR);
    }
    for (const args of [['--older-than', '0'], ['--older-than', '0', '--pid-reuse-after', '0'], ['--dry-run', '--older-than', '0']]) {
      expect(await cli(['clean', ...args, dir]), args.join(' ')).toMatchObject({ status: 0, stdout: `no temp files in ${dir}\n` });
    }
    expect(readdirSync(dir).sort()).toEqual([...mine].sort());
  });

  it('issue 20: the temp file of a live writer in another process, whatever its age; SIGKILLed, it goes', async () => {
    const dir = realpathSync(tempDir());
    writeFileSync(join(dir, 'state'), 'precious');
    const writer = await startStreamingWrite(join(dir, 'state'));
    const pid = writer.child.pid ?? 0;
    try {
      const size = await firstBatchWritten(writer.temp);
      age(writer.temp, 2 * HOUR);
      const expected = `kept ${writer.temp} (${size} bytes, 2 h old, writer pid ${pid} is running)\n`;
      expect(await cli(['clean', dir])).toMatchObject({ status: 0, stdout: expected });
      expect(await cli(['clean', '--older-than', '0', dir])).toMatchObject({ status: 0, stdout: expected });
      expect(await cli(['clean', '--dry-run', '--older-than', '0', dir])).toMatchObject({ status: 0, stdout: expected });
      expect(onlyJson((await cli(['clean', '--json', '--older-than', '0', dir])).stdout)).toMatchObject({
        removed: [],
        kept: [{ path: writer.temp, size, ageMs: expect.any(Number), pid, reason: 'writer-alive' }],
      });
      expect(readdirSync(dir)).toContain(basename(writer.temp));
    } finally {
      writer.child.kill('SIGKILL');
    }
    expect((await writer.exited).signal).toBe('SIGKILL');
    const result = await cli(['clean', dir]);
    expect(result.stdout).toMatch(new RegExp(`^removed ${literal(writer.temp)} \\(\\d+ bytes, 2 h old, writer pid ${pid} is not running\\)\\n$`));
    expect(readdirSync(dir)).toEqual(['state']);
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe('precious');
  });

  it('issue 20: the temp file of a write in a Worker thread of another process, which then commits', async () => {
    requireBuild();
    const dir = realpathSync(tempDir());
    writeFileSync(join(dir, 'state'), 'old');
    // A process whose Worker thread writes `state` from a stream that waits for a line on stdin.
    const script = `
      import { Worker } from 'node:worker_threads';
      // An eval Worker inherits --input-type=module: its code is a module too.
      const worker = new Worker(\`
        import { parentPort, workerData } from 'node:worker_threads';
        import { Readable } from 'node:stream';
        const { writeDurable } = await import(workerData.lib);
        const data = new Readable({ read() {} });
        data.push(Buffer.alloc(100 * 1024, 0x61));
        parentPort.once('message', () => { data.push('end'); data.push(null); });
        writeDurable(workerData.target, data).then(
          (result) => parentPort.postMessage('resolved ' + result.bytesWritten),
          (error) => parentPort.postMessage('rejected ' + error.stage + ' ' + error.code),
        );
      \`, { eval: true, workerData: { lib: process.argv[1], target: process.argv[2] } });
      worker.once('message', (outcome) => { console.log(outcome); process.exit(0); });
      worker.once('error', (error) => { console.error(error); process.exit(1); });
      process.stdin.once('data', () => worker.postMessage('end'));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(distEsm).href, join(dir, 'state')], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = collect(child);
    try {
      const temp = await waitFor('the Worker\'s temp file', () => readdirSync(dir).find((name) => name.endsWith('.dwtmp')));
      expect(temp).toMatch(new RegExp(`^\\.state\\.${child.pid ?? 0}\\.[0-9a-f]{12}\\.dwtmp$`));
      const size = await firstBatchWritten(join(dir, temp));
      age(join(dir, temp), 2 * HOUR);
      const result = await cli(['clean', '--older-than', '0', dir]);
      expect(result).toMatchObject({ status: 0, stdout: `kept ${join(dir, temp)} (${size} bytes, 2 h old, writer pid ${child.pid ?? 0} is running)\n` });
      child.stdin.write('go\n');
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    expect(await exited).toMatchObject({ status: 0, stdout: `resolved ${100 * 1024 + 3}\n` });
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe(`${'a'.repeat(100 * 1024)}end`);
    expect(readdirSync(dir)).toEqual(['state']);
  });
});

describe('durable-write clean: 0.2.0 names, and --pid-reuse-after', () => {
  it("removes 0.2.0's leftovers by age alone, saying so", async () => {
    const dir = realpathSync(tempDir());
    writeFileSync(join(dir, '.state.json.3f9a0c12be47.tmp'), 'partial');
    age(join(dir, '.state.json.3f9a0c12be47.tmp'), HOUR);
    expect(await cli(['clean', dir])).toMatchObject({
      status: 0,
      stdout: `removed ${dir}/.state.json.3f9a0c12be47.tmp (7 bytes, 60 min old, a 0.2.0 name, without a pid: age is the only guard)\n`,
    });
  });

  it('a running pid is trusted for --pid-reuse-after (default 24h), and not past it', async () => {
    const dir = realpathSync(tempDir());
    // pid 1 always runs: init, or a container's first process.
    const name = '.state.1.0123456789ab.dwtmp';
    writeFileSync(join(dir, name), 'partial');
    age(join(dir, name), 2 * HOUR);
    expect((await cli(['clean', dir])).stdout).toBe(`kept ${dir}/${name} (7 bytes, 2 h old, writer pid 1 is running)\n`);
    expect((await cli(['clean', '--pid-reuse-after', '1h', '--dry-run', dir])).stdout).toMatch(/^would remove .* \(7 bytes, 2 h old, pid 1 runs, but the file is older than --pid-reuse-after or than that process: the pid was reused\)\n$/);
    expect(onlyJson((await cli(['clean', '--json', '--pid-reuse-after', '90m', dir])).stdout)).toMatchObject({
      pidReuseAfterMs: 90 * 60_000,
      removed: [{ path: join(dir, name), pid: 1, reason: 'pid-reused' }],
    });
    expect(readdirSync(dir)).toEqual([]);
    expect(await cli(['clean', '--pid-reuse-after', 'soon', dir])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining("--pid-reuse-after must be a duration such as 15m, 90s, 2h, 1d, 500ms, or milliseconds; received 'soon'"),
    });
  });
});
