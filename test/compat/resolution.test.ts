/**
 * The compat twins of `fs.writeFile` and fs-extra decide what `fs.writeFile` decides at its
 * `open` (the mode of a new file; the refusal of a target it could not open for writing) on the
 * write's own resolution of the target, never on a look taken when the call was made:
 *
 * - a target removed after the call but before the write resolves it is a new file, and gets
 *   `mode & ~umask` (the secret of `writeFile(f, secret, { mode: 0o600 })` never lands in a
 *   0644 file), as `fs.writeFile` gives it, whether the window comes from an async resolution,
 *   from the per-file queue, or from a seam that removes the target at its `lstat`;
 * - the writability check is one `access(W_OK)` of the resolved target, made only when a compat
 *   twin asks for it and the target exists (`writeDurable` never makes it).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync, unlinkSync, writeFileSync as fsWriteFileSync } from 'node:fs';
import { writeFile as fsWriteFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as compat from '../../src/compat.js';
import { isDurableWriteError } from '../../src/core/errors.js';
import { nodeFileSystem, type DurableFileSystem } from '../../src/core/file-system.js';
import { createCrashSimulator } from '../../src/testing/crash-simulator/crash-simulator.js';
import { writeDurable, writeDurableSync, writeDurableSyncWith, writeDurableWith } from '../../src/write/write-durable.js';
import { currentUmask } from '../../src/write/umask.js';
import { tempDir } from '../support/temp-dir.js';
import { differential } from './twins.js';

const existing = (_dir: string, target: string): void => fsWriteFileSync(target, 'the old, public content', { mode: 0o644 });

/** `mode` as `open(2)` would give a new file: reduced by this process's umask, as octal text. */
const created = (mode: number): string => (mode & ~currentUmask()).toString(8);

/**
 * The call, then the target removed at once, before the compat write resolves it (its first step,
 * `realpath`, must complete before the `lstat` is even issued).
 */
const thenRemove = (call: (target: string) => Promise<void>) => async (target: string): Promise<void> => {
  const written = call(target);
  unlinkSync(target);
  await written;
};

/**
 * The target removed, then the call: what `fs.writeFile` sees when the removal comes before its
 * `open`, which it decides at. (Removed just after the call instead, the removal would race
 * with that `open`, already running in libuv's thread pool.)
 */
const removeThen = (call: (target: string) => Promise<void>) => async (target: string): Promise<void> => {
  unlinkSync(target);
  await call(target);
};

describe('mode: decided on the target as the write resolves it', () => {
  it.each([
    ['a Readable', () => Readable.from([Buffer.from('secret')])],
    [
      'an async iterable',
      () =>
        (async function* () {
          yield 'secret';
        })(),
    ],
  ])('writeFile with %s, the target removed after the call: a new file with mode & ~umask, as fs.writeFile makes it', async (_name, data) => {
    const outcome = await differential(
      'target',
      existing,
      removeThen((t) => fsWriteFile(t, data(), { mode: 0o600 })),
      thenRemove((t) => compat.writeFile(t, data(), { mode: 0o600 })),
    );
    expect(outcome.outcomes.compat).toEqual(outcome.outcomes.original);
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat).toMatchObject([{ path: 'target', mode: created(0o600) }]);
  });

  it.each([
    ['outputFile', (t: string) => compat.outputFile(t, 'secret', { mode: 0o600 })],
    ['writeJson', (t: string) => compat.writeJson(t, { secret: true }, { mode: 0o600 })],
    ['outputJson', (t: string) => compat.outputJson(t, { secret: true }, { mode: 0o600 })],
  ])('%s queued behind a failing write to the same file, the target removed while it waits: a new file with mode & ~umask', async (_name, call) => {
    const dir = tempDir('durable-write-compat-');
    const target = join(dir, 'target');
    existing(dir, target);
    let fail: (error: Error) => void = () => undefined;
    const gate = new Promise<never>((_resolve, reject) => {
      fail = reject;
    });
    // Rejected before the first write reads it: handled here, awaited there.
    gate.catch(() => undefined);
    const failing = compat.writeFile(
      target,
      (async function* () {
        yield 'first';
        await gate;
      })(),
    );
    const queued = call(target);
    unlinkSync(target);
    fail(new Error('the first write fails'));
    await expect(failing).rejects.toThrow('the first write fails');
    await queued;
    expect((statSync(target).mode & 0o7777).toString(8)).toBe(created(0o600));
  });

  it('an existing target keeps its mode, as fs.writeFile keeps it (the mode applies to a new file only)', async () => {
    const outcome = await differential('target', existing, (t) => fsWriteFile(t, 'x', { mode: 0o600 }), (t) => compat.writeFile(t, 'x', { mode: 0o600 }));
    expect(outcome.compat).toEqual(outcome.original);
    expect(outcome.compat).toMatchObject([{ mode: '644' }]);
  });
});

/** Node's file system, but the target removed when the write first looks at it (`lstat`), and every `access` recorded. */
function seam(target: string): { fs: DurableFileSystem; accessed: string[] } {
  const accessed: string[] = [];
  let removed = false;
  const removeAt = (path: string): void => {
    if (path !== target || removed) return;
    removed = true;
    unlinkSync(target);
  };
  return {
    accessed,
    fs: {
      ...nodeFileSystem,
      lstat: async (path) => {
        removeAt(path);
        return nodeFileSystem.lstat(path);
      },
      lstatSync: (path) => {
        removeAt(path);
        return nodeFileSystem.lstatSync(path);
      },
      access: async (path, mode) => {
        accessed.push(path);
        await nodeFileSystem.access?.(path, mode);
      },
      accessSync: (path, mode) => {
        accessed.push(path);
        nodeFileSystem.accessSync?.(path, mode);
      },
    },
  };
}

/** The write under the compat twins, in either mode, with a plan's additions and a seam. */
const planModes = [
  ['async', (target: string, fs: DurableFileSystem, newFileMode: number) => writeDurableWith('writeFile', target, { fs }, [], () => 'secret', undefined, { newFileMode, requireWritable: true })],
  ['sync', async (target: string, fs: DurableFileSystem, newFileMode: number) => writeDurableSyncWith('writeFileSync', target, { fs }, [], () => 'secret', { newFileMode, requireWritable: true })],
] as const;

describe('the window forced by a seam: the target removed at the lstat of the write itself', () => {
  it.each(planModes)('%s: the new file gets newFileMode & ~umask (0600), not the default 0644', async (_mode, write) => {
    const dir = realpathSync(tempDir('durable-write-compat-'));
    const target = join(dir, 'target');
    existing(dir, target);
    const { fs, accessed } = seam(target);
    await write(target, fs, 0o600);
    expect((statSync(target).mode & 0o7777).toString(8)).toBe(created(0o600));
    // Absent when resolved: nothing to check for writability.
    expect(accessed).toEqual([]);
  });

  it.each([
    ['writeDurable', (target: string, fs: DurableFileSystem, mode: number | undefined) => writeDurable(target, 'secret', { fs, ...(mode === undefined ? {} : { mode }) })],
    ['writeDurableSync', async (target: string, fs: DurableFileSystem, mode: number | undefined) => writeDurableSync(target, 'secret', { fs, ...(mode === undefined ? {} : { mode }) })],
  ])('twin: the naive way (a look at call time finds the file, so no mode is passed to %s) puts the secret in a 0644 file', async (_name, write) => {
    const dir = realpathSync(tempDir('durable-write-compat-'));
    const target = join(dir, 'target');
    existing(dir, target);
    const modeAsDecidedAtCall = existsSync(target) ? undefined : 0o600 & ~currentUmask();
    await write(target, seam(target).fs, modeAsDecidedAtCall);
    expect((statSync(target).mode & 0o7777).toString(8)).toBe(created(0o666));
  });
});

describe('access(W_OK): only when a compat twin asks, once, on the resolved target', () => {
  /** A seam recording `access`, and failing it with `code` when given. */
  const recording = (code?: string): { fs: DurableFileSystem; accessed: string[] } => {
    const accessed: string[] = [];
    const fail = (path: string): void => {
      accessed.push(path);
      if (code !== undefined) throw Object.assign(new Error(`${code}: injected, access '${path}'`), { code });
    };
    return {
      accessed,
      fs: {
        ...nodeFileSystem,
        access: async (path) => fail(path),
        accessSync: (path) => fail(path),
      },
    };
  };

  it.each([
    ['writeDurable', (t: string, fs: DurableFileSystem) => writeDurable(t, 'new', { fs })],
    ['writeDurableSync', async (t: string, fs: DurableFileSystem) => writeDurableSync(t, 'new', { fs })],
  ])('%s never calls it', async (_name, write) => {
    const dir = tempDir('durable-write-compat-');
    existing(dir, join(dir, 'target'));
    const { fs, accessed } = recording();
    await write(join(dir, 'target'), fs);
    expect(accessed).toEqual([]);
  });

  it.each(planModes)('%s: an existing target reached through a symlink is checked once, at the file the link names', async (_mode, write) => {
    const dir = realpathSync(tempDir('durable-write-compat-'));
    existing(dir, join(dir, 'real'));
    symlinkSync('real', join(dir, 'link'));
    const { fs, accessed } = recording();
    await write(join(dir, 'link'), fs, 0o600);
    expect(accessed).toEqual([join(dir, 'real')]);
  });

  it.each(planModes)('%s: a refusal (EROFS) is a DurableWriteError of stage validate, the target untouched, no temp file', async (_mode, write) => {
    const dir = realpathSync(tempDir('durable-write-compat-'));
    const target = join(dir, 'target');
    existing(dir, target);
    const { fs } = recording('EROFS');
    const error: unknown = await write(target, fs, 0o600).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isDurableWriteError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'EROFS', stage: 'validate', path: target });
    expect(String(Reflect.get(Object(error), 'message'))).toMatch(/is writable by this process .*failed with EROFS/);
    expect(readdirSync(dir)).toEqual(['target']);
    expect(readFileSync(target, 'utf8')).toBe('the old, public content');
  });
});

describe('on the crash simulator, whose kernel models access (existence; its process may write anything)', () => {
  it.each(planModes)('%s: an existing target passes the check and is replaced; an injected EACCES refuses it, untouched', async (_mode, write) => {
    const sim = createCrashSimulator({ files: { '/d/target': 'old' } });
    await write('/d/target', sim.fs, 0o600);
    expect(await sim.fs.readFile('/d/target', 'utf8')).toBe('secret');
    sim.injectFault({ op: 'stat', code: 'EACCES', path: '/d/target' });
    await expect(write('/d/target', sim.fs, 0o600)).rejects.toMatchObject({ code: 'EACCES', stage: 'validate' });
    expect(await sim.fs.readdir('/d')).toEqual(['target']);
  });
});
