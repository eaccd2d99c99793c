/**
 * SIGINT and SIGTERM end `durable-write write` in every phase (issue 21), the built command in a
 * child process, each run with a deadline: waiting for a FIFO's writer (`--from FIFO`), for a
 * slow pipe (`--from <(slow command)`), for a COMMAND (which gets the signal too, even one that
 * ignores it), during the flush, and after the rename (then the command says that FILE is new).
 * Exit 130 or 143, FILE untouched unless renamed, no temp file left; a second signal ends the
 * process at once, and a read blocked in libuv's thread pool (stdin /dev/kmsg) cannot keep it alive.
 *
 * The deadline is a second (DW_TEST_SIGNAL_MS raises it on a slow machine); 0.2.0 never ended in
 * the first three cases.
 */
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { tempDir } from '../support/temp-dir.js';
import { cliPath, collect, requireCli, type CliResult } from './support/cli.js';
import { catches, openFiles, PROMPTLY_MS, title, waitUntil as waitFor } from './support/process.js';

/** Whether process `pid` still exists (and is no zombie). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

interface Started {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<CliResult>;
}

/** `durable-write args...` in a child process, with `stdio`. */
function start(args: readonly string[], stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): Started {
  requireCli();
  const child = spawn(process.execPath, [cliPath, ...args], { stdio });
  if (child.pid === undefined) throw new Error('durable-write did not start');
  return { child, pid: child.pid, exited: collect(child) };
}

/** Sends `signal` to `pid` and waits at most `ms` for `exited`; a process still running then is killed and the test fails. */
async function interrupt(pid: number, exited: Promise<CliResult>, signal: NodeJS.Signals, ms = PROMPTLY_MS): Promise<CliResult> {
  process.kill(pid, signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const result = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (result !== 'late') return result;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // It ended meanwhile, but something it started still holds its output.
  }
  throw new Error(`durable-write was still running ${ms} ms after ${signal}`);
}

/** A directory holding `state` ('precious'). */
function stateDir(): { dir: string; state: string } {
  const dir = realpathSync(tempDir());
  const state = join(dir, 'state');
  writeFileSync(state, 'precious');
  return { dir, state };
}

const noBash = missing({ tools: ['bash'] });

describe('durable-write write --from, interrupted while it waits for data', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} while a FIFO has no writer: exit ${signal === 'SIGTERM' ? 143 : 130} at once, FILE untouched, no temp file`, async () => {
      const { dir, state } = stateDir();
      const fifo = join(tempDir(), 'fifo');
      execFileSync('mkfifo', [fifo]);
      const writer = start(['write', '--from', fifo, state]);
      await waitFor(() => catches(writer.pid, signal), 'the signal handlers');
      // 0.2.0 never opened it (its open(2) blocked in the thread pool): give it a moment, then go on.
      await waitFor(() => openFiles(writer.pid).includes(fifo), 'the FIFO to be opened', 1000).catch(() => undefined);
      const result = await interrupt(writer.pid, writer.exited, signal);
      expect(result.status).toBe(signal === 'SIGTERM' ? 143 : 130);
      expect(result.stderr).toMatch(/^durable-write write: ABORT_ERR, /);
      expect(readFileSync(state, 'utf8')).toBe('precious');
      expect(readdirSync(dir)).toEqual(['state']);
    });
  }

  it.skipIf(noBash !== undefined)(title('SIGTERM while a pipe stays silent (`--from <(slow command)`): exit 143 at once, FILE untouched', noBash), async () => {
    const { dir, state } = stateDir();
    const pidFile = join(tempDir(), 'pid');
    // bash's process substitution, as a user types it: --from /dev/fd/63, a pipe whose writer sleeps.
    const child = spawn('bash', ['-c', 'exec "$0" "$1" write --from <(exec 2>/dev/null; echo $BASHPID > "$3"; exec sleep 30) "$2"', process.execPath, cliPath, state, pidFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const writer = { pid: child.pid ?? 0, exited: collect(child) };
    try {
      await waitFor(() => catches(writer.pid, 'SIGTERM') && existsSync(pidFile), 'durable-write and the slow command');
      const argv = readFileSync(`/proc/${writer.pid}/cmdline`, 'utf8').split('\0');
      const pipe = readlinkSync(`/proc/${writer.pid}/fd/${(argv[argv.indexOf('--from') + 1] ?? '').replace('/dev/fd/', '')}`);
      // 0.2.0 opened it too (the open of a pipe with a writer returns), then blocked reading it in the thread pool.
      await waitFor(() => openFiles(writer.pid).filter((file) => file === pipe).length >= 2, 'the pipe to be opened as --from');
      const result = await interrupt(writer.pid, writer.exited, 'SIGTERM');
      expect(result.status).toBe(143);
      expect(readFileSync(state, 'utf8')).toBe('precious');
      expect(readdirSync(dir)).toEqual(['state']);
    } finally {
      if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    }
  });
});

describe('durable-write write FILE -- COMMAND, interrupted while COMMAND runs', () => {
  /** `write state -- sh -c SCRIPT pidfile`, once SCRIPT has written its pid to pidfile. */
  async function startCommand(script: string): Promise<Started & { dir: string; state: string; commandPid: number }> {
    const { dir, state } = stateDir();
    const pidFile = join(tempDir(), 'pid');
    const writer = start(['write', state, '--', 'sh', '-c', script, pidFile]);
    await waitFor(() => catches(writer.pid, 'SIGTERM') && existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 'COMMAND to start');
    return { ...writer, dir, state, commandPid: Number(readFileSync(pidFile, 'utf8')) };
  }

  it('SIGTERM: COMMAND gets SIGTERM too, exit 143 at once, FILE untouched, the temp file (past the first batch) removed', async () => {
    const run = await startCommand('echo $$ > "$0"; head -c 300000 /dev/zero; exec sleep 30');
    await waitFor(() => readdirSync(run.dir).length === 2, 'the temp file');
    const result = await interrupt(run.pid, run.exited, 'SIGTERM');
    expect(result.status).toBe(143);
    await waitFor(() => !alive(run.commandPid), 'COMMAND to end', PROMPTLY_MS);
    expect(readFileSync(run.state, 'utf8')).toBe('precious');
    expect(readdirSync(run.dir)).toEqual(['state']);
  });

  it('SIGINT: exit 130, COMMAND ended', async () => {
    const run = await startCommand('echo $$ > "$0"; exec sleep 30');
    const result = await interrupt(run.pid, run.exited, 'SIGINT');
    expect(result.status).toBe(130);
    await waitFor(() => !alive(run.commandPid), 'COMMAND to end', PROMPTLY_MS);
    expect(readdirSync(run.dir)).toEqual(['state']);
  });

  it('a COMMAND that ignores SIGTERM does not hold the command: exit 143 at once, FILE untouched', async () => {
    // Its stderr away from the test's pipe, which would stay open (and the result unread) until it ends.
    const run = await startCommand('trap "" TERM; exec 2>/dev/null; echo $$ > "$0"; printf partial; sleep 30');
    try {
      const result = await interrupt(run.pid, run.exited, 'SIGTERM');
      expect(result.status).toBe(143);
      expect(readFileSync(run.state, 'utf8')).toBe('precious');
      expect(readdirSync(run.dir)).toEqual(['state']);
    } finally {
      process.kill(run.commandPid, 'SIGKILL');
    }
  });
});

const noStrace = missing({ tools: ['strace'] });

/**
 * `durable-write write --fdatasync args...` under strace, which delays one flush by `delayS`
 * seconds: `fdatasync` is then the temp file's flush and `fsync` the directory's. Resolves with the
 * command's own pid (strace's child) once it runs.
 */
async function startDelayed(flush: 'fdatasync' | 'fsync', delayS: number, args: readonly string[], input: string): Promise<Started> {
  requireCli();
  const trace = join(tempDir(), 'trace');
  const child = spawn(
    'strace',
    ['-f', '-qq', '-o', trace, '-e', `trace=${flush}`, '-e', `inject=${flush}:delay_enter=${delayS * 1_000_000}`, process.execPath, cliPath, 'write', '--fdatasync', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stdin?.end(input);
  const exited = collect(child);
  const tracer = child.pid ?? 0;
  let pid = 0;
  await waitFor(() => {
    const children = existsSync(`/proc/${tracer}/task/${tracer}/children`) ? readFileSync(`/proc/${tracer}/task/${tracer}/children`, 'utf8').trim() : '';
    pid = Number(children.split(' ')[0] ?? 0);
    return pid > 0 && catches(pid, 'SIGTERM');
  }, 'durable-write under strace');
  return { child, pid, exited };
}

describe.skipIf(noStrace !== undefined)(title('durable-write write interrupted during a flush (strace delays it)', noStrace), () => {
  it('SIGTERM during the flush of the temp file: exit 143 once the flush returns, FILE untouched, the temp file removed', async () => {
    const { dir, state } = stateDir();
    const writer = await startDelayed('fdatasync', 1, [state], 'new content');
    await waitFor(() => readdirSync(dir).some((name) => name !== 'state' && readFileSync(join(dir, name), 'utf8') === 'new content'), 'the data in the temp file');
    const result = await interrupt(writer.pid, writer.exited, 'SIGTERM', 1000 + PROMPTLY_MS * 3);
    expect(result.status).toBe(143);
    expect(readFileSync(state, 'utf8')).toBe('precious');
    expect(readdirSync(dir)).toEqual(['state']);
  });

  it('SIGTERM after the rename (during the directory fsync): exit 143, and stderr says FILE already holds the new content', async () => {
    const { dir, state } = stateDir();
    const writer = await startDelayed('fsync', 1, [state], 'new content');
    await waitFor(() => readFileSync(state, 'utf8') === 'new content', 'the rename');
    const result = await interrupt(writer.pid, writer.exited, 'SIGTERM', 1000 + PROMPTLY_MS * 3);
    expect(result.status).toBe(143);
    expect(result.stderr).toContain(`durable-write write: interrupted by SIGTERM after the rename: ${state} already holds the new content\n`);
    expect(readdirSync(dir)).toEqual(['state']);
  });
});

const noKmsg = missing({ root: true }) ?? (existsSync('/dev/kmsg') ? undefined : 'no /dev/kmsg');

/** Whether a thread of `pid` waits in the kernel function `wchan` (a read blocked in the thread pool: `devkmsg_read`). */
function waitsIn(pid: number, wchan: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((task) => {
      try {
        return readFileSync(`/proc/${pid}/task/${task}/wchan`, 'utf8') === wchan;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

describe.skipIf(noKmsg !== undefined)(title('durable-write write interrupted while a thread-pool read blocks for ever (stdin /dev/kmsg)', noKmsg), () => {
  /**
   * `durable-write write state < /dev/kmsg`: a character device, read (as Node reads any
   * non-terminal one) by a thread of libuv's pool, which blocks once the kernel log is read,
   * until the next message; resolves once that thread waits.
   */
  async function startOnKmsg(): Promise<Started & { dir: string; state: string }> {
    const { dir, state } = stateDir();
    const kmsg = openSync('/dev/kmsg', 'r');
    try {
      const writer = start(['write', state], [kmsg, 'pipe', 'pipe']);
      await waitFor(() => catches(writer.pid, 'SIGTERM') && waitsIn(writer.pid, 'devkmsg_read'), 'the read of /dev/kmsg to block');
      return { ...writer, dir, state };
    } finally {
      closeSync(kmsg);
    }
  }

  it('SIGTERM: the process still ends (by the signal once the command returned: $? is 143 in a shell), FILE untouched, no temp file', async () => {
    const writer = await startOnKmsg();
    const result = await interrupt(writer.pid, writer.exited, 'SIGTERM');
    expect(result.status === 143 || result.signal === 'SIGTERM').toBe(true);
    expect(result.stderr).toMatch(/^durable-write write: ABORT_ERR, /);
    expect(readFileSync(writer.state, 'utf8')).toBe('precious');
    expect(readdirSync(writer.dir)).toEqual(['state']);
  });

  it('SIGTERM twice (0.2.0 then called process.exit(), which joined the blocked thread for ever): the process ends', async () => {
    const writer = await startOnKmsg();
    process.kill(writer.pid, 'SIGTERM');
    const result = await interrupt(writer.pid, writer.exited, 'SIGTERM');
    expect(result.status === 143 || result.signal === 'SIGTERM').toBe(true);
    expect(readFileSync(writer.state, 'utf8')).toBe('precious');
  });
});
