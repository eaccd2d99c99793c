/**
 * The temporary files this process holds right now (created, not yet renamed or removed), so
 * that cleaning up after crashed writers never removes one a live write is using.
 *
 * @internal
 * @module
 */

const held = new Set<string>();

/** Records `tmpPath` as in use from its creation... */
export function holdTemp(tmpPath: string): void {
  held.add(tmpPath);
}

/** ...until it is renamed over its target or removed. */
export function releaseTemp(tmpPath: string): void {
  held.delete(tmpPath);
}

/** Whether a write in this process holds `tmpPath`. */
export function isTempHeld(tmpPath: string): boolean {
  return held.has(tmpPath);
}
