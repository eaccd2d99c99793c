/**
 * The `durable-write` command: dispatch to a command, global `--help` and `--version`, the exit
 * status, and the process around it (its streams, SIGINT and SIGTERM, which abort the running
 * library call through its `signal`). Each command lives in its own file beside this one.
 *
 * @internal
 * @module
 */
import { isatty } from 'node:tty';
import { closestName } from '../core/arguments.js';
import { errnoCode } from '../core/errors.js';
import { appendCommand } from './append.js';
import { cleanCommand } from './clean.js';
import type { Command } from './command.js';
import { errorReport, UsageError } from './errors.js';
import { Output, type CliIo } from './output.js';
import { wantsJson } from './parse.js';
import { powerCommand } from './power.js';
import { syncCommand } from './sync.js';
import { mainHelp } from './usage.js';
import { VERSION } from './version.js';
import { writeCommand } from './write.js';

const COMMANDS: readonly Command[] = [writeCommand, appendCommand, syncCommand, powerCommand, cleanCommand];

/**
 * `probe` as the command list shows it. The command itself, its help included, is
 * src/cli/probe.ts's, loaded only when it is asked for (it is the largest command).
 */
const PROBE = {
  name: 'probe',
  arguments: '[DIR]',
  summary: 'time the flushes a durable write is made of on the storage under DIR, and check them against the device',
};

const GLOBAL_OPTIONS = ['--help', '--version'];

/** `durable-write probe ...`: src/cli/probe.ts's `runProbe`, given the arguments after `probe`. */
async function runProbe(argv: readonly string[], io: CliIo): Promise<number> {
  const probe = await import('./probe.js');
  return probe.runProbe([...argv], { stdout: io.stdout, stderr: io.stderr, isTTY: io.isTTY });
}

/** The command list of the main help. */
function listed(): Parameters<typeof mainHelp>[0] {
  return [...COMMANDS, PROBE];
}

/** A usage error found before any command runs: reported, exit 2. */
function usageError(argv: readonly string[], io: CliIo, message: string): number {
  const out = new Output(io, wantsJson(argv));
  out.error('', errorReport(new UsageError(message)));
  if (!out.json) io.stderr.write("Try 'durable-write --help'.\n");
  return 2;
}

/** `durable-write help [COMMAND]`. */
async function help(argv: readonly string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const [name] = argv;
  if (name === undefined) {
    io.stdout.write(mainHelp(listed()));
    return 0;
  }
  if (name === PROBE.name) return runProbe(['--help'], io);
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command !== undefined) return command.execute(['--help'], io, signal);
  return unknownCommand(argv, io, name);
}

function unknownCommand(argv: readonly string[], io: CliIo, name: string): number {
  const guess = closestName(name, [...COMMANDS.map((command) => command.name), PROBE.name, 'help']);
  return usageError(argv, io, `unknown command '${name}'${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
}

/**
 * Runs the command line `argv` (the arguments after `durable-write`) and resolves with the exit
 * status: 0 success, 1 the operation failed, 2 usage error, 128+N interrupted by signal N.
 */
export async function main(argv: readonly string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(mainHelp(listed()));
    return 2;
  }
  if (name === '--help' || name === '-h') return help([], io, signal);
  if (name === 'help') return help(rest, io, signal);
  if (name === '--version') {
    io.stdout.write(wantsJson(rest) ? `${JSON.stringify({ version: VERSION })}\n` : `${VERSION}\n`);
    return 0;
  }
  if (name === PROBE.name) return runProbe(rest, io);
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command !== undefined) return command.execute(rest, io, signal);
  if (name.startsWith('-')) {
    const guess = closestName(name.replace(/^-+/, ''), GLOBAL_OPTIONS.map((option) => option.slice(2)));
    return usageError(argv, io, `unknown option ${name}${guess === undefined ? '' : ` (did you mean --${guess}?)`}; the command comes first: durable-write COMMAND [options]`);
  }
  return unknownCommand(argv, io, name);
}

/**
 * Milliseconds the process may take to end once an interrupted command has returned, before it
 * ends by the signal itself: only a read still blocked in libuv's thread pool can hold it that
 * long (a character device that is no terminal, such as /dev/kmsg, as standard input).
 */
const INTERRUPTED_EXIT_GRACE_MS = 500;

/**
 * {@link main} for this process: its arguments and streams; SIGINT and SIGTERM abort the running
 * call. A second signal, or an interrupted command whose process still has not ended after
 * {@link INTERRUPTED_EXIT_GRACE_MS}, ends the process by the signal's default action: never by
 * `process.exit()`, which joins libuv's thread pool and so waits forever for a thread blocked in
 * a system call (an `open` of a FIFO with no writer).
 */
export async function runCli(): Promise<number> {
  const controller = new AbortController();
  const endBySignal = (name: NodeJS.Signals): void => {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    // With no listener left the signal has its default action again: the kernel ends the process.
    process.kill(process.pid, name);
  };
  const interrupt = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) endBySignal(name);
    else controller.abort(name);
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  // A reader that went away (`durable-write ... | head -1`) is not this command's failure.
  process.stdout.on('error', (error: unknown) => {
    if (errnoCode(error) !== 'EPIPE') throw error;
  });
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stderr.isTTY === true,
    stdin: () => process.stdin,
    // isatty, not process.stdin.isTTY: a command that does not read stdin never creates the stream.
    stdinIsTTY: isatty(0),
  };
  try {
    return await main(process.argv.slice(2), io, controller.signal);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    const reason: unknown = controller.signal.reason;
    if (controller.signal.aborted && (reason === 'SIGINT' || reason === 'SIGTERM')) {
      // Unreferenced: it fires only if something still holds the event loop.
      setTimeout(() => endBySignal(reason), INTERRUPTED_EXIT_GRACE_MS).unref();
    }
  }
}
