/**
 * Group commit of appendDurable's flushes (src/write/file-flush-group.ts): concurrent appends to
 * one file share its flushes; a caller is covered only by a flush that started after its own
 * write returned; a shared flush's failure rejects every caller it covered.
 *
 * The first flush is held open by a gate until every other append has written, so the batches
 * are known: the first caller alone, then everyone else in one flush.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlushError } from '../../src/core/errors.js';
import type { DurableFileSystem } from '../../src/core/file-system.js';
import { appendDurable, type AppendDurableResult } from '../../src/write/append-durable.js';
import { faultyFileSystem, type FaultyOptions, type RecordedCall } from '../support/faulty-fs.js';
import { tempDir } from '../support/temp-dir.js';

const APPENDS = Number(process.env['APPEND_GROUP_CALLS'] ?? 12);

/** Resolves once `check` holds, polling between macrotasks. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

/** The faulty seam, its first `fdatasync` held until `release` is called. */
function gatedFirstFlush(options: FaultyOptions = {}): { fs: DurableFileSystem; calls: RecordedCall[]; release: () => void } {
  const faulty = faultyFileSystem(options);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let flushes = 0;
  const fs: DurableFileSystem = {
    ...faulty.fs,
    open: async (path, flags, mode) => {
      const handle = await faulty.fs.open(path, flags, mode);
      return {
        ...handle,
        fd: handle.fd,
        write: (buffer, offset, length, position) => handle.write(buffer, offset, length, position),
        sync: () => handle.sync(),
        datasync: async () => {
          flushes += 1;
          if (flushes === 1) await gate;
          await handle.datasync();
        },
        chmod: (m) => handle.chmod(m),
        chown: (uid, gid) => handle.chown(uid, gid),
        close: () => handle.close(),
      };
    },
  };
  return { fs, calls: faulty.calls, release };
}

/** `APPENDS` lines appended at once to an existing file; the first flush held until every line is written. */
async function appendAll(target: string, seam: ReturnType<typeof gatedFirstFlush>): Promise<PromiseSettledResult<AppendDurableResult>[]> {
  const lines = Array.from({ length: APPENDS }, (_, index) => `{"event":${index}}\n`);
  const settled = Promise.allSettled(lines.map((line) => appendDurable(target, line, { fs: seam.fs })));
  await until(() => seam.calls.filter((call) => call.op === 'write').length === APPENDS);
  seam.release();
  return settled;
}

describe('appendDurable group commit', () => {
  it(`${APPENDS} concurrent appends to one file share 2 flushes: the first alone, then everyone who wrote meanwhile`, async () => {
    const dir = tempDir();
    const target = join(dir, 'events.jsonl');
    writeFileSync(target, '');
    const seam = gatedFirstFlush();
    const results = await appendAll(target, seam);
    expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
    const flushes = seam.calls.filter((call) => call.op === 'datasync');
    expect(flushes.length).toBe(2);
    expect(flushes.length).toBeLessThan(APPENDS);
    // The shared flush started after the last covered write returned.
    const lastWrite = seam.calls.findLastIndex((call) => call.op === 'write');
    expect(seam.calls.indexOf(flushes[1] as RecordedCall)).toBeGreaterThan(lastWrite);
    // Every line is there, in call order, and each call's offset is where its line starts.
    const text = readFileSync(target, 'utf8');
    for (const [index, result] of results.entries()) {
      if (result.status !== 'fulfilled') continue;
      expect(text.slice(result.value.offset, result.value.offset + result.value.bytesWritten)).toBe(`{"event":${index}}\n`);
    }
    // Each caller closed its own descriptor.
    expect(seam.calls.filter((call) => call.op === 'close')).toHaveLength(APPENDS);
  });

  it('a shared flush that fails rejects every caller it covered with a FlushError; the one before it resolves', async () => {
    const dir = tempDir();
    const target = join(dir, 'events.jsonl');
    writeFileSync(target, '');
    let flushes = 0;
    const seam = gatedFirstFlush({ fail: (call) => (call.op === 'datasync' && ++flushes === 2 ? 'EIO' : undefined) });
    const results = await appendAll(target, seam);
    expect(results[0]?.status).toBe('fulfilled');
    const rejected = results.slice(1);
    expect(rejected.every((result) => result.status === 'rejected' && result.reason instanceof FlushError)).toBe(true);
    expect(rejected).toHaveLength(APPENDS - 1);
    // Nothing was retried: two flushes in all.
    expect(seam.calls.filter((call) => call.op === 'datasync')).toHaveLength(2);
  });
});
