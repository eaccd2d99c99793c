/**
 * Differential: fs-extra 11's `outputFile`, `outputJson`, `writeJson` and their `Sync` forms,
 * and durable-write/compat's, leave the same tree (bytes, modes, owners, parents created) and
 * end the same way (result, or error code; for a value with no JSON text, jsonfile's TypeError
 * and message), with every option they document (`fs.writeFile`'s `encoding`, `mode`, `flag`,
 * `signal`, `flush`, and jsonfile's `spaces`, `replacer`, `EOL`, `finalEOL`), and their callback
 * forms call back alike: once, with `null` on success and the error on failure.
 */
import { chownSync, mkdirSync, writeFileSync as fsWriteFileSync } from 'node:fs';
import fse from 'fs-extra';
import { describe, expect, it } from 'vitest';
import * as compat from '../../src/compat.js';
import { writeDurable } from '../../src/write/write-durable.js';
import { missing } from '../support/prerequisites.js';
import { callbackCalls, differential, expectAlike, fileAndDirectory, twins } from './twins.js';

/** The fs-extra functions these tests call, as both packages type them. */
interface FsExtraLike {
  outputFile(file: string, data: string | NodeJS.ArrayBufferView, options?: FileOptions | BufferEncoding): Promise<void>;
  outputFileSync(file: string, data: string | NodeJS.ArrayBufferView, options?: Omit<FileOptions, 'signal'> | BufferEncoding): void;
  outputJson(file: string, value: unknown, options?: JsonOptions): Promise<void>;
  outputJsonSync(file: string, value: unknown, options?: JsonOptions): void;
  writeJson(file: string, value: unknown, options?: JsonOptions): Promise<void>;
  writeJsonSync(file: string, value: unknown, options?: JsonOptions): void;
}

/** `fs.writeFile`'s options, which fs-extra passes on. */
interface FileOptions {
  encoding?: BufferEncoding | null;
  mode?: number | string;
  flag?: 'w';
  signal?: AbortSignal;
  flush?: true;
}

interface JsonOptions extends Omit<FileOptions, 'signal'> {
  spaces?: number | string;
  EOL?: string;
  finalEOL?: boolean;
  /** jsonfile takes an array too (JSON.stringify's), though its types name only the function. */
  replacer?: (key: string, value: unknown) => unknown;
}

const original: FsExtraLike = fse;
const durable: FsExtraLike = compat;

const fresh = (): void => undefined;
const existing = (_dir: string, target: string): void => fsWriteFileSync(target, 'the previous, longer content', { mode: 0o640 });
const existingDeep = (dir: string, target: string): void => {
  mkdirSync(`${dir}/a/b`, { recursive: true });
  existing(dir, target);
};

/** Each call, with the target it needs, made the same way through either package. */
const calls: readonly (readonly [string, string, (dir: string, target: string) => void, (fs: FsExtraLike, target: string) => unknown])[] = [
  ['outputFile, parents created', 'a/b/file.txt', fresh, (fs, t) => fs.outputFile(t, 'hello')],
  ['outputFile, existing target', 'a/b/file.txt', existingDeep, (fs, t) => fs.outputFile(t, 'hello')],
  ['outputFile, encoding string', 'a/file', fresh, (fs, t) => fs.outputFile(t, 'aGVsbG8=', 'base64')],
  ['outputFile, { encoding, mode }', 'a/file', fresh, (fs, t) => fs.outputFile(t, 'café', { encoding: 'latin1', mode: 0o600 })],
  ['outputFile, mode on an existing target (kept)', 'a/b/file.txt', existingDeep, (fs, t) => fs.outputFile(t, 'x', { mode: 0o600 })],
  ['outputFile, a Buffer', 'file', fresh, (fs, t) => fs.outputFile(t, Buffer.from([1, 2, 3]))],
  ['outputFileSync, parents created', 'a/b/c/file', fresh, (fs, t) => fs.outputFileSync(t, 'hello')],
  ['outputFileSync, existing, { mode }', 'a/b/file.txt', existingDeep, (fs, t) => fs.outputFileSync(t, 'hello', { mode: 0o600 })],
  ['outputFileSync, encoding string', 'a/file', fresh, (fs, t) => fs.outputFileSync(t, 'ff00', 'hex')],
  ['outputJson, parents created', 'a/b/state.json', fresh, (fs, t) => fs.outputJson(t, { a: [1, 2], b: 'x' })],
  ['outputJson, { spaces: 2 }', 'a/state.json', fresh, (fs, t) => fs.outputJson(t, { a: [1, 2], b: { c: null } }, { spaces: 2 })],
  ["outputJson, { spaces: '\\t', EOL: '\\r\\n' }", 'a/state.json', fresh, (fs, t) => fs.outputJson(t, { a: 1, b: [true] }, { spaces: '\t', EOL: '\r\n' })],
  ['outputJson, { finalEOL: false }', 'state.json', fresh, (fs, t) => fs.outputJson(t, [1, 'two'], { finalEOL: false, spaces: 1 })],
  [
    'outputJson, a replacer',
    'state.json',
    fresh,
    (fs, t) => fs.outputJson(t, { keep: 1, drop: 2 }, { replacer: (key, value) => (key === 'drop' ? undefined : value) }),
  ],
  ["outputJson, { encoding: 'utf16le', mode }", 'state.json', fresh, (fs, t) => fs.outputJson(t, { wide: 'é' }, { encoding: 'utf16le', mode: 0o640 })],
  ['outputJson, existing target', 'a/b/file.txt', existingDeep, (fs, t) => fs.outputJson(t, 'just a string', { spaces: 4 })],
  ['outputJsonSync, parents created, { spaces, EOL }', 'x/y/z.json', fresh, (fs, t) => fs.outputJsonSync(t, { n: [1, { m: 2 }] }, { spaces: 2, EOL: '\r\n' })],
  ['writeJson', 'state.json', fresh, (fs, t) => fs.writeJson(t, { a: 1 })],
  ['writeJson, existing target, { spaces, finalEOL: false }', 'target', existing, (fs, t) => fs.writeJson(t, { a: [1] }, { spaces: 2, finalEOL: false })],
  ['writeJsonSync', 'state.json', fresh, (fs, t) => fs.writeJsonSync(t, { a: 1 }, { spaces: 2 })],
  ['writeJsonSync, existing target, { mode } (kept)', 'target', existing, (fs, t) => fs.writeJsonSync(t, null, { mode: 0o600 })],
  ['outputFile, { mode } taken from a stats.mode', 'a/file', fresh, (fs, t) => fs.outputFile(t, 'x', { mode: 0o100640 })],
  ["outputFile, { flag: 'w', flush: true }", 'a/file', fresh, (fs, t) => fs.outputFile(t, 'x', { flag: 'w', flush: true })],
  ['outputFile, { encoding: null } (utf8)', 'a/file', fresh, (fs, t) => fs.outputFile(t, 'café', { encoding: null })],
  ['outputFile, a signal that never fires', 'a/file', fresh, (fs, t) => fs.outputFile(t, 'x', { signal: new AbortController().signal })],
  ['outputFile, an aborted signal, the directory there', 'file', fresh, (fs, t) => fs.outputFile(t, 'x', { signal: AbortSignal.abort() })],
  ["outputFileSync, { mode: '640', flush: true }", 'a/file', fresh, (fs, t) => fs.outputFileSync(t, 'x', { mode: '640', flush: true })],
  ['outputJson, a replacer array', 'state.json', fresh, (fs, t) => Reflect.apply(fs.outputJson, fs, [t, { keep: 1, drop: 2, also: [3] }, { replacer: ['keep', 'also'] }])],
  ["outputJson, { spaces: 0, EOL: '\r\n', finalEOL: false }", 'state.json', fresh, (fs, t) => fs.outputJson(t, { a: 1 }, { spaces: 0, EOL: '\r\n', finalEOL: false })],
  ["outputJson, { encoding: 'latin1' }, non-ASCII text", 'state.json', fresh, (fs, t) => fs.outputJson(t, { name: 'Zoë' }, { encoding: 'latin1' })],
  ["outputJsonSync, { flag: 'w', flush: true, mode: '600' }", 'a/state.json', fresh, (fs, t) => fs.outputJsonSync(t, [1], { flag: 'w', flush: true, mode: '600' })],
  ["writeJson, { EOL: '\r\n', spaces: '--' }", 'state.json', fresh, (fs, t) => fs.writeJson(t, { a: [1, { b: 2 }] }, { EOL: '\r\n', spaces: '--' })],
  ['writeJson, { flush: true, mode: 0o600 }', 'state.json', fresh, (fs, t) => fs.writeJson(t, { a: 1 }, { flush: true, mode: 0o600 })],
  ["writeJsonSync, an encoding string ('utf8')", 'state.json', fresh, (fs, t) => Reflect.apply(fs.writeJsonSync, fs, [t, { a: 'é' }, 'utf8'])],
  ['writeJsonSync, a replacer function, { finalEOL: false }', 'state.json', existing, (fs, t) => fs.writeJsonSync(t, { a: 1, b: 2 }, { replacer: (k, v) => (k === 'b' ? 20 : v), finalEOL: false })],
];

/** Values that have no JSON text or cannot be stringified, and the writers they are given to. */
const badValues: readonly (readonly [string, unknown])[] = [
  ['undefined', undefined],
  ['a function', () => 1],
  ['a symbol', Symbol('s')],
  ['a cycle', ((): unknown => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    return cycle;
  })()],
  ['a BigInt', { n: 1n }],
];
const jsonWriters = ['outputJson', 'outputJsonSync', 'writeJson', 'writeJsonSync'] as const;

/** Each call that fails on the file system, with the code both give. */
const failures: readonly (readonly [string, string, (fs: FsExtraLike, target: string) => unknown])[] = [
  ['outputFile under a file', 'ENOTDIR', (fs, t) => fs.outputFile(`${t}/file/f`, 'x')],
  ['outputFileSync under a file', 'ENOTDIR', (fs, t) => fs.outputFileSync(`${t}/file/a/f`, 'x')],
  ['outputJson under a file', 'ENOTDIR', (fs, t) => fs.outputJson(`${t}/file/f`, {})],
  ['writeJsonSync under a file', 'ENOTDIR', (fs, t) => fs.writeJsonSync(`${t}/file/f`, {})],
  ['outputFile on a directory', 'EISDIR', (fs, t) => fs.outputFile(`${t}/dir`, 'x')],
  ['writeJson on a directory', 'EISDIR', (fs, t) => fs.writeJson(`${t}/dir`, {})],
  ['outputJsonSync on a directory', 'EISDIR', (fs, t) => fs.outputJsonSync(`${t}/dir`, {})],
  ['writeJson, an aborted signal', 'ABORT_ERR', (fs, t) => Reflect.apply(fs.writeJson, fs, [`${t}/f.json`, {}, { signal: AbortSignal.abort() }])],
  ['outputFile, a number as data', 'ERR_INVALID_ARG_TYPE', (fs, t) => Reflect.apply(fs.outputFile, fs, [`${t}/f`, 42])],
];

describe('compat leaves what fs-extra leaves', () => {
  it.each(calls)('%s', async (_name, name, prepare, call) => {
    const outcome = await differential(name, prepare, (t) => call(original, t), (t) => call(durable, t));
    expectAlike(outcome);
  });

  it.each(failures)('%s: both fail with %s and leave the same tree', async (_name, code, call) => {
    const outcome = await differential('.', fileAndDirectory, (t) => call(original, t), (t) => call(durable, t));
    expectAlike(outcome);
    expect(outcome.outcomes.compat).toMatchObject({ ok: false, code });
  });

  describe.each(jsonWriters)('%s, a value with no JSON text or none JSON can make', (writer) => {
    // A function last is the callback of an async form (universalify), even in the value's place: see below.
    const values = writer.endsWith('Sync') ? badValues : badValues.filter(([name]) => name !== 'a function');
    it.each(values)('%s: the same TypeError, message and all, nothing written', async (_name, value) => {
      const outcome = await differential('a/state.json', fresh, (t) => original[writer](t, value), (t) => durable[writer](t, value));
      expectAlike(outcome);
      expect(outcome.outcomes.compat).toMatchObject({ ok: false, typeError: true });
      expect(Reflect.get(Object(outcome.errors.compat), 'message')).toBe(Reflect.get(Object(outcome.errors.original), 'message'));
    });
  });

  it.each([
    ['outputFile', /data/, 'ERR_INVALID_ARG_TYPE', (fs: FsExtraLike, t: string, cb: () => void) => Reflect.apply(fs.outputFile, fs, [t, cb])],
    ['outputJson', /^Converting undefined value to JSON is not supported$/, undefined, (fs: FsExtraLike, t: string, cb: () => void) => Reflect.apply(fs.outputJson, fs, [t, cb])],
    ['writeJson', /^Converting undefined value to JSON is not supported$/, undefined, (fs: FsExtraLike, t: string, cb: () => void) => Reflect.apply(fs.writeJson, fs, [t, cb])],
  ])('%s(file, callback): the function is the callback (no data): called once with the same TypeError, nothing written', async (_name, message, code, call) => {
    const results: Awaited<ReturnType<typeof callbackCalls>>[] = [];
    const outcome = await twins(
      'f',
      fresh,
      async (t) => results.push(await callbackCalls((cb) => call(original, t, cb))),
      async (t) => results.push(await callbackCalls((cb) => call(durable, t, cb))),
    );
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat).toEqual([]);
    for (const result of results) {
      expect(result.returned).toBeUndefined();
      expect(result.calls).toHaveLength(1);
      expect(result.calls[0]?.[0]).toBeInstanceOf(TypeError);
      expect(String(Reflect.get(Object(result.calls[0]?.[0]), 'message'))).toMatch(message);
      expect(Reflect.get(Object(result.calls[0]?.[0]), 'code')).toBe(code);
    }
  });

  it('deliberate divergence: outputFile with an aborted signal creates no parent (fs-extra creates them before fs.writeFile aborts)', async () => {
    const outcome = await differential('a/b/file', fresh, (t) => original.outputFile(t, 'x', { signal: AbortSignal.abort() }), (t) => durable.outputFile(t, 'x', { signal: AbortSignal.abort() }));
    expect(outcome.outcomes.compat).toEqual(outcome.outcomes.original);
    expect(outcome.outcomes.compat).toMatchObject({ ok: false, code: 'ABORT_ERR' });
    expect(outcome.original.map((entry) => entry.path)).toEqual(['a', 'a/b']);
    expect(outcome.compat).toEqual([]);
  });

  it('twin: the comparison sees a difference (writeDurable applies a mode exactly, fs-extra through the umask)', async () => {
    const outcome = await twins('file', fresh, (t) => fse.outputFile(t, 'x', { mode: 0o666 }), (t) => writeDurable(t, 'x', { mode: 0o666 }));
    expect(outcome.compat).not.toEqual(outcome.original);
  });

  it.each([
    ['writeJson', (fs: FsExtraLike, t: string) => fs.writeJson(t, { a: 1 })],
    ['writeJsonSync', (fs: FsExtraLike, t: string) => fs.writeJsonSync(t, { a: 1 })],
  ])('%s creates no parent: both fail with ENOENT and leave nothing', async (_name, call) => {
    const failure = async (fs: FsExtraLike, t: string): Promise<unknown> => {
      try {
        await call(fs, t);
        return undefined;
      } catch (error) {
        return error;
      }
    };
    const errors: unknown[] = [];
    const outcome = await twins(
      'missing/state.json',
      fresh,
      async (t) => errors.push(await failure(original, t)),
      async (t) => errors.push(await failure(durable, t)),
    );
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat).toEqual([]);
    expect(errors.map((error) => Reflect.get(Object(error), 'code'))).toEqual(['ENOENT', 'ENOENT']);
  });

  it('a value with no JSON text is a TypeError from both, nothing written', async () => {
    const outcome = await twins(
      'a/state.json',
      fresh,
      (t) => expect(fse.outputJson(t, undefined)).rejects.toBeInstanceOf(TypeError),
      (t) => expect(compat.outputJson(t, undefined)).rejects.toBeInstanceOf(TypeError),
    );
    expect(outcome.compat).toEqual(outcome.original);
  });
});

/** A callback, as both packages call it. */
type Callback = (error: Error | null) => void;

/** The callback forms these tests call, as both packages type them. */
interface CallbackForms {
  outputFile(file: string, data: string, callback: Callback): void;
  outputFile(file: string, data: string, options: { mode?: number } | BufferEncoding, callback: Callback): void;
  outputJson(file: string, value: unknown, callback: Callback): void;
  outputJson(file: string, value: unknown, options: { spaces?: number }, callback: Callback): void;
  writeJson(file: string, value: unknown, callback: Callback): void;
  writeJson(file: string, value: unknown, options: { spaces?: number; EOL?: string }, callback: Callback): void;
}

const originalForms: CallbackForms = fse;
const durableForms: CallbackForms = compat;

/** Both sides' callback calls and return values, and the two trees. */
async function callbackTwins(name: string, prepare: (dir: string) => void, call: (fs: CallbackForms, t: string, cb: Callback) => unknown) {
  const results: Awaited<ReturnType<typeof callbackCalls>>[] = [];
  const outcome = await twins(
    name,
    prepare,
    async (t) => results.push(await callbackCalls((cb) => call(originalForms, t, cb))),
    async (t) => results.push(await callbackCalls((cb) => call(durableForms, t, cb))),
  );
  return { ...outcome, results };
}

describe('the callback forms call back as fs-extra does', () => {
  /** Each async function with a callback last, with and without options before it. */
  const forms: readonly (readonly [string, string, (fs: CallbackForms, t: string, cb: Callback) => unknown])[] = [
    ['outputFile(file, data, cb)', 'a/b/f', (fs, t, cb) => fs.outputFile(t, 'data', cb)],
    ['outputFile(file, data, options, cb)', 'a/b/f', (fs, t, cb) => fs.outputFile(t, 'data', { mode: 0o600 }, cb)],
    ["outputFile(file, data, 'hex', cb)", 'a/b/f', (fs, t, cb) => fs.outputFile(t, 'beef', 'hex', cb)],
    ['outputJson(file, value, cb)', 'a/b/f.json', (fs, t, cb) => fs.outputJson(t, { a: 1 }, cb)],
    ['outputJson(file, value, options, cb)', 'a/b/f.json', (fs, t, cb) => fs.outputJson(t, { a: 1 }, { spaces: 2 }, cb)],
    ['writeJson(file, value, cb)', 'f.json', (fs, t, cb) => fs.writeJson(t, { a: 1 }, cb)],
    ['writeJson(file, value, options, cb)', 'f.json', (fs, t, cb) => fs.writeJson(t, [1], { EOL: '\r\n', spaces: 1 }, cb)],
  ];

  it.each(forms)('%s: once, with null, returning undefined; the same tree', async (_name, name, call) => {
    const { original: before, compat: after, results } = await callbackTwins(name, fresh, call);
    expect(after).toEqual(before);
    for (const result of results) {
      expect(result.calls).toHaveLength(1);
      expect(result.calls[0]?.[0]).toBeNull();
      expect(result.returned).toBeUndefined();
    }
  });

  it.each([
    ['writeJson into a missing directory', (fs: CallbackForms, t: string, cb: Callback) => fs.writeJson(`${t}/missing/f.json`, {}, cb)],
    ['outputFile under a file', (fs: CallbackForms, t: string, cb: Callback) => fs.outputFile(`${t}/file/f`, 'x', cb)],
  ])('%s: once, with the error; the same tree', async (_name, call) => {
    const { original: before, compat: after, results } = await callbackTwins('.', (dir) => fsWriteFileSync(`${dir}/file`, 'a file'), call);
    expect(after).toEqual(before);
    for (const result of results) {
      expect(result.calls).toHaveLength(1);
      expect(result.calls[0]?.[0]).toBeInstanceOf(Error);
      expect(result.returned).toBeUndefined();
    }
  });
});

const notRoot = missing({ root: true });

describe.skipIf(notRoot !== undefined)(`ownership, as root${notRoot === undefined ? '' : ` (skipped: ${notRoot})`}`, () => {
  it.each([
    ['outputFile', (fs: FsExtraLike, t: string) => fs.outputFile(t, 'new')],
    ['outputJsonSync', (fs: FsExtraLike, t: string) => fs.outputJsonSync(t, { n: 1 })],
    ['writeJson', (fs: FsExtraLike, t: string) => fs.writeJson(t, { n: 1 }, { mode: 0o600 })],
  ])("%s keeps an existing target's owner (1234:1234) and mode", async (_name, call) => {
    const prepare = (_dir: string, target: string): void => {
      fsWriteFileSync(target, 'old', { mode: 0o604 });
      chownSync(target, 1234, 1234);
    };
    const outcome = await twins('target', prepare, (t) => call(original, t), (t) => call(durable, t));
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat[0]).toMatchObject({ uid: 1234, gid: 1234, mode: '604' });
  });
});
