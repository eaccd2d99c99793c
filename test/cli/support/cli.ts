/**
 * Runs the BUILT command, `node dist/cli.js ...`, in a child process as a user would (`npm test`
 * builds first; a bare vitest needs `npx tsup`), optionally under `strace -f`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cliPath = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));

/** Throws a clear error when the command has not been built. */
export function requireCli(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npx tsup\` (npm test builds first)`);
}

export interface CliResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Written to stdin, which is then closed; without it stdin is empty (/dev/null). */
  readonly input?: string | Buffer;
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Waits for `child` to exit, collecting its output. */
export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

/** `program args...` with `options.input` on stdin, to completion. */
export function run(program: string, args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  requireCli();
  const child = spawn(program, args, {
    env: { ...process.env, ...options.env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(options.input);
  return collect(child);
}

/** `durable-write args...`, to completion. */
export function cli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return run(process.execPath, [cliPath, ...args], options);
}

/** `durable-write args...` under `strace -f -e trace=<calls>`: its result and the trace text. */
export async function straceCli(calls: string, args: readonly string[], options: CliOptions = {}): Promise<CliResult & { trace: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-cli-strace-'));
  try {
    const out = join(dir, 'trace');
    const result = await run('strace', ['-f', '-qq', '-s', '4096', '-e', `trace=${calls}`, '-o', out, process.execPath, cliPath, ...args], options);
    return { ...result, trace: readFileSync(out, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The one JSON object `text` must consist of (a trailing newline allowed), or a failed test. */
export function onlyJson(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not one JSON object: ${text}`);
  if (!text.endsWith('}\n') || text.indexOf('\n') !== text.length - 1) throw new Error(`more than one line: ${JSON.stringify(text)}`);
  return Object.fromEntries(Object.entries(value));
}

/** A `durable-write write` still running: fed from a pipe that stays open, its temp file created. */
export interface StreamingWrite {
  readonly child: ChildProcess;
  /** The temp file it writes into, `dir/.NAME.PID.HEX.dwtmp`. */
  readonly temp: string;
  /** Settles when the child exits. */
  readonly exited: Promise<CliResult>;
}

/**
 * Starts `durable-write write target`, feeds it more than one batch (64 KiB: the first batch is
 * read before the temp file is created) and leaves its stdin open, so it never finishes by itself;
 * resolves once its temp file exists.
 */
export async function startStreamingWrite(target: string, timeoutMs = 10_000): Promise<StreamingWrite> {
  requireCli();
  const dir = dirname(target);
  const child = spawn(process.execPath, [cliPath, 'write', target], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = collect(child);
  child.stdin?.write(Buffer.alloc(100 * 1024, 'x'));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const temp = readdirSync(dir).find((name) => name.startsWith(`.${basename(target)}.${child.pid ?? ''}.`) && name.endsWith('.dwtmp'));
    if (temp !== undefined) return { child, temp: join(dir, temp), exited };
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`no temp file appeared in ${dir}: ${JSON.stringify(await exited)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
