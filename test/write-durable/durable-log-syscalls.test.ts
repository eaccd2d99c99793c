/**
 * openDurableLog's recovery under strace, on the built package: a torn tail is cut with
 * `ftruncate` on a descriptor opened for writing, then flushed, then closed, in that order, and
 * the file is left at the end of its last valid record.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distCjs, requireBuild } from '../support/built-package.js';
import { missing } from '../support/prerequisites.js';
import { fdArg, traceNode } from '../support/strace.js';
import { tempDir } from '../support/temp-dir.js';

const lacking = missing({ tools: ['strace'] });

const SCRIPT = `require(process.argv[1]).openDurableLog(process.argv[2], { format: 'lines' })
  .then((log) => log.close()).catch((e) => { console.error(e); process.exit(1); })`;

describe.skipIf(lacking !== undefined)(`openDurableLog's recovery under strace${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  it('a torn tail: open(O_WRONLY) → ftruncate(valid end) → fdatasync → close', () => {
    requireBuild();
    const path = join(tempDir(), 'log');
    writeFileSync(path, Buffer.concat([Buffer.from('one\ntwo\n'), Buffer.alloc(16)]));
    const trace = traceNode(SCRIPT, [distCjs, path], 'openat,open,ftruncate,fdatasync,fsync,close');
    const open = trace.find((call) => (call.name === 'openat' || call.name === 'open') && call.args.includes(`"${path}"`) && call.args.includes('O_WRONLY'));
    expect(open).toBeDefined();
    const fd = open?.result.split(' ')[0] ?? '';
    const steps = trace.slice(open === undefined ? 0 : trace.indexOf(open) + 1).filter((call) => fdArg(call) === fd && ['ftruncate', 'fdatasync', 'fsync', 'close'].includes(call.name)).map((call) => `${call.name}(${call.args.split(',')[1]?.trim() ?? ''})`);
    expect(steps.slice(0, 3)).toEqual(['ftruncate(8)', 'fdatasync()', 'close()']);
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
  });
});
