/**
 * Checking the caller's arguments before the disk is touched: paths, modes, enums, the signal
 * and the fs seam. Bad input is a programmer error and is thrown as Node does for its own APIs:
 * a `TypeError` with `code` `ERR_INVALID_ARG_TYPE`, or a `RangeError`/`TypeError` with
 * `ERR_INVALID_ARG_VALUE`.
 *
 * @internal
 * @module
 */
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFileSystem, type DurableFileSystem } from './file-system.js';
import { invalidArgType } from '../write/data-source.js';

/** A `TypeError` with Node's `ERR_INVALID_ARG_VALUE` code. */
export function invalidArgValue(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** The absolute path for a `string | URL` argument named `name` of `operation`. */
export function checkPath(value: unknown, name: string, operation: string): string {
  let path: string;
  if (typeof value === 'string') path = value;
  else if (value instanceof URL) {
    if (value.protocol !== 'file:') throw invalidArgValue(`${operation}: ${name} must be a file: URL; received ${value.protocol} URL`);
    path = fileURLToPath(value);
  } else if (typeof value === 'number') {
    throw invalidArgType(`${operation}: ${name} must be a path (string or file: URL); a file descriptor cannot be replaced atomically`);
  } else {
    throw invalidArgType(`${operation}: ${name} must be a string or a file: URL; received ${value === null ? 'null' : typeof value}`);
  }
  if (path === '') throw invalidArgValue(`${operation}: ${name} must not be empty`);
  if (path.includes('\u0000')) throw invalidArgValue(`${operation}: ${name} must not contain a NUL byte`);
  return nodePath.resolve(path);
}

/** Whether the caller's path names a directory by its form (`dir/`, `.`, `..`). */
export function namesDirectory(value: string | URL): boolean {
  const path = typeof value === 'string' ? value : value.pathname;
  return /[\\/]$/.test(path) || /(^|[\\/])\.\.?$/.test(path);
}

/** A file mode: an integer or octal string within `0o7777`. */
export function checkMode(value: unknown, operation: string): number | undefined {
  if (value === undefined) return undefined;
  const mode = typeof value === 'string' && /^[0-7]{1,4}$/.test(value) ? Number.parseInt(value, 8) : value;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw invalidArgValue(`${operation}: mode must be an integer from 0 to 0o7777 or an octal string; received ${String(value)}`);
  }
  return mode;
}

/** One of `allowed`, or `fallback` when `value` is undefined. */
export function checkChoice<T extends string>(value: unknown, allowed: readonly T[], fallback: T, name: string, operation: string): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalidArgValue(`${operation}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; received ${String(value)}`);
}

/** A boolean, or `fallback` when undefined. */
export function checkBoolean(value: unknown, fallback: boolean, name: string, operation: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  throw invalidArgType(`${operation}: ${name} must be a boolean; received ${typeof value}`);
}

/** An encoding Buffer knows, defaulting to utf8 (`null` too, as with `fs.writeFile`). */
export function checkEncoding(value: unknown, operation: string): BufferEncoding {
  if (value === undefined || value === null) return 'utf8';
  if (typeof value === 'string' && Buffer.isEncoding(value)) return value;
  throw invalidArgValue(`${operation}: unknown encoding ${String(value)}`);
}

/** An `AbortSignal` or undefined. */
export function checkSignal(value: unknown, operation: string): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw invalidArgType(`${operation}: signal must be an AbortSignal`);
}

const REQUIRED_ASYNC = ['open', 'rename', 'unlink', 'mkdir', 'stat', 'lstat', 'readlink'] as const;
const REQUIRED_SYNC = [
  'openSync', 'writeSync', 'fsyncSync', 'fdatasyncSync', 'fchmodSync', 'fchownSync', 'closeSync',
  'renameSync', 'unlinkSync', 'mkdirSync', 'statSync', 'lstatSync', 'readlinkSync',
] as const;

/** The fs seam to use: `value`, checked for the functions the given mode calls, or Node's. */
export function checkFileSystem(value: unknown, mode: 'sync' | 'async', operation: string): DurableFileSystem {
  if (value === undefined) return nodeFileSystem;
  if (typeof value !== 'object' || value === null) throw invalidArgType(`${operation}: fs must be a DurableFileSystem object`);
  const needed = mode === 'sync' ? REQUIRED_SYNC : REQUIRED_ASYNC;
  const absent = needed.filter((name) => typeof (value as Record<string, unknown>)[name] !== 'function');
  if (absent.length > 0) throw invalidArgType(`${operation}: fs lacks ${absent.join(', ')}`);
  return value as DurableFileSystem;
}

/** The options object of a function that, like `fs.writeFile`, also takes an encoding string. */
export function optionsObject(value: unknown, operation: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'string') return { encoding: value };
  if (typeof value === 'object') return value as Record<string, unknown>;
  throw invalidArgType(`${operation}: options must be an object or an encoding string`);
}
