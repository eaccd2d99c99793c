/**
 * A buffer that stops holding its bytes (its `ArrayBuffer` transferred, hence detached, or a
 * resizable `ArrayBuffer` shrunk) before they are written. 0.2.0: detached before the call,
 * `writeDurable` threw synchronously instead of rejecting; detached or shrunk after it, the
 * general path wrote an empty file over the target and resolved, and the write worker's hand-off
 * threw after it had reserved the directory's fsync, so that every later async write into that
 * directory never settled. The rule now (docs/api.md, Data): the bytes are read when written, a
 * buffer that no longer holds them makes the call reject, the target keeps its content, no temp
 * file stays, and later writes run as usual.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DurableWriteError, isDurableWriteError } from '../../src/core/errors.js';
import { writeDurable, writeDurableSync } from '../../src/write/write-durable.js';
import { distEsm, requireBuild } from '../support/built-package.js';
import { leftoverTemps, tempDir } from '../support/temp-dir.js';

/** Detaches `buffer`, as `postMessage` with a transfer list does. */
function detach(buffer: ArrayBuffer): void {
  structuredClone(buffer, { transfer: [buffer] });
}

/** A resizable `ArrayBuffer` (ES2024; the project's lib is ES2023, Node 20 has them). */
interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}
const ResizableArrayBuffer: new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer =
  ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

/** 16 bytes of 'A' in a fresh buffer, and the view of them. */
function sixteenBytes(): { buffer: ArrayBuffer; view: Uint8Array } {
  const buffer = new ArrayBuffer(16);
  return { buffer, view: new Uint8Array(buffer).fill(65) };
}

/** A directory holding `target` with 'old' in it. */
function directoryWithTarget(): { dir: string; target: string } {
  const dir = tempDir();
  const target = join(dir, 'target');
  writeFileSync(target, 'old');
  return { dir, target };
}

describe('a buffer detached before the call', () => {
  it('writeDurable rejects with a TypeError naming the detached buffer (0.2.0 threw synchronously); nothing is touched', async () => {
    const { dir, target } = directoryWithTarget();
    const { buffer, view } = sixteenBytes();
    detach(buffer);
    let call: Promise<unknown> | undefined;
    expect(() => {
      call = writeDurable(target, view);
    }).not.toThrow();
    const error: unknown = await call?.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((error as Error).message).toBe('writeDurable: data must be bytes that can be read; received an instance of Uint8Array whose ArrayBuffer is detached (transferred)');
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('a DataView too (its byteLength getter throws once detached)', async () => {
    const { target } = directoryWithTarget();
    const buffer = new ArrayBuffer(8);
    const view = new DataView(buffer);
    detach(buffer);
    await expect(writeDurable(target, view)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    expect(readFileSync(target, 'utf8')).toBe('old');
  });

  it('writeDurableSync throws the same TypeError and writes nothing', () => {
    const { dir, target } = directoryWithTarget();
    const { buffer, view } = sixteenBytes();
    detach(buffer);
    expect(() => writeDurableSync(target, view)).toThrow('writeDurableSync: data must be bytes that can be read; received an instance of Uint8Array whose ArrayBuffer is detached (transferred)');
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('an element of an array given as data is checked before the disk is touched', async () => {
    const { dir, target } = directoryWithTarget();
    const { buffer, view } = sixteenBytes();
    detach(buffer);
    await expect(writeDurable(target, [Buffer.from('a'), view])).rejects.toThrow(
      'writeDurable: data must be a string, Buffer, TypedArray, DataView, an (async) iterable of them, or a Readable; element 1 is an instance of Uint8Array whose ArrayBuffer is detached (transferred)',
    );
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
  });
});

describe('a buffer that stops holding its bytes after the call (the general path)', () => {
  const changes = [
    { name: 'detached', make: sixteenBytes, change: (buffer: ArrayBuffer) => detach(buffer) },
    {
      name: 'a resizable buffer shrunk below the view',
      make: () => {
        const buffer = new ResizableArrayBuffer(16, { maxByteLength: 32 });
        return { buffer, view: new Uint8Array(buffer, 0, 16).fill(65) };
      },
      change: (buffer: ArrayBuffer) => (buffer as ResizableArrayBuffer).resize(4),
    },
  ];

  it.each(changes)('$name before the write: rejects with a TypeError, the target keeps its content (0.2.0 wrote an empty file), no temp file; 100 later writes into the directory succeed', async ({ make, change }) => {
    const { dir, target } = directoryWithTarget();
    const { buffer, view } = make();
    const call = writeDurable(target, view);
    change(buffer);
    const error: unknown = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      'writeDurable: data must keep its bytes until the write settles; its ArrayBuffer was detached (transferred) or shrunk after the call, before its 16 bytes were written',
    );
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
    await Promise.all(Array.from({ length: 100 }, (_, i) => writeDurable(join(dir, `f${i}`), `v${i}`)));
    for (let i = 0; i < 100; i += 1) expect(readFileSync(join(dir, `f${i}`), 'utf8')).toBe(`v${i}`);
  });

  it('detached once the temp file exists: a write-stage error, the temp file removed, the target untouched', async () => {
    const { dir, target } = directoryWithTarget();
    const { buffer, view } = sixteenBytes();
    let opens = 0;
    // onStep runs after each step: after the second open (the temp file's), the buffer goes.
    const error: unknown = await writeDurable(target, view, {
      onStep: ({ step }) => {
        if (step === 'open' && (opens += 1) === 2) detach(buffer);
      },
    }).catch((e: unknown) => e);
    expect(isDurableWriteError(error)).toBe(true);
    expect(error).toMatchObject({ stage: 'write', path: target });
    expect((error as DurableWriteError).cause).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('detached (transferred) or shrunk after the call, before its 16 bytes were written');
    expect((error as Error).message).toContain(`the temporary file was removed and ${target} keeps its previous content`);
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
  });

  it('a resizable buffer that grows after the call: the bytes the view held at the call are written', async () => {
    const { target } = directoryWithTarget();
    const buffer = new ResizableArrayBuffer(4, { maxByteLength: 32 });
    const view = new Uint8Array(buffer).fill(66); // length-tracking: it grows with its buffer
    const call = writeDurable(target, view);
    buffer.resize(32);
    await expect(call).resolves.toMatchObject({ bytesWritten: 4 });
    expect(readFileSync(target, 'utf8')).toBe('BBBB');
  });

  it('a streamed chunk detached after it was read, before it was written: the write rejects, the target is untouched', async () => {
    const { dir, target } = directoryWithTarget();
    const big = new ArrayBuffer(128 * 1024); // as large as a batch: passed on uncopied
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(big).fill(67);
      yield Buffer.from('tail');
    }
    let opens = 0;
    // The first batch is read before the temp file is created; the buffer goes once it exists.
    const error: unknown = await writeDurable(target, chunks(), {
      onStep: ({ step }) => {
        if (step === 'open' && (opens += 1) === 2) detach(big);
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ stage: 'write' });
    expect((error as Error).message).toContain('each chunk of the data must keep its bytes until the write settles');
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(leftoverTemps(dir)).toEqual([]);
  });
});

describe('through the built package, with the write worker up', () => {
  /**
   * A child that starts the worker, then writes a buffer it detaches (or a resizable one it
   * shrinks) right after the call, then 100 writes into the same directory; it reports the
   * first call's outcome, or exits 2 when the 100 have not settled within 10 s (0.2.0: never).
   */
  const SCRIPT = `
    const { writeDurable } = await import(process.argv[1]);
    const { readdirSync, readFileSync } = await import('node:fs');
    const [dir, kind] = process.argv.slice(2);
    await writeDurable(dir + '/warm', 'x');
    await writeDurable(dir + '/warm', 'y'); // the second eligible call starts the worker
    await new Promise((resolve) => setTimeout(resolve, 500));
    const buffer = kind === 'detach' ? new ArrayBuffer(16) : new ArrayBuffer(16, { maxByteLength: 32 });
    const view = new Uint8Array(buffer, 0, 16).fill(65);
    const call = writeDurable(dir + '/target', view);
    if (kind === 'detach') structuredClone(buffer, { transfer: [buffer] });
    else buffer.resize(4);
    const outcome = await call.then((r) => ({ resolved: r.bytesWritten }), (e) => ({ name: e.name, message: e.message }));
    const timer = setTimeout(() => process.exit(2), 10000);
    await Promise.all(Array.from({ length: 100 }, (_, i) => writeDurable(dir + '/f' + i, 'v' + i)));
    clearTimeout(timer);
    const written = Array.from({ length: 100 }, (_, i) => readFileSync(dir + '/f' + i, 'utf8') === 'v' + i).every(Boolean);
    const temps = readdirSync(dir).filter((name) => name.startsWith('.'));
    console.log(JSON.stringify({ outcome, target: readFileSync(dir + '/target', 'utf8'), written, temps }));`;

  it.each(['detach', 'shrink'])('%s right after the call: the call rejects, the target is untouched, and 100 later writes into the directory settle', (kind) => {
    requireBuild();
    const { dir } = directoryWithTarget();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT, distEsm, dir, kind], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(out)).toEqual({
      outcome: {
        name: 'TypeError',
        message: 'writeDurable: data must keep its bytes until the write settles; its ArrayBuffer was detached (transferred) or shrunk after the call, before its 16 bytes were written',
      },
      target: 'old',
      written: true,
      temps: [],
    });
  });
});
