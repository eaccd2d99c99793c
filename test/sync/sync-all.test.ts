import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAbortError, isDurableWriteError } from '../../src/core/errors.js';
import { syncAll } from '../../src/sync/sync.js';
import { syncFilesystem } from '../../src/sync/sync.js';
import { missing } from '../support/prerequisites.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dw-sync-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stand-in for coreutils `sync` that fails the way coreutils does, with `text` as strerror. */
async function failingSync(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\nfor last; do :; done\necho "sync: error syncing '$last': ${text}" >&2\nexit 1\n`);
  await chmod(path, 0o755);
  return path;
}

const skipSync = missing({ tools: ['sync'] });

describe.skipIf(skipSync !== undefined)('syncAll' + (skipSync ? ` (skipped: ${skipSync})` : ''), () => {
  it('resolves after the kernel sync', async () => {
    await expect(syncAll()).resolves.toBeUndefined();
  });

  it('calls the seam instead of the kernel when fs.sync exists', async () => {
    const calls: string[] = [];
    await syncAll({ fs: { sync: async () => void calls.push('sync') }, syncProgram: join(dir, 'no-such-program') });
    expect(calls).toEqual(['sync']);
  });

  it('rejects with the seam error', async () => {
    const eio = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    await expect(syncAll({ fs: { sync: () => Promise.reject(eio) } })).rejects.toBe(eio);
  });

  it('rejects with an AbortError when the signal has already fired, without running anything', async () => {
    const err: unknown = await syncAll({ signal: AbortSignal.abort('stop') }).catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(err).toMatchObject({ name: 'AbortError', stage: 'sync', code: 'ABORT_ERR', cause: 'stop' });
  });

  it('rejects with an AbortError when the signal fires while sync runs', async () => {
    const slow = join(dir, 'slow-sync');
    await writeFile(slow, '#!/bin/sh\nexec sleep 5\n');
    await chmod(slow, 0o755);
    const started = Date.now();
    const err: unknown = await syncAll({ syncProgram: slow, signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('names the missing program and the coreutils package', async () => {
    const program = join(dir, 'absent', 'sync');
    const err: unknown = await syncAll({ syncProgram: program }).catch((e: unknown) => e);
    expect(isDurableWriteError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'ENOENT', stage: 'sync' });
    expect((err as Error).message).toContain(program);
    expect((err as Error).message).toContain('coreutils');
  });

  it('says "on PATH" when a bare program name is missing', async () => {
    const err: unknown = await syncAll({ syncProgram: 'durable-write-no-such-sync' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENOENT', stage: 'sync' });
    expect((err as Error).message).toMatch(/'durable-write-no-such-sync' program from GNU coreutils.*on PATH/);
  });

  it('surfaces a failing sync program as a typed error, not a log line', async () => {
    const program = await failingSync('eio-sync', 'Input/output error');
    const err: unknown = await syncAll({ syncProgram: program }).catch((e: unknown) => e);
    expect(isDurableWriteError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'EIO', stage: 'sync' });
    expect((err as Error).message).toMatch(/may not be on stable storage/);
  });
});

describe.skipIf(skipSync !== undefined)('syncFilesystem' + (skipSync ? ` (skipped: ${skipSync})` : ''), () => {
  it('resolves for a directory, a file and a file: URL', async () => {
    const file = join(dir, 'f');
    await writeFile(file, 'x');
    await expect(syncFilesystem(dir)).resolves.toBeUndefined();
    await expect(syncFilesystem(file)).resolves.toBeUndefined();
    await expect(syncFilesystem(pathToFileURL(dir))).resolves.toBeUndefined();
  });

  it('handles a path that starts with a dash (passed after --)', async () => {
    const file = join(dir, '-f');
    await writeFile(file, 'x');
    const relative = '-f';
    await expect(syncFilesystem(file)).resolves.toBeUndefined();
    // A relative "-f" must be the path, not an option: run from dir through an absolute-free call.
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await expect(syncFilesystem(relative)).resolves.toBeUndefined();
    } finally {
      process.chdir(cwd);
    }
  });

  it('rejects with ENOENT from the kernel for a missing path', async () => {
    const path = join(dir, 'missing', 'x');
    const err: unknown = await syncFilesystem(path).catch((e: unknown) => e);
    expect(isDurableWriteError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'ENOENT', stage: 'syncfs', path });
  });

  it.each([
    ['Input/output error', 'EIO'],
    ['No space left on device', 'ENOSPC'],
    ['Disk quota exceeded', 'EDQUOT'],
  ])('maps "%s" reported by sync to code %s', async (text, code) => {
    const program = await failingSync(`fail-${code}`, text);
    const err: unknown = await syncFilesystem(dir, { syncProgram: program }).catch((e: unknown) => e);
    expect(isDurableWriteError(err)).toBe(true);
    expect(err).toMatchObject({ code, stage: 'syncfs', path: dir });
    expect((err as Error).message).toContain(text);
  });

  it('leaves code undefined for a text it does not know, keeping the text in the message', async () => {
    const program = await failingSync('fail-odd', 'Something odd');
    const err: unknown = await syncFilesystem(dir, { syncProgram: program }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: undefined, stage: 'syncfs' });
    expect((err as Error).message).toContain('Something odd');
  });

  it('says what is missing when sync has no --file-system', async () => {
    const program = join(dir, 'old-sync');
    await writeFile(program, "#!/bin/sh\necho \"sync: unrecognized option '--file-system'\" >&2\nexit 1\n");
    await chmod(program, 0o755);
    const err: unknown = await syncFilesystem(dir, { syncProgram: program }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENOSYS', stage: 'syncfs' });
    expect((err as Error).message).toMatch(/coreutils 8\.24/);
  });

  it('calls the seam instead of the kernel when fs.syncfs exists', async () => {
    const calls: string[] = [];
    await syncFilesystem(pathToFileURL(dir), { fs: { syncfs: async (p) => void calls.push(p) } });
    expect(calls).toEqual([dir]);
  });

  it('rejects an empty path before running anything, with the TypeError docs/errors.md promises', async () => {
    await expect(syncFilesystem('')).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('rejects with an AbortError when aborted', async () => {
    const err: unknown = await syncFilesystem(dir, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(err).toMatchObject({ stage: 'syncfs', path: dir });
  });
});
