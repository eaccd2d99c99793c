/**
 * Regression tests for what hostile data did to 0.1.0: streams never read leaked their
 * descriptors, a stream that failed before its first read crashed the process, an abort could
 * not stop a write whose source had stalled (and the writes queued behind it hung), and data of
 * a wrong type was found only after a temp file had been created.
 */
import { createReadStream, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isAbortError } from '../../src/core/errors.js';
import { writeDurable, writeDurableSync } from '../../src/write/write-durable.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';

/** The descriptors this process holds now. */
function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Waits until `condition()` holds, up to `ms`; returns whether it did. */
async function eventually(condition: () => boolean, ms = 2000): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < ms; ) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

/** How long `promise` takes to settle, in ms, and how it settled. */
async function settling(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: Date.now() - start, error };
}

describe('a source stream is destroyed on every failure path (as stream.pipeline would)', () => {
  const failures: readonly [string, (dir: string) => { path: string; options?: object }][] = [
    ['a missing directory', (dir) => ({ path: join(dir, 'missing', 'f') })],
    ['a signal aborted before the call', (dir) => ({ path: join(dir, 'f'), options: { signal: AbortSignal.abort() } })],
    ['a directory as the target', (dir) => ({ path: dir })],
    ['an existing directory named without a slash', (dir) => ({ path: join(dir, 'sub') })],
    ['an invalid option', (dir) => ({ path: join(dir, 'f'), options: { mode: -1 } })],
    ['an unknown option', (dir) => ({ path: join(dir, 'f'), options: { createParent: true } })],
  ];

  it.each(failures)('%s: 300 failing calls leave no descriptor open and every stream destroyed', async (_name, failure) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'source'), 'x'.repeat(1000));
    readdirSync(dir); // warm up anything lazily opened
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'sub'));
    const before = openDescriptors();
    const streams = Array.from({ length: 300 }, () => createReadStream(join(dir, 'source')));
    const calls = streams.map((stream) => {
      const { path, options } = failure(dir);
      return writeDurable(path, stream, options as never).then(
        () => 'resolved',
        () => 'rejected',
      );
    });
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['rejected']));
    expect(await eventually(() => streams.every((s) => s.destroyed && s.closed))).toBe(true);
    expect(await eventually(() => openDescriptors() <= before)).toBe(true);
    expect(leftoverTemps(dir)).toEqual([]);
  });
});

describe('a source that fails at any moment rejects the call cleanly', () => {
  it('a stream that errors before its first read (ENOENT) rejects with stage write and its cause; no temp file, no crash', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    // The stream fails (its open) while the call resolves the target, before its first read.
    const error: unknown = await writeDurable(join(dir, 't'), createReadStream(join(dir, 'does-not-exist'))).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DurableWriteError', stage: 'write', cause: { code: 'ENOENT' } });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('an async iterable that throws mid-way rejects with stage write, the iterable\'s error as cause', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const boom = new Error('source failed');
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(100_000, 1);
      throw boom;
    }
    await expect(writeDurable(join(dir, 't'), source())).rejects.toMatchObject({ stage: 'write', cause: boom });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
  });
});

describe('an abort settles the call promptly even while a read is pending', () => {
  it('a stalled stream aborted at 200 ms: AbortError at once, temp removed, stream destroyed, descriptor released', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const before = openDescriptors();
    const stalled = new PassThrough();
    stalled.write(Buffer.alloc(100_000, 1)); // one chunk, then nothing, never ended
    const pending = writeDurable(join(dir, 't'), stalled, { signal: AbortSignal.timeout(200) });
    const { ms, error } = await settling(pending);
    expect(isAbortError(error)).toBe(true);
    expect(ms).toBeLessThan(1500);
    expect(stalled.destroyed).toBe(true);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
    expect(await eventually(() => openDescriptors() <= before)).toBe(true);
  });

  it('a write queued behind a stalled one, aborted itself, leaves the queue at once', async () => {
    const dir = tempDir();
    const target = join(dir, 't');
    writeFileSync(target, 'previous');
    const stalled = new PassThrough();
    stalled.write('partial');
    const first = writeDurable(target, stalled, { signal: AbortSignal.timeout(1500) });
    const second = settling(writeDurable(target, 'second', { signal: AbortSignal.timeout(300) }));
    const { ms, error } = await second;
    expect(isAbortError(error)).toBe(true);
    expect(ms).toBeLessThan(1000); // it did not wait for the stalled write ahead of it
    expect(isAbortError((await settling(first)).error)).toBe(true);
    // The queue still works: a later write goes through.
    await writeDurable(target, 'third');
    expect(readFileSync(target, 'utf8')).toBe('third');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('a call behind an aborted one still waits for the calls ahead of the aborted one', async () => {
    const dir = tempDir();
    const target = join(dir, 't');
    const slow = new PassThrough();
    const order: string[] = [];
    const first = writeDurable(target, slow).then(() => order.push('first'));
    const aborted = writeDurable(target, 'aborted', { signal: AbortSignal.abort() }).catch(() => order.push('aborted'));
    const third = writeDurable(target, 'third').then(() => order.push('third'));
    await aborted;
    setTimeout(() => slow.end('first'), 100);
    await Promise.all([first, third]);
    expect(order).toEqual(['aborted', 'first', 'third']);
    expect(readFileSync(target, 'utf8')).toBe('third');
  });
});

describe('data of a wrong type is rejected with the documented TypeError before the disk is touched', () => {
  const cases: readonly [string, () => unknown][] = [
    ['an array of numbers', () => [1, 2, 3]],
    ['a Set of numbers', () => new Set([1, 2])],
    ['an array with one bad element', () => ['ok', { a: 1 }]],
    ['an object-mode stream of numbers', () => Readable.from([1, 2, 3])],
  ];
  it.each(cases)('%s', async (_name, data) => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const { fs, calls } = faultyFileSystem();
    const error: unknown = await writeDurable(join(dir, 't'), data() as never, { fs }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(calls.filter((call) => !['realpath', 'lstat'].includes(call.op))).toEqual([]);
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('writeDurableSync with an array: the TypeError, nothing touched', () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem();
    expect(() => writeDurableSync(join(dir, 't'), [1, 2] as never, { fs })).toThrow(TypeError);
    expect(calls).toEqual([]);
  });
});
