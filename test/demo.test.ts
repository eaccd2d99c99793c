/** `npm run demo`, the README's main-job command, must work and say what it did. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, requireBuild } from './support/built-package.js';

describe('npm run demo', () => {
  it('shows a naive write lost and a durable one kept at a simulated reset, then writes durably with per-step times', () => {
    requireBuild();
    const output = execFileSync(process.execPath, [join(repoRoot, 'scripts', 'demo.mjs')], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    for (const step of ['open', 'write', 'fsync', 'close', 'rename']) expect(output).toMatch(new RegExp(`^\\s+${step}\\s+[\\d.]+ ms`, 'm'));
    // The first open is the directory (held for its fsync), the second the temp file.
    expect(output).toMatch(/^\s+open\s+[\d.]+ ms\s+open the directory.*\n\s+open\s+[\d.]+ ms\s+create the temp file/m);
    expect(output).toMatch(/content check: ok; temp files left: 0/);
    expect(output).toMatch(/fs\.writeFile .*LOST/);
    expect(output).toMatch(/writeDurable \+ syncAll .*kept/);
    expect(output).toMatch(/always one complete version/);
  });
});
