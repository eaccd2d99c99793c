/**
 * The COMMAND of `durable-write write FILE -- COMMAND [ARGS...]`: run without a shell, its
 * standard output the data to write, its standard input and standard error the command's own.
 * Its outcome decides whether the data is committed: only an exit status of 0 is a success. An
 * abort (SIGINT, SIGTERM) sends COMMAND the same signal and stops waiting for it.
 *
 * @internal
 * @module
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { errnoCode } from '../core/errors.js';
import { CommandError } from './errors.js';

/** A COMMAND started by {@link startCommand}. */
export interface RunningCommand {
  /** Its standard output (a pipe, read by the event loop). */
  readonly output: Readable;
  /** Its name, for messages. */
  readonly program: string;
  /** Resolves once it has exited with status 0; rejects with a {@link CommandError} carrying the status to exit with. */
  succeeded(): Promise<void>;
  /** Sends it `signal` unless it has ended, closes its output and stops waiting for it (the process may end before it does). Idempotent. */
  stop(signal: NodeJS.Signals): void;
}

type Outcome = { readonly error: unknown } | { readonly status: number | null; readonly signal: NodeJS.Signals | null };

/** The exit status of a program that could not be started, as shells and `env` report it: 127 not found, 126 not executable. */
function spawnFailureStatus(code: string | undefined): number {
  if (code === 'ENOENT') return 127;
  if (code === 'EACCES' || code === 'ENOEXEC' || code === 'EISDIR') return 126;
  return 1;
}

/** Why COMMAND's output is not committed, with the status to exit with; `undefined` for a success. */
function failure(outcome: Outcome, program: string, file: string, path: string): CommandError | undefined {
  const unchanged = `${file} is unchanged`;
  if ('error' in outcome) {
    const code = errnoCode(outcome.error);
    return new CommandError(`cannot run ${program}${code === undefined ? '' : ` (${code})`}; ${unchanged}`, {
      code,
      stage: 'command',
      path,
      cause: outcome.error,
      status: spawnFailureStatus(code),
    });
  }
  if (outcome.status === 0) return undefined;
  if (outcome.signal !== null) {
    const number: unknown = Reflect.get(constants.signals, outcome.signal);
    return new CommandError(`${program} was killed by ${outcome.signal}; ${unchanged}`, {
      code: 'ERR_COMMAND_FAILED',
      stage: 'command',
      path,
      status: typeof number === 'number' ? 128 + number : 1,
    });
  }
  const status = outcome.status ?? 1;
  return new CommandError(`${program} exited with status ${status}; its output was not written and ${unchanged}`, {
    code: 'ERR_COMMAND_FAILED',
    stage: 'command',
    path,
    status,
  });
}

/**
 * Starts `program args...` (no shell) with its stdout a pipe to read, its stdin and stderr
 * inherited. `file` (as typed) and `path` (absolute) name the target in errors.
 */
export function startCommand([program, ...args]: readonly [string, ...string[]], file: string, path: string): RunningCommand {
  const child = spawn(program, args, { stdio: ['inherit', 'pipe', 'inherit'] });
  const outcome = new Promise<Outcome>((settle) => {
    // 'on', not 'once': a failed kill() is an 'error' too, after the outcome; it must not throw.
    child.on('error', (error) => settle({ error }));
    child.once('exit', (status, signal) => settle({ status, signal }));
  });
  let stopped = false;
  return {
    output: child.stdout,
    program,
    async succeeded() {
      const problem = failure(await outcome, program, file, path);
      if (problem !== undefined) throw problem;
    },
    stop(signal) {
      if (stopped) return;
      stopped = true;
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
      child.stdout.destroy();
      child.unref();
    },
  };
}
