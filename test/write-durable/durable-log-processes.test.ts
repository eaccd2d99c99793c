/**
 * Several processes appending to one 'lines' log at once (each record one write() with O_APPEND,
 * through the built package's appendDurable) leave whole records only: the log reads back with
 * every record and no torn tail.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readDurableLog } from '../../src/write/durable-log.js';
import { distCjs, requireBuild } from '../support/built-package.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const PROCESSES = 3;
const RECORDS = Number(process.env['DURABLE_LOG_PROCESS_RECORDS'] ?? 30);

const SCRIPT = `const { appendDurable } = require(process.argv[1]);
(async () => {
  const [path, name, count] = process.argv.slice(2);
  await Promise.all(Array.from({ length: Number(count) }, (_, i) => appendDurable(path, name + '-' + i + '-' + 'x'.repeat(200) + '\\n')));
})().catch((e) => { console.error(e); process.exit(1); });`;

describe('a durable log appended to by several processes', () => {
  it('holds every record, whole, in some order', async () => {
    requireBuild();
    const path = join(tempDir(), 'events.log');
    await Promise.all(Array.from({ length: PROCESSES }, (_, p) => run(process.execPath, ['-e', SCRIPT, distCjs, path, `p${p}`, String(RECORDS)])));
    const contents = await readDurableLog(path, { format: 'lines' });
    expect(contents.tornBytes).toBe(0);
    const expected = Array.from({ length: PROCESSES }, (_, p) => Array.from({ length: RECORDS }, (_, i) => `p${p}-${i}-${'x'.repeat(200)}`)).flat();
    expect([...contents.records].sort()).toEqual(expected.sort());
  });
});
