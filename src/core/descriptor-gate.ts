/**
 * Waiting for a descriptor instead of failing for lack of one, as graceful-fs does for
 * `fs.open`, but only where a wait can end: when the process is out of descriptors (`EMFILE`,
 * `ENFILE`) and the library itself holds some on the same file system, one of them will be
 * closed soon, and the open can be tried again then.
 *
 * A gate counts the descriptors its file system's async effects opened (or are opening) and
 * have not closed ({@link DescriptorGate.opening}, {@link DescriptorGate.closed}), and those the
 * write worker holds for the calling thread. An operation whose open failed for lack of
 * descriptors first closes whatever it holds, then waits ({@link DescriptorGate.wait}) and tries
 * again from its first open: nobody waits while holding a descriptor, so waiters can never hold
 * every descriptor while each waits for another's (a burst of writes would: each holds its
 * directory and waits for a temp file).
 *
 * Waiters try again one at a time, in arrival order, so that they do not all rush at the free
 * descriptors at once, each taking one (its directory) and finding none for its temp file: the
 * first waiter is woken once {@link PAIR} descriptors of ours were closed since the last shortage
 * (a write needs two: a single one that comes free is not handed to a write that would open its
 * directory, fail at its temp file and close the directory, over and over); while its opens
 * succeed, each waiter hands the turn straight to the next ({@link DescriptorTurn.pass}), since
 * more may be free than closes of ours announced (after a burst, once the writes that failed have
 * closed theirs); one that is short again goes back to the head of the line and the turn waits
 * for closes again. When the library holds no descriptor any more, nothing of ours will be closed:
 * each waiter in turn tries once more and fails with the shortage if it still finds none (a lone
 * write that finds no descriptor thus tries twice; one whose try overlapped a close of ours gets
 * one try more). Only the async driver waits; the sync driver cannot, and fails as it always did.
 *
 * @internal
 * @module
 */
import { errnoCode } from './errors.js';

/** The errors of an open that found no free descriptor: for the process (`EMFILE`) or the system (`ENFILE`). */
const SHORTAGE_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);

/** Whether `error` (raw or wrapped) is the failure of an open for lack of descriptors. */
export function isDescriptorShortage(error: unknown): boolean {
  return SHORTAGE_CODES.has(errnoCode(error) ?? '');
}

/** Descriptors closed before a waiter is woken: a write's directory and temp file. */
const PAIR = 2;

/** A waiter's turn to try its opens again: passed on once they succeeded (or failed for another reason than a shortage). */
export interface DescriptorTurn {
  /** The opens got through: the next waiter tries at once. */
  pass(): void;
}

/** The descriptors one file system's async effects hold, and the operations waiting for one. */
export interface DescriptorGate {
  /**
   * An open starts: it counts as a descriptor held while it runs (it will end, and any
   * descriptor it gets will be closed). The returned function ends it: with what closes the
   * descriptor (a file handle) once it succeeded, with nothing when it failed.
   */
  opening(): (owner?: object) => void;
  /** A descriptor is held, `owner` being what closes it. */
  opened(owner: object): void;
  /** The descriptor of `owner` was closed (or its close settled): the first waiter may try again once enough came free. */
  closed(owner: object): void;
  /** `owner` held no descriptor after all (a write on the worker that found none): forgotten, not counted as come free. */
  dropped(owner: object): void;
  /** An open failed for lack of descriptors: none is free now. */
  exhausted(): void;
  /**
   * Joins the line of waiters: a promise of this waiter's turn to try again (`undefined` when
   * `signal` fired first). `turn`: the turn the waiter had, now short again: it goes back to the
   * head of the line, or, when the library holds no descriptor any more and none of ours was
   * closed while it tried, gets `undefined` (the caller fails: it tried once more while nothing of
   * ours was left to close).
   */
  wait(signal: AbortSignal | undefined, turn: DescriptorTurn | undefined): Promise<DescriptorTurn | undefined> | undefined;
}

/** A waiter in line: how to give it its turn, and whether it already had its one reprieve. */
interface Waiter {
  readonly go: (turn: DescriptorTurn) => void;
  readonly reprieved: boolean;
}

/** How a turn ended, as its waiter, short again, learns it. */
interface TurnEnd {
  /** The turn was still running (not ended before, by a pass or an earlier wait). */
  readonly ended: boolean;
  /** A descriptor of ours was closed while the turn ran: the try may have missed a free one. */
  readonly closedSince: boolean;
  readonly reprieved: boolean;
}

/** A gate for one file system. */
export function createDescriptorGate(): DescriptorGate {
  const held = new Set<object>();
  const waiters: Waiter[] = [];
  /** Descriptors of ours closed since the last shortage and not yet handed to a waiter. */
  let free = 0;
  /** Waiters trying their opens now. */
  let trying = 0;
  /** Descriptors of ours closed so far. */
  let closes = 0;
  /** How each turn given out ends (once): by {@link DescriptorTurn.pass}, or by its waiter waiting again. */
  const enders = new WeakMap<DescriptorTurn, () => TurnEnd>();
  const newTurn = (reprieved: boolean): DescriptorTurn => {
    const given = closes;
    let running = true;
    const end = (): TurnEnd => {
      const how = { ended: running, closedSince: closes !== given, reprieved };
      if (running) trying -= 1;
      running = false;
      return how;
    };
    const turn = { pass: () => void (end().ended && next(true)) };
    enders.set(turn, end);
    return turn;
  };
  /**
   * Gives turns to the first waiters: one per {@link PAIR} descriptors announced free; one more
   * when `probe` (a try got through, so more may be free) or when nothing of ours is left to
   * close, if nobody is trying.
   */
  const next = (probe: boolean): void => {
    for (let extra = probe || held.size === 0; waiters.length > 0; ) {
      if (free >= PAIR) free -= PAIR;
      else if (extra && trying === 0) extra = false;
      else return;
      trying += 1;
      const waiter = waiters.shift();
      waiter?.go(newTurn(waiter.reprieved));
    }
  };
  return {
    opening: () => {
      const running = {};
      held.add(running);
      return (owner) => {
        held.delete(running);
        if (owner !== undefined) held.add(owner);
        else next(false); // nothing of ours may be left: a waiter gets its last try
      };
    },
    opened: (owner) => void held.add(owner),
    closed: (owner) => {
      if (!held.delete(owner)) return;
      free += 1;
      closes += 1;
      next(false);
    },
    dropped: (owner) => {
      if (held.delete(owner)) next(false);
    },
    exhausted: () => {
      free = 0;
    },
    wait: (signal, had) => {
      const end = had === undefined ? undefined : enders.get(had)?.();
      const again = end?.ended === true;
      let reprieved = again && end.reprieved;
      if (again && held.size === 0) {
        // Its try found none free, and nothing of ours is left to close: it fails, the next
        // tries; once, though, it tries again if one of ours was closed while it tried (that
        // close may be its own, so only once).
        if (reprieved || !end.closedSince) {
          next(false);
          return undefined;
        }
        reprieved = true;
      }
      return new Promise<DescriptorTurn | undefined>((resolve) => {
        if (signal?.aborted === true) {
          resolve(undefined);
          next(false);
          return;
        }
        const abort = (): void => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          resolve(undefined);
        };
        const waiter: Waiter = {
          go: (turn) => {
            signal?.removeEventListener('abort', abort);
            resolve(turn);
          },
          reprieved,
        };
        signal?.addEventListener('abort', abort, { once: true });
        if (again) waiters.unshift(waiter);
        else waiters.push(waiter);
        next(false);
      });
    },
  };
}
