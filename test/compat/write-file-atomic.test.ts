/**
 * Differential: write-file-atomic 7 and durable-write/compat's `writeFileAtomic` leave the same
 * tree (bytes, mode, owner, no temp file) and end the same way (result, or error code) for new
 * and existing targets, with every option its README documents (`chown` as an object or `false`,
 * `encoding`, `fsync`, `mode` as a number, a string or `false`, `tmpfileCreated`) and the data it
 * takes (`undefined` and `null` make an empty file); call `tmpfileCreated` alike (with a path that
 * exists then, beside the target; awaited by the promise form); and call their callbacks alike.
 * Where write-file-atomic strays from its own README, the divergence is pinned here and listed in
 * docs/migrating.md.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync as fsWriteFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import originalWriteFileAtomic from 'write-file-atomic';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/compat.js';
import { missing } from '../support/prerequisites.js';
import { currentUmask } from '../../src/write/umask.js';
import { callbackCalls, differential, expectAlike, twins } from './twins.js';

interface AtomicOptions {
  chown?: { uid: number; gid: number } | false | null | undefined;
  encoding?: BufferEncoding | null | undefined;
  fsync?: true | undefined;
  mode?: number | string | false | null | undefined;
  tmpfileCreated?: ((tmpPath: string) => unknown) | undefined;
}

/** What both write: whole data, or nothing. */
type AtomicData = string | NodeJS.ArrayBufferView | null | undefined;

/** Both packages' function, as these tests call it. */
interface AtomicLike {
  (filename: string, data: AtomicData, options?: AtomicOptions | BufferEncoding): Promise<void>;
  (filename: string, data: AtomicData, callback: (error?: Error) => void): void;
  (filename: string, data: AtomicData, options: AtomicOptions | BufferEncoding | undefined, callback: (error?: Error) => void): void;
  sync(filename: string, data: AtomicData, options?: AtomicOptions | BufferEncoding): void;
}

const original: AtomicLike = originalWriteFileAtomic;
const durable: AtomicLike = writeFileAtomic;

const fresh = (): void => undefined;
const existing = (_dir: string, target: string): void => fsWriteFileSync(target, 'the previous, longer content', { mode: 0o640 });

/** Each call, made the same way through either package (the promise form and `sync`). */
const calls: readonly (readonly [string, (write: AtomicLike, target: string) => unknown])[] = [
  ['a string', (w, t) => w(t, 'héllo')],
  ['a Buffer', (w, t) => w(t, Buffer.from([0, 1, 254, 255]))],
  ['a Uint8Array', (w, t) => w(t, new Uint8Array([7, 8, 9]))],
  ["an encoding string ('base64')", (w, t) => w(t, 'aGk=', 'base64')],
  ["{ encoding: 'latin1' }", (w, t) => w(t, 'café', { encoding: 'latin1' })],
  ['{ mode: 0o600 }', (w, t) => w(t, 'secret', { mode: 0o600 })],
  ['{ mode: 0o666 } (exact, not reduced by the umask)', (w, t) => w(t, 'shared', { mode: 0o666 })],
  ["{ mode: '755' }", (w, t) => w(t, '#!/bin/sh\n', { mode: '755' })],
  ['sync, a string', (w, t) => w.sync(t, 'héllo')],
  ['sync, a Buffer', (w, t) => w.sync(t, Buffer.from([0, 1, 254, 255]))],
  ["sync, an encoding string ('hex')", (w, t) => w.sync(t, 'cafe', 'hex')],
  ['sync, { mode: 0o600 }', (w, t) => w.sync(t, 'secret', { mode: 0o600 })],
  ['sync, { mode: 0o666 }', (w, t) => w.sync(t, 'shared', { mode: 0o666 })],
  // The options write-file-atomic's README documents, and the data it takes.
  ['{ chown: false }', (w, t) => w(t, 'mine', { chown: false })],
  ['{ mode: undefined, chown: false } (how write-json-file calls it)', (w, t) => w(t, '{"a":1}\n', { mode: undefined, chown: false })],
  ['{ mode: 0o600, chown: false }', (w, t) => w(t, 'secret', { mode: 0o600, chown: false })],
  ['{ chown: null, mode: null } (as absent)', (w, t) => w(t, 'x', { chown: null, mode: null })],
  ['{ encoding: null } (utf8)', (w, t) => w(t, 'café', { encoding: null })],
  ["{ encoding: 'hex' } with a Buffer (ignored)", (w, t) => w(t, Buffer.from('raw'), { encoding: 'hex' })],
  ['{ fsync: true }', (w, t) => w(t, 'x', { fsync: true })],
  ['{ mode } taken from a stats.mode (file type bits and all)', (w, t) => w(t, 'x', { mode: 0o100640 })],
  ['sync, { mode } taken from a stats.mode', (w, t) => w.sync(t, 'x', { mode: 0o100600 })],
  ['{ mode: 0 }', (w, t) => w(t, 'x', { mode: 0 })],
  ['undefined data (an empty file)', (w, t) => w(t, undefined)],
  ['null data (an empty file)', (w, t) => w(t, null, { mode: 0o600 })],
  ['sync, { chown: false } (a new target)', (w, t) => w.sync(`${t}.new`, 'mine', { chown: false })],
  ['sync, { mode: 0o600, chown: false }', (w, t) => w.sync(t, 'secret', { mode: 0o600, chown: false })],
  ['sync, { mode: false } (a new target)', (w, t) => w.sync(`${t}.new`, 'x', { mode: false })],
  ['sync, { encoding: null, fsync: true }', (w, t) => w.sync(t, 'café', { encoding: null, fsync: true })],
  ['sync, undefined data', (w, t) => w.sync(t, undefined)],
  ['sync, null data', (w, t) => w.sync(t, null)],
];

describe('compat writeFileAtomic leaves what write-file-atomic leaves', () => {
  for (const [targetName, prepare] of Object.entries({ new: fresh, existing })) {
    it.each(calls)(`${targetName} target, %s`, async (_name, call) => {
      const outcome = await differential('target', prepare, (t) => call(original, t), (t) => call(durable, t));
      expectAlike(outcome);
      expect(outcome.outcomes.compat).toEqual({ ok: true, value: undefined });
    });
  }

  it('writeFileAtomicSync is writeFileAtomic.sync', () => {
    expect(writeFileAtomic.sync).toBe(writeFileAtomicSync);
  });

  it('a chown without gid: a TypeError from both (ERR_INVALID_ARG_TYPE), nothing left', async () => {
    const chown = { uid: 0 } as unknown as { uid: number; gid: number };
    for (const call of [(w: AtomicLike, t: string) => w(t, 'x', { chown }), (w: AtomicLike, t: string) => w.sync(t, 'x', { chown })]) {
      const outcome = await differential('target', existing, (t) => call(original, t), (t) => call(durable, t));
      expect(outcome.compat).toEqual(outcome.original);
      expect(outcome.outcomes.compat).toMatchObject({ ok: false, code: 'ERR_INVALID_ARG_TYPE' });
      expect(outcome.outcomes.original).toMatchObject({ ok: false, code: 'ERR_INVALID_ARG_TYPE' });
    }
  });

  it('a missing directory: both fail with ENOENT (promise and sync), nothing left', async () => {
    for (const call of [(w: AtomicLike, t: string) => w(`${t}/missing/f`, 'x'), (w: AtomicLike, t: string) => w.sync(`${t}/missing/f`, 'x')]) {
      const outcome = await differential('.', fresh, (t) => call(original, t), (t) => call(durable, t));
      expect(outcome.compat).toEqual(outcome.original);
      expect(outcome.outcomes).toEqual({ original: { ok: false, code: 'ENOENT', typeError: false }, compat: { ok: false, code: 'ENOENT', typeError: false } });
    }
  });

  it('a directory as the target: both fail with EISDIR, nothing left', async () => {
    const outcome = await differential('dir', (dir) => mkdirSync(`${dir}/dir`), (t) => original(t, 'x'), (t) => durable(t, 'x'));
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.outcomes).toEqual({ original: { ok: false, code: 'EISDIR', typeError: false }, compat: { ok: false, code: 'EISDIR', typeError: false } });
  });

  it('deliberate divergence: all of a Uint16Array\'s bytes are written (write-file-atomic writes `length` bytes: half of them)', async () => {
    const data = new Uint16Array([0x0102, 0x0304]);
    const outcome = await twins('target', fresh, (t) => original(t, data), (t) => durable(t, data));
    expect(Buffer.from(outcome.original[0]?.bytes ?? '', 'base64')).toHaveLength(2);
    expect(Buffer.from(outcome.compat[0]?.bytes ?? '', 'base64')).toEqual(Buffer.from(data.buffer));
  });
});

/** `mode` as the system default gives it: `0o666 & ~umask`, as octal text. */
const systemDefault = (0o666 & ~currentUmask()).toString(8);

describe('deliberate divergences: where write-file-atomic 7 strays from its README, compat follows the README', () => {
  it('mode: false, promise form: write-file-atomic rejects (Node\'s fs.open refuses a boolean mode); compat writes with the system default mode', async () => {
    const outcome = await differential('target', existing, (t) => original(t, 'x', { mode: false }), (t) => durable(t, 'x', { mode: false }));
    expect(outcome.outcomes).toEqual({
      original: { ok: false, code: 'ERR_INVALID_ARG_TYPE', typeError: true },
      compat: { ok: true, value: undefined },
    });
    expect(outcome.original).toMatchObject([{ mode: '640', bytes: Buffer.from('the previous, longer content').toString('base64') }]);
    expect(outcome.compat).toMatchObject([{ mode: systemDefault, bytes: Buffer.from('x').toString('base64') }]);
  });

  it('mode: false, sync, an existing target: write-file-atomic keeps its mode (it tests !mode); compat gives the system default, as the README says', async () => {
    const outcome = await differential('target', existing, (t) => original.sync(t, 'x', { mode: false }), (t) => durable.sync(t, 'x', { mode: false }));
    expect(outcome.outcomes.compat).toEqual(outcome.outcomes.original);
    expect(outcome.original).toMatchObject([{ mode: '640' }]);
    expect(outcome.compat).toMatchObject([{ mode: systemDefault }]);
  });

  it.each([
    ['new', fresh, systemDefault],
    ['existing', existing, '640'],
  ] as const)('mode: 0, sync, %s target: write-file-atomic takes 0 for no mode; compat applies 0, as its promise form does', async (_name, prepare, wfaMode) => {
    const outcome = await differential('target', prepare, (t) => original.sync(t, 'x', { mode: 0 }), (t) => durable.sync(t, 'x', { mode: 0 }));
    expect(outcome.outcomes.compat).toEqual(outcome.outcomes.original);
    expect(outcome.original).toMatchObject([{ mode: wfaMode }]);
    expect(outcome.compat).toMatchObject([{ mode: '0' }]);
  });
});

describe('tmpfileCreated', () => {
  /** What the hook saw, and the order of events around it. */
  interface HookRecord {
    readonly events: string[];
    seen?: { existed: boolean; besideTarget: boolean; sizeAtEnd?: number; targetAtEnd?: string };
  }

  it.each([
    ['write-file-atomic', original],
    ['compat', durable],
  ] as const)('%s: called with a path that exists then, beside the target; the promise form awaits it before writing', async (_name, write) => {
    const record: HookRecord = { events: [] };
    await twins('target', existing, async (target) => {
      const tmpfileCreated = async (tmpPath: string): Promise<void> => {
        record.events.push('hook started');
        record.seen = { existed: existsSync(tmpPath), besideTarget: dirname(tmpPath) === dirname(target) && tmpPath !== target };
        await sleep(50);
        record.seen.sizeAtEnd = statSync(tmpPath).size;
        record.seen.targetAtEnd = readFileSync(target, 'utf8');
        record.events.push('hook finished');
      };
      await write(target, 'new content', { tmpfileCreated });
      record.events.push('write resolved');
    }, () => undefined);
    expect(record.events).toEqual(['hook started', 'hook finished', 'write resolved']);
    expect(record.seen).toEqual({ existed: true, besideTarget: true, sizeAtEnd: 0, targetAtEnd: 'the previous, longer content' });
  });

  it.each([
    ['write-file-atomic', original],
    ['compat', durable],
  ] as const)('%s: sync calls it synchronously, with an existing path, and does not wait for a promise it returns', async (_name, write) => {
    const events: string[] = [];
    await twins('target', fresh, (target) => {
      write.sync(target, 'x', {
        tmpfileCreated: (tmpPath) => {
          events.push(existsSync(tmpPath) && dirname(tmpPath) === dirname(target) ? 'hook: temp file exists beside the target' : 'hook: no temp file');
          return new Promise(() => undefined);
        },
      });
      events.push('sync returned');
    }, () => undefined);
    expect(events).toEqual(['hook: temp file exists beside the target', 'sync returned']);
  });

  it('a hook that throws fails the compat write, the target untouched, no temp file left', async () => {
    const outcome = await twins(
      'target',
      existing,
      (t) => expect(original(t, 'new', { tmpfileCreated: () => { throw new Error('hook failed'); } })).rejects.toThrow('hook failed'),
      (t) => expect(durable(t, 'new', { tmpfileCreated: () => { throw new Error('hook failed'); } })).rejects.toThrow('hook failed'),
    );
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat).toHaveLength(1);
  });
});

describe('the callback forms', () => {
  const forms: readonly (readonly [string, (write: AtomicLike, target: string, cb: (error?: Error) => void) => unknown])[] = [
    ['(filename, data, cb)', (w, t, cb) => w(t, 'data', cb)],
    ['(filename, data, options, cb)', (w, t, cb) => w(t, 'data', { mode: 0o600 }, cb)],
    ["(filename, data, 'utf8', cb)", (w, t, cb) => w(t, 'data', 'utf8', cb)],
    ['(filename, data, undefined, cb)', (w, t, cb) => w(t, 'data', undefined, cb)],
  ];

  it.each(forms)('%s: called once with undefined; the same tree', async (_name, call) => {
    const results: Awaited<ReturnType<typeof callbackCalls>>[] = [];
    const outcome = await twins(
      'target',
      existing,
      async (t) => results.push(await callbackCalls((cb) => call(original, t, cb))),
      async (t) => results.push(await callbackCalls((cb) => call(durable, t, cb))),
    );
    expect(outcome.compat).toEqual(outcome.original);
    expect(results.map((result) => result.calls)).toEqual([[[undefined]], [[undefined]]]);
    // write-file-atomic returns the promise of its async function even then; compat returns nothing, as its types say.
    expect(results[1]?.returned).toBeUndefined();
  });

  it('a failure: called once with the error (ENOENT for a missing directory)', async () => {
    const results: Awaited<ReturnType<typeof callbackCalls>>[] = [];
    const outcome = await twins(
      '.',
      fresh,
      async (t) => results.push(await callbackCalls((cb) => original(`${t}/missing/f`, 'x', cb))),
      async (t) => results.push(await callbackCalls((cb) => durable(`${t}/missing/f`, 'x', {}, cb))),
    );
    expect(outcome.compat).toEqual(outcome.original);
    expect(results.map((result) => result.calls.map((args) => Reflect.get(Object(args[0]), 'code')))).toEqual([['ENOENT'], ['ENOENT']]);
  });
});

const notRoot = missing({ root: true });

describe.skipIf(notRoot !== undefined)(`chown and ownership, as root${notRoot === undefined ? '' : ` (skipped: ${notRoot})`}`, () => {
  const chown = { uid: 1234, gid: 1234 };
  const ownedByOther = (_dir: string, target: string): void => {
    fsWriteFileSync(target, 'old', { mode: 0o604 });
    chownSync(target, 4242, 4343);
  };

  it.each([
    ['new target, chown', fresh, (w: AtomicLike, t: string) => w(t, 'x', { chown })],
    ['existing target, chown', existing, (w: AtomicLike, t: string) => w(t, 'x', { chown })],
    ['existing target, chown and mode', existing, (w: AtomicLike, t: string) => w(t, 'x', { chown, mode: 0o600 })],
    ['sync, new target, chown', fresh, (w: AtomicLike, t: string) => w.sync(t, 'x', { chown })],
    ['sync, existing target, chown', existing, (w: AtomicLike, t: string) => w.sync(t, 'x', { chown, mode: '640' })],
  ])('%s: both give the file to 1234:1234', async (_name, prepare, call) => {
    const outcome = await twins('target', prepare, (t) => call(original, t), (t) => call(durable, t));
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat[0]).toMatchObject({ uid: 1234, gid: 1234 });
  });

  it.each([
    ['promise', (w: AtomicLike, t: string) => w(t, 'x')],
    ['sync', (w: AtomicLike, t: string) => w.sync(t, 'x')],
  ])("%s, no chown: both keep an existing target's owner and mode", async (_name, call) => {
    const outcome = await twins('target', ownedByOther, (t) => call(original, t), (t) => call(durable, t));
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat[0]).toMatchObject({ uid: 4242, gid: 4343, mode: '604' });
  });

  it.each([
    ['chown: false', { chown: false }],
    ['mode: undefined, chown: false (write-json-file)', { mode: undefined, chown: false }],
  ] as const)("promise, %s: both leave the file the writer's (root's), not the old owner's; the mode kept", async (_name, options) => {
    // A copy each: write-file-atomic's promise form writes the mode it copies into the options object it is given.
    const outcome = await differential('target', ownedByOther, (t) => original(t, 'x', { ...options }), (t) => durable(t, 'x', { ...options }));
    expectAlike(outcome);
    expect(outcome.compat[0]).toMatchObject({ uid: 0, gid: 0, mode: '604' });
  });

  it("deliberate divergence: sync, chown: false: write-file-atomic keeps the old owner (it tests !chown); compat leaves the file the writer's, as the README says", async () => {
    const outcome = await differential('target', ownedByOther, (t) => original.sync(t, 'x', { chown: false }), (t) => durable.sync(t, 'x', { chown: false }));
    expect(outcome.outcomes.compat).toEqual(outcome.outcomes.original);
    expect(outcome.original[0]).toMatchObject({ uid: 4242, gid: 4343, mode: '604' });
    expect(outcome.compat[0]).toMatchObject({ uid: 0, gid: 0, mode: '604' });
  });
});
