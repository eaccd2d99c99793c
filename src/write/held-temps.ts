/**
 * The temporary files this process holds right now (created, not yet renamed or removed), so
 * that cleaning up after crashed writers never removes one a live write is using.
 *
 * A write run by the write worker creates its temp file on another thread, under a name this
 * thread never learns; its target is held instead ({@link holdTarget}), and every temp name
 * that can belong to that target counts as held.
 *
 * @internal
 * @module
 */
import * as nodePath from 'node:path';
import { parseTempPath } from './temp-name.js';
import { processState } from './process-state.js';

/**
 * The temp files held, and the targets being written by the worker with how many writes to each
 * are in flight: shared by every copy of the library in this thread (`process-state.ts`).
 */
const { heldTemps: held, heldTargets } = processState;

/** Records `tmpPath` as in use from its creation... */
export function holdTemp(tmpPath: string): void {
  held.add(tmpPath);
}

/** ...until it is renamed over its target or removed. */
export function releaseTemp(tmpPath: string): void {
  held.delete(tmpPath);
}

/** Records that a write to `target` runs elsewhere: any temp file it may have is held... */
export function holdTarget(target: string): void {
  heldTargets.set(target, (heldTargets.get(target) ?? 0) + 1);
}

/** ...until that write has ended. */
export function releaseTarget(target: string): void {
  const count = (heldTargets.get(target) ?? 0) - 1;
  if (count > 0) heldTargets.set(target, count);
  else heldTargets.delete(target);
}

/**
 * Whether `tmpPath` can be the temp file of a write to a held target: a name of the current
 * format (`temp-name.ts`) made by this process, whose cut target name starts a held target's.
 */
function belongsToHeldTarget(tmpPath: string): boolean {
  if (heldTargets.size === 0) return false;
  const name = parseTempPath(tmpPath);
  if (name === undefined || name.pid !== process.pid) return false;
  const cut = name.base;
  const directory = nodePath.dirname(tmpPath);
  for (const target of heldTargets.keys()) {
    if (nodePath.dirname(target) === directory && nodePath.basename(target).startsWith(cut)) return true;
  }
  return false;
}

/** Whether a write in this process holds `tmpPath`. */
export function isTempHeld(tmpPath: string): boolean {
  return held.has(tmpPath) || belongsToHeldTarget(tmpPath);
}
