/**
 * The crash simulator's trace of calls: every system call `sim.fs` receives, in order, up to a
 * limit (the oldest are dropped), and the listeners `sim.onOperation()` registers, called for each
 * call as it is recorded.
 *
 * @module
 */

/** One call the simulated file system received, in the order received. */
export interface TraceEntry {
  /** The system call, as Node names it: `open`, `write`, `fsync`, `rename`, `close`, ... */
  readonly syscall: string;
  /** The path it is about (for a descriptor call, the file's path when it was opened, links resolved). */
  readonly path?: string;
  /** The second path of a `rename` or `symlink`. */
  readonly dest?: string;
  /** The descriptor, for a descriptor call. */
  readonly fd?: number;
}

/** A listener of {@link CallTrace.onOperation}. */
export type TraceListener = (entry: TraceEntry) => void;

export class CallTrace {
  private readonly recorded: TraceEntry[] = [];
  private readonly listeners = new Set<TraceListener>();

  /** @param limit How many entries are kept (the oldest are dropped). */
  constructor(private readonly limit: number) {}

  /**
   * Records a call about `paths` (the first is its path, the second its `dest`) and, for a
   * descriptor call, `fd`; then calls every listener. A listener's error propagates to the
   * caller (the kernel), so the call fails with it without running.
   */
  record(syscall: string, paths: readonly string[], fd?: number): void {
    const entry: TraceEntry = {
      syscall,
      ...(paths[0] === undefined ? {} : { path: paths[0] }),
      ...(paths[1] === undefined ? {} : { dest: paths[1] }),
      ...(fd === undefined ? {} : { fd }),
    };
    if (this.recorded.length >= this.limit) this.recorded.shift();
    this.recorded.push(entry);
    // A copy, so that a listener may remove itself (or another) while being called.
    for (const listener of [...this.listeners]) listener(entry);
  }

  /** The calls recorded, oldest first (a copy). */
  entries(): readonly TraceEntry[] {
    return [...this.recorded];
  }

  /** Forgets the calls recorded so far (the listeners stay). */
  clear(): void {
    this.recorded.splice(0, this.recorded.length);
  }

  /** Adds `listener`; returns a function that removes it. */
  onOperation(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
