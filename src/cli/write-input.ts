/**
 * What `durable-write write` reads when no COMMAND is given: standard input, or the file SRC of
 * `--from SRC`, as a `Readable` that an abort can always end.
 *
 * A pipe, a FIFO, a socket or a terminal is read by the event loop (libuv polls it), never by a
 * thread of libuv's pool: a pool thread blocked in `open` or `read` cannot be called back, keeps
 * the process alive after an abort, and is joined on exit. So `--from` opens with `O_NONBLOCK`
 * (a FIFO with no writer yet opens at once; its first byte, or its writer's end, is then waited
 * for by polling), and only regular files and devices that are no terminal go through the pool,
 * whose reads always end. A directory is refused with `EISDIR` before anything is read (Node
 * would read it as an empty standard input, or fail only at the first read).
 *
 * @internal
 * @module
 */
import { closeSync, constants, createReadStream, fstatSync, open, statSync, type Stats } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { isatty, ReadStream as TerminalReadStream } from 'node:tty';
import { errnoCode } from '../core/errors.js';
import { CommandError } from './errors.js';
import type { CliIo } from './output.js';

/** The data of a write, and how to name it in messages. */
export interface WriteInput {
  readonly stream: Readable;
  /** Why it may have been empty, for the refusal: `standard input is /dev/null (or was closed)`. */
  readonly emptyHint: string | undefined;
}

/** `open(2)` flags of `--from`: never blocking, so that a FIFO without a writer opens at once. */
const FROM_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** A source that cannot be read: exit 1, stage `source`, nothing written. */
function sourceError(what: string, path: string | undefined, error: unknown): CommandError {
  const code = errnoCode(error);
  const reason = code === 'EISDIR' ? 'EISDIR: it is a directory' : code;
  return new CommandError(`cannot read ${what}${reason === undefined ? '' : ` (${reason})`}; nothing was written`, {
    code,
    stage: 'source',
    path,
    cause: error,
  });
}

/** `EISDIR`, as the kernel would report it for a read. */
function isDirectoryError(): NodeJS.ErrnoException {
  return Object.assign(new Error('EISDIR: illegal operation on a directory, read'), { code: 'EISDIR', errno: -osConstants.errno.EISDIR, syscall: 'read' });
}

/** Whether the descriptor is read by polling (by the event loop) rather than by the thread pool. */
function isPolled(stats: Stats, fd: number): boolean {
  return stats.isFIFO() || stats.isSocket() || isatty(fd);
}

/** Whether `stats` is the null device (where a closed standard input reads from: Node reopens fd 0 on /dev/null). */
function isNullDevice(stats: Stats): boolean {
  try {
    return stats.isCharacterDevice() && stats.rdev === statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

/**
 * Standard input. A pipe, socket or terminal is `io.stdin()` (Node reads those by polling); a
 * block device is read from fd 0 (Node would give an empty stream); a directory is `EISDIR`.
 */
export function openStdin(io: CliIo): WriteInput {
  let stats: Stats;
  try {
    stats = fstatSync(0);
  } catch (error) {
    throw sourceError('standard input', undefined, error);
  }
  if (stats.isDirectory()) throw sourceError('standard input', undefined, isDirectoryError());
  const emptyHint = isNullDevice(stats) ? 'standard input is /dev/null, or was closed' : undefined;
  // Node's own process.stdin for everything but a block device, which it would not read.
  const stream = stats.isBlockDevice() ? createReadStream('/dev/stdin', { fd: 0, autoClose: false }) : io.stdin();
  return { stream, emptyHint };
}

/** `open(path, O_RDONLY|O_NONBLOCK)`, as a raw descriptor (a `FileHandle` would close it again when collected). */
function openNonBlocking(path: string): Promise<number> {
  return new Promise((done, fail) => {
    open(path, FROM_FLAGS, (error, fd) => (error === null ? done(fd) : fail(error)));
  });
}

/** The file SRC of `--from SRC`, opened at once (without blocking) so that a missing SRC is its own error. */
export async function openFrom(path: string): Promise<WriteInput> {
  const what = `--from ${path}`;
  let fd: number;
  try {
    fd = await openNonBlocking(path);
  } catch (error) {
    throw sourceError(what, resolve(path), error);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw isDirectoryError();
    if (!isPolled(stats, fd)) return { stream: createReadStream(path, { fd }), emptyHint: undefined };
    const stream = isatty(fd) ? new TerminalReadStream(fd) : new Socket({ fd, readable: true, writable: false });
    return { stream, emptyHint: undefined };
  } catch (error) {
    closeQuietly(fd);
    throw sourceError(what, resolve(path), error);
  }
}

/** Closes `fd` after a failure that is being reported (no stream was made to own it). */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // The failure being reported is what matters.
  }
}
