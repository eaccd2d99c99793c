/**
 * appendDurable and appendDurableSync (src/write/append-durable.ts): what an append does to the
 * file, its result, its arguments and its failures, once per mode.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlushError, isDurableWriteError } from '../../src/core/errors.js';
import {
  appendDurable,
  appendDurableSync,
  type AppendDurableOptions,
  type AppendDurableResult,
} from '../../src/write/append-durable.js';
import { writeDurable } from '../../src/write/write-durable.js';
import { currentUmask } from '../../src/write/umask.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { tempDir } from '../support/temp-dir.js';

interface AppendMode {
  readonly name: string;
  append(path: string | URL, data: string | NodeJS.ArrayBufferView, options?: AppendDurableOptions | BufferEncoding): Promise<AppendDurableResult>;
}

/** Every behavioural test runs once per mode: both must behave alike. */
const appendModes: readonly AppendMode[] = [
  { name: 'appendDurable', append: (path, data, options) => appendDurable(path, data, options) },
  {
    name: 'appendDurableSync',
    append: async (path, data, options) => {
      if (typeof options !== 'object' || options === null) return appendDurableSync(path, data, options);
      const { signal: _signal, ...syncOptions } = options;
      return appendDurableSync(path, data, syncOptions);
    },
  },
];

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe.each(appendModes)('$name', ({ name, append }) => {
  it('creates a missing file: offset 0, created, mode 0o666 less the umask', async () => {
    const dir = tempDir();
    const target = join(dir, 'events.jsonl');
    const result = await append(target, '{"n":1}\n');
    expect(result).toEqual({
      path: target,
      offset: 0,
      bytesWritten: 8,
      created: true,
      directorySynced: true,
      directorySyncErrors: [],
      createdDirectories: [],
    });
    expect(readFileSync(target, 'utf8')).toBe('{"n":1}\n');
    expect(statSync(target).mode & 0o7777).toBe(0o666 & ~currentUmask());
  });

  it('appends to an existing file: its earlier content kept, offset its size before, its mode kept', async () => {
    const dir = tempDir();
    const target = join(dir, 'log.csv');
    writeFileSync(target, 'a,b\n');
    chmodSync(target, 0o640);
    const first = await append(target, '1,2\n', { mode: 0o600 });
    const second = await append(target, Buffer.from('3,4\n'));
    expect([first.offset, first.created, second.offset, second.created]).toEqual([4, false, 8, false]);
    expect(readFileSync(target, 'utf8')).toBe('a,b\n1,2\n3,4\n');
    expect(statSync(target).mode & 0o7777).toBe(0o640);
  });

  it('takes every ArrayBufferView and string encodings; mode is applied exactly to a new file', async () => {
    const dir = tempDir();
    const target = join(dir, 'bytes');
    const bytes = new Uint8Array([0, 1, 2, 3, 4, 5]);
    await append(target, bytes.subarray(2, 4), { mode: '0640' });
    await append(target, new DataView(bytes.buffer, 4, 2));
    await append(target, '6869', 'hex');
    await append(target, 'aQ==', { encoding: 'base64' });
    expect([...readFileSync(target)]).toEqual([2, 3, 4, 5, 0x68, 0x69, 0x69]);
    expect(statSync(target).mode & 0o7777).toBe(0o640);
  });

  it('follows a symlink as the kernel does: the link stays, the file it names grows', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'real'), 'x');
    symlinkSync('real', join(dir, 'link'));
    const result = await append(join(dir, 'link'), 'y');
    expect(result.path).toBe(join(dir, 'real'));
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real'), 'utf8')).toBe('xy');
  });

  it('a missing directory rejects with ENOENT (nothing created); createParents creates it', async () => {
    const dir = tempDir();
    const target = join(dir, 'a', 'b', 'log');
    const error = await rejection(append(target, 'x'));
    expect(isDurableWriteError(error) && [error.code, error.stage]).toEqual(['ENOENT', 'open']);
    expect(existsSync(join(dir, 'a'))).toBe(false);
    const result = await append(target, 'x', { createParents: true });
    expect(result.createdDirectories).toEqual([join(dir, 'a'), join(dir, 'a', 'b')]);
    expect(readFileSync(target, 'utf8')).toBe('x');
  });

  it('refuses bad arguments with a TypeError before any I/O', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    const faulty = faultyFileSystem();
    const bad: [unknown, unknown][] = [
      [42, undefined],
      [['a'], undefined],
      ['x', { flush: false }],
      ['x', { flush: 'sometimes' }],
      ['x', { flag: 'a' }],
      ['x', { createParents: 'yes' }],
      ['x', { mode: 'rw' }],
    ];
    for (const [data, options] of bad) {
      const error = await rejection((async () => append(target, data as string, { ...(options as object), fs: faulty.fs }))());
      expect(error, JSON.stringify(options)).toBeInstanceOf(TypeError);
    }
    expect(faulty.calls).toEqual([]);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a directory as the target (EISDIR, stage validate)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    const error = await rejection(append(join(dir, 'sub'), 'x'));
    expect(isDurableWriteError(error) && [error.code, error.stage]).toEqual(['EISDIR', 'validate']);
  });

  it('writes every byte through short writes', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    writeFileSync(target, 'head\n');
    const faulty = faultyFileSystem({ maxWriteBytes: 3 });
    const result = await append(target, 'a line of text\n', { fs: faulty.fs });
    expect(result).toMatchObject({ offset: 5, bytesWritten: 15 });
    expect(readFileSync(target, 'utf8')).toBe('head\na line of text\n');
    expect(faulty.calls.filter((call) => call.op === 'write')).toHaveLength(5);
  });

  it('flushes with fdatasync by default, fsync on request, then fsyncs the directory only of a file it created', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    const created = faultyFileSystem();
    await append(target, 'x', { fs: created.fs });
    expect(created.calls.filter((call) => ['datasync', 'sync'].includes(call.op))).toEqual([
      { op: 'datasync', path: target },
      { op: 'sync', path: dir },
    ]);
    const existing = faultyFileSystem();
    await append(target, 'y', { fs: existing.fs, flush: 'fsync' });
    expect(existing.calls.filter((call) => ['datasync', 'sync'].includes(call.op))).toEqual([{ op: 'sync', path: target }]);
  });

  it('a failed flush rejects with a FlushError, never retried, saying the bytes must be written again from their source', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    writeFileSync(target, 'before\n');
    const faulty = faultyFileSystem({ fail: (call) => (call.op === 'datasync' ? 'EIO' : undefined) });
    const error = await rejection(append(target, 'lost\n', { fs: faulty.fs }));
    expect(error).toBeInstanceOf(FlushError);
    expect(isDurableWriteError(error) && [error.code, error.stage, error.path]).toEqual(['EIO', 'flush', target]);
    expect((error as Error).message).toMatch(/since its last successful flush.*offset 7.*again from its source/);
    expect(faulty.calls.filter((call) => call.op === 'datasync')).toHaveLength(1);
    // The descriptor was closed: nothing is left open.
    expect(faulty.calls.at(-1)).toEqual({ op: 'close', path: target });
  });

  it('a failed write says how much of the call was appended, and closes the file', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    writeFileSync(target, '');
    let writes = 0;
    const faulty = faultyFileSystem({ maxWriteBytes: 4, fail: (call) => (call.op === 'write' && ++writes === 2 ? 'ENOSPC' : undefined) });
    const error = await rejection(append(target, 'abcdefgh', { fs: faulty.fs }));
    expect(isDurableWriteError(error) && [error.code, error.stage]).toEqual(['ENOSPC', 'write']);
    expect((error as Error).message).toContain('4 of this call\'s 8 bytes were appended at offset 0');
    expect(readFileSync(target, 'utf8')).toBe('abcd');
    expect(faulty.calls.at(-1)).toEqual({ op: 'close', path: target });
  });

  it(`${name === 'appendDurable' ? 'appends in call order, offsets adding up' : 'appends one after another, offsets adding up'}`, async () => {
    const dir = tempDir();
    const target = join(dir, 'journal');
    const lines = Array.from({ length: 20 }, (_, index) => `line ${index}\n`);
    const results = name === 'appendDurable' ? await Promise.all(lines.map((line) => append(target, line))) : [];
    if (name !== 'appendDurable') for (const line of lines) results.push(await append(target, line));
    expect(readFileSync(target, 'utf8')).toBe(lines.join(''));
    let offset = 0;
    for (const [index, result] of results.entries()) {
      expect(result.offset).toBe(offset);
      expect(result.created).toBe(index === 0);
      offset += lines[index]?.length ?? 0;
    }
  });
});

describe('appendDurable only', () => {
  it('an unknown option name: a TypeError naming it and the closest known one; appendDurableSync takes no signal', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    const error = await rejection(appendDurable(target, 'x', { flsh: 'fsync' } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain("appendDurable: unknown option 'flsh' (did you mean flush?)");
    expect(() => appendDurableSync(target, 'x', { signal: new AbortController().signal } as never)).toThrow(/unknown option 'signal'/);
    expect(existsSync(target)).toBe(false);
  });

  it('an aborted signal rejects with an AbortError and appends nothing', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(appendDurable(target, 'x', { signal: controller.signal }));
    expect(isDurableWriteError(error) && error.name).toBe('AbortError');
    expect(existsSync(target)).toBe(false);
  });

  it('copies a view at the call: changing the buffer meanwhile does not tear the record', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    const data = Buffer.from('record\n');
    const pending = appendDurable(target, data);
    data.fill(0);
    await pending;
    expect(readFileSync(target, 'utf8')).toBe('record\n');
  });

  it('never out of call order with appendDurableSync: an async append still resolving gives way (EBUSY), one admitted makes the sync one refuse', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    // Called right after: the async call is still resolving its target, so it gives way to the newer sync append.
    const older = appendDurable(target, 'older\n');
    appendDurableSync(target, 'sync\n');
    const gaveWay = await rejection(older);
    expect(isDurableWriteError(gaveWay) && [gaveWay.code, gaveWay.stage]).toEqual(['EBUSY', 'validate']);
    expect(readFileSync(target, 'utf8')).toBe('sync\n');
    // Admitted and writing: the sync append cannot wait for it, so it refuses and appends nothing.
    const faulty = faultyFileSystem();
    let refused: unknown;
    const running = appendDurable(target, 'async\n', {
      fs: {
        ...faulty.fs,
        open: async (path, flags, mode) => {
          await new Promise((resolve) => setImmediate(resolve));
          try {
            appendDurableSync(target, 'refused\n');
          } catch (error) {
            refused = error;
          }
          return faulty.fs.open(path, flags, mode);
        },
      },
    });
    await running;
    expect(isDurableWriteError(refused) && [refused.code, refused.stage]).toEqual(['EBUSY', 'validate']);
    expect(readFileSync(target, 'utf8')).toBe('sync\nasync\n');
  });

  it('orders appends with replacements of the same file: a writeDurable after an append replaces, the next append follows', async () => {
    const dir = tempDir();
    const target = join(dir, 'log');
    const calls = [appendDurable(target, 'a'), writeDurable(target, 'B'), appendDurable(target, 'c')];
    await Promise.all(calls);
    expect(readFileSync(target, 'utf8')).toBe('Bc');
  });
});
