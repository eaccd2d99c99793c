/**
 * Crash-state exploration, after ALICE (Pillai et al., OSDI 2014): every state the disk may hold
 * if the power fails now, given the pending (volatile) changes and the persistence rules.
 *
 * The rules: the pending changes are grouped by the inode whose flush would make them durable
 * (a file's data and attributes by the file; a directory's entries by the directory; a rename
 * between two directories by both). Each group reaches the disk as a prefix, in the order its
 * changes were made, and the groups are independent of one another; a change in two groups (a
 * rename between directories) reaches the disk only if both prefixes include it, and then whole
 * (a rename is atomic: the name is at its old place or at its new one, never lost or doubled).
 * With `sectorSize` set, a `write()` is recorded as one change per sector, so a prefix of a
 * file's group may end in the middle of a write (a torn write).
 *
 * The number of candidates is the product of (group length + 1) over the groups; it is checked
 * against a cap before anything is enumerated. States that look the same are reported once.
 *
 * @module
 */
import { applyChange } from './changes.js';
import type { PendingChange } from './change-log.js';
import { cloneState, fingerprint, type FsState } from './state.js';

/** One explored state, before it is wrapped for the caller. */
export interface ExploredState {
  readonly state: FsState;
  /** Labels of the pending changes that reached the disk in this state. */
  readonly kept: readonly string[];
  /** Labels of the pending changes that did not. */
  readonly lost: readonly string[];
}

/** The number of candidate states (before duplicates are removed) for `pending`. */
export function countCandidates(pending: readonly PendingChange[]): number {
  let product = 1;
  for (const group of groupsOf(pending).values()) product *= group.length + 1;
  return product;
}

function groupsOf(pending: readonly PendingChange[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  pending.forEach((change, index) => {
    for (const scope of change.scopes) {
      const group = groups.get(scope);
      if (group === undefined) groups.set(scope, [index]);
      else group.push(index);
    }
  });
  return groups;
}

/**
 * Yields every distinct crash state: first the one where no pending change reached the disk (the
 * simple model), last the one where all did. Throws a RangeError, before yielding, when the
 * candidates exceed `cap`.
 */
export function* exploreCrashStates(
  durable: FsState,
  pending: readonly PendingChange[],
  cap: number,
): Generator<ExploredState, void, undefined> {
  const groups = [...groupsOf(pending).values()];
  const candidates = countCandidates(pending);
  if (candidates > cap) {
    throw new RangeError(
      `crashStates(): ${candidates} candidate crash states (${pending.length} unflushed changes in ` +
        `${groups.length} files and directories) exceed the cap of ${cap}; raise maxCrashStates or ` +
        'flush (fsync, sync) more often in the code under test',
    );
  }
  // For each group: where each of its changes stands in it (by index in `pending`), and the cut:
  // how many of its changes, oldest first, reach the disk in the state being built.
  const cuts = groups.map((group) => ({
    positions: new Map(group.map((changeIndex, position) => [changeIndex, position])),
    size: group.length,
    cut: 0,
  }));
  const seen = new Set<string>();
  const emit = (): ExploredState | undefined => {
    const state = cloneState(durable);
    const kept: string[] = [];
    const lost: string[] = [];
    pending.forEach((change, index) => {
      const included = cuts.every(({ positions, cut }) => {
        const position = positions.get(index);
        return position === undefined || position < cut;
      });
      if (included) {
        applyChange(state, change.change);
        kept.push(change.label);
      } else {
        lost.push(change.label);
      }
    });
    const key = fingerprint(state);
    if (seen.has(key)) return undefined;
    seen.add(key);
    return { state, kept, lost };
  };
  for (;;) {
    const explored = emit();
    if (explored !== undefined) yield explored;
    // Next combination of cuts, as a mixed-radix counter; done when it wraps around.
    const next = cuts.find((group) => group.cut < group.size);
    if (next === undefined) return;
    for (const group of cuts) {
      if (group === next) break;
      group.cut = 0;
    }
    next.cut += 1;
  }
}
