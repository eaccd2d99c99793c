/**
 * `durable-write write FILE`, the built command in a child process: standard input or `--from`
 * replaces FILE, with its mode, only at the rename (so a pipeline may read the file it replaces);
 * the strace sequence comes before the success report; a failure on a read-only mount exits 1
 * with code, stage and path and leaves FILE intact; an interrupt leaves no temp file; progress
 * only on a terminal. What it refuses to commit (a failed COMMAND, an empty or unreadable input)
 * is in write-refusals.test.ts; the signals in every phase in write-signals.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountTmpfs, remountReadOnly } from '../support/mounts.js';
import { missing } from '../support/prerequisites.js';
import { fdArg, firstPath, parseTrace, type Syscall } from '../support/strace.js';
import { tempDir } from '../support/temp-dir.js';
import { cli, cliPath, onlyJson, run, startStreamingWrite, straceCli, type CliResult } from './support/cli.js';

const title = (name: string, lacking: string | undefined): string => `${name}${lacking === undefined ? '' : ` (skipped: ${lacking})`}`;

describe('durable-write write', () => {
  it('replaces FILE with standard input, with --mode exactly, and exits 0; stdout stays empty, the summary is on stderr', async () => {
    const dir = realpathSync(tempDir());
    const target = join(dir, 'config.json');
    writeFileSync(target, '{"old":true}');
    const result = await cli(['write', '--mode', '640', target], { input: '{"port":8080}\n' });
    expect(result).toEqual({ status: 0, signal: null, stdout: '', stderr: `wrote 14 bytes to ${target} (durable)\n` });
    expect(readFileSync(target, 'utf8')).toBe('{"port":8080}\n');
    expect(statSync(target).mode & 0o7777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['config.json']);
  });

  it("keeps an existing file's mode without --mode; --mode 0604 (four digits) is taken too", async () => {
    const dir = tempDir();
    const target = join(dir, 'f');
    writeFileSync(target, 'old', { mode: 0o600 });
    execFileSync('chmod', ['0751', target]);
    expect((await cli(['write', target], { input: 'new' })).status).toBe(0);
    expect(statSync(target).mode & 0o7777).toBe(0o751);
    expect((await cli(['write', '--mode', '0604', target], { input: 'newer' })).status).toBe(0);
    expect(statSync(target).mode & 0o7777).toBe(0o604);
  });

  it('reads the file it replaces in the same pipeline, like sponge: nothing touches FILE before the rename', async () => {
    const target = join(tempDir(), 'state.txt');
    writeFileSync(target, 'generation seven\n');
    const result = await run('sh', ['-c', 'tr a-z A-Z < "$1" | "$0" "$2" write "$1"', process.execPath, target, cliPath]);
    expect(result.status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('GENERATION SEVEN\n');
  });

  it('twin: the shell redirect `tr < f > f` truncates f before tr reads it, and the data is gone', async () => {
    const target = join(tempDir(), 'state.txt');
    writeFileSync(target, 'generation seven\n');
    await run('sh', ['-c', 'tr a-z A-Z < "$0" > "$0"', target]);
    expect(readFileSync(target, 'utf8')).toBe('');
  });

  it('--from SRC reads a file instead of standard input, streamed (8 MiB)', async () => {
    const dir = tempDir();
    const source = join(dir, 'source.bin');
    const bytes = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32LE(i, i);
    writeFileSync(source, bytes);
    const result = await cli(['write', '--from', source, join(dir, 'copy.bin')], { input: 'not this' });
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, 'copy.bin')).equals(bytes)).toBe(true);
  });

  it('--from a FIFO waits for its writer (opened without blocking), then reads it to its end', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const result = await run('sh', ['-c', '"$0" "$1" write --from "$2" "$3" & sleep 0.2; printf "late data" > "$2"; wait $!', process.execPath, cliPath, fifo, join(dir, 'f')]);
    expect(result.status).toBe(0);
    expect(readFileSync(join(dir, 'f'), 'utf8')).toBe('late data');
  });

  it('--from a missing file: exit 1, code ENOENT, stage source, its path; the target untouched', async () => {
    const dir = realpathSync(tempDir());
    writeFileSync(join(dir, 'target'), 'precious');
    const result = await cli(['write', '--from', join(dir, 'nope'), join(dir, 'target')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`durable-write write: ENOENT, stage source, path ${join(dir, 'nope')}: cannot read --from`);
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('precious');
    expect(readdirSync(dir)).toEqual(['target']);
  });

  it('--create-parents creates the missing directories; without it, exit 1 with ENOENT', async () => {
    const dir = tempDir();
    const target = join(dir, 'reports', '2026', 'nov.csv');
    const without = await cli(['write', target], { input: 'a,b\n' });
    expect(without.status).toBe(1);
    expect(without.stderr).toMatch(/^durable-write write: ENOENT, stage \w+, path /);
    const result = await cli(['write', '--create-parents', '--json', target], { input: 'a,b\n' });
    expect(result.status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('a,b\n');
    expect(onlyJson(result.stdout)['createdDirectories']).toEqual([join(dir, 'reports'), join(dir, 'reports', '2026')]);
  });

  it('--json: exactly one JSON object on stdout and nothing on stderr', async () => {
    const dir = realpathSync(tempDir());
    const result = await cli(['write', '--json', '--fdatasync', join(dir, 'f')], { input: 'hello' });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(onlyJson(result.stdout)).toEqual({
      command: 'write',
      path: join(dir, 'f'),
      bytesWritten: 5,
      directorySynced: true,
      directorySyncErrors: [],
      createdDirectories: [],
    });
  });

  it('an empty standard input is refused (exit 1, FILE untouched), unlike sponge; --allow-empty makes the empty file', async () => {
    const target = join(tempDir(), 'f');
    writeFileSync(target, 'old');
    const refused = await cli(['write', target]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('refusing to replace');
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect((await cli(['write', '--allow-empty', target])).status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('');
  });
});

const noStrace = missing({ tools: ['strace'] });

/** The calls on the directory `dir`, its temp files and stderr (the report), as `call(what)`, consecutive writes as one. */
function durableSteps(trace: readonly Syscall[], dir: string): string[] {
  const named = new Map<string, 'dir' | 'tmp'>([]);
  const steps: string[] = [];
  const push = (step: string): void => {
    if (step !== steps.at(-1) || !step.startsWith('write')) steps.push(step);
  };
  for (const call of trace) {
    if (call.name === 'openat') {
      const path = firstPath(call);
      const what = path === dir ? 'dir' : path.startsWith(`${dir}/.`) && path.endsWith('.dwtmp') ? 'tmp' : undefined;
      if (what === undefined) continue;
      named.set(call.result.split(' ')[0] ?? '', what);
      const flags = ['O_RDONLY', 'O_WRONLY', 'O_CREAT', 'O_EXCL', 'O_DIRECTORY'].filter((flag) => call.args.includes(flag));
      push(`open(${what}, ${flags.join('|')})`);
    } else if (call.name.startsWith('rename')) {
      if (call.args.includes(`"${dir}/`)) push('rename(tmp, target)');
    } else if (call.name === 'write' && fdArg(call) === '2') {
      push('report on stderr');
    } else {
      const what = named.get(fdArg(call));
      if (what === undefined) continue;
      push(`${call.name.replace(/^pwrite64$|^writev$|^pwritev$/, 'write')}(${what})`);
      if (call.name === 'close') named.delete(fdArg(call));
    }
  }
  return steps;
}

describe.skipIf(noStrace !== undefined)(title('durable-write write under strace', noStrace), () => {
  it('opens the directory, creates the temp file O_CREAT|O_EXCL, writes, fchmods, fsyncs, closes, renames, fsyncs the directory, and only then reports and exits 0', async () => {
    const dir = realpathSync(tempDir());
    const result = await straceCli(
      'openat,write,pwrite64,writev,pwritev,fchmod,fsync,fdatasync,close,rename,renameat,renameat2',
      ['write', '--mode', '600', join(dir, 'target')],
      { input: 'payload' },
    );
    expect(result.status).toBe(0);
    expect(durableSteps(parseTrace(result.trace), dir)).toEqual([
      'open(dir, O_RDONLY|O_DIRECTORY)',
      'open(tmp, O_WRONLY|O_CREAT|O_EXCL)',
      'write(tmp)',
      'fchmod(tmp)',
      'fsync(tmp)',
      'close(tmp)',
      'rename(tmp, target)',
      'fsync(dir)',
      'close(dir)',
      'report on stderr',
    ]);
  });

  it('twin: under the same strace, `sh -c "cat > target"` truncates the target in place: no temp file, no fsync, no rename', async () => {
    const dir = realpathSync(tempDir());
    const out = join(tempDir(), 'trace');
    await run('strace', ['-f', '-qq', '-e', 'trace=openat,write,fsync,close,rename,renameat,renameat2', '-o', out, 'sh', '-c', 'cat > "$0"', join(dir, 'target')], {
      input: 'payload',
    });
    const trace = parseTrace(readFileSync(out, 'utf8'));
    expect(trace.some((call) => call.name === 'openat' && firstPath(call) === join(dir, 'target') && call.args.includes('O_TRUNC'))).toBe(true);
    expect(trace.filter((call) => /^(fsync|rename)/.test(call.name))).toEqual([]);
    expect(durableSteps(trace, dir)).toEqual([]);
  });
});

const noMount = missing({ tools: ['mount', 'umount'], root: true });

describe.skipIf(noMount !== undefined)(title('durable-write write on a read-only mount', noMount), () => {
  it('exits 1 naming EROFS, the stage and the path; the target keeps its content, nothing is created', async () => {
    const dir = mountTmpfs(1024 * 1024);
    const target = join(dir, 'state');
    writeFileSync(target, 'precious');
    remountReadOnly(dir);
    const result = await cli(['write', target], { input: 'new data' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^durable-write write: EROFS, stage open, path ${target}: writeDurable: .*EROFS`));
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it('with --json: one JSON error on stderr with code, stage, path and message; stdout empty', async () => {
    const dir = mountTmpfs(1024 * 1024);
    const target = join(dir, 'state');
    writeFileSync(target, 'precious');
    remountReadOnly(dir);
    const result = await cli(['write', '--json', target], { input: 'new data' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(onlyJson(result.stderr)).toEqual({ code: 'EROFS', stage: 'open', path: target, message: expect.stringContaining('EROFS') });
  });
});

/** `durable-write write dir/state` (holding 'precious') sent `signal` while its data still streams. */
async function interruptedWrite(signal: NodeJS.Signals): Promise<{ dir: string; temp: string; result: CliResult }> {
  const dir = tempDir();
  writeFileSync(join(dir, 'state'), 'precious');
  const writer = await startStreamingWrite(join(dir, 'state'));
  writer.child.kill(signal);
  return { dir, temp: writer.temp, result: await writer.exited };
}

describe('durable-write write interrupted', () => {
  it('SIGINT while the data still streams: the write is abandoned, exit 130, the temp file removed, the target intact', async () => {
    const { dir, result } = await interruptedWrite('SIGINT');
    expect(result.status).toBe(130);
    expect(result.stderr).toMatch(/^durable-write write: ABORT_ERR, stage \w+/);
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe('precious');
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it('SIGTERM likewise: exit 143, nothing left behind', async () => {
    const { dir, result } = await interruptedWrite('SIGTERM');
    expect(result.status).toBe(143);
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it('twin: SIGKILL cannot be handled, so it leaves the temp file behind (for `durable-write clean`)', async () => {
    const { dir, temp, result } = await interruptedWrite('SIGKILL');
    expect(result.signal).toBe('SIGKILL');
    expect(readFileSync(join(dir, 'state'), 'utf8')).toBe('precious');
    expect(readdirSync(dir).sort()).toEqual([basename(temp), 'state'].sort());
  });
});

const noScript = missing({ tools: ['script'] });

describe.skipIf(noScript !== undefined)(title('progress', noScript), () => {
  /** Data that takes over a second to arrive, then the write. */
  const slowWrite = (target: string): string =>
    `(printf 'first '; sleep 1.2; printf 'second') | "${process.execPath}" "${cliPath}" write "${target}"`;

  it('on a terminal (stderr a TTY), a status line is redrawn while the data arrives, then erased', async () => {
    const target = join(tempDir(), 'f');
    // script(1) runs the pipeline on a pseudo-terminal and copies what it prints to its stdout.
    const result = await run('script', ['-qec', slowWrite(target), '/dev/null']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\r\u001b\[Kwriting .*: 6 bytes read \(\d/);
    expect(result.stdout).toMatch(/\r\u001b\[Kwrote 12 bytes to .* \(durable\)/);
    expect(readFileSync(target, 'utf8')).toBe('first second');
  });

  it('piped (stderr not a TTY): nothing but the summary', async () => {
    const target = join(tempDir(), 'f');
    const result = await run('sh', ['-c', slowWrite(target)]);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/^wrote 12 bytes to \S+ \(durable\)\n$/);
  });
});

describe('an existing directory as FILE', () => {
  it('exits 1 with EISDIR', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    const result = await cli(['write', join(dir, 'sub')], { input: 'x' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^durable-write write: EISDIR, stage \w+, path /);
  });
});
