/**
 * fs-extra 11's `outputFile`, `outputJson` and `writeJson` (with their `Sync` forms and the
 * `JSON` aliases), made durable: the same arguments, defaults and callback forms, over
 * `fs.writeFile`'s durable twin ({@link fsWrite}). `output*` create missing parent directories,
 * as fs-extra does, with `writeDurable`'s `createParents` (each new directory's parent fsynced).
 *
 * @internal
 * @module
 */
import type { PathLike } from 'node:fs';
import { describeValue, invalidArgValue } from '../core/arguments.js';
import type { JsonFormatOptions } from '../write/write-json.js';
import { wholeData } from './arguments.js';
import { fromPromise, type NoParamCallback } from './callback.js';
import { JSON_FORMAT_NAMES, jsonText } from '../write/write-json.js';
import { fsWrite, fsWriteSync, type FsWriteCall, type WriteFileOptions, type WriteFileSyncOptions } from './node-fs.js';

export type { NoParamCallback } from './callback.js';

/** fs-extra's JSON options (`JsonOutputOptions`, jsonfile's `JFWriteOptions`): how the text is made, and `fs.writeFile`'s options. */
export interface JsonWriteOptions extends JsonFormatOptions, WriteFileOptions {}

/** The options of the synchronous JSON writers: those of {@link JsonWriteOptions} but `signal`. */
export interface JsonWriteSyncOptions extends JsonFormatOptions, WriteFileSyncOptions {}

/** The data an fs-extra function writes: whole data, as its `fs.writeFile` takes it. */
type FileData = string | NodeJS.ArrayBufferView;

/** An fs-extra call: the file, the arguments after the data, and how the data is made. */
type ExtraCall = Pick<FsWriteCall, 'operation' | 'file' | 'given' | 'extraNames' | 'dataOf' | 'createParents'>;

/** fs-extra's file call: whole data, as given. */
function fileCall(operation: string, file: unknown, data: unknown, createParents: boolean): ExtraCall {
  return { operation, file, given: data, extraNames: [], dataOf: () => wholeData(data, operation), createParents };
}

/** jsonfile's error for a value with no JSON text (`undefined`, a function, a symbol): a `TypeError` with its message, kept for code that matches it. */
function jsonfileNoText(value: unknown): TypeError {
  return new TypeError(`Converting ${typeof value} value to JSON is not supported`);
}

/**
 * jsonfile's call: the text of `value`. jsonfile's own `fs` option (a module to write with) is
 * refused: the write goes through durable-write's own calls, or it would not be durable.
 */
function jsonCall(operation: string, file: unknown, value: unknown, createParents: boolean): ExtraCall {
  const dataOf = (options: Readonly<Record<string, unknown>>): string => {
    if (options['fs'] !== undefined) {
      throw invalidArgValue(
        `${operation}: fs must be absent; received ${describeValue(options['fs'])}: the file is written with durable-write's own calls (temp file, fsync, rename, directory fsync), never through another fs module`,
      );
    }
    return jsonText(value, options, operation, jsonfileNoText);
  };
  return { operation, file, given: undefined, extraNames: createParents ? JSON_FORMAT_NAMES : [...JSON_FORMAT_NAMES, 'fs'], dataOf, createParents };
}

/** fs-extra's async form of the call `callOf` makes from the data: a promise, or the callback when the last argument (after the file) is one. */
function extraAsync(operation: string, args: readonly unknown[], callOf: (data: unknown) => ExtraCall): Promise<void> | undefined {
  return fromPromise(operation, args, (data, options) => fsWrite({ ...callOf(data), options }));
}

/**
 * A durable `outputFile` of fs-extra 11: like `writeFile`, but missing parent directories are
 * created first (mode `0o777 & ~umask`). The same arguments and defaults (an options object or
 * an encoding string, default `'utf-8'`) and the same forms: with a callback last it is called
 * once with `null` or the error and nothing is returned; otherwise a promise of `undefined`.
 *
 * Syscalls: those of `writeDurable` with `createParents`: per missing directory `mkdir` and an
 * `fsync` of its parent; then `open(dir)`, `open(tmp, O_CREAT|O_EXCL)`, `write`, `fchmod`,
 * `fsync`, `close`, `rename(tmp, file)`, `fsync(dir)`, `close(dir)`. Before them, an existing
 * target is checked with `access(W_OK)`: one this process could not open for writing is refused
 * with `EACCES`, as fs-extra's `fs.writeFile` refuses it; a `mode` applies to a new file only.
 *
 * Guarantee: once it resolves (or the callback gets `null`) the content, its name and every
 * directory created are on stable storage; before, the target holds its old content whole.
 *
 * @param file - the file to replace: a string, a `Buffer` or a `file:` URL.
 * @param data - a string, a `Buffer` or any `ArrayBufferView`.
 * @param options - {@link WriteFileOptions} or an encoding string; a `flag` other than `'w'` and
 *   `flush: false` are `TypeError`s that say why.
 *
 * @example
 * ```ts
 * // import { outputFile } from 'fs-extra';
 * import { outputFile } from 'durable-write/compat';
 * await outputFile('/var/lib/app/cache/index.html', html);
 * outputFile('/var/lib/app/cache/index.html', html, (error) => { if (error) console.error(error); });
 * ```
 */
export function outputFile(file: PathLike, data: FileData, options?: WriteFileOptions | BufferEncoding | null): Promise<void>;
export function outputFile(file: PathLike, data: FileData, callback: NoParamCallback): void;
export function outputFile(file: PathLike, data: FileData, options: WriteFileOptions | BufferEncoding | null | undefined, callback: NoParamCallback): void;
export function outputFile(file: PathLike, ...args: unknown[]): Promise<void> | undefined {
  return extraAsync('outputFile', args, (data) => fileCall('outputFile', file, data, true));
}

/**
 * A durable `outputFileSync` of fs-extra 11: missing parent directories created, then the file
 * replaced as {@link writeFileSync} replaces it.
 *
 * Syscalls: those of {@link outputFile} (`writeDurableSync` with `createParents`), blocking the thread.
 *
 * Guarantee: once it returns, the content, its name and every directory created are on stable
 * storage; before, the target holds its old content whole.
 *
 * @example
 * ```ts
 * // import { outputFileSync } from 'fs-extra';
 * import { outputFileSync } from 'durable-write/compat';
 * outputFileSync('/var/lib/app/run/pid', String(process.pid));
 * ```
 */
export function outputFileSync(file: PathLike, data: FileData, options?: WriteFileSyncOptions | BufferEncoding | null): void {
  fsWriteSync({ ...fileCall('outputFileSync', file, data, true), options });
}

/**
 * A durable `outputJson` (alias `outputJSON`) of fs-extra 11: `value` as jsonfile writes it
 * (`JSON.stringify(value, replacer, spaces)`, each newline made `EOL`, `EOL` at the end unless
 * `finalEOL: false`), encoded as `encoding` says (default UTF-8), written as {@link outputFile}
 * writes (parents created), with the same forms: a callback last, or a promise.
 *
 * Syscalls: those of {@link outputFile}: per missing directory `mkdir` and an `fsync` of its
 * parent, then temp file, `write`, `fchmod`, `fsync`, `close`, `rename`, `fsync` of the directory.
 *
 * Guarantee: once it resolves (or the callback gets `null`) the JSON, its name and every
 * directory created are on stable storage; before, the target holds its old content whole. A
 * value with no JSON text (`undefined`, a function: jsonfile's `TypeError`, `Converting undefined
 * value to JSON is not supported`) or that cannot be stringified (a cycle, a BigInt) is a
 * `TypeError`, nothing touched.
 *
 * @example
 * ```ts
 * // import { outputJson } from 'fs-extra';
 * import { outputJson } from 'durable-write/compat';
 * await outputJson('/var/lib/app/state/current.json', { generation: 8 }, { spaces: 2 });
 * ```
 */
export function outputJson(file: PathLike, value: unknown, options?: JsonWriteOptions | BufferEncoding | null): Promise<void>;
export function outputJson(file: PathLike, value: unknown, callback: NoParamCallback): void;
export function outputJson(file: PathLike, value: unknown, options: JsonWriteOptions | BufferEncoding | null | undefined, callback: NoParamCallback): void;
export function outputJson(file: PathLike, ...args: unknown[]): Promise<void> | undefined {
  return extraAsync('outputJson', args, (value) => jsonCall('outputJson', file, value, true));
}

/**
 * A durable `outputJsonSync` (alias `outputJSONSync`) of fs-extra 11: the text of
 * {@link outputJson}, parents created, written as {@link outputFileSync} writes.
 *
 * Syscalls and guarantee: those of {@link outputFileSync}: per missing directory `mkdir` and an
 * `fsync` of its parent, then temp file, `write`, `fchmod`, `fsync`, `close`, `rename`, `fsync`
 * of the directory; once it returns, the JSON and its name are on stable storage.
 *
 * @example
 * ```ts
 * // import { outputJsonSync } from 'fs-extra';
 * import { outputJsonSync } from 'durable-write/compat';
 * outputJsonSync('/etc/app/conf.d/port.json', { port: 8080 }, { spaces: 2, mode: 0o640 });
 * ```
 */
export function outputJsonSync(file: PathLike, value: unknown, options?: JsonWriteSyncOptions | BufferEncoding | null): void {
  fsWriteSync({ ...jsonCall('outputJsonSync', file, value, true), options });
}

/**
 * A durable `writeJson` (alias `writeJSON`) of fs-extra 11 (jsonfile's `writeFile`): the text
 * of {@link outputJson}; no parent is created (a missing directory is an `ENOENT`). jsonfile's
 * `fs` option is refused. The same forms: a callback last, or a promise.
 *
 * Syscalls: those of `writeDurable`: `open(dir, O_DIRECTORY)`, `open(tmp, O_CREAT|O_EXCL)`,
 * `write`, `fchmod`, `fsync`, `close`, `rename(tmp, file)`, `fsync(dir)`, `close(dir)`; before
 * them `access(W_OK)` of an existing target, refused with `EACCES` as jsonfile's `fs.writeFile`
 * refuses it.
 *
 * Guarantee: once it resolves (or the callback gets `null`) the JSON and its name are on stable
 * storage; before, the target holds its old content whole.
 *
 * @example
 * ```ts
 * // import { writeJson } from 'fs-extra';
 * import { writeJson } from 'durable-write/compat';
 * await writeJson('/var/lib/app/package.json', { name: 'app' }, { spaces: 2 });
 * ```
 */
export function writeJson(file: PathLike, value: unknown, options?: JsonWriteOptions | BufferEncoding | null): Promise<void>;
export function writeJson(file: PathLike, value: unknown, callback: NoParamCallback): void;
export function writeJson(file: PathLike, value: unknown, options: JsonWriteOptions | BufferEncoding | null | undefined, callback: NoParamCallback): void;
export function writeJson(file: PathLike, ...args: unknown[]): Promise<void> | undefined {
  return extraAsync('writeJson', args, (value) => jsonCall('writeJson', file, value, false));
}

/**
 * A durable `writeJsonSync` (alias `writeJSONSync`) of fs-extra 11 (jsonfile's
 * `writeFileSync`): the text of {@link outputJson}, written as {@link writeFileSync} writes.
 *
 * Syscalls and guarantee: those of {@link writeJson}, blocking the thread: once it returns, the
 * JSON and its name are on stable storage.
 *
 * @example
 * ```ts
 * // import { writeJsonSync } from 'fs-extra';
 * import { writeJsonSync } from 'durable-write/compat';
 * writeJsonSync('/etc/app/config.json', { port: 8080 }, { spaces: 2 });
 * ```
 */
export function writeJsonSync(file: PathLike, value: unknown, options?: JsonWriteSyncOptions | BufferEncoding | null): void {
  fsWriteSync({ ...jsonCall('writeJsonSync', file, value, false), options });
}
