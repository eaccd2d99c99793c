/**
 * Finding the file a write must replace: a symlink at the target is followed (the link stays,
 * the file it points to is replaced), hop by hop so that a dangling link names the file to create.
 *
 * @internal
 * @module
 */
import * as nodePath from 'node:path';
import type { DurableStats } from '../core/file-system.js';
import { perform, type Operation } from '../core/effect.js';
import { errnoCode } from '../core/errors.js';
import type { FileIo } from '../core/file-io.js';
import { wrapError, type FailureContext } from '../core/failure.js';

/** Linux's limit on symlinks followed in one lookup (MAXSYMLINKS). */
const MAX_SYMLINK_HOPS = 40;

/** The file to replace and its current stats (`undefined` when it does not exist yet). */
export interface ResolvedTarget {
  readonly path: string;
  readonly stats: DurableStats | undefined;
}

/** Follows symlinks from the absolute path `target` to the file a write replaces. */
export function* resolveTarget(io: FileIo, target: string, ctx: FailureContext): Operation<ResolvedTarget> {
  let current = target;
  for (let hop = 0; hop <= MAX_SYMLINK_HOPS; hop += 1) {
    let stats: DurableStats;
    try {
      stats = yield* perform(io.lstat(current));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { path: current, stats: undefined };
      throw wrapError('stat', error, ctx);
    }
    if (!stats.isSymbolicLink()) return { path: current, stats };
    let link: string;
    try {
      link = yield* perform(io.readlink(current));
    } catch (error) {
      throw wrapError('stat', error, ctx);
    }
    current = nodePath.resolve(nodePath.dirname(current), link);
  }
  throw wrapError('stat', Object.assign(new Error(`too many levels of symbolic links at ${target}`), { code: 'ELOOP' }), ctx);
}
