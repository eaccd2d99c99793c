/**
 * Every write form succeeds on Windows with its default options, and reports the directory flush
 * honestly: the data flushed (FlushFileBuffers through fsync), the rename done, the directory not
 * flushed (`directorySynced: false`, one ENOTSUP error saying Windows offers none). An explicit
 * `directorySync: 'required'` is refused before anything changes.
 *
 * Wine note: Wine flushes the Linux directory behind a handle opened for writing; that says
 * nothing about NTFS, so nothing here (or in the library) relies on it. No directory is opened.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertNoDirectoryFlushReported, cli, compat, dw, leftoverTemps, sleep, tempDir } from './support.mjs';

test('writeDurable and writeDurableSync: the new content in place, the directory reported unflushed', async () => {
  const dir = tempDir();
  const target = join(dir, 'state.json');
  writeFileSync(target, 'old');
  assertNoDirectoryFlushReported(await dw.writeDurable(target, 'async'));
  assert.equal(readFileSync(target, 'utf8'), 'async');
  const result = dw.writeDurableSync(target, 'sync');
  assertNoDirectoryFlushReported(result);
  assert.equal(result.path, target);
  assert.equal(readFileSync(target, 'utf8'), 'sync');
  assert.deepEqual(leftoverTemps(dir), []);
});

test('on the write worker too (small writes once it is up), the result crossing threads intact', async () => {
  const dir = tempDir();
  let onWorker = 0;
  for (let i = 0; i < 6; i += 1) {
    const result = await dw.writeDurable(join(dir, `w${i}`), `${i}`);
    assertNoDirectoryFlushReported(result);
    if (/write-worker/.test(result.directorySyncErrors[0].stack ?? '')) onWorker += 1;
    await sleep(50);
  }
  assert.ok(onWorker > 0, 'no write ran on the write worker');
  assert.equal(readFileSync(join(dir, 'w5'), 'utf8'), '5');
});

test('a stream, a pending file (its temp written by a third party too) and JSON', async () => {
  const dir = tempDir();
  const streamed = dw.createDurableWriteStream(join(dir, 'streamed'));
  await pipeline(Readable.from(['a', 'b', 'c']), streamed);
  assertNoDirectoryFlushReported(streamed.result);
  assert.equal(readFileSync(join(dir, 'streamed'), 'utf8'), 'abc');

  const pending = await dw.openDurable(join(dir, 'pending'));
  await pending.write('mine');
  assertNoDirectoryFlushReported(await pending.commit());
  assert.equal(readFileSync(join(dir, 'pending'), 'utf8'), 'mine');

  const byPath = await dw.openDurable(join(dir, 'by-path'));
  writeFileSync(byPath.tmpPath, 'a writer that only takes a path');
  assertNoDirectoryFlushReported(await byPath.commit());
  assert.equal(readFileSync(join(dir, 'by-path'), 'utf8'), 'a writer that only takes a path');

  assertNoDirectoryFlushReported(await dw.writeDurableJson(join(dir, 'a.json'), { a: 1 }));
  assertNoDirectoryFlushReported(dw.writeDurableJsonSync(join(dir, 'b.json'), { b: 2 }));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')), { b: 2 });
  assert.deepEqual(leftoverTemps(dir), []);
});

test('every durable-write/compat function writes with its defaults', async () => {
  const dir = tempDir();
  const at = (name) => join(dir, name);
  await compat.writeFile(at('writeFile'), 'x');
  compat.writeFileSync(at('writeFileSync'), 'x');
  await compat.outputFile(at('new-dir\\outputFile'), 'x');
  compat.outputFileSync(at('new-dir-2\\outputFileSync'), 'x');
  await compat.outputJson(at('new-dir-3\\outputJson'), { x: 1 });
  compat.outputJsonSync(at('new-dir-4\\outputJsonSync'), { x: 1 });
  await compat.writeJson(at('writeJson'), { x: 1 });
  compat.writeJsonSync(at('writeJsonSync'), { x: 1 });
  await compat.writeFileAtomic(at('writeFileAtomic'), 'x');
  compat.writeFileAtomicSync(at('writeFileAtomicSync'), 'x');
  await new Promise((resolve, reject) => compat.writeFileAtomic(at('writeFileAtomic-callback'), 'x', (error) => (error ? reject(error) : resolve())));
  await new Promise((resolve, reject) => compat.outputFile(at('new-dir-5\\outputFile-callback'), 'x', (error) => (error ? reject(error) : resolve())));
  assert.equal(readFileSync(at('new-dir-4\\outputJsonSync'), 'utf8'), '{"x":1}\n');
  assert.equal(readFileSync(at('writeFileAtomic-callback'), 'utf8'), 'x');
  assert.deepEqual(leftoverTemps(dir), []);
});

test("createParents: each directory left unflushed is reported, the target's and each new one's parent", async () => {
  const dir = tempDir();
  const result = await dw.writeDurable(join(dir, 'a', 'b', 'f'), 'x', { createParents: true });
  assert.deepEqual(result.createdDirectories, [join(dir, 'a'), join(dir, 'a', 'b')]);
  assertNoDirectoryFlushReported(result, 3);
});

test("directorySync: 'best-effort' is the default's behaviour; 'required' is refused before anything changes", async () => {
  const dir = tempDir();
  const target = join(dir, 'f');
  writeFileSync(target, 'old');
  assertNoDirectoryFlushReported(await dw.writeDurable(target, 'new', { directorySync: 'best-effort' }));
  for (const write of [() => dw.writeDurable(target, 'never', { directorySync: 'required' }), async () => dw.writeDurableSync(target, 'never', { directorySync: 'required' })]) {
    await assert.rejects(write(), (error) => {
      assert.equal(error.code, 'ENOTSUP');
      assert.equal(error.stage, 'validate');
      assert.match(error.message, /directorySync: 'required' cannot be met: Windows offers no directory flush/);
      return true;
    });
  }
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.deepEqual(leftoverTemps(dir), []);
});

test("the command's write: exit 0, the data in place, the unflushed directory said", () => {
  const dir = tempDir();
  const source = join(dir, 'source');
  writeFileSync(source, 'from the command');
  const target = join(dir, 'target');
  const run = spawnSync(process.execPath, [cli, 'write', target, '--from', source, '--json'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(readFileSync(target, 'utf8'), 'from the command');
  const report = JSON.parse(run.stdout);
  assert.equal(report.path, target);
  assert.equal(report.directorySynced, false);
  assert.deepEqual(report.directorySyncErrors, ['ENOTSUP']);

  const piped = spawnSync(process.execPath, [cli, 'write', target], { input: 'from stdin', encoding: 'utf8' });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(readFileSync(target, 'utf8'), 'from stdin');
  assert.deepEqual(leftoverTemps(dir), []);
});

test('appendDurable and appendDurableSync: a new file reports its directory unflushed, an append to an existing one needs none', async () => {
  const dir = tempDir();
  const log = join(dir, 'events.jsonl');
  const created = await dw.appendDurable(log, 'one\n');
  assert.equal(created.created, true);
  assertNoDirectoryFlushReported(created);
  const appended = dw.appendDurableSync(log, 'two\n');
  assert.equal(appended.created, false);
  assert.equal(appended.directorySynced, true);
  assert.equal(readFileSync(log, 'utf8'), 'one\ntwo\n');
});
