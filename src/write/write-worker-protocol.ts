/**
 * What the calling thread and the write worker (`write-worker.ts`) send each other: a job (a
 * write's checked arguments and its whole data), its reply (the result or the error), and the
 * errors in a form that survives `postMessage` (a structured clone keeps an error's message but
 * drops its class, `code`, `stage` and the rest, so they travel as plain fields and are rebuilt).
 *
 * @internal
 * @module
 */
import { DurableWriteError, FlushError, isFlushError, type DurableWriteStage } from '../core/errors.js';
import type { DirectorySyncRule, FlushMethod } from '../core/file-io.js';
import type { DurableStats } from '../core/file-system.js';
import type { ResolvedTarget } from './resolve-target.js';
import type { WriteDurableResult } from './write-options.js';

/** One `writeDurable` call for the worker: everything `planWrite` checked, and the data. */
export interface WriteJob {
  readonly id: number;
  readonly operation: string;
  readonly target: string;
  /** The calling thread's resolution of `target`, which ordered the call: the write uses it, as the general path does. */
  readonly resolved: SentTarget;
  /** A string (encoded in the worker) or a copy of the caller's bytes. */
  readonly data: string | Uint8Array;
  readonly encoding: BufferEncoding;
  readonly mode: number | undefined;
  readonly newFileMode: number;
  readonly owner: { readonly uid: number; readonly gid: number } | undefined;
  readonly keepOwner: boolean;
  readonly requireWritable: boolean;
  readonly flush: FlushMethod;
  readonly directorySync: DirectorySyncRule;
  readonly renameRetryMs: number;
  readonly createParents: boolean;
}

/** A resolved target, its stats as plain fields (a structured clone drops `isFile()` and the others). */
export interface SentTarget {
  readonly path: string;
  readonly stats: Omit<DurableStats, 'isFile' | 'isDirectory' | 'isSymbolicLink'> | undefined;
  readonly directoryExists: boolean;
}

/** An error as plain fields. */
export type SentError =
  | {
      readonly kind: 'durable-write';
      readonly flush: boolean;
      readonly message: string;
      readonly code: string | undefined;
      readonly stage: DurableWriteStage;
      readonly path: string | undefined;
      readonly tmpPath: string | undefined;
      readonly stack: string | undefined;
      readonly cause: SentError | undefined;
    }
  | {
      readonly kind: 'error';
      readonly name: string;
      readonly message: string;
      readonly stack: string | undefined;
      /** An `ErrnoException`'s fields, those that are set. */
      readonly fields: Readonly<Record<string, string | number>>;
    };

type SentDurableWriteError = Extract<SentError, { kind: 'durable-write' }>;

/** The result, its errors as plain fields. */
export interface SentResult {
  readonly path: string;
  readonly bytesWritten: number;
  readonly directorySynced: boolean;
  readonly directorySyncErrors: readonly SentDurableWriteError[];
  readonly createdDirectories: readonly string[];
}

/**
 * The worker's answer to a job; `ready` is its first message, once it can take jobs. `short`: the
 * write found no free descriptor (EMFILE, ENFILE) before it created anything, so nothing changed;
 * the job's data comes back with it, for the calling thread to try again once a descriptor is free.
 */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly result: SentResult }
  | { readonly type: 'failed'; readonly id: number; readonly error: SentError }
  | { readonly type: 'short'; readonly id: number; readonly error: SentError; readonly data: WriteJob['data'] };

/** The fields of Node's `ErrnoException` (and `SystemError`) worth keeping. */
const ERRNO_FIELDS = ['code', 'errno', 'syscall', 'path', 'dest'] as const;

/** A `DurableWriteError` as plain fields. */
function sendDurableWriteError(error: DurableWriteError): SentDurableWriteError {
  return {
    kind: 'durable-write',
    flush: isFlushError(error),
    message: error.message,
    code: error.code,
    stage: error.stage,
    path: error.path,
    tmpPath: error.tmpPath,
    stack: error.stack,
    cause: error.cause === undefined ? undefined : sendError(error.cause),
  };
}

/** `error` as plain fields. */
export function sendError(error: unknown): SentError {
  if (error instanceof DurableWriteError) return sendDurableWriteError(error);
  const fields: Record<string, string | number> = {};
  if (typeof error === 'object' && error !== null) {
    for (const name of ERRNO_FIELDS) {
      const value: unknown = Reflect.get(error, name);
      if (typeof value === 'string' || typeof value === 'number') fields[name] = value;
    }
  }
  return error instanceof Error
    ? { kind: 'error', name: error.name, message: error.message, stack: error.stack, fields }
    : { kind: 'error', name: 'Error', message: String(error), stack: undefined, fields };
}

/** A `DurableWriteError` (or `FlushError`) again. */
function receiveDurableWriteError(sent: SentDurableWriteError): DurableWriteError {
  const options = {
    code: sent.code,
    stage: sent.stage,
    path: sent.path,
    tmpPath: sent.tmpPath,
    cause: sent.cause === undefined ? undefined : receiveError(sent.cause),
  };
  const error = sent.flush ? new FlushError(sent.message, options) : new DurableWriteError(sent.message, options);
  if (sent.stack !== undefined) error.stack = sent.stack;
  return error;
}

/** The error `sent` stood for: a `DurableWriteError` (or `FlushError`) again, or an `Error` with the errno fields. */
export function receiveError(sent: SentError): Error {
  if (sent.kind === 'durable-write') return receiveDurableWriteError(sent);
  const error = sent.name === 'TypeError' ? new TypeError(sent.message) : new Error(sent.message);
  if (sent.name !== error.name) error.name = sent.name;
  if (sent.stack !== undefined) error.stack = sent.stack;
  return Object.assign(error, sent.fields);
}

/** `result` as plain fields. */
export function sendResult(result: WriteDurableResult): SentResult {
  return {
    ...result,
    directorySyncErrors: result.directorySyncErrors.map(sendDurableWriteError),
  };
}

/** The result `sent` stood for. */
export function receiveResult(sent: SentResult): WriteDurableResult {
  return {
    ...sent,
    directorySyncErrors: sent.directorySyncErrors.map(receiveDurableWriteError),
    createdDirectories: [...sent.createdDirectories],
  };
}

/** `resolved` as plain fields. */
export function sendTarget(resolved: ResolvedTarget): SentTarget {
  const stats = resolved.stats;
  return {
    path: resolved.path,
    directoryExists: resolved.directoryExists,
    stats: stats === undefined ? undefined : { ino: stats.ino, mode: stats.mode, uid: stats.uid, gid: stats.gid, size: stats.size, mtimeMs: stats.mtimeMs },
  };
}

/** The file type bits of a mode, and three of their values (`<sys/stat.h>`). */
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** The resolved target `sent` stood for, its stats' type tests answered from `mode`. */
export function receiveTarget(sent: SentTarget): ResolvedTarget {
  const fields = sent.stats;
  if (fields === undefined) return { ...sent, stats: undefined };
  const type = fields.mode & S_IFMT;
  const stats: DurableStats = {
    ...fields,
    isFile: () => type === S_IFREG,
    isDirectory: () => type === S_IFDIR,
    isSymbolicLink: () => type === S_IFLNK,
  };
  return { ...sent, stats };
}
