/**
 * `durable-write append FILE`: standard input (or `--from SRC`) added to the end of FILE through
 * `appendDurable`, streamed in bounded memory; the exit status is 0 only once every byte is
 * flushed. With `--lines` each input line is appended as a record as soon as it arrives (its
 * flush shared with the lines arriving meanwhile: group commit), for producers that write a line
 * now and then, as `tail -f` does.
 *
 * An append cannot be undone: bytes appended before a failure or a signal stay in FILE (flushed
 * or not), and the message says how many were appended durably.
 *
 * @internal
 * @module
 */
import { setMaxListeners } from 'node:events';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { errnoCode, isDurableWriteError } from '../core/errors.js';
import { appendDurable, type AppendDurableResult } from '../write/append-durable.js';
import { defineCommand } from './command.js';
import { CommandError, interruptedStatus } from './errors.js';
import { formatBytes, type Progress } from './output.js';
import { parseMode } from './values.js';
import { openFrom, openStdin, type WriteInput } from './write-input.js';

/** Bytes gathered from the input before they are appended as one call, without `--lines`. */
const CHUNK_BYTES = 1 << 20;
/** Appends issued and not yet flushed, at most: reading waits for the oldest beyond that. */
const MAX_IN_FLIGHT = 64;

/** What the appends of a run did so far. */
interface Tally {
  /** The file appended to (a symlink at FILE followed), once an append resolved. */
  path: string | undefined;
  /** Offset of the first byte appended, once one is. */
  offset: number | undefined;
  /** Bytes whose append resolved (durable). */
  durable: number;
  /** Lines appended, with `--lines` (chunks without). */
  records: number;
  created: boolean;
  directorySynced: boolean;
  readonly directorySyncErrors: string[];
  readonly createdDirectories: string[];
}

/** Issues appends of the input's pieces, at most {@link MAX_IN_FLIGHT} at once, in order. */
class Appender {
  readonly tally: Tally = { path: undefined, offset: undefined, durable: 0, records: 0, created: false, directorySynced: true, directorySyncErrors: [], createdDirectories: [] };
  readonly #inFlight: Promise<void>[] = [];
  /** The first failure; once set, nothing more is appended. */
  #failure: { readonly error: unknown } | undefined;

  constructor(private readonly append: (bytes: Uint8Array) => Promise<AppendDurableResult>) {}

  /** Appends `bytes` (`records` lines; not awaited), after waiting for room. Throws the first failure so far. */
  async add(bytes: Uint8Array, records: number): Promise<void> {
    this.#throwIfFailed();
    while (this.#inFlight.length >= MAX_IN_FLIGHT) await this.#inFlight.shift();
    this.#throwIfFailed();
    this.tally.records += records;
    const call = this.append(bytes).then(
      (result) => this.#record(result),
      (error: unknown) => {
        this.#failure ??= { error };
      },
    );
    this.#inFlight.push(call);
  }

  /** Waits for every append issued; throws the first failure. */
  async settle(): Promise<void> {
    await Promise.all(this.#inFlight.splice(0));
    this.#throwIfFailed();
  }

  #record(result: AppendDurableResult): void {
    const tally = this.tally;
    // Calls to one file write in call order, so the first to resolve is not always the first written: keep the least.
    tally.offset = tally.offset === undefined ? result.offset : Math.min(tally.offset, result.offset);
    tally.path ??= result.path;
    tally.durable += result.bytesWritten;
    tally.created ||= result.created;
    tally.directorySynced &&= result.directorySynced;
    tally.directorySyncErrors.push(...result.directorySyncErrors.map((error) => error.code ?? error.message));
    tally.createdDirectories.push(...result.createdDirectories);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }
}

/**
 * Reads `stream` to its end, handing each piece to `take`: with `lines`, the complete lines of each
 * read (each with its `\n`; a last one without, at the end), else chunks of about {@link CHUNK_BYTES}.
 */
async function readPieces(stream: Readable, lines: boolean, progress: Progress, take: (bytes: Uint8Array, records: number) => Promise<void>): Promise<number> {
  let read = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    read += buffer.byteLength;
    progress.update(`${formatBytes(read)} read`);
    if (!lines) {
      pending.push(buffer);
      pendingBytes += buffer.byteLength;
      if (pendingBytes >= CHUNK_BYTES) {
        await take(Buffer.concat(pending), 1);
        pending = [];
        pendingBytes = 0;
      }
      continue;
    }
    // The complete lines of this read, as one append (one write, one flush): they arrived together.
    const end = buffer.lastIndexOf(10) + 1;
    if (end > 0) {
      let lineCount = 0;
      for (let at = buffer.indexOf(10); at !== -1 && at < end; at = buffer.indexOf(10, at + 1)) lineCount += 1;
      await take(Buffer.concat([...pending, buffer.subarray(0, end)]), lineCount);
      pending = [];
    }
    if (end < buffer.byteLength) pending.push(buffer.subarray(end));
  }
  // Without --lines: the rest; with it, a last line without a newline, appended as it is.
  if (pending.length > 0) await take(Buffer.concat(pending), 1);
  return read;
}

/** Why the run failed, with what it appended durably before: an append cannot be undone. */
function appendFailed(error: unknown, tally: Tally, path: string): CommandError {
  const message = error instanceof Error ? error.message : String(error);
  const before = tally.durable === 0 ? 'nothing was appended durably before it' : `${formatBytes(tally.durable)} had been appended durably to ${path} before it, and stay`;
  // The library's errors name their stage and path; anything else failed reading the input.
  if (isDurableWriteError(error)) return new CommandError(`${message}; ${before}`, { code: error.code, stage: error.stage, path: error.path ?? path, cause: error });
  return new CommandError(`cannot read the input (${message}); ${before}`, { code: errnoCode(error), stage: 'source', path, cause: error });
}

export const appendCommand = defineCommand({
  name: 'append',
  arguments: 'FILE',
  summary: 'append standard input (or --from SRC) to FILE durably; --lines appends each line as it arrives',
  description: [
    'Appends the bytes of standard input, or of the file SRC, to the end of FILE through appendDurable: FILE opened with ' +
      'O_APPEND (created if missing, its directory then fsynced), every byte written, fdatasync. The exit status is 0 only ' +
      'once every byte is flushed. Large inputs are appended in chunks of 1 MiB, so memory stays bounded.',
    'With --lines, each line of the input (up to and including its newline) is appended as soon as it arrives, and ' +
      'flushed: the lines arriving while a flush runs share the next one (group commit). A last line without a newline is ' +
      'appended as it is. So producer | durable-write append --lines log makes each line durable as it is written.',
    'An empty input is refused (exit 1, FILE unchanged) unless --allow-empty; an input that cannot be read is exit 1. ' +
      'An append cannot be undone: after a failure or SIGINT/SIGTERM (130, 143), what was appended before stays in FILE, ' +
      'and the message says how many bytes were appended durably.',
    'Standard output stays empty; the summary (appended N bytes to PATH) goes to stderr, or with --json as one object to stdout.',
  ],
  options: {
    from: { type: 'string', value: 'SRC', help: 'read the data from the file SRC (a FIFO too) instead of standard input' },
    lines: { type: 'boolean', help: 'append each input line as soon as it is complete, flushed at once (lines arriving together share one flush)' },
    'allow-empty': { type: 'boolean', help: 'exit 0 on an empty input, appending nothing (refused otherwise: a failed producer often writes nothing)' },
    'create-parents': { type: 'boolean', help: 'create missing parent directories, each made durable too' },
    mode: { type: 'string', value: 'MODE', help: 'permission bits in octal of a file this creates, e.g. 640 (default: 666 minus the umask)' },
  },
  arity: { min: 1, max: 1 },
  async run({ values, positionals: [file = ''] }, { io, out, signal }) {
    const mode = values.mode === undefined ? undefined : parseMode('--mode', values.mode);
    const path = resolve(file);
    if (signal.aborted) {
      throw new CommandError(`interrupted by ${String(signal.reason)} before anything was read; ${file} is unchanged`, { code: 'ABORT_ERR', stage: 'source', path });
    }
    if (values.from === undefined && io.stdinIsTTY) out.note('durable-write append: reading standard input until end of file (Ctrl-D)');
    const lines = values.lines === true;
    // Each append in flight listens to the signal.
    setMaxListeners(MAX_IN_FLIGHT + 10, signal);
    const appender = new Appender((bytes) => appendDurable(file, bytes, { createParents: values['create-parents'] === true, mode, signal }));
    let input: WriteInput | undefined;
    const stop = (): void => {
      input?.stream.destroy();
    };
    signal.addEventListener('abort', stop, { once: true });
    const progress = out.progress(`appending to ${file}:`);
    try {
      let read: number;
      try {
        input = values.from === undefined ? openStdin(io) : await openFrom(values.from);
        read = await readPieces(input.stream, lines, progress, (bytes, records) => appender.add(bytes, records));
        await appender.settle();
      } catch (error) {
        await appender.settle().catch(() => undefined);
        if (signal.aborted) {
          throw new CommandError(
            `interrupted by ${String(signal.reason)}; ${appender.tally.durable === 0 ? `nothing was appended to ${file}` : `${formatBytes(appender.tally.durable)} appended durably to ${path} stay there`}`,
            { code: 'ABORT_ERR', stage: 'write', path },
          );
        }
        if (error instanceof CommandError) throw error;
        throw appendFailed(error, appender.tally, path);
      }
      progress.done();
      const tally = appender.tally;
      if (read === 0 && values['allow-empty'] !== true) {
        throw new CommandError(`refusing an empty input${input.emptyHint === undefined ? '' : ` (${input.emptyHint})`}: nothing was appended to ${file}; pass --allow-empty to accept it`, {
          code: 'ERR_EMPTY_INPUT',
          stage: 'source',
          path,
        });
      }
      out.note(
        `appended ${formatBytes(tally.durable)}${lines ? ` (${tally.records} line${tally.records === 1 ? '' : 's'})` : ''} to ${tally.path ?? path} ` +
          (tally.directorySynced ? '(durable)' : `(data durable; the directory was not flushed: ${tally.directorySyncErrors.join(', ')}, so the name may not survive a crash)`),
      );
      out.result({
        command: 'append',
        path: tally.path ?? path,
        bytesWritten: tally.durable,
        offset: tally.offset ?? null,
        ...(lines ? { records: tally.records } : {}),
        created: tally.created,
        directorySynced: tally.directorySynced,
        createdDirectories: tally.createdDirectories,
      });
      if (!signal.aborted) return 0;
      out.note(`durable-write append: interrupted by ${String(signal.reason)} after every byte was appended durably`);
      return interruptedStatus(signal.reason);
    } finally {
      progress.done();
      signal.removeEventListener('abort', stop);
      input?.stream.destroy();
    }
  },
});
