/**
 * `createParents`: creating the missing directories above a target durably, as a new directory
 * needs its parent fsynced before its name survives a crash.
 *
 * @internal
 * @module
 */
import * as nodePath from 'node:path';
import { perform, type Operation } from '../core/effect.js';
import { errnoCode, type DurableWriteError } from '../core/errors.js';
import { wrapError, type FailureContext } from '../core/failure.js';
import type { DirectorySyncRule, FileIo } from '../core/file-io.js';
import { flushDirectory } from './flush.js';
import type { ResolvedTarget } from './resolve-target.js';

/** The directories {@link createDirectories} made, and the directory fsyncs refused under `'best-effort'`. */
export interface CreatedDirectories {
  /** The directories created, outermost first. */
  readonly created: readonly string[];
  readonly refused: readonly DurableWriteError[];
}

/**
 * The error of a write into a missing directory without `createParents`, naming the first
 * missing directory and the option that creates it. The kernel fails the walk at the first
 * missing directory, even where a later `..` would lead back to one that exists
 * (`missing/../f`), as `fs.writeFile` does.
 */
export function missingDirectoryError(target: string, resolved: ResolvedTarget, ctx: FailureContext): DurableWriteError {
  const where = resolved.missingDirectory ?? `a directory in ${target}`;
  const missing = Object.assign(
    new Error(`${where} does not exist; pass createParents: true (the command: --create-parents) to create the missing directories`),
    { code: 'ENOENT' },
  );
  return wrapError('open', missing, ctx, `opening the directory of ${target}`);
}

/** Nothing created: the target's directory existed. */
export const NONE_CREATED: CreatedDirectories = { created: [], refused: [] };

/**
 * Creates `dir` and every missing ancestor (mode `0o777`, less the umask), then fsyncs the
 * parent of each directory it created, top down, so that the whole path survives a crash.
 */
export function* createDirectories(
  io: FileIo,
  dir: string,
  policy: DirectorySyncRule,
  ctx: FailureContext,
): Operation<CreatedDirectories> {
  const missing: string[] = [];
  for (let current = dir; ; current = nodePath.dirname(current)) {
    try {
      const stats = yield* perform(io.stat(current));
      if (!stats.isDirectory()) {
        throw wrapError('mkdir', Object.assign(new Error(`${current} is not a directory`), { code: 'ENOTDIR' }), ctx);
      }
      break;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' || nodePath.dirname(current) === current) throw wrapError('mkdir', error, ctx);
      missing.unshift(current);
    }
  }
  const created: string[] = [];
  for (const path of missing) {
    try {
      yield* perform(io.mkdir(path, 0o777));
      created.push(path);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw wrapError('mkdir', error, ctx);
    }
  }
  const refused: DurableWriteError[] = [];
  for (const path of created) {
    const outcome = yield* flushDirectory(io, nodePath.dirname(path), policy, ctx);
    if (outcome.error !== undefined) refused.push(outcome.error);
  }
  return { created, refused };
}
