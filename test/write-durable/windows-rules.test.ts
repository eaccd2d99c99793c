/**
 * The Windows rules, tested on Linux where that is cheap: every platform decision takes the
 * platform as a parameter (`src/core/platform.ts`), and the write operation runs here with the
 * plan Windows would make (no directory flush, renames retried). The proof on Windows itself is
 * the Wine suite (`test/windows/`, `npm run test:windows`).
 */
import { constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDirectorySync, checkPath, checkRenameRetry } from '../../src/core/arguments.js';
import { runAsync, runSync, type Operation } from '../../src/core/effect.js';
import { isAbortError, isDurableWriteError } from '../../src/core/errors.js';
import { wrapError, type FailureContext } from '../../src/core/failure.js';
import { fileIo, openToFlush } from '../../src/core/file-io.js';
import { RENAME_RETRY_MS } from '../../src/core/platform.js';
import { flushThroughSeamOrProgram } from '../../src/sync/sync-program.js';
import { chunkSource } from '../../src/write/data-source.js';
import { flushDirectory } from '../../src/write/flush.js';
import { renameBackoffMs } from '../../src/write/rename-retry.js';
import { planWrite, type WritePlan } from '../../src/write/replacement.js';
import { writeDurableOperation } from '../../src/write/write-durable.js';
import { faultyFileSystem, type RecordedCall } from '../support/faulty-fs.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';

const isTemp = (call: RecordedCall): boolean => call.path.endsWith('.dwtmp');

describe('directorySync resolved per platform', () => {
  it('Linux and macOS: required by default, best-effort when asked', () => {
    expect(checkDirectorySync(undefined, 'op', '/p', 'posix')).toBe('required');
    expect(checkDirectorySync('required', 'op', '/p', 'posix')).toBe('required');
    expect(checkDirectorySync('best-effort', 'op', '/p', 'posix')).toBe('best-effort');
  });

  it('Windows: no directory flush by default nor under best-effort; an explicit required is refused before any I/O', () => {
    expect(checkDirectorySync(undefined, 'op', 'C:\\p', 'windows')).toBe('unavailable');
    expect(checkDirectorySync('best-effort', 'op', 'C:\\p', 'windows')).toBe('unavailable');
    let error: unknown;
    try {
      checkDirectorySync('required', 'writeDurable', 'C:\\data\\state.json', 'windows');
    } catch (caught) {
      error = caught;
    }
    expect(isDurableWriteError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ENOTSUP', stage: 'validate', path: 'C:\\data\\state.json' });
    expect((error as Error).message).toMatch(/^writeDurable: directorySync: 'required' cannot be met: Windows offers no directory flush .* nothing was done/);
  });

  it('a bad value is the same TypeError on both', () => {
    for (const platform of ['posix', 'windows'] as const) {
      expect(() => checkDirectorySync('sometimes', 'op', '/p', platform)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
    }
  });
});

describe('renameRetryMs resolved per platform', () => {
  it('Windows: 10 s async and 1 s sync by default, the caller\'s value otherwise', () => {
    expect(checkRenameRetry(undefined, 'async', 'op', 'windows')).toBe(10_000);
    expect(checkRenameRetry(undefined, 'sync', 'op', 'windows')).toBe(1_000);
    expect(checkRenameRetry(2_500, 'sync', 'op', 'windows')).toBe(2_500);
    expect(checkRenameRetry(0, 'async', 'op', 'windows')).toBe(0);
    expect(checkRenameRetry(RENAME_RETRY_MS.max, 'async', 'op', 'windows')).toBe(60_000);
  });

  it('Linux and macOS: never retried (one rename, as ever), the value still checked', () => {
    expect(checkRenameRetry(undefined, 'async', 'op', 'posix')).toBe(0);
    expect(checkRenameRetry(5_000, 'async', 'op', 'posix')).toBe(0);
    for (const bad of [-1, 60_001, 1.5]) {
      expect(() => checkRenameRetry(bad, 'async', 'op', 'posix')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => checkRenameRetry('5', 'async', 'op', 'windows')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('the backoff rises by 10 ms per retry up to 100 ms', () => {
    expect([1, 2, 3, 9, 10, 11, 50].map(renameBackoffMs)).toEqual([10, 20, 30, 90, 100, 100, 100]);
  });
});

describe('paths and open flags per platform', () => {
  it('Windows resolves . and .. lexically, in its own separators, as Win32 does', () => {
    expect(checkPath('C:/data/./sub/../state.json', 'path', 'op', 'windows')).toBe('C:\\data\\state.json');
    expect(checkPath('C:\\data\\state.json', 'path', 'op', 'windows')).toBe('C:\\data\\state.json');
    // POSIX leaves `..` to the kernel (after a symlinked directory it is not lexical).
    expect(checkPath('/data/link/../state.json', 'path', 'op', 'posix')).toBe('/data/link/../state.json');
  });

  it('an existing file is opened for writing to be flushed on Windows (FlushFileBuffers needs it), read-only elsewhere', () => {
    expect(openToFlush('windows')).toBe(constants.O_RDWR);
    expect(openToFlush('posix')).toBe(constants.O_RDONLY);
  });
});

describe('advice per platform', () => {
  const ctx: FailureContext = { operation: 'writeDurable', path: 'C:\\d\\f', tmpPath: 'C:\\d\\.f.1.abc.dwtmp' };
  const eperm = Object.assign(new Error('EPERM: operation not permitted, rename'), { code: 'EPERM' });

  it('a rename refused on Windows names the likely holder; on Linux the message is as before', () => {
    expect(wrapError('rename', eperm, ctx, undefined, 'windows').message).toMatch(
      /keeps its previous content\. Windows refuses a rename while another process holds the file open .* antivirus .* renameRetryMs/,
    );
    expect(wrapError('rename', eperm, ctx, undefined, 'posix').message).toMatch(/keeps its previous content$/);
  });

  it("Linux's 'reported and forgotten' advice is not given on Windows", () => {
    const eio = Object.assign(new Error('EIO'), { code: 'EIO' });
    for (const stage of ['flush', 'flush-directory'] as const) {
      expect(wrapError(stage, eio, { operation: 'fsyncFile', path: '/f' }, undefined, 'posix').message).toMatch(/forgotten/);
      expect(wrapError(stage, eio, { operation: 'fsyncFile', path: 'C:\\f' }, undefined, 'windows').message).not.toMatch(/forgotten|kernel/);
    }
  });
});

/** A write planned as on Windows: no directory flush, refused renames retried for `renameRetryMs`. */
function windowsPlan(target: string, fs: WritePlan['fs'], renameRetryMs: number, signal?: AbortSignal): WritePlan {
  return { ...planWrite(target, {}, fs, signal, 'writeDurable'), directorySync: 'unavailable', renameRetryMs };
}

/** Runs the write operation on `plan` with either driver. */
function run(plan: WritePlan, data: string, mode: 'sync' | 'async'): Promise<unknown> {
  const ctx: FailureContext = { operation: 'writeDurable', path: plan.target };
  const operation: Operation<unknown> = writeDurableOperation(plan, undefined, chunkSource(data, 'utf8', plan.signal, 'writeDurable'), ctx);
  if (mode === 'async') return runAsync(operation);
  try {
    return Promise.resolve(runSync(operation));
  } catch (error) {
    return Promise.reject(error);
  }
}

describe.each(['async', 'sync'] as const)('the write operation with the Windows plan (%s driver)', (mode) => {
  it('opens no directory, flushes none, and reports it unflushed (ENOTSUP) with the new content in place', async () => {
    const dir = tempDir();
    const target = join(dir, 'state.json');
    const { fs, calls } = faultyFileSystem();
    const result = await run(windowsPlan(target, fs, 0), 'new', mode);
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(result).toMatchObject({ directorySynced: false, directorySyncErrors: [expect.objectContaining({ code: 'ENOTSUP', stage: 'flush-directory' })] });
    expect(calls.filter((call) => call.path === dir)).toEqual([expect.objectContaining({ op: 'realpath' })]);
    expect(calls.filter((call) => call.op === 'sync').map((call) => call.path)).toEqual([expect.stringMatching(/\.dwtmp$/)]);
  });

  it('retries a rename refused while another process holds the file, then succeeds', async () => {
    const dir = tempDir();
    const target = join(dir, 'f');
    writeFileSync(target, 'old');
    let refusals = 3;
    const { fs, calls } = faultyFileSystem({ fail: (call) => (call.op === 'rename' && (refusals -= 1) >= 0 ? 'EPERM' : undefined) });
    await run(windowsPlan(target, fs, 5_000), 'new', mode);
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(calls.filter((call) => call.op === 'rename')).toHaveLength(4);
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('gives up when the window has passed: stage rename, temp removed, target intact, the tries counted', async () => {
    const dir = tempDir();
    const target = join(dir, 'f');
    writeFileSync(target, 'old');
    const { fs, calls } = faultyFileSystem({ fail: (call) => (call.op === 'rename' ? 'EBUSY' : undefined) });
    const error: unknown = await run(windowsPlan(target, fs, 60), 'new', mode).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'EBUSY', stage: 'rename', path: target });
    const tries = calls.filter((call) => call.op === 'rename').length;
    expect(tries).toBeGreaterThan(1);
    expect((error as Error).message).toContain(`(tried ${tries} times over`);
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('does not retry another error (EIO, EXDEV): one rename', async () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem({ fail: (call) => (call.op === 'rename' && isTemp(call) ? 'EIO' : undefined) });
    await expect(run(windowsPlan(join(dir, 'f'), fs, 5_000), 'new', mode)).rejects.toMatchObject({ code: 'EIO', stage: 'rename' });
    expect(calls.filter((call) => call.op === 'rename')).toHaveLength(1);
  });
});

describe('the retry obeys the signal', () => {
  it('an abort while waiting between tries rejects with an AbortError, no further try; temp removed, target intact', async () => {
    const dir = tempDir();
    const target = join(dir, 'f');
    writeFileSync(target, 'old');
    const controller = new AbortController();
    const { fs, calls } = faultyFileSystem({
      fail: (call) => {
        if (call.op !== 'rename') return undefined;
        // Fired during the wait after the third refusal.
        if (calls.filter((c) => c.op === 'rename').length === 3) setTimeout(() => controller.abort(), 5);
        return 'EPERM';
      },
    });
    const error: unknown = await run(windowsPlan(target, fs, 60_000, controller.signal), 'new', 'async').catch((caught: unknown) => caught);
    expect(isAbortError(error)).toBe(true);
    expect(error).toMatchObject({ stage: 'rename' });
    expect(calls.filter((call) => call.op === 'rename')).toHaveLength(3);
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
  });
});

describe('flushDirectory under the Windows rule', () => {
  it('makes no call at all', async () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem();
    const outcome = await runAsync(flushDirectory(fileIo(fs), dir, 'unavailable', { operation: 'fsyncDirectory', path: dir }));
    expect(outcome).toMatchObject({ synced: false, error: expect.objectContaining({ code: 'ENOTSUP', stage: 'flush-directory', path: dir }) });
    expect(calls).toEqual([]);
  });
});

describe('syncAll and syncFilesystem on Windows', () => {
  it('reject at once (ENOTSUP, no program run) and say what to do instead', async () => {
    const missing = join(tempDir(), 'no-such-program');
    for (const stage of ['sync', 'syncfs'] as const) {
      const error: unknown = await flushThroughSeamOrProgram({ stage, args: [], syncProgram: undefined, seamFlush: undefined }, 'windows').catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'DurableWriteError', code: 'ENOTSUP', stage });
      expect((error as Error).message).toMatch(/not supported on Windows.*writeDurable.*syncProgram/);
    }
    // A program the caller names is run as on Linux (here, a missing one: its ENOENT, not ENOTSUP).
    await expect(flushThroughSeamOrProgram({ stage: 'sync', args: [], syncProgram: missing, seamFlush: undefined }, 'windows')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(existsSync(missing)).toBe(false);
    // A seam's own flush is used on any platform.
    let flushed = 0;
    await flushThroughSeamOrProgram({ stage: 'sync', args: [], syncProgram: undefined, seamFlush: async () => void (flushed += 1) }, 'windows');
    expect(flushed).toBe(1);
  });

  it('on Linux the default program still runs', async () => {
    await expect(flushThroughSeamOrProgram({ stage: 'sync', args: [], syncProgram: undefined, seamFlush: undefined }, 'posix')).resolves.toBeUndefined();
  });
});
