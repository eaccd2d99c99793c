/**
 * `openDurableLog` and `readDurableLog`: a log of records on top of `appendDurable`, reopened
 * after a crash by a recovery that keeps the valid prefix of records and truncates a torn tail
 * durably, and refuses corruption in the middle (`LogCorruptionError`).
 *
 * Each append is one `appendDurable` (or `appendDurableSync`) call: the encoded records in one
 * `write()` with `O_APPEND`, flushed with the group commit of `file-flush-group.ts`. The formats
 * are in `durable-log-format.ts`.
 *
 * @module
 */
import { constants } from 'node:fs';
import * as nodePath from 'node:path';
import * as fsp from 'node:fs/promises';
import { checkBoolean, checkChoice, checkFlush, checkOptionNames, checkPath, describeValue, invalidArgType } from '../core/arguments.js';
import { DurableWriteError, errnoCode, LogCorruptionError, TornTailError } from '../core/errors.js';
import type { FlushMethod } from '../core/file-io.js';
import { appendDurable, appendDurableSync, type AppendDurableResult } from './append-durable.js';
import { framedCodec, linesCodec, type DurableLogFormat, type LogCodec, type LogScan } from './durable-log-format.js';

export type { DurableLogFormat } from './durable-log-format.js';

/** Options of {@link readDurableLog}. */
export interface ReadDurableLogOptions {
  /** The record format: `'lines'` (text lines) or `'framed'` (length and CRC-32C per record). Required. */
  readonly format: DurableLogFormat;
  /** With `format: 'lines'`, records are JSON values (`JSON.stringify` on append, `JSON.parse` on read). Default `false`. */
  readonly json?: boolean | undefined;
}

/** Options of {@link openDurableLog}. */
export interface OpenDurableLogOptions extends ReadDurableLogOptions {
  /**
   * What the open does with a torn tail (bytes after the last valid record, with no valid record
   * after them): `'truncate'` cuts them off (`ftruncate`, `fdatasync`) and reports them on
   * {@link DurableLog.recovery}; `'error'` rejects with a {@link TornTailError} and changes
   * nothing. Default `'truncate'`.
   */
  readonly onTornTail?: 'truncate' | 'error' | undefined;
  /** How appends and the recovery's truncation are flushed: `'fdatasync'` or `'fsync'`. Default `'fdatasync'`. */
  readonly flush?: FlushMethod | undefined;
}

/** What the recovery of {@link openDurableLog} found and did. */
export interface DurableLogRecovery {
  /** How many valid records the log holds. */
  readonly validRecords: number;
  /** How many bytes of torn tail were truncated (0 when the log ended in a valid record). */
  readonly truncatedBytes: number;
}

/** What {@link readDurableLog} read: the records, and a torn tail reported, not repaired. */
export interface DurableLogContents<T> {
  /** The valid records, in file order. */
  readonly records: readonly T[];
  /** Where each record starts in the file. */
  readonly offsets: readonly number[];
  /** The end of the last valid record. */
  readonly validBytes: number;
  /** How many bytes of torn tail follow it (left in the file). */
  readonly tornBytes: number;
}

/** A durable log open for appending: see {@link openDurableLog}. */
export interface DurableLog<T> {
  /** The log's file. */
  readonly path: string;
  /** The record format. */
  readonly format: DurableLogFormat;
  /** What the open's recovery found and truncated. */
  readonly recovery: DurableLogRecovery;
  /** Appends several records in one `write()` and resolves with their offsets once they are durable. */
  append(records: readonly T[]): Promise<number[]>;
  /** Appends one record and resolves with its offset once it is durable (flushes are group-committed). */
  append(record: T): Promise<number>;
  /** The synchronous {@link DurableLog.append}, as `appendDurableSync` (its flush its own). */
  appendSync(records: readonly T[]): number[];
  appendSync(record: T): number;
  /** The valid records, read from the file now; a {@link LogCorruptionError} for corruption in the middle. */
  records(): AsyncIterableIterator<T>;
  /** Waits for pending appends and releases the log (another open in this process may then take it). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The logs open in this process, by the path their open resolved. */
const held = new Set<string>();

const READ_OPTIONS = ['format', 'json'] as const satisfies readonly (keyof ReadDurableLogOptions)[];
const OPEN_OPTIONS = [...READ_OPTIONS, 'onTornTail', 'flush'] as const satisfies readonly (keyof OpenDurableLogOptions)[];

/** The codec the options name, their other fields checked. */
function checkLogOptions(options: unknown, known: readonly string[], operation: string): { codec: LogCodec<unknown>; format: DurableLogFormat; o: Record<string, unknown> } {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgType(`${operation}: options must be an object with a format ('lines' or 'framed'); received ${describeValue(options)}`);
  }
  checkOptionNames(options, known, operation);
  const o = options as Record<string, unknown>;
  const format = checkChoice(o['format'], ['lines', 'framed'] as const, undefined, 'format', operation);
  if (format === undefined) throw invalidArgType(`${operation}: options.format is required ('lines' or 'framed')`);
  const json = checkBoolean(o['json'], false, 'json', operation);
  if (json && format !== 'lines') throw invalidArgType(`${operation}: json: true needs format: 'lines'`);
  return { codec: format === 'framed' ? framedCodec : linesCodec(json), format, o };
}

/** The log's bytes (none for a missing file). */
async function readLogBytes(path: string, operation: string): Promise<Uint8Array> {
  try {
    return await fsp.readFile(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return new Uint8Array(0);
    throw new DurableWriteError(`${operation}: reading ${path} failed (${error instanceof Error ? error.message : String(error)})`, { stage: 'recover', path, cause: error });
  }
}

/** The scan of `bytes`; a {@link LogCorruptionError} when a valid record follows invalid bytes. */
function scanOrThrow<T>(codec: LogCodec<T>, bytes: Uint8Array, path: string, operation: string): LogScan<T> {
  const scan = codec.scan(bytes);
  if (scan.corrupt) {
    throw new LogCorruptionError(
      `${operation}: ${path} is corrupt at offset ${scan.validEnd}: invalid bytes there are followed by valid records, so this is not a torn tail; nothing was skipped or changed`,
      { path, offset: scan.validEnd },
    );
  }
  return scan;
}

/** Cuts `path` to `size` bytes and flushes it (`open(O_WRONLY)`, `ftruncate`, `fdatasync`/`fsync`, `close`). */
async function truncateDurably(path: string, size: number, flush: FlushMethod, operation: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(path, constants.O_WRONLY);
    await handle.truncate(size);
    await (flush === 'fsync' ? handle.sync() : handle.datasync());
  } catch (error) {
    throw new DurableWriteError(
      `${operation}: truncating the torn tail of ${path} at ${size} bytes failed (${error instanceof Error ? error.message : String(error)}); the tail may still be there`,
      { stage: 'recover', path, cause: error },
    );
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Reads the durable log at `path` without writing to it: its valid records, and the size of a
 * torn tail after them (reported, not repaired). A missing file is an empty log.
 *
 * Syscalls: `open(path, O_RDONLY)`, `fstat`, `read` until the end, `close`.
 *
 * @throws `TypeError` for bad arguments; {@link LogCorruptionError} when invalid bytes are
 *   followed by valid records; `DurableWriteError` (stage `'recover'`) when the read fails.
 * @example
 * ```ts
 * import { readDurableLog } from 'durable-write';
 * const { records, tornBytes } = await readDurableLog('/var/lib/app/events.log', { format: 'lines', json: true });
 * ```
 */
export function readDurableLog(path: string | URL, options: ReadDurableLogOptions & { format: 'framed' }): Promise<DurableLogContents<Uint8Array>>;
export function readDurableLog(path: string | URL, options: ReadDurableLogOptions & { format: 'lines'; json: true }): Promise<DurableLogContents<unknown>>;
export function readDurableLog(path: string | URL, options: ReadDurableLogOptions & { format: 'lines' }): Promise<DurableLogContents<string>>;
export function readDurableLog(path: string | URL, options: ReadDurableLogOptions): Promise<DurableLogContents<unknown>>;
export async function readDurableLog(path: string | URL, options: ReadDurableLogOptions): Promise<DurableLogContents<unknown>> {
  const operation = 'readDurableLog';
  const target = checkPath(path, 'path', operation);
  const { codec } = checkLogOptions(options, READ_OPTIONS, operation);
  const bytes = await readLogBytes(target, operation);
  const scan = scanOrThrow(codec, bytes, target, operation);
  return {
    records: scan.records.map((r) => r.value),
    offsets: scan.records.map((r) => r.offset),
    validBytes: scan.validEnd,
    tornBytes: bytes.byteLength - scan.validEnd,
  };
}

/** The encoded bytes of one append of `input` (one record or an array), and each record's start within them. */
function encodeAppend(codec: LogCodec<unknown>, input: unknown, operation: string): { bytes: Uint8Array; starts: number[]; many: boolean } {
  const many = Array.isArray(input);
  const encoded = (many ? (input as readonly unknown[]) : [input]).map((record) => codec.encode(record, operation));
  if (encoded.length === 0) throw invalidArgType(`${operation}: records must not be empty`);
  const bytes = new Uint8Array(encoded.reduce((sum, e) => sum + e.byteLength, 0));
  const starts: number[] = [];
  let at = 0;
  for (const e of encoded) {
    starts.push(at);
    bytes.set(e, at);
    at += e.byteLength;
  }
  return { bytes, starts, many };
}

/** The log object {@link openDurableLog} returns. */
class OpenLog implements DurableLog<unknown> {
  readonly #codec: LogCodec<unknown>;
  readonly #flush: FlushMethod;
  readonly #key: string;
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(
    readonly path: string,
    readonly format: DurableLogFormat,
    readonly recovery: DurableLogRecovery,
    codec: LogCodec<unknown>,
    flush: FlushMethod,
    key: string,
  ) {
    this.#codec = codec;
    this.#flush = flush;
    this.#key = key;
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new DurableWriteError(`${operation}: the durable log ${this.path} is closed`, { code: 'ERR_CLOSED', stage: 'validate', path: this.path });
  }

  append(records: readonly unknown[]): Promise<number[]>;
  append(record: unknown): Promise<number>;
  append(input: unknown): Promise<number | number[]> {
    const operation = 'DurableLog.append';
    let encoded: ReturnType<typeof encodeAppend>;
    try {
      this.#checkOpen(operation);
      encoded = encodeAppend(this.#codec, input, operation);
    } catch (error) {
      return Promise.reject(error);
    }
    const done = appendDurable(this.path, encoded.bytes, { flush: this.#flush }).then((result) => offsetsOf(result, encoded));
    this.#pending.add(done);
    const forget = (): void => {
      this.#pending.delete(done);
    };
    done.then(forget, forget);
    return done;
  }

  appendSync(records: readonly unknown[]): number[];
  appendSync(record: unknown): number;
  appendSync(input: unknown): number | number[] {
    const operation = 'DurableLog.appendSync';
    this.#checkOpen(operation);
    const encoded = encodeAppend(this.#codec, input, operation);
    return offsetsOf(appendDurableSync(this.path, encoded.bytes, { flush: this.#flush }), encoded);
  }

  async *records(): AsyncIterableIterator<unknown> {
    const operation = 'DurableLog.records';
    this.#checkOpen(operation);
    const scan = scanOrThrow(this.#codec, await readLogBytes(this.path, operation), this.path, operation);
    for (const record of scan.records) yield record.value;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    held.delete(this.#key);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The offset of the one record, or of each record, of an append. */
function offsetsOf(result: AppendDurableResult, encoded: { starts: number[]; many: boolean }): number | number[] {
  const offsets = encoded.starts.map((start) => result.offset + start);
  return encoded.many ? offsets : (offsets[0] ?? result.offset);
}

/**
 * Opens the durable log at `path` (created at the first append if absent) after recovering it:
 * the file is scanned, its valid records form a prefix, and a torn tail after them (a partial
 * record, or the NUL bytes an unflushed append can leave on ext4) is truncated durably and
 * reported on {@link DurableLog.recovery}, or, with `onTornTail: 'error'`, refused with a
 * {@link TornTailError} that changes nothing. Invalid bytes followed by a valid record are
 * corruption in the middle: a {@link LogCorruptionError} naming the offset, nothing changed.
 *
 * Syscalls: `realpath`; `open(O_RDONLY)`, `fstat`, `read`, `close` (the scan); for a torn tail
 * `open(path, O_WRONLY)`, `ftruncate`, `fdatasync` (or `fsync`), `close`. Each append is then one
 * `appendDurable` call (its syscalls, one `write()` with `O_APPEND` per call).
 *
 * Guarantees: an append's promise resolves once its records are on stable storage; records of
 * concurrent appends (from this or other processes) never interleave within a record. Recovery
 * truncates: open a log only when no other process is appending to it (after a crash, before
 * the writers start). A second open of a log this process holds open is refused (`EBUSY`).
 *
 * @throws `TypeError` for bad arguments; {@link TornTailError}; {@link LogCorruptionError};
 *   `DurableWriteError` with `code` `'EBUSY'` (stage `'open'`) when this process holds the log.
 * @example
 * ```ts
 * import { openDurableLog } from 'durable-write';
 * await using log = await openDurableLog('/var/lib/app/events.log', { format: 'lines', json: true });
 * await log.append({ event: 'start' });
 * ```
 */
export function openDurableLog(path: string | URL, options: OpenDurableLogOptions & { format: 'framed' }): Promise<DurableLog<Uint8Array>>;
export function openDurableLog(path: string | URL, options: OpenDurableLogOptions & { format: 'lines'; json: true }): Promise<DurableLog<unknown>>;
export function openDurableLog(path: string | URL, options: OpenDurableLogOptions & { format: 'lines' }): Promise<DurableLog<string>>;
export function openDurableLog(path: string | URL, options: OpenDurableLogOptions): Promise<DurableLog<unknown>>;
export async function openDurableLog(path: string | URL, options: OpenDurableLogOptions): Promise<DurableLog<unknown>> {
  const operation = 'openDurableLog';
  const target = checkPath(path, 'path', operation);
  const { codec, format, o } = checkLogOptions(options, OPEN_OPTIONS, operation);
  const onTornTail = checkChoice(o['onTornTail'], ['truncate', 'error'] as const, 'truncate', 'onTornTail', operation);
  const flush: FlushMethod = o['flush'] === undefined ? 'fdatasync' : checkFlush(o['flush'], operation);
  const key = await fsp.realpath(target).catch(() => nodePath.resolve(target));
  if (held.has(key)) {
    throw new DurableWriteError(`${operation}: ${target} is already open as a durable log in this process; close it first`, { code: 'EBUSY', stage: 'open', path: target });
  }
  held.add(key);
  try {
    const bytes = await readLogBytes(target, operation);
    const scan = scanOrThrow(codec, bytes, target, operation);
    const tornBytes = bytes.byteLength - scan.validEnd;
    if (tornBytes > 0 && onTornTail === 'error') {
      throw new TornTailError(
        `${operation}: ${target} ends in a torn tail of ${tornBytes} bytes after its last valid record (offset ${scan.validEnd}); onTornTail: 'error' left it unchanged`,
        { path: target, offset: scan.validEnd, tornBytes },
      );
    }
    if (tornBytes > 0) await truncateDurably(target, scan.validEnd, flush, operation);
    return new OpenLog(target, format, { validRecords: scan.records.length, truncatedBytes: tornBytes }, codec, flush, key);
  } catch (error) {
    held.delete(key);
    throw error;
  }
}
