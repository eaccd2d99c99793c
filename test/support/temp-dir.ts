/** Real temporary directories for tests, removed after each test. */
import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { parseTempPath } from '../../src/write/temp-name.js';

const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed after the current test. */
export function tempDir(prefix = 'durable-write-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** The temporary files (`.NAME.PID.HEX.dwtmp`, as `parseTempPath` reads them) left in `dir`. */
export function leftoverTemps(dir: string): string[] {
  const real = realpathSync(dir);
  return readdirSync(dir).filter((name) => parseTempPath(join(real, name)) !== undefined);
}
