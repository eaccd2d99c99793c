/**
 * What durable-write/compat refuses, and how: an option that would weaken durability
 * (`fsync: false`, `flush: false`), a flag a durable replace cannot honour (`'a'`...), an open
 * file (a descriptor or a `FileHandle`), an option name the original does not have. Each is a
 * `TypeError` that says why, raised before anything is touched: the directory is left as it was.
 * The calls are made as JavaScript would make them (the types already refuse most of them).
 */
import { constants, openSync, closeSync, writeFileSync as fsWriteFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as compat from '../../src/compat.js';
import { tempDir } from '../support/temp-dir.js';
import { callbackCalls, treeOf } from './twins.js';

/** Calls `compat[name]` with `args`, unchecked by the types, as a JavaScript caller would. */
function call(name: keyof typeof compat, ...args: unknown[]): unknown {
  return Reflect.apply(compat[name], undefined, args);
}

/** The error a call raised, thrown at once or as a rejection, with whether it was thrown at once. */
async function failureOf(run: () => unknown): Promise<{ error: unknown; thrown: boolean }> {
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    return { error, thrown: true };
  }
  try {
    await result;
  } catch (error) {
    return { error, thrown: false };
  }
  throw new Error('the call succeeded');
}

/** A directory holding an existing target, and how it looked before the call. */
function prepared(): { dir: string; target: string; before: ReturnType<typeof treeOf> } {
  const dir = tempDir('durable-write-compat-');
  const target = join(dir, 'target');
  fsWriteFileSync(target, 'old content', { mode: 0o640 });
  return { dir, target, before: treeOf(dir) };
}

/** Each refusal: the function, its arguments after the target, and what the message must say. A `Sync` function throws, the others reject. */
const refusals: readonly (readonly [string, keyof typeof compat, unknown[], RegExp])[] = [
  ['fsync: false', 'writeFileAtomic', ['new', { fsync: false }], /writeFileAtomic: fsync must be true or absent; received false: without the fsync a crash/],
  ['flush: false', 'writeFile', ['new', { flush: false }], /flush: false is not supported; a durable write always flushes/],
  ['flush: false', 'outputFile', ['new', { flush: false }], /flush: false is not supported/],
  ["flag: 'a'", 'writeFile', ['new', { flag: 'a' }], /flag must be 'w'; received 'a': .*cannot append/],
  ["flag: 'a'", 'outputFile', ['new', { flag: 'a' }], /flag must be 'w'; received 'a': .*cannot append/],
  ["flag: 'a+'", 'outputJson', [{}, { flag: 'a+' }], /cannot append/],
  ["flag: 'wx'", 'writeFile', ['new', { flag: 'wx' }], /flag must be 'w'; received 'wx': .*cannot fail when the file exists/],
  ["flag: 'r+'", 'writeJson', [{}, { flag: 'r+' }], /never writes into the existing file in place/],
  ['a numeric flag', 'writeFile', ['new', { flag: constants.O_WRONLY | constants.O_APPEND }], /flag must be 'w'; received number/],
  ["an unknown option ('encodng')", 'writeFile', ['new', { encodng: 'utf8' }], /writeFile: unknown option 'encodng' \(did you mean encoding\?\)/],
  ["a writeDurable option fs.writeFile lacks ('createParents')", 'writeFile', ['new', { createParents: true }], /unknown option 'createParents'/],
  ["an unknown option ('tmpFileCreated')", 'writeFileAtomic', ['new', { tmpFileCreated: () => undefined }], /did you mean tmpfileCreated\?/],
  ["an unknown option ('space')", 'outputJson', [{}, { space: 2 }], /outputJson: unknown option 'space' \(did you mean spaces\?\)/],
  ["jsonfile's fs option", 'writeJson', [{}, { fs: {} }], /writeJson: fs must be absent; received an instance of Object: the file is written with durable-write's own calls/],
  ['a callback', 'writeFile', ['new', () => undefined], /writeFile: options must be an object or an encoding string; received a function \(writeFile takes no callback/],
  ['a value with no JSON text', 'writeJson', [undefined], /^Converting undefined value to JSON is not supported$/],
  ['a function as the value', 'outputJsonSync', [() => 1], /^Converting function value to JSON is not supported$/],
  ['data an original does not take', 'writeFileAtomic', [42], /writeFileAtomic: data must be a string, Buffer, TypedArray or DataView; received number 42/],
  ['fsync: false', 'writeFileAtomicSync', ['new', { fsync: false }], /writeFileAtomic\.sync: fsync must be true or absent; received false/],
  ['flush: false', 'writeFileSync', ['new', { flush: false }], /flush: false is not supported/],
  ['flush: false', 'outputJsonSync', [{}, { flush: false }], /flush: false is not supported/],
  ["flag: 'a'", 'writeFileSync', ['new', { flag: 'a' }], /cannot append/],
  ["flag: 'as'", 'outputFileSync', ['new', { flag: 'as' }], /cannot append/],
  ["flag: 'a'", 'writeJsonSync', [{}, { flag: 'a' }], /cannot append/],
  ["a signal (fs.writeFileSync takes none)", 'writeFileSync', ['new', { signal: new AbortController().signal }], /unknown option 'signal'/],
  ['a callback', 'writeFileAtomicSync', ['new', () => undefined], /takes no callback/],
];

describe('refused before anything is touched', () => {
  it.each(refusals)('%s (%s): a TypeError that says why, thrown by a Sync function, else a rejection', async (_what, name, args, message) => {
    const { dir, target, before } = prepared();
    const { error, thrown } = await failureOf(() => call(name, target, ...args));
    expect(thrown).toBe(name.endsWith('Sync'));
    expect(error).toBeInstanceOf(TypeError);
    expect(String(Reflect.get(Object(error), 'message'))).toMatch(message);
    // jsonfile's own TypeError for a value with no JSON text has no code, and neither has its twin's.
    if (!/^Converting/.test(String(Reflect.get(Object(error), 'message')))) expect(Reflect.get(Object(error), 'code')).toMatch(/^ERR_INVALID_ARG_(TYPE|VALUE)$/);
    expect(treeOf(dir)).toEqual(before);
  });

  it('a file descriptor: refused by every function, the file unchanged', async () => {
    const { dir, target, before } = prepared();
    const fd = openSync(target, 'r+');
    try {
      for (const name of ['writeFile', 'writeFileSync', 'outputFile', 'writeJsonSync', 'writeFileAtomic', 'writeFileAtomicSync'] as const) {
        const { error } = await failureOf(() => call(name, fd, 'new'));
        expect(error).toBeInstanceOf(TypeError);
        expect(String(Reflect.get(Object(error), 'message'))).toMatch(
          new RegExp(`^${name === 'writeFileAtomicSync' ? 'writeFileAtomic\\.sync' : name}: (file|filename) must be a path .*; received file descriptor ${fd}: an open file cannot be replaced atomically`),
        );
      }
    } finally {
      closeSync(fd);
    }
    expect(treeOf(dir)).toEqual(before);
  });

  it('a FileHandle: refused, the file unchanged', async () => {
    const { dir, target, before } = prepared();
    const handle = await open(target, 'r+');
    try {
      const { error } = await failureOf(() => call('writeFile', handle, 'new'));
      expect(error).toBeInstanceOf(TypeError);
      expect(String(Reflect.get(Object(error), 'message'))).toMatch(/writeFile: file must be a path .*; received a FileHandle: an open file cannot be replaced atomically/);
    } finally {
      await handle.close();
    }
    expect(treeOf(dir)).toEqual(before);
  });

  it('a callback form gets the TypeError (once), and returns nothing', async () => {
    const { dir, target, before } = prepared();
    const fromExtra = await callbackCalls((cb) => call('outputFile', target, 'new', { flag: 'a' }, cb));
    const fromAtomic = await callbackCalls((cb) => call('writeFileAtomic', target, 'new', { fsync: false }, cb));
    for (const result of [fromExtra, fromAtomic]) {
      expect(result.calls).toHaveLength(1);
      expect(result.calls[0]?.[0]).toBeInstanceOf(TypeError);
      expect(result.returned).toBeUndefined();
    }
    expect(treeOf(dir)).toEqual(before);
  });

  it('a stream given as data to a refused call is destroyed, never read', async () => {
    const { dir, target, before } = prepared();
    let reads = 0;
    const stream = new Readable({
      read() {
        reads += 1;
        this.push(null);
      },
    });
    const { error } = await failureOf(() => call('writeFile', target, stream, { flag: 'a' }));
    expect(error).toBeInstanceOf(TypeError);
    expect(stream.destroyed).toBe(true);
    expect(reads).toBe(0);
    expect(treeOf(dir)).toEqual(before);
  });

  it('a Buffer path that is not UTF-8 is refused; one that is, is written', async () => {
    const { dir, target } = prepared();
    const { error } = await failureOf(() => call('writeFile', Buffer.from([0x2f, 0xff, 0xfe]), 'x'));
    expect(error).toBeInstanceOf(TypeError);
    await compat.writeFile(Buffer.from(target), 'via a Buffer path');
    expect(treeOf(dir)[0]?.bytes).toBe(Buffer.from('via a Buffer path').toString('base64'));
  });
});
