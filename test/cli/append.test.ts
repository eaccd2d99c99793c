/**
 * `durable-write append FILE`, the built command in a child process: standard input appended to a
 * new or an existing file; an empty input refused unless --allow-empty, a directory as stdin exit
 * 1; --lines makes each line durable as it arrives (the file grows while the producer still
 * runs); --create-parents; --json; SIGTERM while waiting on a FIFO ends it (143) promptly; under
 * strace every write to FILE is followed by an fdatasync of it before the command exits 0, where
 * `cat >> FILE` (the twin) flushes nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { fdArg, firstPath, parseTrace } from '../support/strace.js';
import { tempDir } from '../support/temp-dir.js';
import { cli, cliPath, collect, onlyJson, requireCli, run, straceCli } from './support/cli.js';
import { catches, openFiles, PROMPTLY_MS, title, waitUntil as waitFor } from './support/process.js';

/** Whether process `pid` has `path` open. */
const opens = (pid: number, path: string): boolean => openFiles(pid).includes(path);

const sizeOf = (path: string): number => (existsSync(path) ? readFileSync(path).byteLength : 0);

describe('durable-write append', () => {
  it('appends standard input to an existing file and creates a missing one; stdout stays empty, the summary is on stderr', async () => {
    const dir = realpathSync(tempDir());
    const log = join(dir, 'log');
    const first = await cli(['append', log], { input: 'one\n' });
    expect(first).toEqual({ status: 0, signal: null, stdout: '', stderr: `appended 4 bytes to ${log} (durable)\n` });
    writeFileSync(log, 'one\ntwo\n');
    const second = await cli(['append', log], { input: 'three\n' });
    expect(second.status).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('one\ntwo\nthree\n');
  });

  it('refuses an empty input (exit 1, FILE unchanged), and accepts it with --allow-empty', async () => {
    const dir = tempDir();
    const log = join(dir, 'log');
    writeFileSync(log, 'kept\n');
    const refused = await cli(['append', log]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/ERR_EMPTY_INPUT, stage source.*--allow-empty/);
    expect(readFileSync(log, 'utf8')).toBe('kept\n');
    const allowed = await cli(['append', '--allow-empty', log]);
    expect(allowed.status).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('kept\n');
  });

  it('exits 1 with EISDIR when standard input is a directory, FILE unchanged', async () => {
    requireCli();
    const dir = tempDir();
    const log = join(dir, 'log');
    writeFileSync(log, 'kept\n');
    const stdin = openSync(dir, 'r');
    try {
      const result = await collect(spawn(process.execPath, [cliPath, 'append', log], { stdio: [stdin, 'pipe', 'pipe'] }));
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/EISDIR, stage source/);
    } finally {
      closeSync(stdin);
    }
    expect(readFileSync(log, 'utf8')).toBe('kept\n');
  });

  it('--create-parents and --json: one object with the offset of the first byte, the count and created', async () => {
    const dir = realpathSync(tempDir());
    const log = join(dir, 'a', 'b', 'log');
    const missingParent = await cli(['append', log], { input: 'x\n' });
    expect(missingParent.status).toBe(1);
    expect(missingParent.stderr).toMatch(/ENOENT/);
    const created = await cli(['append', '--create-parents', '--json', log], { input: 'first\n' });
    expect(created.status).toBe(0);
    expect(created.stderr).toBe('');
    expect(onlyJson(created.stdout)).toMatchObject({ command: 'append', path: log, bytesWritten: 6, offset: 0, created: true, createdDirectories: [join(dir, 'a'), join(dir, 'a', 'b')] });
    const appended = await cli(['append', '--json', '--lines', log], { input: 'a\nb\nc' });
    expect(onlyJson(appended.stdout)).toMatchObject({ command: 'append', path: log, bytesWritten: 5, offset: 6, records: 3, created: false });
    // The last line, without a newline, is appended as it is.
    expect(readFileSync(log, 'utf8')).toBe('first\na\nb\nc');
  });

  it('--lines: each line is in FILE while the producer is still running, and exit 0 once it ends', async () => {
    requireCli();
    const dir = tempDir();
    const log = join(dir, 'log');
    const child = spawn(process.execPath, [cliPath, 'append', '--lines', log], { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = collect(child);
    child.stdin.write('one\n');
    await waitFor(() => sizeOf(log) === 4, 'the first line in FILE');
    child.stdin.write('two\nthr');
    await waitFor(() => sizeOf(log) === 8, 'the second line in FILE');
    // The incomplete line is not appended until its newline (or the end) arrives.
    expect(readFileSync(log, 'utf8')).toBe('one\ntwo\n');
    child.stdin.end('ee\n');
    const result = await done;
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/appended 14 bytes \(3 lines\)/);
    expect(readFileSync(log, 'utf8')).toBe('one\ntwo\nthree\n');
  });

  it('SIGTERM after some lines: exit 143, the lines appended stay and the message says how many bytes', async () => {
    requireCli();
    const dir = realpathSync(tempDir());
    const log = join(dir, 'log');
    const child = spawn(process.execPath, [cliPath, 'append', '--lines', log], { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = collect(child);
    child.stdin.write('one\n');
    await waitFor(() => sizeOf(log) === 4, 'the first line in FILE');
    child.kill('SIGTERM');
    const result = await done;
    child.stdin.destroy();
    expect(result.status).toBe(143);
    expect(result.stderr).toContain(`interrupted by SIGTERM; 4 bytes appended durably to ${log} stay there`);
    expect(readFileSync(log, 'utf8')).toBe('one\n');
  });

  it(`SIGTERM while waiting on a FIFO (--from) ends it with 143 within ${PROMPTLY_MS} ms, FILE unchanged`, async () => {
    requireCli();
    const dir = realpathSync(tempDir());
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const log = join(dir, 'log');
    writeFileSync(log, 'kept\n');
    const child = spawn(process.execPath, [cliPath, 'append', '--from', fifo, log], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(child);
    const pid = child.pid ?? 0;
    // Node catches SIGTERM before the command's handler exists: wait for the FIFO to be open, which the command does after.
    await waitFor(() => catches(pid, 'SIGTERM') && opens(pid, fifo), 'the command to open the FIFO');
    child.kill('SIGTERM');
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), PROMPTLY_MS).unref());
    const result = await Promise.race([done, timer]);
    if (result === 'late') {
      child.kill('SIGKILL');
      throw new Error(`append did not end within ${PROMPTLY_MS} ms of SIGTERM`);
    }
    expect(result.status).toBe(143);
    expect(result.stderr).toMatch(/interrupted by SIGTERM; nothing was appended/);
    expect(readFileSync(log, 'utf8')).toBe('kept\n');
  });
});

const noStrace = missing({ tools: ['strace'] });

describe.skipIf(noStrace !== undefined)(title('durable-write append under strace', noStrace), () => {
  it('every write to FILE is followed by an fdatasync of the file (by one of its descriptors) before exit 0', async () => {
    const dir = realpathSync(tempDir());
    const log = join(dir, 'log');
    writeFileSync(log, 'start\n');
    const result = await straceCli('openat,write,fdatasync,fsync,close', ['append', '--lines', log], { input: 'a\nb\nc\n' });
    expect(result.status).toBe(0);
    const calls = parseTrace(result.trace);
    // Walk the calls in order, knowing which descriptors are FILE's: a flush of the file by any of
    // its descriptors covers every write before it (group commit flushes through one of them).
    const fds = new Map<string, string>();
    let writes = 0;
    let unflushed: string | undefined;
    for (const call of calls) {
      if (call.name === 'openat' && !call.result.startsWith('-')) fds.set(call.result.trim(), firstPath(call));
      else if (call.name === 'close') fds.delete(fdArg(call));
      else if (fds.get(fdArg(call)) !== log) continue;
      else if (call.name === 'write') {
        writes += 1;
        unflushed = call.args;
      } else if (call.name === 'fdatasync' || call.name === 'fsync') unflushed = undefined;
    }
    expect(writes).toBeGreaterThan(0);
    expect(unflushed, 'a write to FILE with no flush after it').toBeUndefined();
    // The summary is written (to stderr, fd 2) only after the last flush.
    const lastFlush = calls.findLastIndex((call) => call.name === 'fdatasync');
    const summary = calls.findIndex((call) => call.name === 'write' && fdArg(call) === '2' && call.args.includes('appended'));
    expect(summary).toBeGreaterThan(lastFlush);
    expect(readFileSync(log, 'utf8')).toBe('start\na\nb\nc\n');
  });

  it('twin: under the same strace, `sh -c "cat >> log"` appends with no flush at all', async () => {
    const dir = realpathSync(tempDir());
    const log = join(dir, 'log');
    const out = join(dir, 'trace');
    const result = await run('strace', ['-f', '-qq', '-e', 'trace=openat,write,fdatasync,fsync', '-o', out, 'sh', '-c', 'cat >> "$0"', log], { input: 'a\nb\n' });
    expect(result.status).toBe(0);
    const calls = parseTrace(readFileSync(out, 'utf8'));
    expect(calls.some((call) => call.name === 'openat' && firstPath(call) === log)).toBe(true);
    expect(calls.filter((call) => call.name === 'fdatasync' || call.name === 'fsync')).toEqual([]);
  });
});
