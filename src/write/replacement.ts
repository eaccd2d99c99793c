/**
 * Replacing a file through a temporary file, in the phases every write form shares
 * (`writeDurable`, `openDurable`, the stream, the compat layer):
 *
 * 1. {@link planWrite}: every argument checked, before any I/O.
 * 2. {@link resolveOperation}: the file the kernel would open for the path.
 * 3. {@link prepareReplacement}: parents created (with `createParents`), the directory opened and
 *    held, the temp file created (`O_CREAT|O_EXCL`, 0600): everything that can fail for lack of
 *    resources fails here, before anything changes.
 * 4. data written with {@link writeBytes} (by the caller of these phases).
 * 5. {@link completeReplacement}: owner, mode, one flush, close, rename (retried on Windows while
 *    another process holds the file: `rename-retry.ts`), then the directory fsync (skipped and
 *    reported on Windows, which offers none).
 *    Or {@link abandonReplacement}: the temp file closed and removed, the directory released.
 *
 * @internal
 * @module
 */
import { constants } from 'node:fs';
import * as nodePath from 'node:path';
import {
  checkBoolean,
  checkDirectorySync,
  checkRenameRetry,
  checkEncoding,
  checkFlush,
  checkFunction,
  checkMode,
  checkOwner,
  checkPath,
  invalidArgValue,
  namesDirectory,
  type CallMode,
} from '../core/arguments.js';
import { perform, type EffectObserver, type Operation } from '../core/effect.js';
import { DurableWriteError, errnoCode } from '../core/errors.js';
import { attempt, quietly, throwIfAborted, wrapError, type FailureContext } from '../core/failure.js';
import { CREATE_EXCLUSIVE, fileIo, type DirectorySyncRule, type FileIo, type FlushMethod, type OpenFile } from '../core/file-io.js';
import type { DurableFileSystem, DurableStats } from '../core/file-system.js';
import { createDirectories, missingDirectoryError, NONE_CREATED, type CreatedDirectories } from './create-parents.js';
import { holdDirectory, releaseDirectory, syncHeldDirectory, whenDescriptorsFree, type HeldDirectory } from './flush.js';
import { holdTemp, releaseTemp } from './held-temps.js';
import { renameRetrying } from './rename-retry.js';
import { resolveTarget, type ResolvedTarget } from './resolve-target.js';
import { tempPathFor } from './temp-name.js';
import { currentUmask } from './umask.js';
import type { WriteDurableResult, WriteDurableStepEvent } from './write-options.js';

/** A write, its arguments checked. */
export interface WritePlan {
  readonly target: string;
  /** The mode asked for, applied exactly; `undefined` to keep an existing target's, or to give a new one {@link newFileMode}. */
  readonly mode: number | undefined;
  /**
   * Without `mode`, the mode of a file the write creates (the target absent when the write
   * resolved it), reduced by the umask as `open(2)` reduces it: `fs.writeFile`'s `mode`, decided
   * on the write's own resolution of the target. `0o666` from {@link planWrite}.
   */
  readonly newFileMode: number;
  /** The owner asked for; `undefined` to keep an existing target's (unless {@link keepOwner} is false). */
  readonly owner: { readonly uid: number; readonly gid: number } | undefined;
  /** Without `owner`, whether an existing target's owner is kept; `false` is write-file-atomic's `chown: false`. `true` from {@link planWrite}. */
  readonly keepOwner: boolean;
  /**
   * Whether an existing target must be writable by this process (`access(W_OK)` in
   * {@link resolveOperation}), as `fs.writeFile` must open it for writing: the compat layer's
   * twins of `fs.writeFile` and fs-extra. `false` from {@link planWrite}: a replace needs only
   * the directory writable.
   */
  readonly requireWritable: boolean;
  /** Called once the temp file exists, before any data is written (write-file-atomic's `tmpfileCreated`). */
  readonly onTempCreated: ((tmpPath: string) => void | Promise<void>) | undefined;
  readonly flush: FlushMethod;
  /** The `directorySync` option resolved for the platform (`'unavailable'` on Windows unless refused). */
  readonly directorySync: DirectorySyncRule;
  /** How long a rename refused for a file another process holds is retried, in ms (`renameRetryMs`; 0 but on Windows). */
  readonly renameRetryMs: number;
  readonly createParents: boolean;
  readonly signal: AbortSignal | undefined;
  readonly fs: DurableFileSystem;
  readonly observe: EffectObserver | undefined;
  readonly encoding: BufferEncoding;
}

/**
 * What a function built on `writeDurable` sets in its plan beyond `writeDurable`'s options (the
 * compat layer: write-file-atomic's `tmpfileCreated` and `chown: false`, `fs.writeFile`'s `mode`
 * and its refusal of a read-only target); each absent field keeps {@link planWrite}'s value.
 */
export type PlanAdditions = Partial<Pick<WritePlan, 'onTempCreated' | 'newFileMode' | 'keepOwner' | 'requireWritable'>>;

/** How many fresh names to try when a temporary name is taken (EEXIST). */
const TEMP_NAME_ATTEMPTS = 5;

/**
 * Errors with which `fchown` refuses to give the temp file the target's owner: without the
 * privilege (not root) the new file stays the writer's, as it would with `fs.writeFile` of a new
 * file. Any other error (EIO...) fails the write.
 */
const CHOWN_REFUSALS: ReadonlySet<string> = new Set(['EPERM', 'EINVAL', 'ENOSYS', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * Checks every argument but the data (the options object `o` already name-checked), throwing
 * before any I/O; `mode` is the call's (a synchronous call retries a refused rename for less long).
 */
export function planWrite(
  path: unknown,
  o: Record<string, unknown>,
  fs: DurableFileSystem,
  signal: AbortSignal | undefined,
  operation: string,
  mode: CallMode = 'async',
): WritePlan {
  const target = checkPath(path, 'path', operation);
  if (o['flag'] !== undefined && o['flag'] !== 'w') {
    throw invalidArgValue(`${operation}: flag must be 'w' (a durable write always replaces the whole file); received ${String(o['flag'])}`);
  }
  const onStep = checkFunction<(event: WriteDurableStepEvent) => void>(o['onStep'], 'onStep', operation);
  if (namesDirectory(path)) {
    throw new DurableWriteError(`${operation}: ${target} names a directory; the target must be a file`, {
      code: 'EISDIR',
      stage: 'validate',
      path: target,
    });
  }
  return {
    target,
    encoding: checkEncoding(o['encoding'], operation),
    mode: checkMode(o['mode'], operation),
    newFileMode: 0o666,
    owner: checkOwner(o['owner'], 'owner', operation),
    keepOwner: true,
    requireWritable: false,
    onTempCreated: undefined,
    flush: checkFlush(o['flush'], operation, true),
    directorySync: checkDirectorySync(o['directorySync'], operation, target),
    renameRetryMs: checkRenameRetry(o['renameRetryMs'], mode, operation),
    createParents: checkBoolean(o['createParents'], false, 'createParents', operation),
    signal,
    fs,
    observe: onStep === undefined ? undefined : (step, milliseconds) => onStep({ step, milliseconds }),
  };
}

/** Refuses a target that is neither a regular file nor absent. */
function checkReplaceable(resolved: ResolvedTarget, operation: string, target: string): void {
  if (resolved.stats === undefined || resolved.stats.isFile()) return;
  // Replacing a device, FIFO or socket with a regular file (think /dev/null as root) is never
  // what a caller meant; fs.writeFile would have written into it instead.
  const isDirectory = resolved.stats.isDirectory();
  throw new DurableWriteError(
    `${operation}: ${resolved.path} is ${isDirectory ? 'a directory' : 'not a regular file (a device, FIFO or socket)'}; the target must be a regular file or not exist`,
    { code: isDirectory ? 'EISDIR' : 'EINVAL', stage: 'validate', path: target },
  );
}

/**
 * With `plan.requireWritable`, refuses an existing target this process could not open for
 * writing, as `fs.writeFile` would (`EACCES`, `EROFS`...): `access(W_OK)` asks the kernel, which
 * weighs the owner, the groups, ACLs, capabilities and read-only mounts as `open` does. A target
 * removed since its `lstat` (`ENOENT`) is left to the write, which creates it.
 */
function* checkWritable(io: FileIo, resolved: ResolvedTarget, ctx: FailureContext): Operation<void> {
  try {
    yield* perform(io.access(resolved.path, constants.W_OK));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw wrapError('validate', error, ctx, `the check that ${resolved.path} is writable by this process (fs.writeFile would open it for writing)`);
  }
}

/** The file `plan.target` names, as the kernel resolves it; refused unless a regular file or absent (and writable, with `requireWritable`). */
export function* resolveOperation(plan: WritePlan, ctx: FailureContext): Operation<ResolvedTarget> {
  throwIfAborted(plan.signal, 'validate', ctx);
  const io = fileIo(plan.fs);
  const resolved = yield* resolveTarget(io, plan.target, ctx);
  checkReplaceable(resolved, ctx.operation, plan.target);
  if (plan.requireWritable && resolved.stats !== undefined) yield* checkWritable(io, resolved, ctx);
  return resolved;
}

/** A replacement under way: the temp file exists and the directory is held. */
export interface Replacement {
  readonly resolved: ResolvedTarget;
  readonly parents: CreatedDirectories;
  readonly held: HeldDirectory;
  readonly tmpPath: string;
  /** The temp file, open for writing; `undefined` once closed. */
  file: OpenFile | undefined;
}

/** Creates the temporary file exclusively, with a fresh name if one is taken. */
function* createTemp(io: FileIo, target: string, ctx: FailureContext): Operation<{ file: OpenFile; tmpPath: string }> {
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    const tmpPath = tempPathFor(target);
    // Held from before it exists, so that a cleanup in this process can never remove it.
    holdTemp(tmpPath);
    try {
      const file = yield* perform(io.open(tmpPath, CREATE_EXCLUSIVE, 0o600));
      return { file, tmpPath };
    } catch (error) {
      releaseTemp(tmpPath);
      if (errnoCode(error) !== 'EEXIST' || attemptNumber >= TEMP_NAME_ATTEMPTS) throw wrapError('open', error, ctx);
    }
  }
}

/** Parents (with `createParents`), the directory held, the temp file created; on failure nothing is left held. */
export function* prepareReplacement(io: FileIo, plan: WritePlan, resolved: ResolvedTarget, ctx: FailureContext): Operation<Replacement> {
  const directory = nodePath.dirname(resolved.path);
  if (!resolved.directoryExists && !plan.createParents) throw missingDirectoryError(plan.target, resolved, ctx);
  const parents =
    plan.createParents && !resolved.directoryExists ? yield* createDirectories(io, directory, plan.directorySync, ctx) : NONE_CREATED;
  // Short of descriptors, the directory and the temp file are both closed again before waiting
  // for one of ours to close (see whenDescriptorsFree).
  const { held, temp } = yield* whenDescriptorsFree(io, plan.signal, () => openReplacement(io, plan, directory, resolved.path, ctx));
  ctx.tmpPath = temp.tmpPath;
  return { resolved, parents, held, tmpPath: temp.tmpPath, file: temp.file };
}

/** The directory held, then the temp file created; on failure, neither. */
function* openReplacement(
  io: FileIo,
  plan: WritePlan,
  directory: string,
  target: string,
  ctx: FailureContext,
): Operation<{ held: HeldDirectory; temp: { file: OpenFile; tmpPath: string } }> {
  throwIfAborted(plan.signal, 'open', ctx);
  const held = yield* holdDirectory(io, directory, plan.directorySync, ctx);
  try {
    return { held, temp: yield* createTemp(io, target, ctx) };
  } catch (error) {
    yield* releaseDirectory(io, held);
    throw error;
  }
}

/** Writes `bytes` whole to `file`, looping over short writes. */
export function* writeBytes(io: FileIo, file: OpenFile, bytes: Uint8Array, ctx: FailureContext): Operation<void> {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const written = yield* attempt('write', io.write(file, bytes, offset, bytes.byteLength - offset), ctx);
    if (!Number.isInteger(written) || written <= 0) {
      throw wrapError('write', Object.assign(new Error(`write made no progress (returned ${written})`), { code: 'EIO' }), ctx);
    }
    offset += written;
  }
}

/** Closes and removes the temp file and releases the directory: nothing of the replacement stays. */
export function* abandonReplacement(io: FileIo, replacement: Replacement): Operation<void> {
  if (replacement.file !== undefined) yield* quietly(io.close(replacement.file));
  replacement.file = undefined;
  yield* quietly(io.unlink(replacement.tmpPath));
  releaseTemp(replacement.tmpPath);
  yield* releaseDirectory(io, replacement.held);
}

/**
 * Owner, mode, one flush (never retried: after a failure Linux has already dropped the error and
 * the data), close, rename over the target, then the directory fsync. `file` is the descriptor
 * to finish (the replacement's own, or one opened on what a third party left at the temp path);
 * `current` is the target's stats now (its mode and owner are kept). Before the rename a failure
 * abandons the replacement; after it only the directory fsync can fail.
 */
export function* completeReplacement(
  io: FileIo,
  plan: WritePlan,
  replacement: Replacement,
  file: OpenFile,
  current: DurableStats | undefined,
  bytesWritten: number,
  ctx: FailureContext,
): Operation<WriteDurableResult> {
  const { resolved, tmpPath } = replacement;
  let fileOpen = true;
  try {
    if (plan.owner !== undefined) {
      yield* attempt('chown', io.chown(file, plan.owner.uid, plan.owner.gid), ctx);
    } else if (plan.keepOwner && current !== undefined && (current.uid !== process.geteuid?.() || current.gid !== process.getegid?.())) {
      try {
        yield* perform(io.chown(file, current.uid, current.gid));
      } catch (error) {
        if (!CHOWN_REFUSALS.has(errnoCode(error) ?? '')) throw wrapError('chown', error, ctx);
      }
    }
    const mode = plan.mode ?? (current === undefined ? plan.newFileMode & ~currentUmask() : current.mode & 0o7777);
    yield* attempt('chmod', io.chmod(file, mode), ctx);
    throwIfAborted(plan.signal, 'flush', ctx);
    yield* attempt('flush', io.flush(file, plan.flush), ctx);
    if (file === replacement.file) replacement.file = undefined;
    fileOpen = false;
    yield* attempt('close', io.close(file), ctx);
    throwIfAborted(plan.signal, 'rename', ctx);
    yield* renameRetrying(io, tmpPath, resolved.path, { windowMs: plan.renameRetryMs, signal: plan.signal }, ctx);
  } catch (error) {
    if (fileOpen && file !== replacement.file) yield* quietly(io.close(file));
    yield* abandonReplacement(io, replacement);
    throw error;
  }
  releaseTemp(tmpPath);
  ctx.tmpPath = undefined;
  ctx.renamed = true;
  // From here on the new content is in place: only the directory fsync can fail.
  const outcome = yield* syncHeldDirectory(io, replacement.held, plan.directorySync, ctx);
  const refused = outcome.error === undefined ? replacement.parents.refused : [...replacement.parents.refused, outcome.error];
  return {
    path: resolved.path,
    bytesWritten,
    directorySynced: refused.length === 0,
    directorySyncErrors: refused,
    createdDirectories: replacement.parents.created,
  };
}
