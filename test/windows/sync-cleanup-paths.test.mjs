/**
 * What remains on Windows: syncAll and syncFilesystem refuse at once with a typed error saying
 * what to do instead (never the ENOENT of a missing `sync`); removeStaleTemps and the command's
 * clean remove a dead writer's temp file and keep a live one's; paths in results and errors are in
 * Windows' separators, whatever the caller wrote.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, dw, tempDir } from './support.mjs';

test('syncAll and syncFilesystem: ENOTSUP at once, saying writeDurable needs none and naming syncProgram', async () => {
  for (const [call, stage] of [[() => dw.syncAll(), 'sync'], [() => dw.syncFilesystem(tempDir()), 'syncfs']]) {
    await assert.rejects(call(), (error) => {
      assert.ok(dw.isDurableWriteError(error));
      assert.equal(error.code, 'ENOTSUP');
      assert.equal(error.stage, stage);
      assert.match(error.message, /not supported on Windows.*each is flushed before its call resolves.*syncProgram/);
      return true;
    });
  }
  const run = spawnSync(process.execPath, [cli, 'sync'], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /ENOTSUP/);
  assert.match(run.stderr, /not supported on Windows/);
});

test("removeStaleTemps and clean: a dead writer's temp goes, a running writer's stays", async () => {
  const dir = tempDir();
  const hourAgo = new Date(Date.now() - 3_600_000);
  const dead = join(dir, '.state.json.4194000.0123456789ab.dwtmp');
  writeFileSync(dead, 'partial');
  utimesSync(dead, hourAgo, hourAgo);
  // This process's pid, written since it started: its writer runs.
  const live = join(dir, `.state.json.${process.pid}.0123456789ac.dwtmp`);
  writeFileSync(live, 'partial');
  const result = await dw.removeStaleTemps(dir, { olderThanMs: 0 });
  assert.deepEqual(result.removed.map((temp) => [temp.path, temp.reason]), [[dead, 'writer-dead']]);
  assert.deepEqual(result.kept.map((temp) => [temp.path, temp.reason]), [[live, 'writer-alive']]);
  assert.equal(existsSync(live), true);
  assert.deepEqual(dw.removeStaleTempsSync(dir, { olderThanMs: 0 }).removed, []);

  const second = join(dir, '.other.4194001.0123456789ad.dwtmp');
  writeFileSync(second, 'partial');
  utimesSync(second, hourAgo, hourAgo);
  const run = spawnSync(process.execPath, [cli, 'clean', dir], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(existsSync(second), false);
});

test('paths in results and errors use backslashes, whatever separators the caller wrote', async () => {
  const dir = tempDir();
  const forward = `${dir.replaceAll('\\', '/')}/sub/../state.json`;
  const result = await dw.writeDurable(forward, 'x');
  assert.equal(result.path, join(dir, 'state.json'));
  assert.ok(!result.path.includes('/'));

  const missing = `${dir.replaceAll('\\', '/')}/no-such-dir/state.json`;
  await assert.rejects(dw.writeDurable(missing, 'x'), (error) => {
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.path, join(dir, 'no-such-dir', 'state.json'));
    assert.ok(!error.message.includes('/'), error.message);
    return true;
  });

  // A relative path is resolved against the working directory, in backslashes too.
  const relative = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(join(import.meta.dirname, '..', '..', 'dist', 'index.cjs'))}).writeDurable('a/b.txt', 'x').catch((e) => console.log(e.path + '|' + e.message))`], { cwd: dir, encoding: 'utf8' });
  const [path, message] = relative.stdout.trim().split('|');
  assert.equal(path, join(dir, 'a', 'b.txt'));
  assert.ok(!message.includes('/'), message);
});
