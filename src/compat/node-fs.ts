/**
 * `writeFile` and `writeFileSync` as `node:fs/promises` and `node:fs` take them, made durable;
 * and the call beneath them, {@link fsWrite}/{@link fsWriteSync}, which fs-extra's functions share
 * since fs-extra writes through `fs.writeFile` too.
 *
 * `fs.writeFile` opens the target for writing (`O_WRONLY|O_CREAT|O_TRUNC`, `mode`), so: its
 * `mode` only applies to a file it creates, reduced by the umask, an existing file keeping its
 * own; and an existing file this process may not write (mode 0444, say, when not root) is refused
 * with `EACCES` and left as it is. A durable replace always makes a new file and renames it over
 * the old one, which needs only the directory writable; the twins ask the write's own resolution
 * of the target for both decisions (the plan's `newFileMode` and `requireWritable`), never a
 * separate look at the path that the file could change after.
 *
 * @internal
 * @module
 */
import type { PathLike } from 'node:fs';
import { checkEncoding, checkFlush, checkSignal, type CallMode } from '../core/arguments.js';
import { discardData } from '../write/data-source.js';
import type { PlanAdditions } from '../write/replacement.js';
import { writeDurableSyncWith, writeDurableWith, type WriteDurableData } from '../write/write-durable.js';
import { checkFlag, compatMode, compatOptions, compatPath } from './arguments.js';

/** The options of `fs/promises`' `writeFile` that a durable replace honours. */
export interface WriteFileOptions {
  /** Encoding of string data (and string chunks). Default `'utf8'`. */
  readonly encoding?: BufferEncoding | null | undefined;
  /**
   * The mode of a file the call creates (a number, or an octal string such as `'644'`), reduced
   * by the umask, as `fs.writeFile` does; an existing file keeps its mode. Default `0o666`.
   */
  readonly mode?: number | string | null | undefined;
  /** Only `'w'` (replace the whole file), the default; any other flag is a `TypeError` saying why. */
  readonly flag?: 'w' | null | undefined;
  /** Aborts the write before its rename: the target is untouched and the promise rejects with an `AbortError`. */
  readonly signal?: AbortSignal | undefined;
  /** Always flushed: `true` is accepted, `false` is a `TypeError` (it would give up durability). */
  readonly flush?: true | null | undefined;
}

/** The options of `fs`'s `writeFileSync` that a durable replace honours: those of {@link WriteFileOptions} but `signal`. */
export type WriteFileSyncOptions = Omit<WriteFileOptions, 'signal'>;

/** `fs.writeFile`'s option names, and `writeFileSync`'s. */
const FS_WRITE_NAMES = ['encoding', 'mode', 'flag', 'signal', 'flush'] as const satisfies readonly (keyof WriteFileOptions)[];
const FS_WRITE_SYNC_NAMES = ['encoding', 'mode', 'flag', 'flush'] as const satisfies readonly (keyof WriteFileSyncOptions)[];

/** A call with `fs.writeFile`'s arguments, to be made durable. */
export interface FsWriteCall {
  readonly operation: string;
  readonly file: unknown;
  readonly options: unknown;
  /** The caller's data argument: destroyed if it is a stream and the call fails before reading it. */
  readonly given: unknown;
  /** Option names the function takes besides `fs.writeFile`'s (fs-extra's JSON options). */
  readonly extraNames: readonly string[];
  /** The data to write, made from the checked options (it may throw the function's own `TypeError`). */
  readonly dataOf: (options: Readonly<Record<string, unknown>>) => WriteDurableData;
  /** Whether missing parent directories are created (fs-extra's `output*`). */
  readonly createParents: boolean;
}

/** A call whose every argument is checked: what `writeDurable` is given. */
interface CheckedWrite {
  readonly target: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly data: WriteDurableData;
  /** `fs.writeFile`'s ways, decided on the write's own resolution of the target: `mode` for a new file only, a target it could not open refused. */
  readonly additions: PlanAdditions;
}

/** Checks every argument of `call` (no I/O). */
function checkCall(call: FsWriteCall, mode: CallMode): CheckedWrite {
  const { operation } = call;
  const names = mode === 'sync' ? FS_WRITE_SYNC_NAMES : FS_WRITE_NAMES;
  const o = compatOptions(call.options, [...names, ...call.extraNames], operation);
  checkFlag(o['flag'], operation);
  const target = compatPath(call.file, 'file', operation);
  const signal = checkSignal(o['signal'], operation);
  const options = {
    encoding: checkEncoding(o['encoding'], operation),
    flush: checkFlush(o['flush'], operation, true),
    createParents: call.createParents,
    ...(signal === undefined ? {} : { signal }),
  };
  const newFileMode = compatMode(o['mode'], operation);
  const data = call.dataOf(o);
  return { target, data, options, additions: { requireWritable: true, ...(newFileMode === undefined ? {} : { newFileMode }) } };
}

/** `fs.writeFile`'s call, made with `writeDurable`: resolves to `undefined` once durable. */
export async function fsWrite(call: FsWriteCall): Promise<void> {
  let checked: CheckedWrite;
  try {
    checked = checkCall(call, 'async');
  } catch (error) {
    discardData(call.given);
    throw error;
  }
  await writeDurableWith(call.operation, checked.target, checked.options, [], () => checked.data, call.given, checked.additions);
}

/** `fs.writeFileSync`'s call, made with `writeDurableSync`. */
export function fsWriteSync(call: FsWriteCall): void {
  const checked = checkCall(call, 'sync');
  writeDurableSyncWith(call.operation, checked.target, checked.options, [], () => checked.data, checked.additions);
}

/**
 * A durable `writeFile` of `node:fs/promises`: the same arguments and defaults, resolving to
 * `undefined`, but the file is replaced atomically and durably.
 *
 * Syscalls: those of `writeDurable`: `open(dir, O_DIRECTORY)`, held;
 * `open(".<name>.<pid>.<random>.dwtmp", O_WRONLY|O_CREAT|O_EXCL, 0600)` beside the target; `write` until
 * every byte is written; `fchown` (only to keep an existing target's owner); `fchmod`; `fsync`;
 * `close`; `rename(tmp, file)`; `fsync(dir)`; `close(dir)`. Before them, the target is resolved
 * (`realpath` of its directory, `lstat`) and, when it exists, `access(W_OK)`: a file this process
 * could not open for writing is refused with `EACCES`, as `fs.writeFile` refuses it.
 *
 * Guarantee: once the promise resolves the new content and its name are on stable storage, and
 * until then a reader or a crash sees the old content whole, never a truncated or half-written
 * file. On rejection before the rename the target is untouched and the temporary file removed.
 *
 * Unlike `fs.writeFile`: `file` must be a path (a descriptor or a `FileHandle` is a `TypeError`:
 * an open file cannot be replaced atomically); `flag` must be `'w'` and `flush` cannot be `false`
 * (`TypeError`s that say why); failures are `DurableWriteError`s that keep the errno `code`.
 *
 * @param file - the file to replace: a string, a `Buffer` or a `file:` URL.
 * @param data - a string, a `Buffer` or any `ArrayBufferView`, an iterable or async iterable of
 *   them, or a `Readable`.
 * @param options - {@link WriteFileOptions}, or an encoding string.
 *
 * @example
 * ```ts
 * // import { writeFile } from 'node:fs/promises';
 * import { writeFile } from 'durable-write/compat';
 * await writeFile('/var/lib/app/state.json', JSON.stringify(state), { mode: 0o600 });
 * ```
 */
export function writeFile(file: PathLike, data: WriteDurableData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
  return fsWrite({ operation: 'writeFile', file, options, given: data, extraNames: [], dataOf: () => data, createParents: false });
}

/**
 * A durable `writeFileSync` of `node:fs`: the same arguments and defaults, returning
 * `undefined` once the file is replaced atomically and durably.
 *
 * Syscalls: those of {@link writeFile} (`writeDurableSync`'s, the same in the same order),
 * blocking the thread.
 *
 * Guarantee: once it returns, the new content and its name are on stable storage; until then a
 * reader or a crash sees the old content whole. On a throw before the rename the target is
 * untouched and the temporary file removed.
 *
 * @param file - the file to replace: a string, a `Buffer` or a `file:` URL.
 * @param data - a string, a `Buffer` or any `ArrayBufferView`.
 * @param options - {@link WriteFileSyncOptions}, or an encoding string.
 *
 * @example
 * ```ts
 * // import { writeFileSync } from 'node:fs';
 * import { writeFileSync } from 'durable-write/compat';
 * writeFileSync('/etc/app/config.ini', 'port=8080\n', 'utf8');
 * ```
 */
export function writeFileSync(file: PathLike, data: string | NodeJS.ArrayBufferView, options?: WriteFileSyncOptions | BufferEncoding | null): void {
  fsWriteSync({ operation: 'writeFileSync', file, options, given: data, extraNames: [], dataOf: () => data, createParents: false });
}
