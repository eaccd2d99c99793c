/**
 * Running a Node snippet under `strace -f` and reading back the syscalls it made, so a test
 * can prove their order. Calls that another thread interrupted (`<unfinished ...>` /
 * `<... resumed>`) are joined back into one line, in the order they started.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Syscall {
  /** The thread that made it (its id as strace prints it; the main thread's is the process id). */
  readonly thread: string;
  readonly name: string;
  /** The argument text, as strace prints it. */
  readonly args: string;
  /** The return value text (`0`, `3`, `-1 EIO (...)`). */
  readonly result: string;
}

const FILE_CALLS = 'openat,open,write,pwrite64,writev,pwritev,fsync,fdatasync,close,rename,renameat,renameat2,fchmod,fchown,mkdir,mkdirat,unlink,unlinkat,sync,syncfs';

/** Runs `node -e script` under strace and returns the file syscalls of every thread. */
export function traceNode(script: string, args: readonly string[] = [], calls = FILE_CALLS): Syscall[] {
  const dir = mkdtempSync(join(tmpdir(), 'strace-'));
  const out = join(dir, 'trace');
  try {
    execFileSync('strace', ['-f', '-qq', '-s', '256', '-e', `trace=${calls}`, '-o', out, process.execPath, '-e', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return parseTrace(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parses `strace -f -o` output. */
export function parseTrace(text: string): Syscall[] {
  const pending = new Map<string, { index: number; head: string }>();
  const lines: ({ pid: string; body: string } | undefined)[] = [];
  for (const raw of text.split('\n')) {
    const match = /^(\d+)\s+(.*)$/.exec(raw);
    if (match === null) continue;
    const [, pid = '', body = ''] = match;
    const unfinished = /^(.*) <unfinished \.\.\.>$/.exec(body);
    if (unfinished !== null) {
      pending.set(pid, { index: lines.length, head: unfinished[1] ?? '' });
      lines.push(undefined);
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(body);
    const start = pending.get(pid);
    if (resumed !== null && start !== undefined) {
      lines[start.index] = { pid, body: start.head + (resumed[1] ?? '') };
      pending.delete(pid);
      continue;
    }
    lines.push({ pid, body });
  }
  const calls: Syscall[] = [];
  for (const line of lines) {
    const call = line === undefined ? null : /^(\w+)\((.*)\)\s+=\s+(.*)$/.exec(line.body);
    if (call !== null && line !== undefined) calls.push({ thread: line.pid, name: call[1] ?? '', args: call[2] ?? '', result: call[3] ?? '' });
  }
  return calls;
}

/** The first argument of a call as a path, or its descriptor number as a string. */
export function firstPath(call: Syscall): string {
  const quoted = /"([^"]*)"/.exec(call.args);
  return quoted?.[1] ?? call.args.split(',')[0] ?? '';
}

/** The descriptor a call acted on (its first argument). */
export function fdArg(call: Syscall): string {
  return (call.args.split(',')[0] ?? '').trim();
}
