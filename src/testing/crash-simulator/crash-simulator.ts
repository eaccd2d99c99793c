/**
 * `createCrashSimulator()`: an in-memory file system that models what survives a power cut, for
 * unit-testing a write path (see docs/testing.md).
 *
 * This is the main file of `src/testing/`, the fakes of the `durable-write/testing` entry point:
 * the crash simulator (this folder: the kernel's system calls in `simulated-kernel.ts` over two
 * copies of the state in `state.ts`, the volatile and the durable; the change log and
 * `crash-states.ts`, which enumerates what a crash may leave; faults; the call trace; and the
 * `node:fs`-shaped faces `sim.fs` and its file handles) and `FakePowerController`, which crashes
 * a linked simulator on a hard power action. Both stand under the same seams as the real things:
 * `DurableFileSystem` and `PowerController`.
 *
 * Persistence rules (the same for the simple and the exploring crash model):
 * - Every change (file data, size, mode or owner; a new name, a rename, an unlink, a mkdir) is
 *   volatile when the call returns: processes see it, a crash drops it.
 * - `fsync`/`fdatasync` of a file makes that file's data, size, mode and owner durable, not its
 *   name. `fsync` of a directory (opened read-only) makes that directory's entries durable: the
 *   names created, renamed into or out of, or removed from it. A rename between two directories
 *   is durable once both are fsynced. `sync()`/`syncfs()` make everything durable.
 * - A rename is atomic: a crash leaves the name at its old place or at its new one.
 * - O_SYNC/O_DSYNC writes are durable when they return (their data; not the file's name).
 * - A failed fsync/fdatasync (injected) reports its error once and drops the changes it was to make
 *   durable (Linux: the pages are marked clean); the next fsync succeeds and the data is not on
 *   disk.
 *
 * Not modelled: permissions (every call succeeds as root would), hard links, timestamps, free
 * space (inject ENOSPC instead), file-system-specific extras such as ext4's flush of a replaced
 * file on rename (`auto_da_alloc`), which real systems may add but no code should rely on.
 *
 * @module
 */
import { posix } from 'node:path';
import { checkOptionNames, describeValue, invalidArgType } from '../../core/arguments.js';
import type { TraceEntry } from './call-trace.js';
import { createSimulatedFileSystem, type SimulatedFileSystem } from './simulated-file-system.js';
import type { Fault, FaultSpec } from './faults.js';
import { SimulatedKernel, type KernelSettings } from './simulated-kernel.js';
import { listFrom, readFrom, type FsState } from './state.js';
import { toAbsolutePath, type PathLike } from './node-arguments.js';

/** Options of {@link createCrashSimulator}. */
export interface CrashSimulatorOptions {
  /**
   * Files that exist, durably, when the simulator starts (absolute paths; missing parent
   * directories are created). Default: none.
   */
  readonly files?: Readonly<Record<string, string | Uint8Array>> | undefined;
  /** Directories that exist, durably, when the simulator starts. Default: none (only `/`). */
  readonly directories?: readonly string[] | undefined;
  /** The directory relative paths resolve against. Default: `'/'`. */
  readonly cwd?: string | undefined;
  /** The umask applied to the mode of created files and directories. Default: `0o022`. */
  readonly umask?: number | undefined;
  /** Owner of created files. Default: the process's uid (`process.getuid()`, else 0). */
  readonly uid?: number | undefined;
  /** Group of created files. Default: the process's gid (`process.getgid()`, else 0). */
  readonly gid?: number | undefined;
  /**
   * With a sector size, each `write()` reaches the disk sector by sector (so an explored crash
   * state may hold part of one write: a torn write). Default: unset, each `write()` call reaches
   * the disk whole or not at all.
   */
  readonly sectorSize?: number | undefined;
  /**
   * The most candidate states {@link CrashSimulator.crashStates} may enumerate before it throws a
   * RangeError (the count is the product, over the files and directories with unflushed changes,
   * of their number of unflushed changes plus one). Default: `10_000`.
   */
  readonly maxCrashStates?: number | undefined;
  /** How many calls {@link CrashSimulator.trace} keeps (the oldest are dropped). Default: `10_000`. */
  readonly traceLimit?: number | undefined;
}

/** A state the disk may hold after a crash at the moment it was explored. */
export interface CrashState {
  /** The unflushed changes that reached the disk in this state, oldest first. */
  readonly kept: readonly string[];
  /** The unflushed changes that did not. */
  readonly lost: readonly string[];
  /** The bytes of the file at `path` in this state, or `undefined` when absent. */
  readFile(path: string): Buffer | undefined;
  /** The names in the directory at `path`, sorted, or `undefined` when it is absent. */
  readdir(path: string): string[] | undefined;
  /** A new simulator, with this state as its durable content (the reboot after the crash). */
  restore(): CrashSimulator;
  /** `kept: ...; lost: ...`, for assertion messages. */
  describe(): string;
}

/** The object {@link createCrashSimulator} returns. */
export interface CrashSimulator {
  /**
   * The simulated file system: pass it as the `fs` option of `writeDurable`, `writeDurableSync`,
   * `syncAll` and `syncFilesystem`, and to your own code in place of `node:fs/promises`.
   */
  readonly fs: SimulatedFileSystem;
  /**
   * A power cut, simple model: every volatile change is lost, open descriptors are gone, and the
   * simulator holds the durable state, ready to be used again (the reboot).
   */
  crash(): void;
  /** Makes every change durable, as `sync(2)` does; for test set-up (never fails, not traced). */
  sync(): void;
  /** The bytes of the file at `path` as processes see it now, or `undefined` when absent. */
  readFile(path: PathLike): Buffer | undefined;
  /**
   * The exploring crash model: every distinct state the disk may hold if the power failed now,
   * under the persistence rules, after ALICE. Yields the simple model's state first. Enumeration
   * is lazy; a RangeError is thrown up front when there are more than `maxCrashStates` candidates.
   * Does not change the simulator.
   */
  crashStates(): Generator<CrashState, void, undefined>;
  /** Arms a fault: a named operation fails with an errno (or writes short). */
  injectFault(spec: FaultSpec): Fault;
  /** Removes every armed fault. */
  clearFaults(): void;
  /** Labels of the changes not yet durable, oldest first (`write 5 bytes at 0 to /a`, ...). */
  pendingChanges(): readonly string[];
  /** The calls `sim.fs` received, oldest first. */
  trace(): readonly TraceEntry[];
  /** Forgets the calls recorded so far. */
  clearTrace(): void;
  /**
   * Calls `listener` before each call `sim.fs` receives runs (after it is traced, before faults).
   * A listener may read the simulator (`crashStates()`, `readFile`) but must not change it; if it
   * throws, the call fails with that error without running. Returns a function that removes it.
   */
  onOperation(listener: (entry: TraceEntry) => void): () => void;
}

function defaultId(get: (() => number) | undefined): number {
  return get?.() ?? 0;
}

const OPTION_NAMES = [
  'files', 'directories', 'cwd', 'umask', 'uid', 'gid', 'sectorSize', 'maxCrashStates', 'traceLimit',
] as const satisfies readonly (keyof CrashSimulatorOptions)[];

/** The options object and its names (each option's value is checked where it is used). */
function checkSimulatorOptions(options: unknown): void {
  const operation = 'createCrashSimulator';
  if (typeof options !== 'object' || options === null) {
    throw invalidArgType(`${operation}: options must be an object; received ${describeValue(options)}`);
  }
  checkOptionNames(options, OPTION_NAMES, operation);
}

function settingsOf(options: CrashSimulatorOptions): KernelSettings {
  const sectorSize = options.sectorSize;
  if (sectorSize !== undefined && (!Number.isInteger(sectorSize) || sectorSize < 1)) {
    throw new RangeError(`sectorSize must be a positive integer, got ${sectorSize}`);
  }
  return {
    uid: options.uid ?? defaultId(process.getuid),
    gid: options.gid ?? defaultId(process.getgid),
    umask: options.umask ?? 0o022,
    sectorSize,
    maxCrashStates: options.maxCrashStates ?? 10_000,
    traceLimit: options.traceLimit ?? 10_000,
  };
}

function wrap(kernel: SimulatedKernel, cwd: string, options: CrashSimulatorOptions): CrashSimulator {
  const fs = createSimulatedFileSystem(kernel, cwd);
  const absolute = (path: PathLike): string => toAbsolutePath(path, cwd, 'open');
  const toBuffer = (bytes: Uint8Array | undefined): Buffer | undefined =>
    bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stateOf = (state: FsState, kept: readonly string[], lost: readonly string[]): CrashState => ({
    kept,
    lost,
    readFile: (path) => toBuffer(readFrom(state, posix.resolve(cwd, path))),
    readdir: (path) => listFrom(state, posix.resolve(cwd, path)),
    restore: () => wrap(new SimulatedKernel(kernel.settings, state), cwd, options),
    describe: () => `kept: [${kept.join('; ')}]; lost: [${lost.join('; ')}]`,
  });
  return {
    fs,
    crash: () => kernel.crash(),
    sync: () => kernel.flushAll(),
    readFile: (path) => toBuffer(kernel.readVolatile(absolute(path))),
    crashStates: function* crashStates() {
      for (const explored of kernel.crashStates()) yield stateOf(explored.state, explored.kept, explored.lost);
    },
    injectFault: (spec) => kernel.faults.add(spec),
    clearFaults: () => kernel.faults.clear(),
    pendingChanges: () => kernel.pendingChanges(),
    trace: () => kernel.calls.entries(),
    clearTrace: () => kernel.calls.clear(),
    onOperation: (listener) => kernel.calls.onOperation(listener),
  };
}

/**
 * Creates a crash simulator: an in-memory file system whose changes stay volatile until the flush
 * the persistence rules require (fsync of the file for its data, fsync of the directory for its
 * names, sync for everything), with a simple crash model (`sim.crash()`), an exploring one
 * (`sim.crashStates()`), fault injection (`sim.injectFault()`) and a trace of calls. It runs no
 * system call: nothing touches the real disk.
 *
 * @example
 * ```ts
 * import { writeDurable } from 'durable-write';
 * import { createCrashSimulator } from 'durable-write/testing';
 *
 * const sim = createCrashSimulator({ directories: ['/naive', '/safe'] });
 * await sim.fs.writeFile('/naive/state.json', '{"v":1}'); // open, write, close: no fsync
 * await writeDurable('/safe/state.json', '{"v":1}', { fs: sim.fs });
 * sim.crash();
 * sim.readFile('/naive/state.json'); // undefined: lost with the page cache
 * sim.readFile('/safe/state.json');  // <Buffer 7b 22 76 22 3a 31 7d>
 * ```
 */
export function createCrashSimulator(options: CrashSimulatorOptions = {}): CrashSimulator {
  checkSimulatorOptions(options);
  const cwd = posix.resolve('/', options.cwd ?? '/');
  const kernel = new SimulatedKernel(settingsOf(options));
  const sim = wrap(kernel, cwd, options);
  for (const directory of options.directories ?? []) sim.fs.mkdirSync(directory, { recursive: true });
  for (const [path, content] of Object.entries(options.files ?? {})) {
    sim.fs.mkdirSync(posix.dirname(posix.resolve(cwd, path)), { recursive: true });
    sim.fs.writeFileSync(path, content);
  }
  sim.sync();
  sim.clearTrace();
  return sim;
}
