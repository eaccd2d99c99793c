/**
 * `durable-write sync [PATH...]`, the built command under `strace -f` (which follows the
 * coreutils `sync` child): sync(2) without PATH, syncfs(2) per PATH; every PATH attempted, exit 1
 * with the errno code for one that fails.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { tempDir } from '../support/temp-dir.js';
import { onlyJson, straceCli } from './support/cli.js';

const lacking = missing({ tools: ['strace', 'sync'] });

/** The successful sync() and syncfs() calls of a trace, in order. */
function flushes(trace: string): string[] {
  return [...trace.matchAll(/^\d+\s+(sync\(\)|syncfs\(\d+\))\s+= 0$/gm)].map((match) => (match[1] ?? '').replace(/\(\d+\)/, '(fd)'));
}

describe.skipIf(lacking !== undefined)(`durable-write sync under strace${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  it('without PATH: sync() = 0, no syncfs; prints it with its time, exit 0', async () => {
    const result = await straceCli('sync,syncfs', ['sync']);
    expect(result.status).toBe(0);
    expect(flushes(result.trace)).toEqual(['sync()']);
    expect(result.stdout).toMatch(/^sync\(\): done in [\d.]+ m?s\n$/);
    expect(result.stderr).toBe('');
  });

  it('with PATHs: one syncfs(fd) = 0 per PATH, in order, no sync(); each printed with its time', async () => {
    const [a, b] = [realpathSync(tempDir()), realpathSync(tempDir())];
    const result = await straceCli('sync,syncfs', ['sync', a, b]);
    expect(result.status).toBe(0);
    expect(flushes(result.trace)).toEqual(['syncfs(fd)', 'syncfs(fd)']);
    expect(result.stdout).toMatch(new RegExp(`^syncfs\\(${a}\\): done in [\\d.]+ m?s\\nsyncfs\\(${b}\\): done in [\\d.]+ m?s\\n$`));
  });

  it('a missing PATH: exit 1 with ENOENT, stage syncfs and the path; the other PATHs are still flushed', async () => {
    const dir = realpathSync(tempDir());
    const missingPath = join(dir, 'nope');
    const result = await straceCli('sync,syncfs', ['sync', missingPath, dir]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^durable-write sync: ENOENT, stage syncfs, path ${missingPath}: `));
    expect(flushes(result.trace)).toEqual(['syncfs(fd)']);
    expect(result.stdout).toMatch(new RegExp(`^syncfs\\(${dir}\\): done in`));
  });

  it('--json: one object on stdout listing every flush; the failure also as one JSON line on stderr', async () => {
    const dir = realpathSync(tempDir());
    const result = await straceCli('sync,syncfs', ['sync', '--json', join(dir, 'nope'), dir]);
    expect(result.status).toBe(1);
    const report = onlyJson(result.stdout);
    expect(report).toMatchObject({
      command: 'sync',
      ok: false,
      flushes: [
        { call: 'syncfs', path: join(dir, 'nope'), ok: false, error: { code: 'ENOENT', stage: 'syncfs', path: join(dir, 'nope') } },
        { call: 'syncfs', path: dir, ok: true },
      ],
    });
    expect(onlyJson(result.stderr)).toMatchObject({ code: 'ENOENT', stage: 'syncfs', path: join(dir, 'nope') });
    const ok = await straceCli('sync,syncfs', ['sync', '--json']);
    expect(onlyJson(ok.stdout)).toEqual({ command: 'sync', ok: true, flushes: [{ call: 'sync', path: null, ok: true, ms: expect.any(Number) }] });
  });

  it('twin: the same harness around `durable-write --version` sees neither syscall', async () => {
    const result = await straceCli('sync,syncfs', ['--version']);
    expect(result.status).toBe(0);
    expect(flushes(result.trace)).toEqual([]);
  });
});
