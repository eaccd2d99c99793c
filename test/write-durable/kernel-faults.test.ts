import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDurableWriteError } from '../../src/core/errors.js';
import { mountTmpfs, remountReadOnly } from '../support/mounts.js';
import { missing } from '../support/prerequisites.js';
import { writeModes } from './modes.js';

const lacking = missing({ tools: ['mount', 'umount'], root: true });
const title = (name: string): string => `${name}${lacking === undefined ? '' : ` (skipped: ${lacking})`}`;
const precious = Buffer.alloc(96 * 1024, 'p');
const tooBig = Buffer.alloc(256 * 1024, 'n');

describe.skipIf(lacking !== undefined)(title('real ENOSPC on a full tmpfs'), () => {
  it.each(writeModes)('$name: typed ENOSPC, the target intact, no temp file left', async ({ write }) => {
    const dir = mountTmpfs(192 * 1024);
    const target = join(dir, 'state');
    writeFileSync(target, precious);
    const error: unknown = await write(target, tooBig).catch((e: unknown) => e);
    expect(isDurableWriteError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ENOSPC', stage: 'write', path: target });
    expect(readFileSync(target).equals(precious)).toBe(true);
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it('twin: fs.writeFileSync truncates the target first, so a full disk destroys the old data', () => {
    const dir = mountTmpfs(192 * 1024);
    const target = join(dir, 'state');
    writeFileSync(target, precious);
    expect(() => writeFileSync(target, tooBig)).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(readFileSync(target).equals(precious)).toBe(false);
  });
});

describe.skipIf(lacking !== undefined)(title('real EROFS on a read-only mount'), () => {
  it.each(writeModes)('$name: typed EROFS at open, the target intact, nothing created', async ({ write }) => {
    const dir = mountTmpfs(1024 * 1024);
    const target = join(dir, 'state');
    writeFileSync(target, precious);
    remountReadOnly(dir);
    const error: unknown = await write(target, 'new').catch((e: unknown) => e);
    expect(isDurableWriteError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'EROFS', stage: 'open', path: target });
    expect(readFileSync(target).equals(precious)).toBe(true);
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it.each(writeModes)('$name with createParents: typed EROFS at mkdir', async ({ write }) => {
    const dir = mountTmpfs(1024 * 1024);
    remountReadOnly(dir);
    await expect(write(join(dir, 'sub', 'state'), 'new', { createParents: true })).rejects.toMatchObject({ code: 'EROFS', stage: 'mkdir' });
  });
});
