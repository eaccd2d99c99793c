/**
 * The seven ways `durable-write probe` flushes 4 KiB, and the timing loop that runs each for a
 * fixed time: from the raw primitives (a file's fsync, fdatasync, an `O_DSYNC` write, a
 * directory's fsync) up to the library's own calls (`writeDurable`, `writeDurableSync`,
 * `syncAll`), so that the cost of a durable write can be read against the flushes it is made of.
 *
 * @module
 */
import { closeSync, constants, fdatasyncSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { syncAll } from '../sync/sync.js';
import { writeDurable, writeDurableSync } from '../write/write-durable.js';
import { errorReport, type ErrorReport } from './errors.js';

/** The size of every write the probe makes. */
export const BLOCK_SIZE = 4096;

/** The methods that flush one file's data, whose speed says what a flush costs on the device. */
export const FILE_FLUSH_METHODS = ['write+fsync', 'write+fdatasync', 'O_DSYNC write'] as const;

/** One operation to time, and what to release once the timing is over. */
interface PreparedMethod {
  readonly run: () => void | Promise<void>;
  readonly close: () => void;
}

/** A way of flushing, as the probe measures it. */
export interface ProbeMethod {
  /** The name in the report: `write+fsync`, `writeDurable`... */
  readonly name: string;
  /** Opens what the method needs in the probe's working directory `work`; `signal` is for the library's calls. */
  readonly prepare: (work: string, block: Buffer, signal: AbortSignal) => PreparedMethod;
}

/** What came of timing one method. */
export type MethodResult =
  | {
      readonly name: string;
      /** Operations completed. */
      readonly count: number;
      /** Operations per second of time spent in them (the inverse of the mean latency). */
      readonly opsPerSecond: number;
      /** Median latency, microseconds. */
      readonly p50Us: number;
      /** 99th percentile latency, microseconds. */
      readonly p99Us: number;
    }
  | { readonly name: string; readonly error: ErrorReport };

/** Whether the method was measured (as opposed to failed). */
export function measured(result: MethodResult): result is Extract<MethodResult, { count: number }> {
  return 'count' in result;
}

/**
 * A file of one block, written and flushed once so that the timed rewrites neither grow it nor
 * allocate blocks; opened with `flags` for the timing.
 */
function preparedFile(path: string, block: Buffer, flags: number): number {
  const setup = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
  try {
    writeSync(setup, block, 0, block.length, 0);
    fsyncSync(setup);
  } finally {
    closeSync(setup);
  }
  return openSync(path, flags);
}

/** Rewrites the file's one block at position 0, then `flush(fd)`. */
function rewriteThen(name: string, file: string, flush: (fd: number) => void): ProbeMethod {
  return {
    name,
    prepare: (work, block) => {
      const fd = preparedFile(join(work, file), block, constants.O_WRONLY);
      return {
        run: () => {
          writeSync(fd, block, 0, block.length, 0);
          flush(fd);
        },
        close: () => closeSync(fd),
      };
    },
  };
}

/** The seven methods, in the order they run and are reported. */
export const PROBE_METHODS: readonly ProbeMethod[] = [
  rewriteThen(FILE_FLUSH_METHODS[0], 'fsync.dat', fsyncSync),
  rewriteThen(FILE_FLUSH_METHODS[1], 'fdatasync.dat', fdatasyncSync),
  {
    name: FILE_FLUSH_METHODS[2],
    prepare: (work, block) => {
      // Typed as always there, but absent on Windows, where `| undefined` would silently time plain writes.
      if (typeof constants.O_DSYNC !== 'number') throw Object.assign(new Error('O_DSYNC is not available on this platform'), { code: 'ENOTSUP' });
      const fd = preparedFile(join(work, 'o_dsync.dat'), block, constants.O_WRONLY | constants.O_DSYNC);
      return { run: () => void writeSync(fd, block, 0, block.length, 0), close: () => closeSync(fd) };
    },
  },
  {
    // The working directory: the directory writeDurable below flushes after each rename.
    name: 'directory fsync',
    prepare: (work) => {
      const fd = openSync(work, constants.O_RDONLY | constants.O_DIRECTORY);
      return { run: () => fsyncSync(fd), close: () => closeSync(fd) };
    },
  },
  {
    name: 'writeDurable',
    prepare: (work, block, signal) => {
      const path = join(work, 'write-durable.dat');
      return {
        run: async () => {
          await writeDurable(path, block, { signal });
        },
        close: () => undefined,
      };
    },
  },
  {
    name: 'writeDurableSync',
    prepare: (work, block) => {
      const path = join(work, 'write-durable-sync.dat');
      return { run: () => void writeDurableSync(path, block), close: () => undefined };
    },
  },
  { name: 'sync()', prepare: (_work, _block, signal) => ({ run: () => syncAll({ signal }), close: () => undefined }) },
];

/** The sample at percentile `p` (0 to 1) of ascending `sorted`, by nearest rank. */
export function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] ?? Number.NaN;
}

/** Rounds to one decimal place, for the report. */
function tenths(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Called about ten times a second while a method runs, with the operations completed so far. */
export type ProgressListener = (count: number) => void;

/** Nanoseconds between two turns of the event loop while a method runs (for progress and signals). */
const TURN_NS = 100_000_000n;

/**
 * Runs `method` in `work` again and again for `seconds` (at least once), timing each operation
 * alone. About ten times a second, outside the timed operations, it reports progress and lets the
 * event loop turn, so that a progress line is redrawn and a signal is seen even while a
 * synchronous method runs; once `signal` has fired it stops. A failure ends the method and is
 * returned as its result.
 */
export async function timeMethod(
  method: ProbeMethod,
  work: string,
  seconds: number,
  onProgress: ProgressListener,
  signal: AbortSignal,
): Promise<MethodResult> {
  const samples: number[] = [];
  let prepared: PreparedMethod | undefined;
  try {
    prepared = method.prepare(work, Buffer.alloc(BLOCK_SIZE, 0x5a), signal);
    const budget = BigInt(Math.round(seconds * 1e9));
    const start = process.hrtime.bigint();
    let turned = start;
    while (!signal.aborted) {
      const before = process.hrtime.bigint();
      const pending = prepared.run();
      if (pending instanceof Promise) await pending;
      const after = process.hrtime.bigint();
      samples.push(Number(after - before) / 1000);
      if (after - start >= budget) break;
      if (after - turned >= TURN_NS) {
        onProgress(samples.length);
        await nextTurn();
        turned = process.hrtime.bigint();
      }
    }
  } catch (error) {
    return { name: method.name, error: errorReport(error) };
  } finally {
    prepared?.close();
  }
  return summary(method.name, samples);
}

/** The result of a method from its latencies in microseconds (at least one). */
function summary(name: string, samples: readonly number[]): MethodResult {
  const sorted = Float64Array.from(samples).sort();
  const totalUs = sorted.reduce((sum, us) => sum + us, 0);
  return {
    name,
    count: sorted.length,
    opsPerSecond: tenths((sorted.length * 1e6) / totalUs),
    p50Us: tenths(percentile(sorted, 0.5)),
    p99Us: tenths(percentile(sorted, 0.99)),
  };
}
