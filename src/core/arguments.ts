/**
 * The argument prologue every public function runs before it touches the disk, spawns a program
 * or builds anything: the options object (with unknown names rejected), then one named checker
 * per argument. Bad input is a programmer error and is thrown as Node throws for its own APIs:
 * a `TypeError` with `code` `ERR_INVALID_ARG_TYPE` (wrong type) or `ERR_INVALID_ARG_VALUE`
 * (right type, wrong value). Every message has one shape:
 * `<function>: <name> must be <what>; received <what came>`.
 *
 * @internal
 * @module
 */
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { directoryFlushRequired } from './failure.js';
import { type DirectorySyncPolicy, type DirectorySyncRule, type FlushMethod } from './file-io.js';
import { nodeFileSystem, type DurableFileSystem } from './file-system.js';
import { hostPlatform, RENAME_RETRY_MS, type Platform } from './platform.js';

/** A `TypeError` with Node's `ERR_INVALID_ARG_TYPE` code: an argument of the wrong type. */
export function invalidArgType(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** A `TypeError` with Node's `ERR_INVALID_ARG_VALUE` code: an argument of the right type but a wrong value. */
export function invalidArgValue(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** How a received value is named in a message: its type, or its class for an object. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  if (typeof value === 'string') return `'${value.slice(0, 40)}'`;
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The known name closest to `name`, when one is close enough to be a likely typo. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Rejects an own property of `options` that is not in `known`, naming the closest known one. */
export function checkOptionNames(options: object, known: readonly string[], operation: string): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const guess = closestName(name, known);
    throw invalidArgValue(
      `${operation}: unknown option '${name}'${guess === undefined ? '' : ` (did you mean ${guess}?)`}; known options: ${known.join(', ')}`,
    );
  }
}

/**
 * The options object of `operation`: `{}` for `undefined` (and `null`, as `fs.writeFile`
 * accepts), `{ encoding }` for a string where the function takes an encoding string in place of
 * its options, else an object whose every name is in `known`.
 */
export function optionsObject(
  value: unknown,
  known: readonly string[],
  operation: string,
  acceptsEncoding = false,
): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (acceptsEncoding && typeof value === 'string') return { encoding: value };
  if (typeof value !== 'object') {
    throw invalidArgType(
      `${operation}: options must be an object${acceptsEncoding ? ' or an encoding string' : ''}; received ${describeValue(value)}`,
    );
  }
  checkOptionNames(value, known, operation);
  // A snapshot of the own options: each is read once, by its checker, whatever the caller does after.
  return Object.fromEntries(Object.entries(value));
}

/** The absolute path for a `string | URL` argument named `name` of `operation`, its `..` left for the kernel. */
export function checkPath(value: unknown, name: string, operation: string, platform: Platform = hostPlatform): string {
  let path: string;
  if (typeof value === 'string') path = value;
  else if (value instanceof URL) {
    if (value.protocol !== 'file:') throw invalidArgValue(`${operation}: ${name} must be a file: URL; received ${value.protocol} URL`);
    path = fileURLToPath(value);
  } else if (typeof value === 'number') {
    throw invalidArgType(`${operation}: ${name} must be a path (string or file: URL); a file descriptor cannot be replaced atomically`);
  } else {
    throw invalidArgType(`${operation}: ${name} must be a string or a file: URL; received ${describeValue(value)}`);
  }
  if (path === '') throw invalidArgValue(`${operation}: ${name} must not be empty`);
  if (path.includes('\u0000')) throw invalidArgValue(`${operation}: ${name} must not contain a NUL byte`);
  return absolutePath(path, platform);
}

/**
 * `path` made absolute as the platform resolves it. POSIX: not normalised, since `..` after a
 * symlinked directory is for the kernel to resolve (it leads to the parent of the link's target),
 * never for a lexical `path.resolve`. Windows: `path.resolve`, in `\` separators, since Win32
 * itself resolves `.` and `..` lexically before the file system sees a path.
 */
function absolutePath(path: string, platform: Platform): string {
  if (platform === 'windows') return nodePath.win32.resolve(path);
  return nodePath.isAbsolute(path) ? path : `${process.cwd()}/${path}`;
}

/** Whether the caller's path (already checked with {@link checkPath}) names a directory by its form (`dir/`, `.`, `..`). */
export function namesDirectory(value: unknown): boolean {
  const path = typeof value === 'string' ? value : value instanceof URL ? value.pathname : '';
  return /[\\/]$/.test(path) || /(^|[\\/])\.\.?$/.test(path);
}

/** A file mode: an integer or octal string within `0o7777`; `undefined` when not given. */
export function checkMode(value: unknown, operation: string): number | undefined {
  if (value === undefined) return undefined;
  const mode = typeof value === 'string' && /^[0-7]{1,4}$/.test(value) ? Number.parseInt(value, 8) : value;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw invalidArgValue(`${operation}: mode must be an integer from 0 to 0o7777 or an octal string; received ${describeValue(value)}`);
  }
  return mode;
}

/** One of `allowed`, or `fallback` when `value` is undefined. */
export function checkChoice<T extends string, F extends T | undefined>(
  value: unknown,
  allowed: readonly T[],
  fallback: F,
  name: string,
  operation: string,
): T | F {
  if (value === undefined) return fallback;
  const match = allowed.find((candidate) => candidate === value);
  if (match !== undefined) return match;
  throw invalidArgValue(`${operation}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; received ${describeValue(value)}`);
}

/**
 * The `flush` option: `'fsync'` (the default) or `'fdatasync'`; with `acceptsTrue`, `true` too
 * (`fs.writeFile`'s `flush: true`), meaning `'fsync'`. `false` is refused with the reason.
 */
export function checkFlush(value: unknown, operation: string, acceptsTrue = false): FlushMethod {
  if (value === true && acceptsTrue) return 'fsync';
  if (value === false) throw invalidArgValue(`${operation}: flush: false is not supported; a durable write always flushes`);
  return checkChoice(value, ['fsync', 'fdatasync'], 'fsync', 'flush', operation);
}

/**
 * The `directorySync` option of an operation on `path`, resolved for the platform. On Linux and
 * macOS: `'required'` (the default) or `'best-effort'`, as given. On Windows, which offers no
 * directory flush: `'unavailable'` for the default and `'best-effort'` (no directory is opened; the
 * result reports it unflushed), and an explicit `'required'` is refused before any I/O with a
 * `DurableWriteError` (code `ENOTSUP`, stage `validate`).
 */
export function checkDirectorySync(value: unknown, operation: string, path: string, platform: Platform = hostPlatform): DirectorySyncRule {
  const policy = checkChoice<DirectorySyncPolicy, undefined>(value, ['required', 'best-effort'], undefined, 'directorySync', operation);
  if (platform === 'posix') return policy ?? 'required';
  if (policy === 'required') throw directoryFlushRequired(operation, path);
  return 'unavailable';
}

/**
 * The `renameRetryMs` option: how long, in milliseconds, a rename refused with `EPERM`, `EACCES`
 * or `EBUSY` is retried. Windows only (another process holding the file is transient there); by
 * default {@link RENAME_RETRY_MS}`.async` or `.sync` by `mode`, at most `.max`. Elsewhere such a
 * refusal is permanent: the option is checked, and the window is 0.
 */
export function checkRenameRetry(value: unknown, mode: CallMode, operation: string, platform: Platform = hostPlatform): number {
  const window = checkInteger(value, 0, RENAME_RETRY_MS.max, 'renameRetryMs', operation) ?? RENAME_RETRY_MS[mode];
  return platform === 'windows' ? window : 0;
}

/** A boolean, or `fallback` when undefined. */
export function checkBoolean(value: unknown, fallback: boolean, name: string, operation: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  throw invalidArgType(`${operation}: ${name} must be a boolean; received ${describeValue(value)}`);
}

/** A non-empty string without NUL bytes, or `fallback` when undefined. */
export function checkString<T extends string | undefined>(value: unknown, fallback: T, name: string, operation: string): string | T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw invalidArgType(`${operation}: ${name} must be a string; received ${describeValue(value)}`);
  if (value === '') throw invalidArgValue(`${operation}: ${name} must not be empty`);
  if (value.includes('\u0000')) throw invalidArgValue(`${operation}: ${name} must not contain a NUL byte`);
  return value;
}

/** An integer from `min` to `max`, or `undefined` when not given. */
export function checkInteger(value: unknown, min: number, max: number, name: string, operation: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw invalidArgType(`${operation}: ${name} must be a number; received ${describeValue(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidArgValue(`${operation}: ${name} must be an integer from ${min} to ${max}; received ${describeValue(value)}`);
  }
  return value;
}

/** A non-negative finite number (fractions allowed), or `fallback` when undefined. */
export function checkNonNegativeNumber(value: unknown, fallback: number, name: string, operation: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw invalidArgType(`${operation}: ${name} must be a number; received ${describeValue(value)}`);
  if (!Number.isFinite(value) || value < 0) {
    throw invalidArgValue(`${operation}: ${name} must be a non-negative finite number; received ${describeValue(value)}`);
  }
  return value;
}

/** A file owner `{ uid, gid }` (non-negative integers), or `undefined` when not given. */
export function checkOwner(value: unknown, name: string, operation: string): { uid: number; gid: number } | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) {
    throw invalidArgType(`${operation}: ${name} must be an object { uid, gid }; received ${describeValue(value)}`);
  }
  checkOptionNames(value, ['uid', 'gid'], `${operation}: ${name}`);
  const uid = checkInteger(Reflect.get(value, 'uid'), 0, 0xffff_ffff, `${name}.uid`, operation);
  const gid = checkInteger(Reflect.get(value, 'gid'), 0, 0xffff_ffff, `${name}.gid`, operation);
  if (uid === undefined || gid === undefined) throw invalidArgType(`${operation}: ${name} needs both uid and gid`);
  return { uid, gid };
}

/** A function, or `undefined` when not given. */
export function checkFunction<F extends (...args: never[]) => unknown>(value: unknown, name: string, operation: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidArgType(`${operation}: ${name} must be a function; received ${describeValue(value)}`);
  // typeof narrows to Function only; the caller's signature is what the option's type promises.
  return value as F;
}

/** An encoding Buffer knows, defaulting to utf8 (`null` too, as with `fs.writeFile`). */
export function checkEncoding(value: unknown, operation: string): BufferEncoding {
  if (value === undefined || value === null) return 'utf8';
  if (typeof value === 'string' && Buffer.isEncoding(value)) return value;
  throw invalidArgValue(`${operation}: encoding must be an encoding Buffer knows; received ${describeValue(value)}`);
}

/** An `AbortSignal` or undefined. */
export function checkSignal(value: unknown, operation: string): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw invalidArgType(`${operation}: signal must be an AbortSignal; received ${describeValue(value)}`);
}

/** The members of the seam each mode calls; together, every required member of {@link DurableFileSystem}. */
const SEAM_MEMBERS = {
  async: ['open', 'rename', 'unlink', 'mkdir', 'stat', 'lstat', 'readlink', 'realpath'],
  sync: [
    'openSync', 'writeSync', 'fsyncSync', 'fdatasyncSync', 'fchmodSync', 'fchownSync', 'closeSync',
    'renameSync', 'unlinkSync', 'mkdirSync', 'statSync', 'lstatSync', 'readlinkSync', 'realpathSync',
  ],
} as const satisfies Record<CallMode, readonly (keyof DurableFileSystem)[]>;

/** The seam's required members that neither list names: `never` when the lists and the type agree. */
type UncheckedMembers = Exclude<
  { [K in keyof DurableFileSystem]-?: undefined extends DurableFileSystem[K] ? never : K }[keyof DurableFileSystem],
  (typeof SEAM_MEMBERS)['async' | 'sync'][number]
>;
/** Fails to compile when a required seam member is added without being checked here. */
const seamListsComplete: [UncheckedMembers] extends [never] ? true : UncheckedMembers = true;
void seamListsComplete;

function isFileSystem(value: object, needed: readonly string[]): value is DurableFileSystem {
  return needed.every((name) => typeof Reflect.get(value, name) === 'function');
}

/** The fs seam to use: `value`, checked for the functions the given mode calls, or Node's. */
export function checkFileSystem(value: unknown, mode: CallMode, operation: string): DurableFileSystem {
  if (value === undefined) return nodeFileSystem;
  if (typeof value !== 'object' || value === null) {
    throw invalidArgType(`${operation}: fs must be a DurableFileSystem object; received ${describeValue(value)}`);
  }
  const needed = SEAM_MEMBERS[mode];
  if (isFileSystem(value, needed)) return value;
  const absent = needed.filter((name) => typeof Reflect.get(value, name) !== 'function');
  throw invalidArgType(`${operation}: fs must be a DurableFileSystem; it lacks ${absent.join(', ')}`);
}

/** Whether a function blocks (`*Sync`) or returns a promise. */
export type CallMode = 'sync' | 'async';

/** The options object of a file operation, with the two options every one of them takes checked. */
export interface FileOperationOptions {
  /** Every option, names checked; read the function's own options from here with their checkers. */
  readonly options: Record<string, unknown>;
  /** The `fs` option: the seam to run on (Node's by default). */
  readonly fs: DurableFileSystem;
  /** The `signal` option (always `undefined` for a synchronous call, which cannot be aborted). */
  readonly signal: AbortSignal | undefined;
}

/**
 * The prologue of a file operation's options: the object (`known` names only; a synchronous
 * call takes no `signal`), then `fs` checked for what `mode` calls, then `signal`.
 */
export function fileOperationOptions(
  value: unknown,
  known: readonly string[],
  mode: CallMode,
  operation: string,
  acceptsEncoding = false,
): FileOperationOptions {
  const names = mode === 'sync' ? known.filter((name) => name !== 'signal') : known;
  const options = optionsObject(value, names, operation, acceptsEncoding);
  return { options, fs: checkFileSystem(options['fs'], mode, operation), signal: checkSignal(options['signal'], operation) };
}

/** The longest delay a Node timer honours: 2^31-1 ms (about 24.8 days). A longer one fires after 1 ms. */
export const MAX_TIMER_MS = 0x7fff_ffff;

/**
 * A delay in milliseconds that a Node timer can arm: a number above 0 (from 0 with `allowZero`)
 * and at most {@link MAX_TIMER_MS}, so that the timer cannot fire early.
 */
export function checkTimeout(value: unknown, name: string, operation: string, allowZero = false): number {
  if (typeof value !== 'number') throw invalidArgType(`${operation}: ${name} must be a number; received ${describeValue(value)}`);
  if (!(allowZero ? value >= 0 : value > 0) || value > MAX_TIMER_MS) {
    throw invalidArgValue(
      `${operation}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds up to ${MAX_TIMER_MS} ` +
        `(Node's timer limit, about 24.8 days); received ${describeValue(value)}`,
    );
  }
  return value;
}
