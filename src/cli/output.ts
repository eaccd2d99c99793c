/**
 * Where the command's words go. The rules (docs/cli.md, "Output"):
 *
 * - For people (the default): a command's result goes to stdout (`power status` prints `on`,
 *   `sync` one line per flush, `clean` one line per file), except `write`, whose stdout stays
 *   empty for pipelines: its one-line summary goes to stderr, with everything about the run.
 * - With `--json`: exactly one JSON object on stdout, the result, and nothing else there; each
 *   failure is one JSON object (one line) on stderr with `code`, `stage`, `path` and `message`.
 * - Progress on a terminal only: when stderr is a TTY (and not `--json`), a long step redraws
 *   one status line on stderr, erased before anything else is printed; piped, nothing extra.
 *
 * @internal
 * @module
 */
import type { Readable } from 'node:stream';
import type { ErrorReport } from './errors.js';

/** What the command talks to: the process's streams and terminal state. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal: progress is drawn only then. */
  readonly isTTY: boolean;
  /** Standard input, touched only by a command that reads it. */
  readonly stdin: () => Readable;
  /** Whether standard input is a terminal (a person typing, rather than a pipe or a file). */
  readonly stdinIsTTY: boolean;
}

/** A status line redrawn on a terminal while a step runs. */
export interface Progress {
  /** What to show after the label (bytes so far...); the elapsed time is added. */
  update(detail: string): void;
  /** Erases the line; call it before printing anything else. Idempotent. */
  done(): void;
}

/** Milliseconds before a progress line first appears: quick steps never flicker. */
const PROGRESS_DELAY_MS = 250;
/** Milliseconds between redraws. */
const PROGRESS_INTERVAL_MS = 100;
/** Carriage return and "erase to the end of the line". */
const ERASE_LINE = '\r\u001b[K';

const NO_PROGRESS: Progress = { update: () => undefined, done: () => undefined };

/** Prints for people or for machines, as the command line asked (see the module's rules). */
export class Output {
  readonly #io: CliIo;
  /** Whether `--json` was given. */
  readonly json: boolean;

  constructor(io: CliIo, json: boolean) {
    this.#io = io;
    this.json = json;
  }

  /** A line of the result, for people: stdout. Nothing with `--json`. */
  line(text: string): void {
    if (!this.json) this.#io.stdout.write(`${text}\n`);
  }

  /** A line about the run, for people: stderr. Nothing with `--json`. */
  note(text: string): void {
    if (!this.json) this.#io.stderr.write(`${text}\n`);
  }

  /** The result for machines: one JSON object on stdout. Nothing without `--json`. */
  result(value: object): void {
    if (this.json) this.#io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A failure, on stderr: one JSON line with `--json`, else `durable-write COMMAND: CODE, stage S, path P: message`. */
  error(command: string, report: ErrorReport): void {
    this.#io.stderr.write(this.json ? `${JSON.stringify(report)}\n` : `${humanError(command, report)}\n`);
  }

  /** A status line for a step that may take long, drawn only on a terminal and never with `--json`. */
  progress(label: string): Progress {
    if (this.json || !this.#io.isTTY) return NO_PROGRESS;
    const stderr = this.#io.stderr;
    const started = performance.now();
    let detail = '';
    let drawn = false;
    const draw = (): void => {
      drawn = true;
      const elapsed = formatDuration(performance.now() - started);
      stderr.write(`${ERASE_LINE}${label}${detail === '' ? '' : ` ${detail}`} (${elapsed})`);
    };
    let timer: NodeJS.Timeout | undefined = setTimeout(() => {
      draw();
      timer = setInterval(draw, PROGRESS_INTERVAL_MS).unref();
    }, PROGRESS_DELAY_MS).unref();
    return {
      update: (text) => {
        detail = text;
      },
      done: () => {
        clearTimeout(timer);
        clearInterval(timer);
        timer = undefined;
        if (drawn) stderr.write(ERASE_LINE);
        drawn = false;
      },
    };
  }
}

/**
 * `durable-write write: EROFS, stage open, path /mnt/state: <message>`; a usage error is its
 * message alone: `durable-write write: unknown option --mdoe (did you mean --mode?)`.
 */
export function humanError(command: string, report: ErrorReport): string {
  const prefix = `durable-write${command === '' ? '' : ` ${command}`}: `;
  if (report.stage === 'usage') return `${prefix}${report.message}`;
  const stage = report.stage === null ? undefined : `stage ${report.stage}`;
  const path = report.path === null ? undefined : `path ${report.path}`;
  const head = [report.code ?? undefined, report.reason, stage, path].filter((part) => part !== undefined);
  return `${prefix}${head.length === 0 ? '' : `${head.join(', ')}: `}${report.message}`;
}

/** A measured duration in milliseconds, for `--json`: to the hundredth. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** `0.8 ms`, `12 ms`, `1.25 s`: a measured duration, for people. */
export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** `45 s`, `12 min`, `3 h`, `2 d`: the age of a file, for people. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 120 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/** `1234 bytes`, `1 byte`. */
export function formatBytes(count: number): string {
  return `${count} byte${count === 1 ? '' : 's'}`;
}
