/**
 * The write streams at their edges: `createDurableWriteStream` and a pending file's
 * `createWriteStream()`. Strings are encoded as `fs.createWriteStream` encodes them, byte for
 * byte, for every encoding Node knows; `commit()` waits for the pending file's own streams; an
 * aborted signal, a destroy or a pipeline abort during the commit either wins (target untouched,
 * temp removed) or comes after the rename (the stream finishes), never "failed but replaced"; and
 * the temp file is gone by the time a pipeline rejects, even for a program that exits then.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAbortError } from '../../src/core/errors.js';
import { openDurable } from '../../src/write/open-durable.js';
import { createDurableWriteStream } from '../../src/write/write-stream.js';
import { faultyFileSystem, type RecordedCall } from '../support/faulty-fs.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';
import { transpileSources } from '../sync/support/transpile-sources.js';

const root = resolve(import.meta.dirname, '../..');

/** Every encoding Node's `Buffer` knows, under each of its names. */
const ENCODINGS: readonly BufferEncoding[] = ['utf8', 'utf-8', 'utf16le', 'ucs2', 'latin1', 'binary', 'base64', 'base64url', 'hex', 'ascii'];

/** Strings that differ under every encoding: plain text, base64 (both alphabets), hex (odd length too), non-ASCII, astral. */
const SAMPLES: readonly string[] = ['aGVsbG8=', 'hello', 'deadBEEF0', 'a-b_c+/=', 'héllo wörld ✓ 𝄞', ''];

/** One `write()`: a chunk and the encoding passed with it, if any. */
type Step = readonly [chunk: string | Buffer, encoding?: BufferEncoding];

/** Writes `steps` to `stream`, ends it and waits until it has finished and closed. */
async function writeAll(stream: Writable, steps: readonly Step[]): Promise<void> {
  for (const [chunk, encoding] of steps) {
    if (encoding === undefined) stream.write(chunk);
    else stream.write(chunk, encoding);
  }
  stream.end();
  await finished(stream);
}

/** The writes of one encoding check: every sample, a Buffer between them, and one write naming its own encoding. */
function stepsFor(encoding?: BufferEncoding): Step[] {
  return [
    ...SAMPLES.map((sample): Step => (encoding === undefined ? [sample] : [sample, encoding])),
    [Buffer.from([0, 255, 10])],
    ['b3duIGVuY29kaW5n', 'base64'],
    ['é', 'latin1'],
  ];
}

/**
 * For each encoding, writes the same steps to `fs.createWriteStream` (made by `reference`) and
 * to the stream under test (made by `make`), and lists the encodings whose bytes differ.
 */
async function mismatches(
  dir: string,
  reference: (path: string, encoding: BufferEncoding) => Writable,
  make: (path: string, encoding: BufferEncoding) => Promise<{ stream: Writable; done: () => Promise<unknown> }>,
  steps: (encoding: BufferEncoding) => Step[],
): Promise<string[]> {
  const differ: string[] = [];
  for (const encoding of ENCODINGS) {
    const expectedPath = join(dir, `expected-${encoding}`);
    const actualPath = join(dir, `actual-${encoding}`);
    await writeAll(reference(expectedPath, encoding), steps(encoding));
    const { stream, done } = await make(actualPath, encoding);
    await writeAll(stream, steps(encoding));
    await done();
    const expected = readFileSync(expectedPath);
    const actual = readFileSync(actualPath);
    if (!actual.equals(expected)) differ.push(`${encoding}: ${actual.toString('hex')} instead of ${expected.toString('hex')}`);
  }
  return differ;
}

describe('strings are encoded as fs.createWriteStream encodes them, for every Node encoding', () => {
  it('createDurableWriteStream: the encoding option, setDefaultEncoding() and a write\'s own encoding', async () => {
    const dir = tempDir();
    const noCommit = async (): Promise<void> => undefined;
    // The encoding option: `createDurableWriteStream(p, { encoding: 'base64' })` writing 'aGVsbG8=' stores 'hello'.
    expect(
      await mismatches(
        dir,
        (path, encoding) => createWriteStream(path, { encoding }),
        async (path, encoding) => ({ stream: createDurableWriteStream(path, { encoding }), done: noCommit }),
        () => stepsFor(),
      ),
    ).toEqual([]);
    // setDefaultEncoding() after creation, and an encoding given with each write, override the option.
    expect(
      await mismatches(
        dir,
        (path, encoding) => createWriteStream(path, { encoding: 'hex' }).setDefaultEncoding(encoding),
        async (path, encoding) => ({ stream: createDurableWriteStream(path, { encoding: 'hex' }).setDefaultEncoding(encoding), done: noCommit }),
        () => stepsFor(),
      ),
    ).toEqual([]);
    expect(
      await mismatches(
        dir,
        (path) => createWriteStream(path, { encoding: 'latin1' }),
        async (path) => ({ stream: createDurableWriteStream(path, { encoding: 'latin1' }), done: noCommit }),
        (encoding) => stepsFor(encoding),
      ),
    ).toEqual([]);
    expect(readFileSync(join(dir, 'actual-base64'), 'latin1').startsWith('hello')).toBe(true);
  });

  it('a pending file\'s createWriteStream(): its encoding option, else the pending file\'s, as fs.createWriteStream', async () => {
    const dir = tempDir();
    const viaStreamOption = async (path: string, encoding: BufferEncoding): Promise<{ stream: Writable; done: () => Promise<unknown> }> => {
      const pending = await openDurable(path, { encoding: 'hex' });
      return { stream: pending.createWriteStream({ encoding }), done: () => pending.commit() };
    };
    const viaPendingOption = async (path: string, encoding: BufferEncoding): Promise<{ stream: Writable; done: () => Promise<unknown> }> => {
      const pending = await openDurable(path, { encoding });
      return { stream: pending.createWriteStream(), done: () => pending.commit() };
    };
    const reference = (path: string, encoding: BufferEncoding): Writable => createWriteStream(path, { encoding });
    expect(await mismatches(dir, reference, viaStreamOption, () => stepsFor())).toEqual([]);
    expect(await mismatches(dir, reference, viaPendingOption, () => stepsFor())).toEqual([]);
    expect(await mismatches(dir, reference, viaPendingOption, (encoding) => stepsFor(encoding))).toEqual([]);
    // null means utf8, as with fs.createWriteStream.
    const pending = await openDurable(join(dir, 'null'), { encoding: 'hex' });
    await writeAll(pending.createWriteStream({ encoding: null }), [['é']]);
    await pending.commit();
    expect(readFileSync(join(dir, 'null'), 'utf8')).toBe('é');
  });

  it('bad stream options: a TypeError at once, nothing written', async () => {
    const dir = tempDir();
    const pending = await openDurable(join(dir, 't'));
    expect(() => pending.createWriteStream({ encoding: 'klingon' as BufferEncoding })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => pending.createWriteStream({ encodng: 'hex' } as never)).toThrow(/unknown option 'encodng' \(did you mean encoding\?\)/);
    expect(() => pending.createWriteStream({ highWaterMark: 0 })).toThrow(/highWaterMark must be a positive integer; received number 0/);
    expect(() => pending.createWriteStream('hex' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => createDurableWriteStream(join(dir, 't'), { encoding: 'klingon' as BufferEncoding })).toThrow(TypeError);
    await pending.discard();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("commit() and the pending file's own write streams", () => {
  const half = (fill: number): Buffer => Buffer.alloc(100_000, fill);

  it('commit() called while a stream still flushes waits for its finish: every byte committed, no error', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const pending = await openDurable(join(dir, 't'));
    const ws = pending.createWriteStream();
    const events: string[] = [];
    ws.on('error', (error: Error) => events.push(`error: ${error.message}`));
    ws.on('finish', () => events.push('finish'));
    ws.write(half(1));
    ws.end(half(2));
    const result = await pending.commit().then((r) => {
      events.push('committed');
      return r;
    });
    expect(result.bytesWritten).toBe(200_000);
    expect(readFileSync(join(dir, 't')).equals(Buffer.concat([half(1), half(2)]))).toBe(true);
    expect(events).toEqual(['finish', 'committed']);
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('commit() before the stream is ended: rejects at once naming the stream, changes nothing; after end(), commit() succeeds', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const pending = await openDurable(join(dir, 't'));
    const first = pending.createWriteStream();
    const second = pending.createWriteStream();
    first.end('never ended? it is');
    second.write(half(3));
    await expect(pending.commit()).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
      message: expect.stringMatching(/write stream #2 of the pending file \(from createWriteStream\(\)\) has not ended/),
    });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    second.end(half(4));
    await pending.commit();
    expect(readFileSync(join(dir, 't')).equals(Buffer.concat([Buffer.from('never ended? it is'), half(3), half(4)]))).toBe(true);
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('a stream destroyed while commit() waits for it: the commit rejects, nothing is committed or left', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const pending = await openDurable(join(dir, 't'));
    const ws = pending.createWriteStream();
    ws.write(half(5));
    ws.end(half(6));
    const committing = pending.commit();
    ws.destroy();
    await expect(committing).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
      message: expect.stringMatching(/write stream #1 of the pending file was destroyed before it finished/),
    });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('a stream whose write fails while commit() waits: the commit rejects with that error, which is not uncaught; nothing left', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    let writes = 0;
    const { fs } = faultyFileSystem({ fail: (call) => (call.op === 'write' && ++writes === 2 ? 'ENOSPC' : undefined) });
    const pending = await openDurable(join(dir, 't'), { fs });
    const ws = pending.createWriteStream(); // no 'error' listener: the waiting commit reports it
    ws.write(half(7));
    ws.end(half(8));
    await expect(pending.commit()).rejects.toMatchObject({ name: 'DurableWriteError', stage: 'write', code: 'ENOSPC' });
    expect(ws.errored).toMatchObject({ code: 'ENOSPC' });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('discard() destroys the open streams quietly; a stream is refused once the pending file is committing or done', async () => {
    const dir = tempDir();
    const pending = await openDurable(join(dir, 't'));
    const ws = pending.createWriteStream();
    ws.write('dropped');
    await pending.discard();
    expect(ws.destroyed).toBe(true);
    ws.write('after the discard'); // refused by the destroyed stream itself, with no 'error' event
    expect(() => pending.createWriteStream()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    const committed = await openDurable(join(dir, 't'));
    await committed.write('kept');
    const committing = committed.commit();
    expect(() => committed.createWriteStream()).toThrow(/createWriteStream: the pending file is committing/);
    await committing;
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('kept');
    expect(readdirSync(dir)).toEqual(['t']);
  });
});

/** A file system that calls `at(call)` as each primitive starts (before it runs), recording every call. */
function pausing(at: (call: RecordedCall) => void): ReturnType<typeof faultyFileSystem> {
  return faultyFileSystem({
    fail: (call) => {
      at(call);
      return undefined;
    },
  });
}

/** What a stream emitted, in order, once it has closed. */
function eventsOf(stream: Writable): { events: string[]; closed: Promise<void> } {
  const events: string[] = [];
  stream.on('finish', () => events.push('finish'));
  stream.on('error', (error: Error) => events.push(`error ${error.name}`));
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  return { events, closed };
}

/** Whether `call` is on the temp file of the target `t` (`.t.<...>`, whatever its suffix). */
const onTemp = (call: RecordedCall): boolean => basename(call.path).startsWith('.t.');
const isTempFlush = (call: RecordedCall): boolean => call.op === 'sync' && onTemp(call);

describe('createDurableWriteStream: aborts and destroys', () => {
  it('an already-aborted signal: the stream errors with an AbortError, and nothing is opened', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const { fs, calls } = faultyFileSystem();
    const stream = createDurableWriteStream(join(dir, 't'), { fs, signal: AbortSignal.abort('stop') });
    const errors: unknown[] = [];
    stream.on('error', (error) => errors.push(error));
    await new Promise((resolve) => stream.once('close', resolve));
    expect(errors).toHaveLength(1);
    expect(isAbortError(errors[0])).toBe(true);
    expect(errors[0]).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'stop', path: join(dir, 't') });
    expect(calls).toEqual([]);
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('destroy() during the commit, before the rename: the destroy wins; target untouched, temp removed, no finish', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    let stream: Writable | undefined;
    const { fs, calls } = pausing((call) => {
      if (isTempFlush(call)) stream?.destroy();
    });
    stream = createDurableWriteStream(join(dir, 't'), { fs });
    const { events, closed } = eventsOf(stream);
    stream.end('new');
    await closed;
    expect(events).toEqual([]);
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
    expect(calls.some((call) => call.op === 'rename')).toBe(false);
  });

  it('a pipeline abort during the commit, before the rename: the pipeline rejects, the target is untouched, the temp gone by then', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const controller = new AbortController();
    const { fs } = pausing((call) => {
      if (isTempFlush(call)) controller.abort();
    });
    const stream = createDurableWriteStream(join(dir, 't'), { fs });
    await expect(pipeline(Readable.from(['new']), stream, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(leftoverTemps(dir)).toEqual([]);
    expect(stream.result).toBeUndefined();
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
  });

  it("the stream's own signal firing during the commit: an AbortError, the target untouched, the temp removed", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const controller = new AbortController();
    const { fs } = pausing((call) => {
      if (call.op === 'close' && onTemp(call)) controller.abort('late');
    });
    const stream = createDurableWriteStream(join(dir, 't'), { fs, signal: controller.signal });
    const errors: unknown[] = [];
    stream.on('error', (error) => errors.push(error));
    const { events, closed } = eventsOf(stream);
    stream.end('new');
    await closed;
    expect(events).toEqual(['error AbortError']);
    expect(isAbortError(errors[0])).toBe(true);
    expect(errors[0]).toMatchObject({ cause: 'late' });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('destroy() once the rename is issued is too late: the write completes and the stream reports it (finish, result)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    let stream: Writable | undefined;
    const { fs } = pausing((call) => {
      if (call.op === 'rename') stream?.destroy(new Error('too late'));
    });
    const durable = createDurableWriteStream(join(dir, 't'), { fs });
    stream = durable;
    const { events, closed } = eventsOf(durable);
    durable.end('new');
    await closed;
    expect(events).toEqual(['finish']);
    expect(durable.result).toMatchObject({ path: join(dir, 't'), bytesWritten: 3 });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['t']);
  });

  it('a pipeline abort once the rename is issued: Node\'s pipeline still rejects, but the stream finished and holds the result', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't'), 'old');
    const controller = new AbortController();
    const { fs } = pausing((call) => {
      if (call.op === 'rename') controller.abort();
    });
    const stream = createDurableWriteStream(join(dir, 't'), { fs });
    const { events } = eventsOf(stream);
    await expect(pipeline(Readable.from(['new']), stream, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(events).toEqual(['finish']);
    expect(stream.result).toMatchObject({ bytesWritten: 3 });
    expect(readFileSync(join(dir, 't'), 'utf8')).toBe('new');
  });
});

describe('the temp file is gone by the time a pipeline rejects (child process, sources transpiled)', () => {
  let lib: string;
  let url: string;
  beforeAll(() => {
    lib = mkdtempSync(join(tmpdir(), 'dw-write-streams-lib-'));
    url = pathToFileURL(transpileSources(join(root, 'src/write/write-stream.ts'), root, join(lib, 'lib'))).href;
  });
  afterAll(() => {
    rmSync(lib, { recursive: true, force: true });
  });

  const runs = Number(process.env['DW_STREAM_EXIT_RUNS'] ?? 3);

  it(`a program that exits in the rejection handler of a failed 3 MB export leaves no temp file (${runs} runs)`, () => {
    const script = join(lib, 'export.mjs');
    writeFileSync(
      script,
      `import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDurableWriteStream } from ${JSON.stringify(url)};
process.on('uncaughtException', (error) => { console.log('uncaught ' + error.message); process.exit(3); });
process.on('unhandledRejection', (error) => { console.log('unhandled ' + String(error)); process.exit(3); });
let chunks = 0;
// 48 chunks of 64 KiB would be 3 MiB; the source fails half-way.
const source = new Readable({
  read() {
    chunks += 1;
    if (chunks > 24) this.destroy(new Error('the export failed half-way'));
    else this.push(Buffer.alloc(64 * 1024, chunks));
  },
});
pipeline(source, createDurableWriteStream(process.argv[2])).then(
  () => { console.log('resolved'); process.exit(2); },
  (error) => { console.log('rejected: ' + error.message); process.exit(1); },
);
`,
    );
    for (let run = 0; run < runs; run += 1) {
      const dir = tempDir();
      writeFileSync(join(dir, 'export.csv'), 'previous');
      let output = '';
      try {
        execFileSync(process.execPath, [script, join(dir, 'export.csv')], { encoding: 'utf8' });
      } catch (error) {
        output = String((error as { stdout?: unknown }).stdout);
      }
      expect(output.trim()).toBe('rejected: the export failed half-way');
      expect(readdirSync(dir)).toEqual(['export.csv']);
      expect(readFileSync(join(dir, 'export.csv'), 'utf8')).toBe('previous');
    }
  });
});
