/**
 * Differential: `writeFile` and `writeFileSync` of durable-write/compat leave what `node:fs`
 * leaves (bytes, mode, owner, and nothing else in the directory) and end as it ends (result, or
 * error code), for new and existing targets, with every option `fs.writeFile` documents
 * (`encoding`, `mode`, `flag: 'w'`, `signal`, `flush: true`), for every data form and encoding
 * form, and for the errors of a bad path (ENOENT, ENOTDIR, EISDIR), bad data and an abort.
 */
import { chownSync, symlinkSync, writeFileSync as fsWriteFileSync } from 'node:fs';
import { writeFile as fsWriteFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeFile, writeFileSync } from '../../src/compat.js';
import { writeDurable, type WriteDurableData } from '../../src/write/write-durable.js';
import { missing } from '../support/prerequisites.js';
import { differential, expectAlike, fileAndDirectory, twins } from './twins.js';

/** What both modules' `writeFile` (fs/promises) and `writeFileSync` (fs) accept, as these tests call them. */
interface FsLike {
  writeFile(file: string, data: WriteDurableData, options?: WriteOptions | BufferEncoding): Promise<void>;
  writeFileSync(file: string, data: string | NodeJS.ArrayBufferView, options?: Omit<WriteOptions, 'signal'> | BufferEncoding): void;
}

/** The options `fs.writeFile` documents, as far as a durable replace honours them. */
interface WriteOptions {
  encoding?: BufferEncoding | null;
  mode?: number | string;
  flag?: 'w';
  signal?: AbortSignal;
  flush?: true;
}

const original: FsLike = { writeFile: fsWriteFile, writeFileSync: fsWriteFileSync };
const durable: FsLike = { writeFile, writeFileSync };

/** No target yet; or one with other bytes and mode 0640. */
const targets = {
  new: (): void => undefined,
  existing: (_dir: string, target: string): void => fsWriteFileSync(target, 'the previous, longer content', { mode: 0o640 }),
} as const;

/** Each call, made the same way through either module. */
const calls: readonly (readonly [string, (fs: FsLike, target: string) => unknown])[] = [
  ['writeFile, a string', (fs, t) => fs.writeFile(t, 'héllo wörld')],
  ['writeFile, a string with mode 0o600', (fs, t) => fs.writeFile(t, 'secret', { mode: 0o600 })],
  ['writeFile, a string with mode 0o666 (the umask applies to a new file)', (fs, t) => fs.writeFile(t, 'shared', { mode: 0o666 })],
  ["writeFile, a string with the octal string mode '755'", (fs, t) => fs.writeFile(t, '#!/bin/sh\n', { mode: '755' })],
  ['writeFile, a Buffer', (fs, t) => fs.writeFile(t, Buffer.from([0, 1, 2, 255]))],
  ['writeFile, a Uint16Array (all of its bytes)', (fs, t) => fs.writeFile(t, new Uint16Array([1, 0x0203, 0xffff]))],
  ["writeFile, an encoding string ('hex')", (fs, t) => fs.writeFile(t, 'deadbeef', 'hex')],
  ["writeFile, { encoding: 'latin1' }", (fs, t) => fs.writeFile(t, 'café', { encoding: 'latin1' })],
  ["writeFile, { encoding: 'utf16le', flag: 'w' }", (fs, t) => fs.writeFile(t, 'wide', { encoding: 'utf16le', flag: 'w' })],
  ["writeFile, { encoding: 'base64' }", (fs, t) => fs.writeFile(t, Buffer.from('base 64').toString('base64'), { encoding: 'base64' })],
  ['writeFile, an iterable of strings and Buffers', (fs, t) => fs.writeFile(t, ['one ', Buffer.from('two '), 'three'])],
  [
    'writeFile, an async iterable, utf16le',
    (fs, t) =>
      fs.writeFile(
        t,
        (async function* () {
          yield 'a';
          yield 'b';
        })(),
        'utf16le',
      ),
  ],
  ['writeFile, a Readable', (fs, t) => fs.writeFile(t, Readable.from([Buffer.from('streamed '), Buffer.from('bytes')]))],
  ['writeFileSync, a string', (fs, t) => fs.writeFileSync(t, 'héllo wörld')],
  ['writeFileSync, a string with mode 0o600', (fs, t) => fs.writeFileSync(t, 'secret', { mode: 0o600 })],
  ['writeFileSync, a string with mode 0o666 (the umask applies to a new file)', (fs, t) => fs.writeFileSync(t, 'shared', { mode: 0o666 })],
  ['writeFileSync, a Buffer', (fs, t) => fs.writeFileSync(t, Buffer.from([0, 1, 2, 255]))],
  ['writeFileSync, a DataView', (fs, t) => fs.writeFileSync(t, new DataView(new Uint8Array([9, 8, 7]).buffer))],
  ["writeFileSync, an encoding string ('base64')", (fs, t) => fs.writeFileSync(t, 'AAEC', 'base64')],
  ["writeFileSync, { encoding: 'latin1', mode: '600' }", (fs, t) => fs.writeFileSync(t, 'café', { encoding: 'latin1', mode: '600' })],
  ['writeFile, { mode } taken from a stats.mode (file type bits and all)', (fs, t) => fs.writeFile(t, 'x', { mode: 0o100600 })],
  ["writeFile, { mode: '0640' }", (fs, t) => fs.writeFile(t, 'x', { mode: '0640' })],
  ['writeFile, { flush: true }', (fs, t) => fs.writeFile(t, 'flushed', { flush: true })],
  ['writeFile, { encoding: null } (utf8)', (fs, t) => fs.writeFile(t, 'café', { encoding: null })],
  ['writeFile, a signal that never fires', (fs, t) => fs.writeFile(t, 'x', { signal: new AbortController().signal })],
  ['writeFileSync, { flush: true, flag: \'w\' }', (fs, t) => fs.writeFileSync(t, 'flushed', { flush: true, flag: 'w' })],
  ['writeFileSync, { mode } taken from a stats.mode', (fs, t) => fs.writeFileSync(t, 'x', { mode: 0o100640 })],
  ['writeFileSync, { encoding: null }', (fs, t) => fs.writeFileSync(t, 'café', { encoding: null })],
];

/** Each call that fails, with the error code both give, made the same way through either module. */
const failures: readonly (readonly [string, string, (fs: FsLike, target: string) => unknown])[] = [
  ['writeFile, an aborted signal', 'ABORT_ERR', (fs, t) => fs.writeFile(t, 'x', { signal: AbortSignal.abort() })],
  ['writeFile, a missing directory', 'ENOENT', (fs, t) => fs.writeFile(`${t}/missing/f`, 'x')],
  ['writeFileSync, a missing directory', 'ENOENT', (fs, t) => fs.writeFileSync(`${t}/missing/f`, 'x')],
  ['writeFile, a file as a directory', 'ENOTDIR', (fs, t) => fs.writeFile(`${t}/file/f`, 'x')],
  ['writeFileSync, a file as a directory', 'ENOTDIR', (fs, t) => fs.writeFileSync(`${t}/file/f`, 'x')],
  ['writeFile, a directory as the target', 'EISDIR', (fs, t) => fs.writeFile(`${t}/dir`, 'x')],
  ['writeFileSync, a directory as the target', 'EISDIR', (fs, t) => fs.writeFileSync(`${t}/dir`, 'x')],
  ['writeFile, a number as data', 'ERR_INVALID_ARG_TYPE', (fs, t) => Reflect.apply(fs.writeFile, fs, [`${t}/f`, 42])],
  ['writeFileSync, undefined as data', 'ERR_INVALID_ARG_TYPE', (fs, t) => Reflect.apply(fs.writeFileSync, fs, [`${t}/f`, undefined])],
];

describe('compat writeFile and writeFileSync leave what node:fs leaves', () => {
  for (const [targetName, prepare] of Object.entries(targets)) {
    it.each(calls)(`${targetName} target: %s`, async (_name, call) => {
      const outcome = await differential('target', prepare, (t) => call(original, t), (t) => call(durable, t));
      expectAlike(outcome);
      expect(outcome.outcomes.compat).toEqual({ ok: true, value: undefined });
    });
  }

  it.each(failures)('%s: both fail with %s and leave the same tree', async (_name, code, call) => {
    const outcome = await differential('.', fileAndDirectory, (t) => call(original, t), (t) => call(durable, t));
    expectAlike(outcome);
    expect(outcome.outcomes.compat).toMatchObject({ ok: false, code });
  });

  it('both return undefined (writeFile: a promise of it)', async () => {
    const returned: unknown[] = [];
    const both = async (fs: FsLike, t: string): Promise<void> => {
      returned.push(await fs.writeFile(t, 'x'), fs.writeFileSync(`${t}.sync`, 'x'));
    };
    const outcome = await twins('target', targets.new, (t) => both(original, t), (t) => both(durable, t));
    expect(outcome.compat).toEqual(outcome.original);
    expect(returned).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('writes through a symlink to the file it points to, the link kept, as fs.writeFile does', async () => {
    const prepare = (dir: string, target: string): void => {
      fsWriteFileSync(`${dir}/real`, 'old', { mode: 0o604 });
      symlinkSync('real', target);
    };
    const outcome = await twins('link', prepare, (t) => original.writeFile(t, 'new'), (t) => durable.writeFile(t, 'new'));
    expect(outcome.compat).toEqual(outcome.original);
  });

  it('twin: the comparison sees a difference (writeDurable applies a mode exactly, fs.writeFile through the umask)', async () => {
    const outcome = await twins('target', targets.new, (t) => original.writeFile(t, 'x', { mode: 0o666 }), (t) => writeDurable(t, 'x', { mode: 0o666 }));
    expect(outcome.compat).not.toEqual(outcome.original);
  });
});

const notRoot = missing({ root: true });

describe.skipIf(notRoot !== undefined)(`ownership, as root${notRoot === undefined ? '' : ` (skipped: ${notRoot})`}`, () => {
  const ownedByOther = (_dir: string, target: string): void => {
    fsWriteFileSync(target, 'old', { mode: 0o640 });
    chownSync(target, 1234, 1234);
  };

  it('writeFile keeps an existing target\'s owner (1234:1234) and mode, as fs.writeFile does', async () => {
    const outcome = await twins('target', ownedByOther, (t) => original.writeFile(t, 'new', { mode: 0o600 }), (t) => durable.writeFile(t, 'new', { mode: 0o600 }));
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat[0]).toMatchObject({ uid: 1234, gid: 1234, mode: '640' });
  });

  it('writeFileSync keeps an existing target\'s owner (1234:1234), as fs.writeFileSync does', async () => {
    const outcome = await twins('target', ownedByOther, (t) => original.writeFileSync(t, 'new'), (t) => durable.writeFileSync(t, 'new'));
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat[0]).toMatchObject({ uid: 1234, gid: 1234 });
  });
});
