/**
 * Helpers of the Windows suite (run by node.exe under Wine: see run.mjs): the built package,
 * fresh temp directories, a second process holding a file open, and the checks every write's
 * result gets on Windows.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = fileURLToPath(new URL('.', import.meta.url));
/** The CommonJS build, as a Windows user's `require('durable-write')` loads it. */
export const dw = require('../../dist/index.cjs');
/** `durable-write/compat`'s CommonJS build. */
export const compat = require('../../dist/compat.cjs');
/** The command, as `npx durable-write` runs it. */
export const cli = join(here, '..', '..', 'dist', 'cli.js');

const made = [];
after(() => {
  // Retried: a holder (holdOpen) left running by a failed test keeps its file for a few seconds.
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

/** A fresh directory under the Windows temp directory, removed after the file's tests. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'dw-win-'));
  made.push(dir);
  return dir;
}

/** The temp files left in `dir` (durable-write's names end in `.dwtmp`). */
export function leftoverTemps(dir) {
  return readdirSync(dir).filter((name) => name.endsWith('.dwtmp'));
}

/**
 * Checks a completed write's result on Windows: the directory reported unflushed, honestly
 * (code ENOTSUP, stage flush-directory, a message saying Windows offers no directory flush), once
 * per directory.
 */
export function assertNoDirectoryFlushReported(result, directories = 1) {
  assert.equal(result.directorySynced, false);
  assert.equal(result.directorySyncErrors.length, directories);
  for (const error of result.directorySyncErrors) {
    assert.ok(dw.isDurableWriteError(error));
    assert.equal(error.code, 'ENOTSUP');
    assert.equal(error.stage, 'flush-directory');
    assert.match(error.message, /Windows offers no directory flush/);
  }
}

/** Sleeps without blocking the event loop. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Has another node.exe hold `file` open without any sharing (hold-file.mjs) for `ms`
 * milliseconds from the moment it holds it; resolves once it does, with a promise of its exit.
 */
export async function holdOpen(file, ms) {
  const ready = join(tempDir(), 'ready');
  const child = spawn(process.execPath, [join(here, 'hold-file.mjs'), file, ready, String(ms)], { stdio: 'ignore' });
  const exited = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`hold-file.mjs exited ${code}`))));
  });
  for (const started = Date.now(); !existsSync(ready); await sleep(10)) {
    if (Date.now() - started > 30_000) throw new Error('hold-file.mjs did not hold the file within 30 s');
  }
  return { exited };
}
