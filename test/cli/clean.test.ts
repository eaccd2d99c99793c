/**
 * `durable-write clean DIR` on real leftovers: the temp file of a `durable-write write` killed
 * with SIGKILL while its data still streamed. Removed and listed with `--older-than 0`; listed and
 * kept with `--dry-run`; kept at the default age (15 minutes) while fresh.
 */
import { readdirSync, readFileSync, realpathSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { cli, onlyJson, startStreamingWrite } from './support/cli.js';

/** A directory holding `state`, two files of your own, and the temp file a killed writer of `state` left (with its size). */
async function killedWriter(): Promise<{ dir: string; temp: string; size: number }> {
  const dir = realpathSync(tempDir());
  writeFileSync(join(dir, 'state'), 'precious');
  const writer = await startStreamingWrite(join(dir, 'state'));
  writer.child.kill('SIGKILL');
  await writer.exited;
  writeFileSync(join(dir, 'notes.tmp'), 'mine');
  writeFileSync(join(dir, '.hidden'), 'mine');
  return { dir, temp: writer.temp, size: statSync(writer.temp).size };
}

describe('durable-write clean', () => {
  it('--older-than 0 removes the leftover of a killed writer and lists it with its size; nothing else is touched', async () => {
    const { dir, temp, size } = await killedWriter();
    expect(size).toBeGreaterThan(0);
    const result = await cli(['clean', '--older-than', '0', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^removed ${temp.replaceAll('.', '\\.')} \\(${size} bytes, \\d+ s old\\)\\n$`));
    expect(readdirSync(dir).sort()).toEqual(['.hidden', 'notes.tmp', 'state']);
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe('precious');
  });

  it('--dry-run lists what it would remove and removes nothing', async () => {
    const { dir, temp, size } = await killedWriter();
    const result = await cli(['clean', '--dry-run', '--older-than', '0s', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^would remove ${temp.replaceAll('.', '\\.')} \\(${size} bytes, `));
    expect(readdirSync(dir)).toContain(basename(temp));
  });

  it('the default age (15 minutes) keeps a fresh leftover, saying why', async () => {
    const { dir, temp } = await killedWriter();
    const result = await cli(['clean', dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^kept ${temp.replaceAll('.', '\\.')} \\(\\d+ bytes, \\d+ s old, younger than --older-than\\)\\n$`));
    expect(readdirSync(dir)).toContain(basename(temp));
    // An hour later, by the file's clock, the default removes it.
    const anHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(temp, anHourAgo, anHourAgo);
    expect((await cli(['clean', dir])).stdout).toMatch(/^removed .* \(\d+ bytes, 60 min old\)\n$/);
    expect(readdirSync(dir)).not.toContain(basename(temp));
  });

  it('--older-than takes ms, s, m, h, d and plain milliseconds', async () => {
    const { dir } = await killedWriter();
    for (const age of ['1d', '2h', '30m', '90s', '5000ms', '60000', '1.5h']) {
      const result = await cli(['clean', '--json', '--older-than', age, dir]);
      expect(result.status, age).toBe(0);
      expect(onlyJson(result.stdout)['removed'], age).toEqual([]);
    }
    expect(onlyJson((await cli(['clean', '--json', '--older-than', '1.5h', dir])).stdout)['olderThanMs']).toBe(5_400_000);
  });

  it('--json: one object with what was removed and kept', async () => {
    const { dir, temp, size } = await killedWriter();
    const result = await cli(['clean', '--json', '--older-than', '0', dir]);
    expect(result.stderr).toBe('');
    expect(onlyJson(result.stdout)).toEqual({
      command: 'clean',
      dir,
      dryRun: false,
      olderThanMs: 0,
      removed: [{ path: temp, size, ageMs: expect.any(Number) }],
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
