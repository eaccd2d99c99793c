/**
 * Helpers of the Windows suite (run by node.exe under Wine: see run.mjs): the built package
 * and fresh temp directories.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const require = createRequire(import.meta.url);
/** The CommonJS build, as a Windows user's `require('durable-write')` loads it. */
export const dw = require('../../dist/index.cjs');
/** `durable-write/compat`'s CommonJS build. */
export const compat = require('../../dist/compat.cjs');
/** The command, as `npx durable-write` runs it. */
export const cli = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', 'dist', 'cli.js');

const made = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the Windows temp directory, removed after the file's tests. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'dw-win-'));
  made.push(dir);
  return dir;
}
