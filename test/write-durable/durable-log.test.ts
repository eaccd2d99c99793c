import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLogCorruptionError, isTornTailError } from '../../src/core/errors.js';
import { openDurableLog, readDurableLog } from '../../src/write/durable-log.js';
import { framedCodec } from '../../src/write/durable-log-format.js';
import { tempDir } from '../support/temp-dir.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('openDurableLog, format lines', () => {
  it('round-trips text records with their offsets, and appendSync', async () => {
    const path = join(tempDir(), 'events.log');
    const log = await openDurableLog(path, { format: 'lines' });
    expect(log.recovery).toEqual({ validRecords: 0, truncatedBytes: 0 });
    expect(await log.append('first')).toBe(0);
    expect(await log.append(['second', ''])).toEqual([6, 13]);
    expect(log.appendSync('third')).toBe(14);
    const read: string[] = [];
    for await (const record of log.records()) read.push(record);
    expect(read).toEqual(['first', 'second', '', 'third']);
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('first\nsecond\n\nthird\n');
  });

  it('round-trips JSON values', async () => {
    const path = join(tempDir(), 'events.jsonl');
    {
      await using log = await openDurableLog(path, { format: 'lines', json: true });
      await log.append([{ a: 1, s: 'x\ny\0' }, [1, 2], null]);
    }
    const { records } = await readDurableLog(path, { format: 'lines', json: true });
    expect(records).toEqual([{ a: 1, s: 'x\ny\0' }, [1, 2], null]);
  });

  it('refuses a record holding a newline or a NUL with a TypeError, appending nothing', async () => {
    const path = join(tempDir(), 'events.log');
    const log = await openDurableLog(path, { format: 'lines' });
    await expect(log.append('a\nb')).rejects.toThrow(TypeError);
    await expect(log.append(['ok', 'a\0b'])).rejects.toThrow(TypeError);
    expect(() => log.appendSync('x\n')).toThrow(TypeError);
    await log.close();
    expect(() => statSync(path)).toThrow();
  });

  it('truncates a torn partial line durably and reports it', async () => {
    const path = join(tempDir(), 'events.log');
    writeFileSync(path, 'one\ntwo\nthr');
    const log = await openDurableLog(path, { format: 'lines' });
    expect(log.recovery).toEqual({ validRecords: 2, truncatedBytes: 3 });
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
    await log.append('three');
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\nthree\n');
  });

  it('truncates a run of NUL bytes at the end (the ext4 case), even one holding a newline-free region', async () => {
    const path = join(tempDir(), 'events.log');
    writeFileSync(path, Buffer.concat([Buffer.from('one\n'), Buffer.alloc(40)]));
    const log = await openDurableLog(path, { format: 'lines' });
    expect(log.recovery).toEqual({ validRecords: 1, truncatedBytes: 40 });
    await log.close();
    expect(readFileSync(path, 'utf8')).toBe('one\n');
  });

  it('the naive way: appendDurable after a crash buries the NUL tail in the middle of the file', async () => {
    const { appendDurable } = await import('../../src/write/append-durable.js');
    const path = join(tempDir(), 'events.log');
    writeFileSync(path, Buffer.concat([Buffer.from('one\n'), Buffer.alloc(8)]));
    await appendDurable(path, 'two\n');
    // The acknowledged 'two' now shares a line with the NULs: invalid, part of a "torn tail".
    expect(await readDurableLog(path, { format: 'lines' })).toMatchObject({ records: ['one'], tornBytes: 12 });
    // The right way: openDurableLog truncates the tail first, and the append survives.
    const other = join(tempDir(), 'events.log');
    writeFileSync(other, Buffer.concat([Buffer.from('one\n'), Buffer.alloc(8)]));
    const log = await openDurableLog(other, { format: 'lines' });
    await log.append('two');
    await log.close();
    expect((await readDurableLog(other, { format: 'lines' })).records).toEqual(['one', 'two']);
  });

  it("with onTornTail: 'error' refuses a torn tail with a TornTailError and changes nothing", async () => {
    const path = join(tempDir(), 'events.log');
    writeFileSync(path, 'one\ntw');
    const error: unknown = await openDurableLog(path, { format: 'lines', onTornTail: 'error' }).catch((e: unknown) => e);
    expect(isTornTailError(error)).toBe(true);
    expect(error).toMatchObject({ offset: 4, tornBytes: 2, code: 'ELOGTORN' });
    expect(readFileSync(path, 'utf8')).toBe('one\ntw');
    // The refused open released the log: a later open may take it.
    const log = await openDurableLog(path, { format: 'lines' });
    await log.close();
  });

  it('reports corruption in the middle with a LogCorruptionError naming the offset, changing nothing', async () => {
    const path = join(tempDir(), 'events.log');
    const content = Buffer.concat([Buffer.from('one\n'), Buffer.from('t\0o\n'), Buffer.from('three\n')]);
    writeFileSync(path, content);
    const error: unknown = await openDurableLog(path, { format: 'lines' }).catch((e: unknown) => e);
    expect(isLogCorruptionError(error)).toBe(true);
    expect(error).toMatchObject({ offset: 4, code: 'ELOGCORRUPT', stage: 'recover' });
    expect(readFileSync(path).equals(content)).toBe(true);
  });

  it('a JSON line that does not parse is invalid', async () => {
    const path = join(tempDir(), 'events.jsonl');
    writeFileSync(path, '{"a":1}\n{"a":\n');
    const log = await openDurableLog(path, { format: 'lines', json: true });
    expect(log.recovery).toEqual({ validRecords: 1, truncatedBytes: 6 });
    await log.close();
  });
});

describe('openDurableLog, format framed', () => {
  it('round-trips binary records', async () => {
    const path = join(tempDir(), 'events.bin');
    const log = await openDurableLog(path, { format: 'framed' });
    expect(await log.append(bytes('alpha'))).toBe(0);
    expect(await log.append([Uint8Array.of(0, 0, 0), bytes('gamma')])).toEqual([13, 24]);
    const read: Uint8Array[] = [];
    for await (const record of log.records()) read.push(record);
    expect(read.map((r) => Buffer.from(r).toString('hex'))).toEqual(['616c706861', '000000', '67616d6d61']);
    await log.close();
  });

  it('refuses an empty record or a non-view', async () => {
    const log = await openDurableLog(join(tempDir(), 'events.bin'), { format: 'framed' });
    await expect(log.append(new Uint8Array(0))).rejects.toThrow(RangeError);
    await expect((log as unknown as { append(r: unknown): Promise<number> }).append('text')).rejects.toThrow(TypeError);
    await log.close();
  });

  it('truncates a torn frame and a run of NULs at the end', async () => {
    const dir = tempDir();
    const whole = Buffer.concat([framedCodec.encode(bytes('one'), 't'), framedCodec.encode(bytes('two'), 't')]);
    const torn = framedCodec.encode(bytes('three'), 't').subarray(0, 10);
    for (const [name, tail] of [['torn', torn], ['zeros', Buffer.alloc(13)]] as const) {
      const path = join(dir, name);
      writeFileSync(path, Buffer.concat([whole, tail]));
      const contents = await readDurableLog(path, { format: 'framed' });
      expect(contents.tornBytes).toBe(tail.byteLength);
      expect(statSync(path).size).toBe(whole.byteLength + tail.byteLength);
      const log = await openDurableLog(path, { format: 'framed' });
      expect(log.recovery).toEqual({ validRecords: 2, truncatedBytes: tail.byteLength });
      await log.close();
      expect(readFileSync(path).equals(whole)).toBe(true);
    }
  });

  it('a flipped bit in the middle is a LogCorruptionError at its record, the file unchanged', async () => {
    const path = join(tempDir(), 'events.bin');
    const one = framedCodec.encode(bytes('one'), 't');
    const two = Buffer.from(framedCodec.encode(bytes('two'), 't'));
    two[9] = (two[9] ?? 0) ^ 0x01;
    const content = Buffer.concat([one, two, framedCodec.encode(bytes('three'), 't')]);
    writeFileSync(path, content);
    const error: unknown = await openDurableLog(path, { format: 'framed' }).catch((e: unknown) => e);
    expect(isLogCorruptionError(error)).toBe(true);
    expect(error).toMatchObject({ offset: one.byteLength });
    await expect(readDurableLog(path, { format: 'framed' })).rejects.toSatisfy(isLogCorruptionError);
    expect(readFileSync(path).equals(content)).toBe(true);
  });
});

describe('one log per process, concurrent appends', () => {
  it('refuses a second open of a log this process holds, and allows it after close', async () => {
    const path = join(tempDir(), 'events.log');
    const log = await openDurableLog(path, { format: 'lines' });
    await expect(openDurableLog(path, { format: 'framed' })).rejects.toMatchObject({ code: 'EBUSY', stage: 'open' });
    await log.close();
    const again = await openDurableLog(path, { format: 'lines' });
    await again.close();
  });

  it('concurrent appends get distinct offsets and every record reads back', async () => {
    const path = join(tempDir(), 'events.bin');
    const log = await openDurableLog(path, { format: 'framed' });
    const count = Number(process.env['DURABLE_LOG_APPENDS'] ?? 50);
    const offsets = await Promise.all(Array.from({ length: count }, (_, i) => log.append(bytes(`record ${i}`))));
    expect(new Set(offsets).size).toBe(count);
    const contents = await readDurableLog(path, { format: 'framed' });
    expect(contents.tornBytes).toBe(0);
    expect(contents.offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(new Set(contents.records.map((r) => Buffer.from(r).toString()))).toEqual(new Set(Array.from({ length: count }, (_, i) => `record ${i}`)));
    await log.close();
  });

  it('readDurableLog repairs nothing', async () => {
    const path = join(tempDir(), 'events.log');
    writeFileSync(path, 'one\n');
    appendFileSync(path, Buffer.alloc(5));
    const contents = await readDurableLog(path, { format: 'lines' });
    expect(contents).toEqual({ records: ['one'], offsets: [0], validBytes: 4, tornBytes: 5 });
    expect(statSync(path).size).toBe(9);
  });

  it('refuses bad options with a TypeError before any I/O', async () => {
    const path = join(tempDir(), 'events.log');
    await expect(openDurableLog(path, {} as never)).rejects.toThrow(TypeError);
    await expect(openDurableLog(path, { format: 'framed', json: true } as never)).rejects.toThrow(TypeError);
    await expect(openDurableLog(path, { format: 'lines', onTornTail: 'skip' } as never)).rejects.toThrow(TypeError);
    expect(() => statSync(path)).toThrow();
  });
});

describe('the log errors', () => {
  it('are DurableWriteErrors with their own brands', async () => {
    const { isDurableWriteError, isFlushError, LogCorruptionError, TornTailError } = await import('../../src/core/errors.js');
    const corrupt = new LogCorruptionError('m', { path: '/p', offset: 4 });
    const torn = new TornTailError('m', { path: '/p', offset: 4, tornBytes: 2 });
    expect(isDurableWriteError(corrupt) && isLogCorruptionError(corrupt) && !isTornTailError(corrupt) && !isFlushError(corrupt)).toBe(true);
    expect(isDurableWriteError(torn) && isTornTailError(torn) && !isLogCorruptionError(torn)).toBe(true);
    expect(corrupt).toMatchObject({ name: 'LogCorruptionError', code: 'ELOGCORRUPT', stage: 'recover', offset: 4 });
    expect(torn).toMatchObject({ name: 'TornTailError', code: 'ELOGTORN', stage: 'recover', tornBytes: 2 });
  });
});
