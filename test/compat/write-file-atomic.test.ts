/**
 * Differential: write-file-atomic 7 and durable-write/compat's `writeFileAtomic` leave the same
 * tree (bytes, mode, owner, no temp file) for new and existing targets, with and without `mode`
 * and `chown`; call `tmpfileCreated` alike (with a path that exists then, beside the target;
 * awaited by the promise form); and call their callbacks alike.
 */
import { chownSync, existsSync, readFileSync, statSync, writeFileSync as fsWriteFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import originalWriteFileAtomic from 'write-file-atomic';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/compat.js';
import { missing } from '../support/prerequisites.js';
import { callbackCalls, twins } from './twins.js';

interface AtomicOptions {
  chown?: { uid: number; gid: number };
  encoding?: BufferEncoding;
  mode?: number | string;
  tmpfileCreated?: (tmpPath: string) => unknown;
}

/** Both packages' function, as these tests call it. */
interface AtomicLike {
  (filename: string, data: string | NodeJS.ArrayBufferView, options?: AtomicOptions | BufferEncoding): Promise<void>;
  (filename: string, data: string | NodeJS.ArrayBufferView, callback: (error?: Error) => void): void;
  (filename: string, data: string | NodeJS.ArrayBufferView, options: AtomicOptions | BufferEncoding | undefined, callback: (error?: Error) => void): void;
  sync(filename: string, data: string | NodeJS.ArrayBufferView, options?: AtomicOptions | BufferEncoding): void;
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
];

describe('compat writeFileAtomic leaves what write-file-atomic leaves', () => {
  for (const [targetName, prepare] of Object.entries({ new: fresh, existing })) {
    it.each(calls)(`${targetName} target, %s`, async (_name, call) => {
      const outcome = await twins('target', prepare, (t) => call(original, t), (t) => call(durable, t));
      expect(outcome.compat).toEqual(outcome.original);
    });
  }

  it('writeFileAtomicSync is writeFileAtomic.sync', () => {
    expect(writeFileAtomic.sync).toBe(writeFileAtomicSync);
  });

  it('deliberate divergence: all of a Uint16Array\'s bytes are written (write-file-atomic writes `length` bytes: half of them)', async () => {
    const data = new Uint16Array([0x0102, 0x0304]);
    const outcome = await twins('target', fresh, (t) => original(t, data), (t) => durable(t, data));
    expect(Buffer.from(outcome.original[0]?.bytes ?? '', 'base64')).toHaveLength(2);
    expect(Buffer.from(outcome.compat[0]?.bytes ?? '', 'base64')).toEqual(Buffer.from(data.buffer));
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
});
