import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDurable, writeDurableSync } from '../../src/write/write-durable.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { tempDir } from '../support/temp-dir.js';
import { writeModes } from './modes.js';

describe.each(writeModes)('$name rejects bad input before touching the disk', ({ write }) => {
  const cases: readonly { name: string; path?: (dir: string) => unknown; data?: unknown; options?: unknown; error: object }[] = [
    { name: 'an empty path', path: () => '', error: { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'a file descriptor', path: () => 3, error: { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('file descriptor') } },
    { name: 'a path with a NUL byte', path: (d) => join(d, 'a\u0000b'), error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'an http: URL', path: () => new URL('http://example.invalid/x'), error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'a path ending in a slash', path: (d) => `${d}/sub/`, error: { name: 'DurableWriteError', code: 'EISDIR', stage: 'validate' } },
    { name: 'null data', data: null, error: { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' } },
    { name: 'a number as data', data: 42, error: { code: 'ERR_INVALID_ARG_TYPE' } },
    { name: 'a plain object as data', data: { a: 1 }, error: { code: 'ERR_INVALID_ARG_TYPE' } },
    { name: 'a negative mode', options: { mode: -1 }, error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'a mode above 0o7777', options: { mode: 0o10000 }, error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'a fractional mode', options: { mode: 1.5 }, error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'a non-octal mode string', options: { mode: 'rw-r--r--' }, error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'an unknown encoding', options: 'klingon', error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'an unknown flush method', options: { flush: 'msync' }, error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'flush: false', options: { flush: false }, error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'an unknown directorySync', options: { directorySync: 'sometimes' }, error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'an append flag', options: { flag: 'a' }, error: { code: 'ERR_INVALID_ARG_VALUE' } },
    { name: 'a non-boolean createParents', options: { createParents: 'yes' }, error: { code: 'ERR_INVALID_ARG_TYPE' } },
    { name: 'an fs lacking functions', options: { fs: {} }, error: { code: 'ERR_INVALID_ARG_TYPE' } },
    { name: 'options of the wrong type', options: 7, error: { code: 'ERR_INVALID_ARG_TYPE' } },
  ];

  it.each(cases)('$name', async ({ path, data, options, error }) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'target'), 'previous');
    const { fs, calls } = faultyFileSystem();
    const withFs = typeof options === 'object' && options !== null && 'fs' in options ? options : typeof options === 'object' ? { ...options, fs } : options;
    const target = path === undefined ? join(dir, 'target') : path(dir);
    const call = () => write(target as string, (data === undefined ? 'new' : data) as string, withFs as { fs: typeof fs });
    await expect(call()).rejects.toMatchObject(error);
    expect(calls).toEqual([]);
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['target']);
  });

  it('a FIFO (or device, or socket) as the target: EINVAL, never replaced by a regular file', async () => {
    const dir = tempDir();
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    await expect(write(join(dir, 'pipe'), 'x')).rejects.toMatchObject({ name: 'DurableWriteError', code: 'EINVAL', stage: 'validate' });
    expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['pipe']);
  });

  it('an existing directory as the target: EISDIR, nothing created', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    await expect(write(join(dir, 'sub'), 'x')).rejects.toMatchObject({ name: 'DurableWriteError', code: 'EISDIR', stage: 'validate' });
    expect(readdirSync(dir)).toEqual(['sub']);
    expect(readdirSync(join(dir, 'sub'))).toEqual([]);
  });
});

describe('writeDurableSync', () => {
  it('throws synchronously for streamed data, which only writeDurable accepts', () => {
    const dir = tempDir();
    expect(() => writeDurableSync(join(dir, 'f'), ['a'] as unknown as string)).toThrow(/string, Buffer, TypedArray or DataView/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('writeDurable', () => {
  it('returns a rejected promise (never throws synchronously) for bad input', () => {
    const pending = writeDurable('', 'x');
    expect(pending).toBeInstanceOf(Promise);
    return expect(pending).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});
