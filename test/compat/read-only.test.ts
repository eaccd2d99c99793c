/**
 * Differential: an existing target this process may not write (mode 0444 in a writable
 * directory). `fs.writeFile` and fs-extra's writers open it for writing, so without root they
 * fail with `EACCES` and leave it; their compat twins refuse it the same way (`access(W_OK)` on
 * the target the write resolved), although a rename would replace it. write-file-atomic renames
 * over it, and so does its twin. As root every one of them replaces it, keeping its mode.
 *
 * These run as the unprivileged user `nobody` too when the suite runs as root
 * (test/compat/unprivileged.test.ts): the `EACCES` cases need a user without root's override.
 */
import { chmodSync, symlinkSync, writeFileSync as fsWriteFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import fs from 'node:fs';
import fse from 'fs-extra';
import originalWriteFileAtomic from 'write-file-atomic';
import { describe, expect, it } from 'vitest';
import * as compat from '../../src/compat.js';
import { isRoot } from '../support/prerequisites.js';
import { differential, expectAlike } from './twins.js';

/** The functions these tests call, as every package (and compat) types them. */
interface Writers {
  writeFile(file: string, data: string): Promise<void>;
  writeFileSync(file: string, data: string): void;
  outputFile(file: string, data: string): Promise<void>;
  outputFileSync(file: string, data: string): void;
  outputJson(file: string, value: unknown): Promise<void>;
  outputJsonSync(file: string, value: unknown): void;
  writeJson(file: string, value: unknown): Promise<void>;
  writeJsonSync(file: string, value: unknown): void;
  writeFileAtomic(file: string, data: string): Promise<void>;
  writeFileAtomicSync(file: string, data: string): void;
}

const original: Writers = {
  writeFile: fsp.writeFile,
  writeFileSync: fs.writeFileSync,
  outputFile: fse.outputFile,
  outputFileSync: fse.outputFileSync,
  outputJson: fse.outputJson,
  outputJsonSync: fse.outputJsonSync,
  writeJson: fse.writeJson,
  writeJsonSync: fse.writeJsonSync,
  writeFileAtomic: originalWriteFileAtomic,
  writeFileAtomicSync: originalWriteFileAtomic.sync,
};
const durable: Writers = compat;

/** Each twin, and whether its original opens the target for writing (and so refuses a read-only one). */
const writers: readonly (readonly [keyof Writers, boolean])[] = [
  ['writeFile', true],
  ['writeFileSync', true],
  ['outputFile', true],
  ['outputFileSync', true],
  ['outputJson', true],
  ['outputJsonSync', true],
  ['writeJson', true],
  ['writeJsonSync', true],
  ['writeFileAtomic', false],
  ['writeFileAtomicSync', false],
];

const readOnly = (_dir: string, target: string): void => fsWriteFileSync(target, 'read-only content', { mode: 0o444 });
const readOnlyBehindLink = (dir: string, target: string): void => {
  readOnly(dir, `${dir}/real`);
  symlinkSync('real', target);
};

type JsonWriter = 'outputJson' | 'outputJsonSync' | 'writeJson' | 'writeJsonSync';

function isJsonWriter(name: keyof Writers): name is JsonWriter {
  return name.includes('Json');
}

/** Calls `name` of `writers` on `target` with data of the right kind. */
function callOf(writers: Writers, name: keyof Writers): (target: string) => unknown {
  return (target) => (isJsonWriter(name) ? writers[name](target, { n: 1 }) : writers[name](target, 'new'));
}

describe(`a read-only target (0444), as ${isRoot ? 'root' : `uid ${process.getuid?.()}`}`, () => {
  it.each(writers)('%s: the same outcome, the same tree', async (name, opensTarget) => {
    const outcome = await differential('target', readOnly, callOf(original, name), callOf(durable, name));
    expectAlike(outcome);
    const refused = opensTarget && !isRoot;
    expect(outcome.outcomes.compat).toEqual(refused ? { ok: false, code: 'EACCES', typeError: false } : { ok: true, value: undefined });
    expect(outcome.compat).toMatchObject([{ path: 'target', mode: '444' }]);
    expect(Buffer.from(outcome.compat[0]?.bytes ?? '', 'base64').toString()).toMatch(refused ? /^read-only content$/ : /new|"n":1/);
  });

  it.each(writers)('%s: through a symlink, the same outcome, the same tree', async (name) => {
    const outcome = await differential('link', readOnlyBehindLink, callOf(original, name), callOf(durable, name));
    expectAlike(outcome);
  });
});

// As root (CI), both write: root may create the temp file anywhere; the unprivileged case runs in
// the child run as nobody (unprivileged.test.ts).
describe(`a writable file in a read-only directory, as uid ${process.getuid?.()}`, () => {
  const title = isRoot
    ? 'as root, fs.writeFile and its twin both write it'
    : 'deliberate divergence: fs.writeFile writes it in place, its twin cannot create the temp file (EACCES), nothing changed';
  it(title, async () => {
    const directories: string[] = [];
    const prepare = (dir: string, target: string): void => {
      fsWriteFileSync(target, 'old', { mode: 0o644 });
      chmodSync(dir, 0o555);
      directories.push(dir);
    };
    try {
      const outcome = await differential('target', prepare, (t) => original.writeFile(t, 'new'), (t) => durable.writeFile(t, 'new'));
      if (isRoot) {
        expectAlike(outcome);
        expect(outcome.compat[0]?.bytes).toBe(Buffer.from('new').toString('base64'));
        return;
      }
      expect(outcome.outcomes).toEqual({ original: { ok: true, value: undefined }, compat: { ok: false, code: 'EACCES', typeError: false } });
      expect(outcome.original[0]?.bytes).toBe(Buffer.from('new').toString('base64'));
      expect(outcome.compat[0]?.bytes).toBe(Buffer.from('old').toString('base64'));
      expect(outcome.compat).toHaveLength(1);
    } finally {
      for (const dir of directories) chmodSync(dir, 0o755);
    }
  });
});
