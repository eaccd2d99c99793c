/**
 * The argument prologue: every public function that takes options rejects an unknown option
 * name with a TypeError naming it and the closest known name, and checks every argument before
 * it touches the disk or runs a program.
 */
import { readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { syncAll, syncFilesystem } from '../src/sync/sync.js';
import { IpmitoolPowerController } from '../src/power/ipmitool.js';
import { RedfishPowerController } from '../src/power/redfish.js';
import { FakePowerController } from '../src/testing/fake-power-controller.js';
import { createCrashSimulator } from '../src/testing/crash-simulator/crash-simulator.js';
import { appendDurable, appendDurableSync } from '../src/write/append-durable.js';
import { fsyncDirectory, fsyncDirectorySync } from '../src/write/fsync-directory.js';
import { fsyncFile, fsyncFileSync } from '../src/write/fsync-file.js';
import { renameDurable, renameDurableSync } from '../src/write/rename-durable.js';
import { writeDurable, writeDurableSync } from '../src/write/write-durable.js';
import { faultyFileSystem } from './support/faulty-fs.js';
import { tempDir } from './support/temp-dir.js';

/** Runs `call` and returns what it threw or rejected with. */
async function failureOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('an unknown option name', () => {
  let dir = '';
  let file = '';
  beforeEach(() => {
    dir = tempDir();
    file = join(dir, 'f');
    writeFileSync(file, 'previous');
  });
  const calls: readonly [string, (options: never) => unknown, string, string][] = [
    ['writeDurable', (o) => writeDurable(file, 'x', o), 'createParent', 'createParents'],
    ['writeDurableSync', (o) => writeDurableSync(file, 'x', o), 'directorSync', 'directorySync'],
    ['appendDurable', (o) => appendDurable(file, 'x', o), 'creatParents', 'createParents'],
    ['appendDurableSync', (o) => appendDurableSync(file, 'x', o), 'flsuh', 'flush'],
    ['renameDurable', (o) => renameDurable(file, `${file}2`, o), 'flsh', 'flush'],
    ['renameDurableSync', (o) => renameDurableSync(file, `${file}2`, o), 'directorysync', 'directorySync'],
    ['fsyncFile', (o) => fsyncFile(file, o), 'singal', 'signal'],
    ['fsyncFileSync', (o) => fsyncFileSync(file, o), 'flush_', 'flush'],
    ['fsyncDirectory', (o) => fsyncDirectory(dir, o), 'directorySynch', 'directorySync'],
    ['fsyncDirectorySync', (o) => fsyncDirectorySync(dir, o), 'FS', 'fs'],
    ['syncAll', (o) => syncAll(o), 'syncProgam', 'syncProgram'],
    ['syncFilesystem', (o) => syncFilesystem(dir, o), 'signl', 'signal'],
    ['IpmitoolPowerController', (o) => new IpmitoolPowerController(o), 'pasword', 'password'],
    ['RedfishPowerController', (o) => new RedfishPowerController(o), 'usename', 'username'],
    ['RedfishPowerController.reset', (o) => new RedfishPowerController({ host: 'bmc', username: 'u', password: 'p' }).reset(o), 'sgnal', 'signal'],
    ['FakePowerController', (o) => new FakePowerController(o), 'initalState', 'initialState'],
    ['FakePowerController.fail', (o) => new FakePowerController().fail('auth', o), 'time', 'times'],
    ['FakePowerController.reset', (o) => new FakePowerController().reset(o), 'sigal', 'signal'],
    ['IpmitoolPowerController.status', (o) => new IpmitoolPowerController({ ipmitoolPath: '/nonexistent' }).status(o), 'signals', 'signal'],
    ['createCrashSimulator', (o) => createCrashSimulator(o), 'file', 'files'],
  ];

  it.each(calls)('%s: a TypeError naming the option and the closest known one; nothing touched', async (name, call, typo, meant) => {
    const error = await failureOf(() => call({ [typo]: true } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect((error as Error).message).toContain(`${name}: unknown option '${typo}' (did you mean ${meant}?)`);
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('a name far from every known one gets the list, without a guess', async () => {
    const error = await failureOf(() => writeDurable(file, 'x', { chown: { uid: 0, gid: 0 } } as never));
    expect((error as Error).message).toMatch(/unknown option 'chown'; known options: encoding, mode, flush/);
  });

  it('a synchronous function takes no signal: it cannot be aborted', async () => {
    const signal = new AbortController().signal;
    for (const call of [
      () => writeDurableSync(file, 'x', { signal } as never),
      () => renameDurableSync(file, `${file}2`, { signal } as never),
      () => fsyncFileSync(file, { signal } as never),
      () => fsyncDirectorySync(dir, { signal } as never),
    ]) {
      expect(call).toThrow(/unknown option 'signal'/);
    }
  });
});

describe('arguments are checked before any I/O', () => {
  it.each([
    ['a bad flush', { flush: 'msync' }],
    ['a bad directorySync', { directorySync: 'sometimes' }],
    ['a bad signal', { signal: 'stop' }],
  ])('renameDurable with %s rejects without a single call to the file system', async (_name, options) => {
    const { fs, calls } = faultyFileSystem();
    const error = await failureOf(() => renameDurable('/nonexistent/a', '/nonexistent/b', { ...options, fs } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(calls).toEqual([]);
  });

  it.each([
    ['a signal that is not an AbortSignal', { signal: 'stop' }, 'ERR_INVALID_ARG_TYPE'],
    ['an empty syncProgram', { syncProgram: '' }, 'ERR_INVALID_ARG_VALUE'],
    ['a syncProgram that is not a string', { syncProgram: 7 }, 'ERR_INVALID_ARG_TYPE'],
    ['an fs whose sync is not a function', { fs: { sync: 'yes' } }, 'ERR_INVALID_ARG_TYPE'],
    ['options that are not an object', 'sync', 'ERR_INVALID_ARG_TYPE'],
  ])('syncAll with %s: a TypeError before anything runs', async (_name, options, code) => {
    const error = await failureOf(() => syncAll(options as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code });
  });

  it('syncFilesystem takes a relative path as every other function does: resolved against the working directory', async () => {
    const dir = tempDir();
    const seen: string[] = [];
    await syncFilesystem(relative(process.cwd(), dir), { fs: { syncfs: async (path) => void seen.push(path) } });
    expect(seen).toHaveLength(1);
    expect(isAbsolute(seen[0] ?? '')).toBe(true);
    expect(realpathSync(seen[0] ?? '')).toBe(realpathSync(dir));
  });

  it.each([
    ['a number', 7, 'ERR_INVALID_ARG_TYPE'],
    ['a path with a NUL byte', 'a\u0000b', 'ERR_INVALID_ARG_VALUE'],
    ['an http: URL', new URL('http://example.invalid/'), 'ERR_INVALID_ARG_VALUE'],
  ])('syncFilesystem with %s: the common path TypeError', async (_name, path, code) => {
    const error = await failureOf(() => syncFilesystem(path as never));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code });
  });

  it('a power verb checks its signal before running anything', async () => {
    const fake = new FakePowerController();
    await expect(fake.reset({ signal: 'stop' } as never)).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(fake.calls).toEqual([]);
  });
});
