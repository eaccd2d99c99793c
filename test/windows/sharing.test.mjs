/**
 * Renames over a file another process holds open: retried while the holder keeps it, for
 * `renameRetryMs`; a success once it lets go within the window; a clean failure (temp removed,
 * target intact, the likely cause named) when it does not. The holder is a second node.exe
 * (hold-file.mjs) that opens the target without any sharing, as some scanners do.
 *
 * Wine note: under Wine a rename over a file held open fails with EPERM whatever the holder
 * shares (Node's default flags share delete); on real Windows a holder that shares delete may not
 * block the rename. Wine also replaces a read-only target, which Windows refuses.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertNoDirectoryFlushReported, dw, holdOpen, leftoverTemps, tempDir } from './support.mjs';

/** A directory with a target holding `content`. */
function targetWith(content) {
  const dir = tempDir();
  const target = join(dir, 'state.json');
  writeFileSync(target, content);
  return { dir, target };
}

test('writeDurable: retried while held, done once the holder closes within the window', async () => {
  const { dir, target } = targetWith('old');
  const { exited } = await holdOpen(target, 700);
  const result = await dw.writeDurable(target, 'new');
  assertNoDirectoryFlushReported(result);
  await exited;
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.deepEqual(leftoverTemps(dir), []);
});

test('writeDurableSync: the same, its thread asleep between tries', async () => {
  const { dir, target } = targetWith('old');
  const { exited } = await holdOpen(target, 400);
  // A window well past the hold (the default sync window, 1 s, is too close to it on a loaded machine).
  assertNoDirectoryFlushReported(dw.writeDurableSync(target, 'new', { renameRetryMs: 10_000 }));
  await exited;
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.deepEqual(leftoverTemps(dir), []);
});

test('held past the window: rejected at stage rename, temp removed, target intact, the cause named', async () => {
  const { dir, target } = targetWith('old');
  const { exited } = await holdOpen(target, 4000);
  await assert.rejects(dw.writeDurable(target, 'new', { renameRetryMs: 300 }), (error) => {
    assert.equal(error.code, 'EPERM');
    assert.equal(error.stage, 'rename');
    assert.match(error.message, /\(tried \d+ times over 0\.\d s\)/);
    assert.match(error.message, /another process holds the file open without sharing delete access: most likely an antivirus scanner/);
    return true;
  });
  assert.deepEqual(leftoverTemps(dir), []);
  // renameRetryMs: 0 gives up at the first refusal, with the same advice.
  assert.throws(() => dw.writeDurableSync(target, 'new', { renameRetryMs: 0 }), { code: 'EPERM', stage: 'rename', message: /antivirus/ });
  await exited;
  assert.equal(readFileSync(target, 'utf8'), 'old');
  assert.deepEqual(leftoverTemps(dir), []);
});

test('an abort while waiting for the holder: AbortError, temp removed, target intact', async () => {
  const { dir, target } = targetWith('old');
  const { exited } = await holdOpen(target, 2500);
  await assert.rejects(dw.writeDurable(target, 'new', { signal: AbortSignal.timeout(300) }), { name: 'AbortError', stage: 'rename' });
  assert.deepEqual(leftoverTemps(dir), []);
  await exited;
  assert.equal(readFileSync(target, 'utf8'), 'old');
});

test('renameDurable retries too', async () => {
  const { dir, target } = targetWith('old');
  writeFileSync(join(dir, 'incoming'), 'renamed');
  const { exited } = await holdOpen(target, 500);
  assertNoDirectoryFlushReported(await dw.renameDurable(join(dir, 'incoming'), target));
  await exited;
  assert.equal(readFileSync(target, 'utf8'), 'renamed');
});
