/**
 * The flush functions on Windows: an existing file is opened for writing to be flushed
 * (FlushFileBuffers needs write access; opened read-only, every fsyncFile failed with EPERM), a
 * durable rename works, and a directory is reported unflushed rather than attempted.
 *
 * Wine note: Wine maps the read-only attribute to the Linux mode bits, and as root (CI) it opens
 * a read-only file for writing anyway, so the refusal of a file this process may not write cannot
 * be shown here; its message is checked on Linux (test/write-durable/windows-rules.test.ts).
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertNoDirectoryFlushReported, dw, tempDir } from './support.mjs';

test('fsyncFile and fsyncFileSync flush an existing file, with fsync and fdatasync', async () => {
  const file = join(tempDir(), 'journal');
  writeFileSync(file, 'line 1\n');
  appendFileSync(file, 'line 2\n');
  assert.equal(await dw.fsyncFile(file), undefined);
  assert.equal(dw.fsyncFileSync(file, { flush: 'fdatasync' }), undefined);
  assert.equal(readFileSync(file, 'utf8'), 'line 1\nline 2\n');
});

test('renameDurable and renameDurableSync: flushed, renamed, the directories reported unflushed', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.part'), 'A');
  assertNoDirectoryFlushReported(await dw.renameDurable(join(dir, 'a.part'), join(dir, 'a')));
  const other = tempDir();
  writeFileSync(join(dir, 'b.part'), 'B');
  // Across directories: the source's and the target's, each reported.
  assertNoDirectoryFlushReported(dw.renameDurableSync(join(dir, 'b.part'), join(other, 'b')), 2);
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'A');
  assert.equal(readFileSync(join(other, 'b'), 'utf8'), 'B');
  assert.equal(existsSync(join(dir, 'b.part')), false);
});

test('fsyncDirectory: synced false with the reason; required rejects', async () => {
  const dir = tempDir();
  for (const outcome of [await dw.fsyncDirectory(dir), dw.fsyncDirectorySync(dir, { directorySync: 'best-effort' })]) {
    assert.equal(outcome.synced, false);
    assert.equal(outcome.error.code, 'ENOTSUP');
    assert.match(outcome.error.message, /Windows offers no directory flush/);
  }
  await assert.rejects(dw.fsyncDirectory(dir, { directorySync: 'required' }), { code: 'ENOTSUP', stage: 'validate' });
});

test('a missing file: ENOENT at open, the message saying why it is opened for writing', async () => {
  const missing = join(tempDir(), 'missing');
  await assert.rejects(dw.fsyncFile(missing), (error) => {
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.stage, 'open');
    assert.match(error.message, /for writing to flush it \(Windows flushes a file only through a handle with write access/);
    return true;
  });
});
