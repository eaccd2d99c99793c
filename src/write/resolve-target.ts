/**
 * Finding the file a write replaces, exactly as the kernel would open the caller's path: the
 * directory part is resolved by `realpath(3)` (symlinked directories followed, and `..` taken
 * from the directory actually reached, not lexically), then a symlink at the final component is
 * followed hop by hop (the link stays, the file it points to is replaced), each hop's directory
 * resolved the same way, so that a relative link target with `..` lands where the kernel puts
 * it and a dangling link names the file to create.
 *
 * @internal
 * @module
 */
import * as nodePath from 'node:path';
import { perform, type Operation } from '../core/effect.js';
import { errnoCode } from '../core/errors.js';
import { wrapError, type FailureContext } from '../core/failure.js';
import type { FileIo } from '../core/file-io.js';
import type { DurableStats } from '../core/file-system.js';

/** Linux's limit on symlinks followed in one lookup (MAXSYMLINKS). */
const MAX_SYMLINK_HOPS = 40;

/** The file to replace. */
export interface ResolvedTarget {
  /** Its canonical path: no symlink, `.` or `..` in its directories. */
  readonly path: string;
  /** Its current stats; `undefined` when it does not exist yet. */
  readonly stats: DurableStats | undefined;
  /** Whether its directory exists (false only when some directories above it are missing). */
  readonly directoryExists: boolean;
  /** When it does not: the first missing directory on the way, for messages. */
  readonly missingDirectory?: string | undefined;
}

/** A directory's canonical path, and whether it exists (a missing one is placed under its nearest existing ancestor). */
interface CanonicalDirectory {
  readonly path: string;
  readonly exists: boolean;
  /** When it does not exist: the first missing directory of its path, below its nearest existing ancestor. */
  readonly firstMissing?: string | undefined;
}

/** The directory part of a path, without normalising it (`dirname('/a/b/../c')` is `/a/b/..`). */
function directoryOf(path: string): string {
  return nodePath.dirname(path);
}

function* canonicalDirectory(io: FileIo, dir: string, ctx: FailureContext): Operation<CanonicalDirectory> {
  try {
    return { path: yield* perform(io.realpath(dir)), exists: true };
  } catch (error) {
    const parent = directoryOf(dir);
    if (errnoCode(error) !== 'ENOENT' || parent === dir) throw wrapError('stat', error, ctx);
  }
  // Missing: what is above it still resolves as the kernel would; below the nearest existing
  // ancestor, every directory will be a real one created by createParents, so `..` is lexical there.
  const above = yield* canonicalDirectory(io, directoryOf(dir), ctx);
  const path = nodePath.resolve(above.path, nodePath.basename(dir));
  return { path, exists: false, firstMissing: above.exists ? path : above.firstMissing };
}

/** Follows the absolute (unnormalised) `target` to the file a write replaces. */
export function* resolveTarget(io: FileIo, target: string, ctx: FailureContext): Operation<ResolvedTarget> {
  let current = target;
  for (let hop = 0; hop <= MAX_SYMLINK_HOPS; hop += 1) {
    const dir = yield* canonicalDirectory(io, directoryOf(current), ctx);
    const name = nodePath.basename(current);
    if (name === '.' || name === '..') {
      throw wrapError('validate', Object.assign(new Error(`${current} names a directory`), { code: 'EISDIR' }), ctx);
    }
    const path = nodePath.join(dir.path, name);
    if (!dir.exists) return { path, stats: undefined, directoryExists: false, missingDirectory: dir.firstMissing };
    let stats: DurableStats;
    try {
      stats = yield* perform(io.lstat(path));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { path, stats: undefined, directoryExists: true };
      throw wrapError('stat', error, ctx);
    }
    if (!stats.isSymbolicLink()) return { path, stats, directoryExists: true };
    let link: string;
    try {
      link = yield* perform(io.readlink(path));
    } catch (error) {
      throw wrapError('stat', error, ctx);
    }
    // Unnormalised: the next hop's realpath resolves the link's `..` from the directory reached.
    current = nodePath.isAbsolute(link) ? link : `${dir.path}${nodePath.sep}${link}`;
  }
  throw wrapError('stat', Object.assign(new Error(`too many levels of symbolic links at ${target}`), { code: 'ELOOP' }), ctx);
}
