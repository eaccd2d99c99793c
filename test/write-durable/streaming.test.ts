/**
 * How `writeDurable` streams: small chunks gathered into batches of up to `BATCH_BYTES` (in two
 * buffers used by turns), a chunk as large written as it came, a byte `Readable` asked for
 * chunks of `BATCH_BYTES` (its high-water mark raised). Every byte is written, in order, for chunk
 * sizes on both sides of every threshold and from every kind of source; memory stays bounded (in
 * a child process, on the library transpiled from src/); failures and aborts keep their
 * guarantees. No timing is asserted.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAbortError } from '../../src/core/errors.js';
import { nodeFileSystem, type DurableFileHandle, type DurableFileSystem } from '../../src/core/file-system.js';
import { createCrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';
import { BATCH_BYTES, FIRST_BATCH_BYTES } from '../../src/write/data-source.js';
import { createBatchBuffers } from '../../src/write/stream-batch-buffers.js';
import { writeDurable, type DataChunk } from '../../src/write/write-durable.js';
import { faultyFileSystem } from '../support/faulty-fs.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';
import { transpileSources } from '../sync/support/transpile-sources.js';

const root = resolve(import.meta.dirname, '../..');
const KiB = 1024;
const MiB = 1024 * KiB;

/** `total` bytes that differ from their neighbours (a deterministic generator), so a byte out of place shows. */
function pattern(total: number, seed = 1): Buffer {
  const bytes = Buffer.allocUnsafe(total);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < total; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** `whole` cut into chunks of the given sizes, repeated as needed (each chunk a copy: a source owns its chunks). */
function cut(whole: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0, i = 0; offset < whole.length; i += 1) {
    const size = sizes[i % sizes.length] ?? 1;
    chunks.push(Buffer.from(whole.subarray(offset, offset + size)));
    offset += size;
  }
  return chunks;
}

/** Node's file system, recording the length of every write asked for. */
function recordingFileSystem(): { fs: DurableFileSystem; writes: number[] } {
  const writes: number[] = [];
  const wrap = (handle: DurableFileHandle): DurableFileHandle => ({
    fd: handle.fd,
    write: (buffer, offset, length, position) => {
      writes.push(length);
      return handle.write(buffer, offset, length, position);
    },
    sync: () => handle.sync(),
    datasync: () => handle.datasync(),
    chmod: (mode) => handle.chmod(mode),
    chown: (uid, gid) => handle.chown(uid, gid),
    close: () => handle.close(),
  });
  return { fs: { ...nodeFileSystem, open: async (path, flags, mode) => wrap(await nodeFileSystem.open(path, flags, mode)) }, writes };
}

/**
 * The kinds of source a caller may pass, made from the same chunks, and whether their chunks
 * arrive as they were made (`true`), or joined as a byte stream hands over all it has buffered
 * (Node's async iterator reads with `read()`; its buffering, not ours, bounds those).
 */
const sources: readonly [string, boolean, (chunks: readonly Buffer[]) => Iterable<DataChunk> | AsyncIterable<DataChunk>][] = [
  ['an array', true, (chunks) => [...chunks]],
  ['a generator', true, (chunks) => (function* () { yield* chunks; })()],
  ['an async generator', true, (chunks) => (async function* () { for (const chunk of chunks) yield chunk; })()],
  ['a byte Readable', false, (chunks) => Readable.from(chunks, { objectMode: false })],
  ['an object-mode Readable', true, (chunks) => Readable.from(chunks)],
  [
    'a PassThrough written to as it drains',
    false,
    (chunks) => {
      const stream = new PassThrough();
      void (async () => {
        for (const chunk of chunks) if (!stream.write(chunk)) await new Promise((drained) => stream.once('drain', drained));
        stream.end();
      })();
      return stream;
    },
  ],
];

/** Chunk sizes on both sides of the thresholds: the first batch, a batch, the buffers' small-batch cut. */
const chunkSizes: readonly [string, readonly number[], number][] = [
  ['1 byte', [1], 20_000],
  ['16 KiB - 1', [16 * KiB - 1], 3 * MiB],
  ['64 KiB - 1, 64 KiB, 64 KiB + 1', [FIRST_BATCH_BYTES - 1, FIRST_BATCH_BYTES, FIRST_BATCH_BYTES + 1], 5 * MiB],
  ['a batch - 1, a batch, a batch + 1', [BATCH_BYTES - 1, BATCH_BYTES, BATCH_BYTES + 1], 7 * MiB + 3],
  ['3 batches + 7', [3 * BATCH_BYTES + 7], 7 * MiB],
  ['mixed, straddling every batch', [10, BATCH_BYTES - 5, 7, 2 * BATCH_BYTES, 1, FIRST_BATCH_BYTES, BATCH_BYTES, 900 * KiB, 200 * KiB], 9 * MiB + 11],
];

describe('every byte, in order, whatever the chunk sizes and the source', () => {
  describe.each(chunkSizes)('chunks of %s', (_name, sizes, total) => {
    const whole = pattern(total, total);
    const chunks = cut(whole, sizes);
    const largest = Math.max(...chunks.map((chunk) => chunk.length));

    it.each(sources)('from %s', async (_kind, asMade, source) => {
      const dir = tempDir();
      const { fs, writes } = recordingFileSystem();
      const result = await writeDurable(join(dir, 'f'), source(chunks), { fs });
      expect(result.bytesWritten).toBe(total);
      expect(readFileSync(join(dir, 'f')).equals(whole)).toBe(true);
      // Gathered batches never exceed a batch; only a chunk larger than one is written as it came.
      if (asMade) for (const length of writes) expect(length).toBeLessThanOrEqual(Math.max(BATCH_BYTES, largest));
      expect(writes.reduce((sum, length) => sum + length, 0)).toBe(total);
    });
  });

  it('small chunks are gathered into batches of about BATCH_BYTES after a first one of FIRST_BATCH_BYTES', async () => {
    const dir = tempDir();
    const whole = pattern(8 * MiB);
    const { fs, writes } = recordingFileSystem();
    await writeDurable(join(dir, 'f'), (async function* () { yield* cut(whole, [4 * KiB]); })(), { fs });
    expect(readFileSync(join(dir, 'f')).equals(whole)).toBe(true);
    expect(writes[0]).toBe(FIRST_BATCH_BYTES);
    expect(writes.slice(1, -1).every((length) => length === BATCH_BYTES)).toBe(true);
    expect(writes.length).toBeLessThanOrEqual(Math.ceil(whole.length / BATCH_BYTES) + 1);
  });

  it('short writes of a gathered batch: the batch is written to its end before its buffer is used again', async () => {
    const dir = tempDir();
    const whole = pattern(5 * MiB + 17, 7);
    const { fs } = faultyFileSystem({ maxWriteBytes: 100_003 });
    await writeDurable(join(dir, 'f'), (async function* () { yield* cut(whole, [12_345, 70_001]); })(), { fs });
    expect(readFileSync(join(dir, 'f')).equals(whole)).toBe(true);
  });

  it('the crash simulator, which keeps the bytes it is given: gathered batches stay intact through a crash', async () => {
    const sim = createCrashSimulator({ directories: ['/d'] });
    const whole = pattern(3 * MiB + 5, 3);
    await writeDurable('/d/f', cut(whole, [33_333]), { fs: sim.fs });
    sim.crash();
    expect(sim.readFile('/d/f')?.equals(whole)).toBe(true);
  });
});

describe('the buffers batches are gathered into', () => {
  it('a view stays intact until the second gather after it; small batches get new memory', () => {
    const buffers = createBatchBuffers(64 * KiB);
    const parts = (fill: number): Uint8Array[] => [new Uint8Array(20 * KiB).fill(fill), new Uint8Array(20 * KiB).fill(fill)];
    const first = buffers.gather(parts(1), 40 * KiB);
    const second = buffers.gather(parts(2), 40 * KiB);
    expect(first.every((byte) => byte === 1)).toBe(true);
    expect(second.every((byte) => byte === 2)).toBe(true);
    expect(second.buffer).not.toBe(first.buffer);
    const third = buffers.gather(parts(3), 40 * KiB);
    expect(third.buffer).toBe(first.buffer); // the consumer is done with the first by now
    const small = buffers.gather([new Uint8Array([1]), new Uint8Array([2])], 2);
    expect(small.buffer).not.toBe(second.buffer);
    expect([...small]).toEqual([1, 2]);
    expect(() => buffers.gather(parts(4), 64 * KiB + 1)).toThrow(RangeError);
  });
});

describe('a byte stream is asked for chunks of BATCH_BYTES', () => {
  it('fs.createReadStream with default options: its high-water mark raised, 1 MiB writes, every byte', async () => {
    const dir = tempDir();
    const whole = pattern(8 * MiB + 123, 5);
    writeFileSync(join(dir, 'source'), whole);
    const stream = createReadStream(join(dir, 'source'));
    expect(stream.readableHighWaterMark).toBe(64 * KiB);
    const { fs, writes } = recordingFileSystem();
    await writeDurable(join(dir, 'f'), stream, { fs });
    expect(readFileSync(join(dir, 'f')).equals(whole)).toBe(true);
    expect(stream.readableHighWaterMark).toBe(BATCH_BYTES);
    expect(stream.readableHighWaterMark).toBeGreaterThan(64 * KiB);
    expect(writes.every((length) => length <= BATCH_BYTES)).toBe(true);
    expect(writes.length).toBeLessThanOrEqual(Math.ceil(whole.length / BATCH_BYTES) + 1);
    expect(stream.destroyed).toBe(true); // ended and closed: its descriptor released
  });

  it('a stream with a larger high-water mark keeps it', async () => {
    const dir = tempDir();
    const whole = pattern(3 * MiB, 9);
    writeFileSync(join(dir, 'source'), whole);
    const stream = createReadStream(join(dir, 'source'), { highWaterMark: 4 * MiB });
    await writeDurable(join(dir, 'f'), stream);
    expect(stream.readableHighWaterMark).toBe(4 * MiB);
    expect(readFileSync(join(dir, 'f')).equals(whole)).toBe(true);
  });

  it('left alone: an object-mode stream (its mark counts objects) and a decoding one (setEncoding)', async () => {
    const dir = tempDir();
    const objects = Readable.from([Buffer.from('a'), Buffer.from('b')]);
    const objectMark = objects.readableHighWaterMark;
    await writeDurable(join(dir, 'objects'), objects);
    expect(objects.readableHighWaterMark).toBe(objectMark);
    expect(readFileSync(join(dir, 'objects'), 'utf8')).toBe('ab');

    const text = 'é'.repeat(300_000);
    writeFileSync(join(dir, 'source'), text, 'latin1');
    const decoding = createReadStream(join(dir, 'source'));
    decoding.setEncoding('latin1');
    await writeDurable(join(dir, 'decoded'), decoding, { encoding: 'latin1' });
    expect(decoding.readableHighWaterMark).toBe(64 * KiB);
    expect(readFileSync(join(dir, 'decoded'), 'latin1')).toBe(text);
  });

  it('bytes already buffered when the mark is raised are written first, then the rest in order', async () => {
    const dir = tempDir();
    const head = pattern(BATCH_BYTES + 5, 11);
    const tail = pattern(3 * MiB + 1, 12);
    const stream = new PassThrough();
    stream.write(head); // buffered before the call: the raising read returns it
    const written = writeDurable(join(dir, 'f'), stream);
    setTimeout(() => stream.end(tail), 20);
    await written;
    expect(readFileSync(join(dir, 'f')).equals(Buffer.concat([head, tail]))).toBe(true);
  });
});

describe('the guarantees hold with batches and raised streams', () => {
  it('an abort while a read of a raised stream is pending settles at once: AbortError, stream destroyed, temp removed', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    const stalled = new PassThrough();
    stalled.write(pattern(2 * MiB + 1)); // more than a batch, then nothing, never ended
    const controller = new AbortController();
    const pending = writeDurable(join(dir, 't'), stalled, { signal: controller.signal });
    // Abort once the buffered bytes are written and the source waits for more.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const aborted = Date.now();
    controller.abort();
    const error: unknown = await pending.catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(Date.now() - aborted).toBeLessThan(1000);
    expect(stalled.destroyed).toBe(true);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('a wrong chunk in a later gathered batch: a write-stage error naming it, the target kept, the generator closed', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    let closed = false;
    const chunks = (function* () {
      try {
        for (let i = 0; i < 300; i += 1) yield Buffer.alloc(10_000, 1); // 3 000 000 bytes: the first batch and two more
        yield 42 as unknown as string;
      } finally {
        closed = true;
      }
    })();
    const error: unknown = await writeDurable(join(dir, 't'), chunks).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DurableWriteError', stage: 'write' });
    expect((error as Error).message).toMatch(/chunk 300 of the data \(after 3000000 bytes\) is number 42/);
    expect(closed).toBe(true);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('a wrong chunk within the first FIRST_BATCH_BYTES is the TypeError, before the disk is touched', async () => {
    const dir = tempDir();
    const { fs, calls } = faultyFileSystem();
    const chunks = [Buffer.alloc(FIRST_BATCH_BYTES - 1), 42 as unknown as string];
    await expect(writeDurable(join(dir, 't'), chunks.values(), { fs })).rejects.toThrow(TypeError);
    expect(calls.filter((call) => call.op === 'open')).toEqual([]);
  });

  it('a failed write destroys a raised file stream and keeps the target', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'previous');
    writeFileSync(join(dir, 'source'), pattern(6 * MiB));
    let writes = 0;
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'write' && ++writes === 3 ? 'EIO' : undefined) });
    const stream = createReadStream(join(dir, 'source'));
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    await expect(writeDurable(join(dir, 't'), stream, { fs })).rejects.toMatchObject({ stage: 'write', code: 'EIO' });
    expect(stream.destroyed).toBe(true);
    await closed;
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('previous');
    expect(leftoverTemps(dir)).toEqual([]);
  });
});

describe('bounded memory: 256 MiB streamed with peak RSS growth well under 64 MiB (child process, sources transpiled)', () => {
  let lib: string;
  let url: string;
  beforeAll(() => {
    lib = mkdtempSync(join(tmpdir(), 'dw-streaming-lib-'));
    url = pathToFileURL(transpileSources(join(root, 'src/write/write-durable.ts'), root, join(lib, 'lib'))).href;
  });
  afterAll(() => {
    rmSync(lib, { recursive: true, force: true });
  });

  /** Scripts making 256 MiB of data as a source, each chunk new memory (as a stream's are). */
  const makers: readonly [string, string][] = [
    [
      'a byte Readable of 64 KiB chunks (raised to 1 MiB)',
      `let left = 4096;
       const data = new Readable({ read() { this.push(left-- > 0 ? Buffer.alloc(64 * 1024, left & 0xff) : null); } });`,
    ],
    [
      'an async generator of 16 KiB chunks (gathered)',
      `const data = (async function* () { for (let i = 0; i < 16384; i += 1) yield Buffer.alloc(16 * 1024, i & 0xff); })();`,
    ],
    [
      'an object-mode Readable of 100 000-byte chunks (gathered)',
      `const data = Readable.from((function* () { for (let i = 0; i < 2685; i += 1) yield Buffer.alloc(100_000, i & 0xff); })());`,
    ],
  ];

  it.each(makers)('%s', (_name, maker) => {
    const dir = tempDir();
    const script = join(lib, 'writer.mjs');
    writeFileSync(
      script,
      `import { Readable } from 'node:stream';
import { statSync } from 'node:fs';
import { writeDurable } from ${JSON.stringify(url)};
await writeDurable(process.argv[2] + '.warm', 'x'); // code loaded and compiled before the baseline
const before = process.resourceUsage().maxRSS;
${maker}
const result = await writeDurable(process.argv[2], data);
const after = process.resourceUsage().maxRSS;
console.log(JSON.stringify({ growthKiB: after - before, bytes: result.bytesWritten, size: statSync(process.argv[2]).size }));
`,
    );
    const out = execFileSync(process.execPath, [script, join(dir, 'big')], { encoding: 'utf8' });
    const { growthKiB, bytes, size } = JSON.parse(out) as { growthKiB: number; bytes: number; size: number };
    expect(bytes).toBeGreaterThanOrEqual(256 * MiB);
    expect(size).toBe(bytes);
    // A buffered copy would grow by 256 MiB; the stream holds a few batches and what waits for GC.
    expect(growthKiB * KiB).toBeLessThan(64 * MiB);
  });
});
