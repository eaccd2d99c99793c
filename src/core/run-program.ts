/**
 * Runs one external program to completion (no shell), with stdin ignored, an optional overall
 * deadline and an optional AbortSignal, either of which kills the child with SIGKILL.
 *
 * Used by `syncAll`/`syncFilesystem` (the coreutils `sync` program) and by
 * `IpmitoolPowerController` (ipmitool). It never rejects: every outcome is a value, so each caller
 * maps it to its own typed error. The one exception is a programmer error, thrown before anything
 * is spawned: a `deadlineMs` or `reapWaitMs` that a Node timer cannot arm (see
 * {@link RunProgramOptions.deadlineMs}).
 *
 * @module
 * @internal
 */
import { spawn } from 'node:child_process';
import { checkTimeout } from './arguments.js';

/** How a program run ended. */
export type RunProgramOutcome =
  /** The program ran and exited (or was killed by a signal nobody here sent). */
  | { readonly kind: 'exited'; readonly exitCode: number | null; readonly signal: NodeJS.Signals | null; readonly stdout: string; readonly stderr: string }
  /** The program could not be started; `error` is Node's spawn error (`code` ENOENT, EACCES...). */
  | { readonly kind: 'spawn-error'; readonly error: NodeJS.ErrnoException }
  /** The deadline passed and the child was killed. */
  | { readonly kind: 'timeout'; readonly stdout: string; readonly stderr: string }
  /** The signal fired and the child was killed. */
  | { readonly kind: 'aborted'; readonly reason: unknown; readonly stdout: string; readonly stderr: string };

/** Options of {@link runProgram}. */
export interface RunProgramOptions {
  /** The child's whole environment. Default: the parent's. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /**
   * Milliseconds after which the child is killed (SIGKILL): above 0 and at most `MAX_TIMER_MS`
   * (2^31-1, Node's timer limit; a longer timer would fire after 1 ms, so {@link runProgram}
   * throws a TypeError instead). Default: none.
   */
  readonly deadlineMs?: number | undefined;
  /** Kills the child (SIGKILL) when it fires. Default: none. */
  readonly signal?: AbortSignal | undefined;
  /**
   * After killing the child, how long to wait for it to be reaped before settling anyway.
   * From 0 to `MAX_TIMER_MS`, as for `deadlineMs`. Default 1000 ms. `0` settles at once (for a
   * child that may sit in an uninterruptible syscall, such as `sync`).
   */
  readonly reapWaitMs?: number | undefined;
  /** Called with the child's pid once it is spawned (tests use it). Default: none. */
  readonly onSpawn?: ((pid: number) => void) | undefined;
}

/** Cap on each captured stream, so a chatty program cannot exhaust memory. */
const MAX_CAPTURE = 1 << 20;

/**
 * Runs `file` with `args` (no shell, stdin ignored) and reports how it ended. Throws a TypeError
 * (`ERR_INVALID_ARG_VALUE`), before spawning, for a `deadlineMs` or `reapWaitMs` out of range.
 */
export function runProgram(file: string, args: readonly string[], options: RunProgramOptions = {}): Promise<RunProgramOutcome> {
  const { signal } = options;
  const deadlineMs = options.deadlineMs === undefined ? undefined : checkTimeout(options.deadlineMs, 'deadlineMs', 'runProgram');
  const reapWaitMs = checkTimeout(options.reapWaitMs ?? 1000, 'reapWaitMs', 'runProgram', true);
  if (signal?.aborted === true) {
    return Promise.resolve({ kind: 'aborted', reason: signal.reason, stdout: '', stderr: '' });
  }
  return new Promise<RunProgramOutcome>((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    let killedFor: { kind: 'timeout' } | { kind: 'aborted'; reason: unknown } | undefined;
    let timer: NodeJS.Timeout | undefined;
    let reapTimer: NodeJS.Timeout | undefined;

    const child = spawn(file, [...args], {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      windowsHide: true,
    });

    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      if (reapTimer !== undefined) clearTimeout(reapTimer);
      signal?.removeEventListener('abort', onAbort);
    };
    const settle = (outcome: RunProgramOutcome): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(outcome);
    };
    const killedOutcome = (): RunProgramOutcome =>
      killedFor?.kind === 'aborted'
        ? { kind: 'aborted', reason: killedFor.reason, stdout, stderr }
        : { kind: 'timeout', stdout, stderr };
    const kill = (why: NonNullable<typeof killedFor>): void => {
      if (killedFor !== undefined || settled) return;
      killedFor = why;
      child.kill('SIGKILL');
      if (reapWaitMs === 0) settle(killedOutcome());
      else reapTimer = setTimeout(() => settle(killedOutcome()), reapWaitMs);
    };
    function onAbort(): void {
      kill({ kind: 'aborted', reason: signal?.reason });
    }

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += chunk;
    });
    child.once('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Either the spawn failed (no 'close' follows) or killing failed; the first is what we see.
      if (child.pid === undefined) settle({ kind: 'spawn-error', error });
    });
    child.once('close', (exitCode, exitSignal) => {
      if (killedFor !== undefined) settle(killedOutcome());
      else settle({ kind: 'exited', exitCode, signal: exitSignal, stdout, stderr });
    });

    signal?.addEventListener('abort', onAbort, { once: true });
    if (deadlineMs !== undefined) {
      timer = setTimeout(() => kill({ kind: 'timeout' }), deadlineMs);
    }
  });
}
