/**
 * Fault injection for the crash simulator: make a named operation fail with a given errno, once,
 * a number of times or always, optionally only on some paths; or make `write` short.
 *
 * @module
 */

/**
 * The operations a fault can target. Names are the system calls': `fsync` is `handle.sync()` and
 * `fsyncSync`, `fdatasync` is `handle.datasync()` and `fdatasyncSync`; `chmod`, `chown`, `stat`
 * and `truncate` also cover their descriptor forms (`fchmod`, `handle.chmod()`, `fstat`, `access`,
 * `ftruncate`). Path-level helpers (`writeFile`, `appendFile`, `readFile`) are made of `open`,
 * `write`/`read` and `close`, and fail through those.
 */
export type FaultOperation =
  | 'open'
  | 'close'
  | 'read'
  | 'write'
  | 'fsync'
  | 'fdatasync'
  | 'chmod'
  | 'chown'
  | 'stat'
  | 'lstat'
  | 'truncate'
  | 'rename'
  | 'unlink'
  | 'mkdir'
  | 'rmdir'
  | 'readdir'
  | 'readlink'
  | 'realpath'
  | 'symlink'
  | 'sync'
  | 'syncfs';

/** What {@link FaultInjector.add} (and `sim.injectFault`) takes. */
export interface FaultSpec {
  /** The operation, or operations, that fail. */
  readonly op: FaultOperation | readonly FaultOperation[];
  /** The errno name the operation fails with. Default: `'EIO'`. */
  readonly code?: string | undefined;
  /**
   * Only calls on these paths fail: an absolute path (compared after resolving `.`/`..`; for a
   * descriptor operation, with the file's path when it was opened, symbolic links resolved), a
   * RegExp, or a predicate. A rename matches on either of its paths. Default: every path.
   */
  readonly path?: string | RegExp | ((path: string) => boolean) | undefined;
  /** How many matching calls fail; `'always'` for every one. Default: `1`. */
  readonly times?: number | 'always' | undefined;
  /** Let this many matching calls succeed before failing. Default: `0`. */
  readonly after?: number | undefined;
  /**
   * For `write` only: instead of failing, write at most this many bytes and report that count (a
   * short write, as a full disk or a signal can cause). `code` is then ignored. Default: unset.
   */
  readonly shortWrite?: number | undefined;
  /**
   * For `fsync`/`fdatasync` only: whether the failure also drops the changes the flush was to make
   * durable, as Linux does (the error is reported once; the dirty pages are marked clean, so the
   * next fsync succeeds with the data not on disk). Default: `true`.
   */
  readonly dropsUnflushed?: boolean | undefined;
}

/** An injected fault: how often it fired, and a way to remove it. */
export interface Fault {
  readonly spec: FaultSpec;
  /** How many calls it made fail (or short) so far. */
  readonly hits: number;
  /** How many matching calls it has seen so far, failed or not. */
  readonly matches: number;
  /** Whether it will still fire. */
  readonly active: boolean;
  /** Removes it; later calls succeed. */
  remove(): void;
}

/** A fault that fired for one call. */
export interface FiredFault {
  readonly code: string;
  readonly shortWrite: number | undefined;
  readonly dropsUnflushed: boolean;
}

class InjectedFault implements Fault {
  hits = 0;
  matches = 0;
  removed = false;

  constructor(readonly spec: FaultSpec) {}

  get active(): boolean {
    const times = this.spec.times ?? 1;
    return !this.removed && (times === 'always' || this.hits < times);
  }

  remove(): void {
    this.removed = true;
  }

  applies(op: FaultOperation, paths: readonly string[]): boolean {
    const ops: readonly FaultOperation[] = typeof this.spec.op === 'string' ? [this.spec.op] : this.spec.op;
    if (!ops.includes(op)) return false;
    const filter = this.spec.path;
    if (filter === undefined) return true;
    return paths.some((path) => {
      if (typeof filter === 'string') return filter === path;
      if (filter instanceof RegExp) return filter.test(path);
      return filter(path);
    });
  }
}

/** The faults armed on one simulator. */
export class FaultInjector {
  private readonly faults: InjectedFault[] = [];

  add(spec: FaultSpec): Fault {
    if (spec.shortWrite !== undefined && (!Number.isInteger(spec.shortWrite) || spec.shortWrite < 0)) {
      throw new RangeError(`shortWrite must be a non-negative integer, got ${spec.shortWrite}`);
    }
    const fault = new InjectedFault(spec);
    this.faults.push(fault);
    return fault;
  }

  clear(): void {
    for (const fault of this.faults) fault.remove();
    this.faults.splice(0, this.faults.length);
  }

  /** The first active fault for this call, counted as fired; undefined when the call succeeds. */
  fire(op: FaultOperation, paths: readonly string[]): FiredFault | undefined {
    for (const fault of this.faults) {
      if (!fault.active || !fault.applies(op, paths)) continue;
      fault.matches += 1;
      if (fault.matches <= (fault.spec.after ?? 0)) continue;
      fault.hits += 1;
      return {
        code: fault.spec.code ?? 'EIO',
        shortWrite: op === 'write' ? fault.spec.shortWrite : undefined,
        dropsUnflushed: fault.spec.dropsUnflushed ?? true,
      };
    }
    return undefined;
  }
}
