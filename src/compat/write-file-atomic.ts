/**
 * write-file-atomic 7's `writeFileAtomic(filename, data, options?, callback?)` and
 * `writeFileAtomic.sync`, made durable: the same arguments and defaults, and `writeDurable`'s
 * syscalls, which add what write-file-atomic leaves out: the directory fsync that makes the
 * rename itself survive a crash.
 *
 * write-file-atomic's defaults are `writeDurable`'s already: without `mode` an existing file's
 * mode is kept (else `0o666 & ~umask`), without `chown` its owner (where the process may); a
 * `mode` is applied exactly (not reduced by the umask); `chown` is `writeDurable`'s `owner`.
 * `chown: false` and `mode: false` turn those defaults off, as its README documents: the file is
 * the writer's, with mode `0o666 & ~umask`. `undefined` or `null` data makes an empty file, as
 * write-file-atomic writes it. A read-only target is replaced (a rename needs only the
 * directory writable), as write-file-atomic replaces it.
 *
 * @internal
 * @module
 */
import type { PathLike } from 'node:fs';
import { checkBoolean, checkFunction, checkOwner, invalidArgValue } from '../core/arguments.js';
import type { PlanAdditions } from '../write/replacement.js';
import { currentUmask } from '../write/umask.js';
import { writeDurableSyncWith, writeDurableWith } from '../write/write-durable.js';
import { compatMode, compatOptions, compatPath, wholeData } from './arguments.js';
import { settle, type WriteFileAtomicCallback } from './callback.js';

export type { WriteFileAtomicCallback } from './callback.js';

/** The options of write-file-atomic 7. */
export interface WriteFileAtomicOptions {
  /**
   * The owner to give the file, set with `fchown` on the temporary file before the rename (it
   * needs the privilege to give a file away: root). A refusal is an error (stage `chown`).
   * `false`: no `fchown` at all, the file is the writer's even where it replaces another's.
   * Default: an existing file's owner, kept where the process may; a new file's is the writer's.
   */
  readonly chown?: { readonly uid: number; readonly gid: number } | false | null | undefined;
  /** Encoding of string data. Default `'utf8'`. */
  readonly encoding?: BufferEncoding | null | undefined;
  /** Always fsynced: `true` is accepted, `false` is a `TypeError` (it would give up durability). */
  readonly fsync?: true | undefined;
  /**
   * Permission bits (a number, or an octal string such as `'644'`), applied exactly with `fchmod`.
   * `false`: the system default, `0o666 & ~umask`, even where the file replaces one with another
   * mode. Default: an existing file's mode; for a new file `0o666 & ~umask`.
   */
  readonly mode?: number | string | false | null | undefined;
  /**
   * Called with the temporary file's path once it exists (in the target's directory), before
   * any data is written. The promise form awaits what it returns; `sync` calls it and goes on.
   * A throw (or rejection) fails the write, the temporary file removed.
   */
  readonly tmpfileCreated?: ((tmpPath: string) => unknown) | null | undefined;
}

const ATOMIC_OPTION_NAMES = ['chown', 'encoding', 'fsync', 'mode', 'tmpfileCreated'] as const satisfies readonly (keyof WriteFileAtomicOptions)[];

/** The data write-file-atomic takes: whole data, or nothing (`undefined` or `null`: an empty file). */
export type WriteFileAtomicData = string | NodeJS.ArrayBufferView | null | undefined;

/** A call whose every argument is checked: what `writeDurable` is given. */
interface CheckedAtomicWrite {
  readonly target: string;
  readonly data: string | NodeJS.ArrayBufferView;
  readonly options: Readonly<Record<string, unknown>>;
  readonly tmpfileCreated: ((tmpPath: string) => unknown) | undefined;
  /** `chown: false`: the existing target's owner is not kept. */
  readonly additions: PlanAdditions;
}

/** write-file-atomic's `mode`: `false` is the system default (`0o666 & ~umask`), whatever the target had. */
function atomicMode(value: unknown, operation: string): number | undefined {
  return value === false ? 0o666 & ~currentUmask() : compatMode(value, operation);
}

function checkAtomicCall(operation: string, filename: unknown, data: unknown, options: unknown): CheckedAtomicWrite {
  const o = compatOptions(options, ATOMIC_OPTION_NAMES, operation);
  if (o['fsync'] === false) {
    throw invalidArgValue(
      `${operation}: fsync must be true or absent; received false: without the fsync a crash after the rename can leave the file empty or partly written, and a durable write is there to prevent that`,
    );
  }
  checkBoolean(o['fsync'], true, 'fsync', operation);
  const chownOff = o['chown'] === false;
  const target = compatPath(filename, 'filename', operation);
  // write-file-atomic writes nothing for undefined or null data: an empty file.
  const whole = data === undefined || data === null ? '' : wholeData(data, operation);
  const owner = chownOff ? undefined : checkOwner(o['chown'], 'chown', operation);
  const tmpfileCreated = checkFunction<(tmpPath: string) => unknown>(o['tmpfileCreated'], 'tmpfileCreated', operation);
  // Last: `mode: false` reads the umask, once every other argument is known good.
  const mode = atomicMode(o['mode'], operation);
  return { target, data: whole, options: { encoding: o['encoding'], mode, owner }, tmpfileCreated, additions: chownOff ? { keepOwner: false } : {} };
}

function writeAtomic(filename: unknown, data: unknown, options: unknown): Promise<void> {
  const operation = 'writeFileAtomic';
  let checked: CheckedAtomicWrite;
  try {
    checked = checkAtomicCall(operation, filename, data, options);
  } catch (error) {
    return Promise.reject(error);
  }
  const hook = checked.tmpfileCreated;
  const onTempCreated =
    hook === undefined
      ? undefined
      : async (tmpPath: string): Promise<void> => {
          await hook(tmpPath);
        };
  return writeDurableWith(operation, checked.target, checked.options, [], () => checked.data, undefined, { ...checked.additions, onTempCreated }).then(
    () => undefined,
  );
}

/**
 * A durable `writeFileAtomic.sync` of write-file-atomic 7: the same arguments and defaults,
 * returning `undefined` once the file is replaced atomically and durably. `tmpfileCreated` is
 * called synchronously (a promise it returns is not awaited).
 *
 * Syscalls: those of {@link writeFileAtomic} (`writeDurableSync`'s), blocking the thread,
 * with the directory fsync that write-file-atomic's `sync` leaves out.
 *
 * Guarantee: once it returns, the new content and its name are on stable storage; until then a
 * reader or a crash sees the old content whole.
 *
 * @example
 * ```ts
 * // const writeFileAtomic = require('write-file-atomic'); writeFileAtomic.sync(...)
 * import { writeFileAtomicSync } from 'durable-write/compat';
 * writeFileAtomicSync('/etc/app/config.json', JSON.stringify(config), { mode: 0o640 });
 * ```
 */
export function writeFileAtomicSync(filename: PathLike, data: WriteFileAtomicData, options?: WriteFileAtomicOptions | BufferEncoding | null): void {
  const operation = 'writeFileAtomic.sync';
  const checked = checkAtomicCall(operation, filename, data, options);
  const hook = checked.tmpfileCreated;
  const onTempCreated = hook === undefined ? undefined : (tmpPath: string): void => void hook(tmpPath);
  writeDurableSyncWith(operation, checked.target, checked.options, [], () => checked.data, { ...checked.additions, onTempCreated });
}

/**
 * A durable `writeFileAtomic` of write-file-atomic 7 (its default export): the same arguments,
 * defaults and forms: `writeFileAtomic(filename, data, options?)` returns a promise of
 * `undefined`; with a callback (in the options' place or after them) the callback is called
 * once, with `undefined` or the error, and nothing is returned. `writeFileAtomic.sync` is
 * {@link writeFileAtomicSync}.
 *
 * Syscalls: those of `writeDurable`: `open(dir, O_DIRECTORY)`, held;
 * `open(".<name>.<pid>.<random>.dwtmp", O_WRONLY|O_CREAT|O_EXCL, 0600)` beside the target, then
 * `tmpfileCreated`; `write`; `fchown` (with `chown`, or to keep an existing file's owner);
 * `fchmod`; `fsync`; `close`; `rename(tmp, filename)`; `fsync(dir)`; `close(dir)`.
 * write-file-atomic makes no directory fsync, so a crash just after it returns can lose the
 * rename; here the promise resolves only once the name is durable too.
 *
 * Guarantee: once it resolves, the new content and its name are on stable storage; until then a
 * reader or a crash sees the old content whole. On failure the target is untouched and the
 * temporary file removed. `fsync: false` is a `TypeError` that says why; failures are
 * `DurableWriteError`s that keep the errno `code`.
 *
 * @param filename - the file to replace: a string or a `file:` URL.
 * @param data - a string, a `Buffer` or any `ArrayBufferView` (all of its bytes); `undefined` or
 *   `null` for an empty file.
 * @param options - {@link WriteFileAtomicOptions}, or an encoding string.
 *
 * @example
 * ```ts
 * // import writeFileAtomic from 'write-file-atomic';
 * import { writeFileAtomic } from 'durable-write/compat';
 * await writeFileAtomic('/var/lib/app/state.json', JSON.stringify(state), { chown: { uid: 1000, gid: 1000 } });
 * writeFileAtomic('/var/lib/app/state.json', JSON.stringify(state), (error) => { if (error) throw error; });
 * writeFileAtomic.sync('/var/lib/app/state.json', JSON.stringify(state));
 * ```
 */
export function writeFileAtomic(filename: PathLike, data: WriteFileAtomicData, options?: WriteFileAtomicOptions | BufferEncoding | null): Promise<void>;
export function writeFileAtomic(filename: PathLike, data: WriteFileAtomicData, callback: WriteFileAtomicCallback): void;
export function writeFileAtomic(
  filename: PathLike,
  data: WriteFileAtomicData,
  options: WriteFileAtomicOptions | BufferEncoding | null | undefined,
  callback: WriteFileAtomicCallback,
): void;
export function writeFileAtomic(filename: PathLike, data: WriteFileAtomicData, options?: unknown, callback?: unknown): Promise<void> | undefined {
  const optionsAreCallback = typeof options === 'function';
  const done = checkFunction<WriteFileAtomicCallback>(optionsAreCallback ? options : (callback ?? undefined), 'callback', 'writeFileAtomic');
  const promise = writeAtomic(filename, data, optionsAreCallback ? undefined : options);
  if (done === undefined) return promise;
  settle(promise, done, undefined);
  return undefined;
}

writeFileAtomic.sync = writeFileAtomicSync;
