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
 *   to the worker; for larger data the round trips are a small part of the cost), on a buffer
 *   that cannot change its length (not a resizable `ArrayBuffer` nor a growable one);
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
 * Starting the worker never crashes the process nor fails a write (`write-worker-start.ts`): it
 * is not started when the environment variable `DURABLE_WRITE_WORKER` is `0` (the opt-out for
 * constrained environments), under the permission model without `--allow-worker`, or when too
 * little address space is left under `ulimit -v`; it starts with modest resource limits, and
 * whatever fails is caught, every call then taking the general path.
 *
 * The data is copied when the call is handed over; a buffer detached (transferred) since the call
 * is not handed over, and the general path rejects the call. A write that finds no free
 * descriptor on the worker (EMFILE, before it created anything) is tried again once one of the
 * calling thread's descriptors is closed, as the general path waits (`descriptor-gate.ts`).
 *
 * @internal
 * @module
 */
import { existsSync } from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { DescriptorTurn } from '../core/descriptor-gate.js';
import { DurableWriteError } from '../core/errors.js';
import { fileIo } from '../core/file-io.js';
import { nodeFileSystem } from '../core/file-system.js';
import { isWholeData, type WriteDurableData } from './data-source.js';
import { reserveDirectoryFsync } from './directory-fsync-group.js';
import { holdTarget, releaseTarget } from './held-temps.js';
import type { WritePlan } from './replacement.js';
import type { ResolvedTarget } from './resolve-target.js';
import { startWorker } from './write-worker-start.js';
import type { WriteDurableResult } from './write-options.js';
import { receiveError, receiveResult, sendTarget, type WorkerMessage, type WriteJob } from './write-worker-protocol.js';

/** Eligible calls before the worker is started: a process that writes once never starts it. */
const CALLS_BEFORE_START = 1;

/** The largest data offloaded, in bytes. */
export const MAX_OFFLOADED_BYTES = 1024 * 1024;

/** The worker's reply to a job that did not fail: its result, or a shortage of descriptors with the data back. */
type Reply =
  | { readonly kind: 'done'; readonly result: WriteDurableResult }
  | { readonly kind: 'short'; readonly error: Error; readonly data: WriteJob['data'] };

/** A job handed to the worker, waiting for its reply; `giveBack` returns the descriptors it was lent. */
interface InFlight {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: unknown) => void;
  readonly giveBack: (short: boolean) => void;
}

/** The worker's life: not started, loading, taking jobs, or not to be used (failed, not built, or not to be started). */
type WorkerState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'starting'; readonly worker: Worker; readonly loaded: () => void }
  | { readonly kind: 'ready'; readonly worker: Worker; readonly jobs: Map<number, InFlight> }
  | { readonly kind: 'unavailable' };

type Ready = Extract<WorkerState, { kind: 'ready' }>;

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

/** Gives up on the worker: the jobs in flight fail, every later call takes the general path. */
function retire(reason: string): void {
  const jobs = state.kind === 'ready' ? [...state.jobs.values()] : [];
  if (state.kind === 'starting') state.loaded();
  state = { kind: 'unavailable' };
  for (const job of jobs) {
    job.giveBack(false);
    job.reject(
      new DurableWriteError(`writeDurable: the write worker stopped before reporting (${reason}); the target may or may not have been replaced`, {
        stage: 'write',
      }),
    );
  }
}

function onMessage(worker: Worker, message: WorkerMessage): void {
  if (message.type === 'ready') {
    if (state.kind === 'starting' && state.worker === worker) {
      state.loaded();
      state = { kind: 'ready', worker, jobs: new Map() };
    }
    return;
  }
  const job = state.kind === 'ready' ? state.jobs.get(message.id) : undefined;
  if (state.kind !== 'ready' || job === undefined) return;
  state.jobs.delete(message.id);
  if (state.jobs.size === 0) worker.unref();
  job.giveBack(message.type === 'short');
  if (message.type === 'done') job.resolve({ kind: 'done', result: receiveResult(message.result) });
  else if (message.type === 'short') job.resolve({ kind: 'short', error: receiveError(message.error), data: message.data });
  else job.reject(receiveError(message.error));
}

/** Starts the worker (once per process), unreferenced so that it never keeps the process alive; never throws. */
function start(): void {
  const file = workerFile();
  const worker = file === undefined ? undefined : startWorker(file);
  if (worker === undefined) {
    state = { kind: 'unavailable' };
    return;
  }
  worker.on('message', (message: WorkerMessage) => onMessage(worker, message));
  worker.on('error', (error: Error) => retire(error.message));
  worker.on('exit', (code) => retire(`exit code ${code}`));
  // After the listeners: adding a 'message' listener refs the worker's port again.
  worker.unref();
  // Loading, it opens its files: writes short of descriptors meanwhile wait for it to be done.
  const giveBack = lendDescriptors();
  state = { kind: 'starting', worker, loaded: () => giveBack(false) };
}

/** The bytes of whole data (a string is sent as it is). */
function byteLengthOf(data: string | NodeJS.ArrayBufferView): number {
  return typeof data === 'string' ? data.length * 3 : data.byteLength;
}

/**
 * Whether `view`'s buffer can change its length (a resizable `ArrayBuffer`, a growable
 * `SharedArrayBuffer`): the copy made when the call is handed over would not hold the bytes the
 * view held at the call, so such data takes the general path, which writes those or rejects.
 */
function resizable(view: NodeJS.ArrayBufferView): boolean {
  return Reflect.get(view.buffer, 'resizable') === true || Reflect.get(view.buffer, 'growable') === true;
}

/**
 * Whether a call may be offloaded, as far as its arguments tell (see the module comment); the
 * second time one may, starts the worker. A `true` lets the caller resolve the target synchronously.
 */
export function mayOffload(plan: WritePlan, data: WriteDurableData): data is string | NodeJS.ArrayBufferView {
  if (plan.fs !== nodeFileSystem || plan.signal !== undefined || plan.observe !== undefined || plan.onTempCreated !== undefined) return false;
  if (!isWholeData(data) || (typeof data !== 'string' && resizable(data)) || byteLengthOf(data) > MAX_OFFLOADED_BYTES) return false;
  if (state.kind === 'absent' && (eligibleCalls += 1) > CALLS_BEFORE_START) start();
  return state.kind === 'ready';
}

/**
 * A copy of exactly the bytes of `data` (a view may sit in a much larger buffer, which a clone
 * would copy whole); `undefined` when its buffer was detached since the call (the general path
 * then rejects the call).
 */
function copyOf(data: string | NodeJS.ArrayBufferView): string | Uint8Array<ArrayBuffer> | undefined {
  if (typeof data === 'string') return data;
  try {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  } catch {
    return undefined;
  }
}

/** A job but its id and data, which change when it is handed over again. */
type JobArguments = Omit<WriteJob, 'id' | 'data'>;

/**
 * Counts two descriptors the worker holds (a write's directory and temp file, or the files it
 * reads while it loads) in the calling thread's descriptor gate (`descriptor-gate.ts`), so that
 * writes short of descriptors wait for them to come back too. The returned function gives them
 * back: closed, or, when the worker found none (`short`), never held (and none is free).
 */
function lendDescriptors(): (short: boolean) => void {
  const gate = fileIo(nodeFileSystem).descriptors;
  const lent = [{}, {}];
  for (const descriptor of lent) gate.opened(descriptor);
  return (short) => {
    if (short) gate.exhausted();
    for (const descriptor of lent) {
      if (short) gate.dropped(descriptor);
      else gate.closed(descriptor);
    }
  };
}

/** Hands a job to the worker, transferring its bytes: its reply (a rejection if it could not be sent). */
function post(ready: Ready, job: JobArguments, data: string | Uint8Array<ArrayBuffer>): Promise<Reply> {
  const id = (lastId += 1);
  ready.worker.ref();
  try {
    ready.worker.postMessage({ ...job, id, data } satisfies WriteJob, typeof data === 'string' ? [] : [data.buffer]);
  } catch (error) {
    if (ready.jobs.size === 0) ready.worker.unref();
    return Promise.reject(error);
  }
  // The reply comes in a later turn of the event loop: registering the job now is in time.
  const giveBack = lendDescriptors();
  return new Promise<Reply>((resolve, reject) => ready.jobs.set(id, { resolve, reject, giveBack }));
}

/** The reservation of a directory's fsync a call on the worker holds, if any (`directory-fsync-group.ts`). */
interface Reservation {
  release: (() => void) | undefined;
}

/**
 * After the worker found no free descriptor (`short`): gives back the directory's fsync (writes
 * into it waiting for that fsync may then finish and close their descriptors), waits as the
 * general path does (failing as it fails when none of ours is open), and hands the job to the
 * worker again, until it is done or fails.
 */
async function retryWhenFree(ready: Ready, job: JobArguments, directory: string, reservation: Reservation, first: Extract<Reply, { kind: 'short' }>): Promise<WriteDurableResult> {
  const io = fileIo(nodeFileSystem);
  let turn: DescriptorTurn | undefined;
  try {
    for (let short = first; ; ) {
      reservation.release?.();
      reservation.release = undefined;
      turn = await io.descriptorFreed(short.error, undefined, turn).async();
      // The worker may have stopped meanwhile: the write then fails as it just did, nothing changed.
      if (state !== ready) throw short.error;
      reservation.release = reserveDirectoryFsync(io, directory);
      const reply = await post(ready, job, typeof short.data === 'string' ? short.data : new Uint8Array(short.data));
      if (reply.kind === 'done') {
        turn?.pass();
        return reply.result;
      }
      short = reply;
    }
  } catch (error) {
    turn?.pass();
    throw error;
  }
}

/**
 * Runs the write on the worker, if it is idle and the target's directory can be reserved;
 * `undefined` otherwise (the caller takes the general path). `resolved` is the calling thread's
 * resolution of the target.
 */
export function offload(plan: WritePlan, data: string | NodeJS.ArrayBufferView, resolved: ResolvedTarget, operation: string): Promise<WriteDurableResult> | undefined {
  if (state.kind !== 'ready' || state.jobs.size > 0 || !resolved.directoryExists) return undefined;
  const bytes = copyOf(data);
  if (bytes === undefined) return undefined;
  const directory = nodePath.dirname(resolved.path);
  const release = reserveDirectoryFsync(fileIo(nodeFileSystem), directory);
  if (release === undefined) return undefined;
  const job: JobArguments = {
    operation,
    target: plan.target,
    resolved: sendTarget(resolved),
    encoding: plan.encoding,
    mode: plan.mode,
    newFileMode: plan.newFileMode,
    owner: plan.owner,
    keepOwner: plan.keepOwner,
    requireWritable: plan.requireWritable,
    flush: plan.flush,
    directorySync: plan.directorySync,
    renameRetryMs: plan.renameRetryMs,
    createParents: plan.createParents,
  };
  holdTarget(resolved.path);
  const reservation: Reservation = { release };
  const finish = (): void => {
    releaseTarget(resolved.path);
    reservation.release?.();
  };
  const ready = state;
  // One promise hop for the usual reply: the retry's async function only once short of descriptors.
  return post(ready, job, bytes).then(
    (reply) => {
      if (reply.kind === 'done') {
        finish();
        return reply.result;
      }
      return retryWhenFree(ready, job, directory, reservation, reply).finally(finish);
    },
    (error: unknown) => {
      finish();
      throw error;
    },
  );
}
