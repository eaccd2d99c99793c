import { chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { tempDir } from '../support/temp-dir.js';
import { writeModes } from './modes.js';

const lacking = missing({ root: true });

describe.skipIf(lacking !== undefined)(`ownership of an existing target${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  it.each(writeModes)('$name keeps another user\'s uid and gid when running as root', async ({ write }) => {
    const dir = tempDir();
    const target = join(dir, 'owned');
    writeFileSync(target, 'old');
    chownSync(target, 4242, 4343);
    await write(target, 'new');
    const stats = statSync(target);
    expect([stats.uid, stats.gid]).toEqual([4242, 4343]);
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  it.each(writeModes)('$name gives a new file the writer\'s ownership', async ({ write }) => {
    const dir = tempDir();
    await write(join(dir, 'fresh'), 'x');
    const stats = statSync(join(dir, 'fresh'));
    expect([stats.uid, stats.gid]).toEqual([process.geteuid?.(), process.getegid?.()]);
  });
});
