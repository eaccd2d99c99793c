/**
 * Proves with strace that syncAll makes a successful sync(2) and syncFilesystem a successful
 * syncfs(2): a tiny Node script that calls them (the library's real code, transpiled from src/)
 * runs under `strace -f -e trace=sync,syncfs`, which follows the `sync` program they spawn. The
 * twin runs the same harness on a script that only writes a file, and sees neither syscall.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { transpileSources } from './support/transpile-sources.js';

const run = promisify(execFile);
const skip = missing({ tools: ['strace', 'sync'] });
const root = resolve(import.meta.dirname, '../..');

let dir: string;
let syncAllUrl: string;
let syncFilesystemUrl: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dw-sync-strace-'));
  syncAllUrl = pathToFileURL(transpileSources(join(root, 'src/sync/sync.ts'), root, join(dir, 'lib'))).href;
  syncFilesystemUrl = pathToFileURL(transpileSources(join(root, 'src/sync/sync.ts'), root, join(dir, 'lib'))).href;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `script` (ESM) under strace; returns the trace. */
async function traced(name: string, script: string): Promise<string> {
  const file = join(dir, `${name}.mjs`);
  const out = join(dir, `${name}.strace`);
  await writeFile(file, script);
  await run('strace', ['-f', '-qq', '-e', 'trace=sync,syncfs', '-o', out, process.execPath, file], { cwd: dir });
  return readFile(out, 'utf8');
}

describe.skipIf(skip !== undefined)('syscalls made by syncAll and syncFilesystem' + (skip ? ` (skipped: ${skip})` : ''), () => {
  it('syncAll makes sync() and syncFilesystem makes syncfs(...) = 0, in that order', async () => {
    const log = await traced(
      'both',
      `import { syncAll } from ${JSON.stringify(syncAllUrl)};
import { syncFilesystem } from ${JSON.stringify(syncFilesystemUrl)};
await syncAll();
await syncFilesystem(${JSON.stringify(dir)});
`,
    );
    expect(log).toMatch(/^\d+\s+sync\(\)\s+= 0$/m);
    expect(log).toMatch(/^\d+\s+syncfs\(\d+\)\s+= 0$/m);
    expect(log.search(/sync\(\)/)).toBeLessThan(log.search(/syncfs\(/));
  });

  it('twin: a script that only writes a file makes neither syscall', async () => {
    const log = await traced(
      'twin',
      `import { writeFile } from 'node:fs/promises';
await writeFile(${JSON.stringify(join(dir, 'plain.txt'))}, 'data');
`,
    );
    expect(log).not.toMatch(/sync\(\)|syncfs\(/);
  });
});
