/**
 * `durable-write write FILE [-- COMMAND [ARGS...]]`: the output of COMMAND, or standard input
 * (or `--from SRC`), replaces FILE through `writeDurable`, streamed in bounded memory; the exit
 * status is 0 only once the data and the name are durable. FILE is not touched before the rename,
 * and nothing is renamed unless the data is whole and wanted: COMMAND exited 0, the data is not
 * empty (unless `--allow-empty`), every read succeeded. So
 * `durable-write write state.json -- jq '.generation += 1' state.json` never loses state.json,
 * whatever jq does.
 *
 * @internal
 * @module
 */
import { resolve } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { writeDurable } from '../write/write-durable.js';
import { defineCommand } from './command.js';
import { CommandError, interruptedStatus, UsageError } from './errors.js';
import { formatBytes, type Progress } from './output.js';
import { parseMode } from './values.js';
import { startCommand, type RunningCommand } from './write-command.js';
import { openFrom, openStdin, type WriteInput } from './write-input.js';

/**
 * `source` with its bytes counted into `progress` on the way, and `atEnd(bytes)` awaited once it
 * has ended, before the end is passed on: a rejection there fails the stream, so `writeDurable`
 * abandons the write instead of committing it. A failure on either side ends both (`pipeline`):
 * a source error reaches `writeDurable` as the stream's error, and `writeDurable` destroying the
 * stream it was given (on failure or abort) destroys the source.
 */
function checked(source: Readable, progress: Progress, atEnd: (bytes: number) => Promise<void>): Readable {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.byteLength;
      progress.update(`${formatBytes(bytes)} read`);
      done(null, chunk);
    },
    flush(done) {
      atEnd(bytes).then(() => done(), done);
    },
  });
  // Errors travel through the streams themselves; the callback only keeps pipeline from throwing.
  pipeline(source, counter, () => undefined);
  return counter;
}

/** The refusal of an empty input without `--allow-empty`. */
function emptyInput(file: string, path: string, input: string, hint: string | undefined): CommandError {
  return new CommandError(`refusing to replace ${file} with ${input}${hint === undefined ? '' : ` (${hint})`}; pass --allow-empty to write an empty file`, {
    code: 'ERR_EMPTY_INPUT',
    stage: 'source',
    path,
  });
}

/** The signal an abort's reason names (SIGINT or SIGTERM from runCli), to pass on to COMMAND. */
function signalOf(reason: unknown): NodeJS.Signals {
  return reason === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
}

export const writeCommand = defineCommand({
  name: 'write',
  arguments: 'FILE',
  rest: 'COMMAND [ARGS...]',
  summary: 'replace FILE with standard input, --from SRC or the output of -- COMMAND, durably',
  description: [
    'Replaces FILE with the standard output of COMMAND, or with the bytes of standard input or of the file SRC, ' +
      'through writeDurable: a temp file in the same directory, every byte written, fsync, rename over FILE, fsync ' +
      'of the directory. FILE keeps its old content until the rename, so COMMAND may read it: ' +
      "durable-write write state.json -- jq '.generation += 1' state.json. The exit status is 0 only once the data and the name are durable " +
      '(on Windows, which offers no directory flush, once the data is durable and the rename done).',
    'Nothing is renamed over FILE unless the data is whole and wanted: COMMAND (run without a shell, its stdin and ' +
      "stderr this command's own) must exit 0, or write exits with COMMAND's status (127: not found, 126: not executable, " +
      '128+N: killed by signal N); an empty input is refused (exit 1) unless --allow-empty; a read that fails is exit 1. ' +
      "In each case FILE is unchanged and no temp file is left. A pipe's writer cannot be checked: prefer -- COMMAND.",
    'SIGINT or SIGTERM ends the command at once (130, 143), in any phase: COMMAND gets the same signal, the temp file is ' +
      'removed and FILE is unchanged, unless the rename had already happened, which is then said.',
    'Standard output stays empty; the summary (wrote N bytes to PATH) goes to stderr, or with --json as one object to stdout.',
  ],
  options: {
    from: { type: 'string', value: 'SRC', help: 'read the data from the file SRC (a FIFO too) instead of standard input' },
    'allow-empty': { type: 'boolean', help: 'write FILE even when the data is empty (refused otherwise: a failed producer often writes nothing)' },
    'create-parents': { type: 'boolean', help: 'create missing parent directories, each made durable too' },
    mode: { type: 'string', value: 'MODE', help: "permission bits in octal, e.g. 640 (default: the existing file's mode, else 666 minus the umask)" },
    fdatasync: { type: 'boolean', help: 'flush with fdatasync instead of fsync (POSIX does not promise the mode is flushed with it)' },
    'best-effort-dir-sync': {
      type: 'boolean',
      help: 'tolerate a file system that refuses to fsync a directory: reported on stderr, exit 0, but the name may not survive a crash',
    },
  },
  exitStatus: [['N', "with -- COMMAND: COMMAND failed, and its status is write's (127: not found, 126: not executable, 128+N: killed by signal N); FILE is unchanged"]],
  arity: { min: 1, max: 1 },
  async run({ values, positionals: [file = ''], rest }, { io, out, signal }) {
    const mode = values.mode === undefined ? undefined : parseMode('--mode', values.mode);
    if (rest !== undefined && values.from !== undefined) throw new UsageError('--from SRC and -- COMMAND both give the data: use one');
    const path = resolve(file);
    if (signal.aborted) {
      throw new CommandError(`interrupted by ${String(signal.reason)} before anything was read; ${file} is unchanged`, { code: 'ABORT_ERR', stage: 'source', path });
    }
    if (rest === undefined && values.from === undefined && io.stdinIsTTY) out.note('durable-write write: reading standard input until end of file (Ctrl-D)');
    const command: RunningCommand | undefined = rest === undefined ? undefined : startCommand(rest, file, path);
    const stopCommand = (): void => command?.stop(signalOf(signal.reason));
    signal.addEventListener('abort', stopCommand, { once: true });
    let input: WriteInput | undefined;
    /** Why the data must not be committed, once that is known: reported instead of the write's error it causes. */
    let refusal: CommandError | undefined;
    const atEnd = async (bytes: number): Promise<void> => {
      try {
        await command?.succeeded();
        if (bytes === 0 && values['allow-empty'] !== true) {
          throw emptyInput(file, path, command === undefined ? 'empty input' : `the empty output of ${command.program}`, input?.emptyHint);
        }
      } catch (error) {
        if (error instanceof CommandError) refusal = error;
        throw error;
      }
    };
    const progress = out.progress(`writing ${file}:`);
    try {
      input = command !== undefined ? { stream: command.output, emptyHint: undefined } : values.from === undefined ? openStdin(io) : await openFrom(values.from);
      const result = await writeDurable(file, checked(input.stream, progress, atEnd), {
        createParents: values['create-parents'] === true,
        mode,
        flush: values.fdatasync === true ? 'fdatasync' : 'fsync',
        // Left to the library's default for the platform: 'required', except on Windows (no directory flush there).
        directorySync: values['best-effort-dir-sync'] === true ? 'best-effort' : undefined,
        signal,
      }).catch((error: unknown) => {
        throw refusal !== undefined && !signal.aborted ? refusal : error;
      });
      progress.done();
      const refused = result.directorySyncErrors.map((error) => error.code ?? error.message);
      out.note(
        `wrote ${formatBytes(result.bytesWritten)} to ${result.path} ` +
          (result.directorySynced
            ? '(durable)'
            : `(data durable; the directory was not flushed: ${refused.join(', ')}, so the name may not survive a crash)`),
      );
      out.result({
        command: 'write',
        path: result.path,
        bytesWritten: result.bytesWritten,
        directorySynced: result.directorySynced,
        directorySyncErrors: refused,
        createdDirectories: result.createdDirectories,
      });
      if (!signal.aborted) return 0;
      // The signal came after the rename, which the library does not undo: say that FILE is new.
      out.note(`durable-write write: interrupted by ${String(signal.reason)} after the rename: ${result.path} already holds the new content`);
      return interruptedStatus(signal.reason);
    } finally {
      progress.done();
      signal.removeEventListener('abort', stopCommand);
      // Whatever ended the write, nothing it started may hold the process: COMMAND, a source still open.
      command?.stop('SIGTERM');
      input?.stream.destroy();
    }
  },
});
