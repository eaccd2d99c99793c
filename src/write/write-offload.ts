/**
 * The fast path of `writeDurable`: a whole write in one hop to a worker thread.
 *
 * Asynchronously, every file-system step is a round trip through libuv's thread pool (about
 * 30 µs each on a small VM), and a durable write takes eleven of them; that costs more than the
 * syscalls on fast storage. The worker (`write-worker.ts`) runs the same operation under the
 * sync driver instead, all steps on its own thread, so a call pays one round trip.
 *
 * A call is offloaded when all of these hold, and otherwise runs on the general path, unchanged:
 * - it runs on Node's own file system (no `fs` seam: fault injection and the crash simulator
 *   keep the general path), with no `signal`, no `onStep` and no temp-file hook;
 * - its data is a string or an `ArrayBufferView` of at most {@link MAX_OFFLOADED_BYTES} (copied
 *   to the worker; for larger data the round trips are a small part of the cost);
 * - the target's directory exists (no parents to create);
 * - the worker is up and idle (a process's second eligible call starts it, so that a process
 *   that writes once never pays for a thread; calls take the general path until it has loaded,
 *   and while it is busy, in parallel with it);
 * - no fsync of the target's directory is in flight, so that the worker's own fsync of it can
 *   be the one in flight (see `directory-fsync-group.ts`).
 *
 * The calling thread still resolves the target (synchronously: `realpath` and `lstat`, served
 * from the kernel's caches on a local file system) so that the per-file queue orders the call
 * before it is handed over. The worker holds no reference on the event loop while idle.
 *
 * @internal
 * @module
 */
import { existsSync } from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DurableWriteError } from '../core/errors.js';
import { fileIo } from '../core/file-io.js';
import { nodeFileSystem } from '../core/file-system.js';
import { isWholeData, type WriteDurableData } from './data-source.js';
import { reserveDirectoryFsync } from './directory-fsync-group.js';
import { holdTarget, releaseTarget } from './held-temps.js';
import type { WritePlan } from './replacement.js';
import type { ResolvedTarget } from './resolve-target.js';
import type { WriteDurableResult } from './write-options.js';
import { receiveError, receiveResult, sendTarget, type WorkerMessage, type WriteJob } from './write-worker-protocol.js';

/** Eligible calls before the worker is started: a process that writes once never starts it. */
const CALLS_BEFORE_START = 1;

/** The largest data offloaded, in bytes. */
export const MAX_OFFLOADED_BYTES = 1024 * 1024;

/** A job handed to the worker, waiting for its reply. */
interface InFlight {
  readonly resolve: (result: WriteDurableResult) => void;
  readonly reject: (error: unknown) => void;
}

/** The worker's life: not started, loading, taking jobs, or not to be used (failed, or not built). */
type WorkerState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'starting'; readonly worker: Worker }
  | { readonly kind: 'ready'; readonly worker: Worker; current: { readonly id: number; readonly job: InFlight } | undefined }
  | { readonly kind: 'unavailable' };

let state: WorkerState = { kind: 'absent' };
let lastId = 0;
let eligibleCalls = 0;

/** Where the built worker is: beside the chunk holding this module (`dist/`). Absent when running from sources. */
function workerFile(): string | undefined {
  try {
    const file = fileURLToPath(new URL('./write-worker.js', import.meta.url));
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Gives up on the worker: the job in flight fails, every later call takes the general path. */
function retire(reason: string): void {
  const current = state.kind === 'ready' ? state.current : undefined;
  state = { kind: 'unavailable' };
  current?.job.reject(
    new DurableWriteError(`writeDurable: the write worker stopped before reporting (${reason}); the target may or may not have been replaced`, {
      stage: 'write',
    }),
  );
}

function onMessage(worker: Worker, message: WorkerMessage): void {
  if (message.type === 'ready') {
    if (state.kind === 'starting' && state.worker === worker) state = { kind: 'ready', worker, current: undefined };
    return;
  }
  if (state.kind !== 'ready' || state.current?.id !== message.id) return;
  const { job } = state.current;
  state.current = undefined;
  worker.unref();
  if (message.type === 'done') job.resolve(receiveResult(message.result));
  else job.reject(receiveError(message.error));
}

/** Starts the worker (once per process), unreferenced so that it never keeps the process alive. */
function start(): void {
  const file = workerFile();
  if (file === undefined) {
    state = { kind: 'unavailable' };
    return;
  }
  // No inherited execArgv: the worker is plain JavaScript and needs no flag, and some of the
  // caller's break a worker (`--input-type` with `-e` does: the worker exits at once).
  const worker = new Worker(file, { name: 'durable-write', execArgv: [] });
  worker.on('message', (message: WorkerMessage) => onMessage(worker, message));
  worker.on('error', (error: Error) => retire(error.message));
  worker.on('exit', (code) => retire(`exit code ${code}`));
  // After the listeners: adding a 'message' listener refs the worker's port again.
  worker.unref();
  state = { kind: 'starting', worker };
}

/** The bytes of whole data (a string is sent as it is). */
function byteLengthOf(data: string | NodeJS.ArrayBufferView): number {
  return typeof data === 'string' ? data.length * 3 : data.byteLength;
}

/**
 * Whether a call may be offloaded, as far as its arguments tell (see the module comment); the
 * second time one may, starts the worker. A `true` lets the caller resolve the target synchronously.
 */
export function mayOffload(plan: WritePlan, data: WriteDurableData): data is string | NodeJS.ArrayBufferView {
  if (plan.fs !== nodeFileSystem || plan.signal !== undefined || plan.observe !== undefined || plan.onTempCreated !== undefined) return false;
  if (!isWholeData(data) || byteLengthOf(data) > MAX_OFFLOADED_BYTES) return false;
  if (state.kind === 'absent' && (eligibleCalls += 1) > CALLS_BEFORE_START) start();
  return state.kind === 'ready';
}

/** A copy of exactly the bytes of `view` (a view may sit in a much larger buffer, which a clone would copy whole). */
function bytesOf(data: string | NodeJS.ArrayBufferView): string | Uint8Array<ArrayBuffer> {
  return typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/**
 * Runs the write on the worker, if it is idle and the target's directory can be reserved;
 * `undefined` otherwise (the caller takes the general path). `resolved` is the calling thread's
 * resolution of the target.
 */
export function offload(plan: WritePlan, data: string | NodeJS.ArrayBufferView, resolved: ResolvedTarget, operation: string): Promise<WriteDurableResult> | undefined {
  if (state.kind !== 'ready' || state.current !== undefined || !resolved.directoryExists) return undefined;
  const directory = nodePath.dirname(resolved.path);
  const release = reserveDirectoryFsync(fileIo(nodeFileSystem), directory);
  if (release === undefined) return undefined;
  const id = (lastId += 1);
  const bytes = bytesOf(data);
  const job: WriteJob = {
    id,
    operation,
    target: plan.target,
    resolved: sendTarget(resolved),
    data: bytes,
    encoding: plan.encoding,
    mode: plan.mode,
    newFileMode: plan.newFileMode,
    owner: plan.owner,
    keepOwner: plan.keepOwner,
    requireWritable: plan.requireWritable,
    flush: plan.flush,
    directorySync: plan.directorySync,
    createParents: plan.createParents,
  };
  const ready = state;
  holdTarget(resolved.path);
  const done = new Promise<WriteDurableResult>((resolve, reject) => {
    ready.current = { id, job: { resolve, reject } };
  });
  ready.worker.ref();
  ready.worker.postMessage(job, typeof bytes === 'string' ? [] : [bytes.buffer]);
  const settled = (): void => {
    releaseTarget(resolved.path);
    release();
  };
  return done.finally(settled);
}
