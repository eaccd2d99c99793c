import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isAbortError } from '../../src/core/errors.js';
import { writeDurable } from '../../src/write/write-durable.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';

describe('writeDurable with an AbortSignal', () => {
  it('an already aborted signal: AbortError, nothing touched', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const { fs, calls } = faultyFileSystem();
    const error: unknown = await writeDurable(join(dir, 't'), 'new', { signal: AbortSignal.abort('stop'), fs }).catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'stop' });
    expect(calls).toEqual([]);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
  });

  it('aborting mid-stream removes the temp file, destroys the stream and keeps the target', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const controller = new AbortController();
    let pulls = 0;
    const source = new Readable({
      read() {
        pulls += 1;
        if (pulls === 3) controller.abort();
        setTimeout(() => this.push(Buffer.alloc(128 * 1024, 1)), 1);
      },
    });
    const error: unknown = await writeDurable(join(dir, 't'), source, { signal: controller.signal }).catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(source.destroyed).toBe(true);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('aborting after the flush but before the rename still changes nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const controller = new AbortController();
    const { fs } = faultyFileSystem({
      fail: (call) => {
        if (call.op === 'close' && call.path.endsWith('.dwtmp')) controller.abort();
        return undefined;
      },
    });
    await expect(writeDurable(join(dir, 't'), 'new', { signal: controller.signal, fs })).rejects.toMatchObject({ name: 'AbortError', stage: 'rename' });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('an abort after the rename is too late: the write completes durably', async () => {
    const dir = tempDir();
    const controller = new AbortController();
    const { fs, calls } = faultyFileSystem({
      fail: (call) => {
        if (call.op === 'rename') controller.abort();
        return undefined;
      },
    });
    await writeDurable(join(dir, 't'), 'new', { signal: controller.signal, fs });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('new');
    expect(calls.at(-2)).toEqual({ op: 'sync', path: dir });
  });
});
