/**
 * The write worker: a thread that runs whole `writeDurable` calls for the calling thread, each
 * as one message each way (see `write-offload.ts`). It runs the very operation `writeDurable`
 * and `writeDurableSync` run (`writeDurableOperation`), under the sync driver, on Node's own
 * file system: the same syscalls in the same order, made from this thread.
 *
 * Built as its own file (`dist/write-worker.js`), loaded by `new Worker`.
 *
 * @internal
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { isDescriptorShortage } from '../core/descriptor-gate.js';
import { runSync } from '../core/effect.js';
import { isDurableWriteError } from '../core/errors.js';
import type { FailureContext } from '../core/failure.js';
import { nodeFileSystem } from '../core/file-system.js';
import { chunkSource } from './data-source.js';
import type { WritePlan } from './replacement.js';
import { writeDurableOperation } from './write-durable.js';
import { receiveTarget, sendError, sendResult, type WorkerMessage, type WriteJob } from './write-worker-protocol.js';

/** Runs one job to its end: the reply to send. */
function run(job: WriteJob): WorkerMessage {
  const plan: WritePlan = {
    target: job.target,
    encoding: job.encoding,
    mode: job.mode,
    newFileMode: job.newFileMode,
    owner: job.owner,
    keepOwner: job.keepOwner,
    requireWritable: job.requireWritable,
    onTempCreated: undefined,
    flush: job.flush,
    directorySync: job.directorySync,
    renameRetryMs: job.renameRetryMs,
    createParents: job.createParents,
    signal: undefined,
    fs: nodeFileSystem,
    observe: undefined,
  };
  const ctx: FailureContext = { operation: job.operation, path: job.target };
  try {
    // The calling thread's resolution, as the general path uses its own when the call did not wait.
    const result = runSync(writeDurableOperation(plan, receiveTarget(job.resolved), chunkSource(job.data, job.encoding, undefined, job.operation), ctx));
    return { type: 'done', id: job.id, result: sendResult(result) };
  } catch (error) {
    // Out of descriptors at the directory or the temp file: nothing was created, the caller may try again.
    if (isDurableWriteError(error) && error.stage === 'open' && isDescriptorShortage(error)) {
      return { type: 'short', id: job.id, error: sendError(error), data: job.data };
    }
    return { type: 'failed', id: job.id, error: sendError(error) };
  }
}

/** What a reply transfers: the data going back with a `short` reply. */
function transferOf(reply: WorkerMessage): ArrayBuffer[] {
  if (reply.type !== 'short' || typeof reply.data === 'string' || !(reply.data.buffer instanceof ArrayBuffer)) return [];
  return [reply.data.buffer];
}

const port = parentPort;
if (port !== null) {
  // Deep enough for a failure's stack to reach `run` in this file, however deep the operation's
  // generators are: the caller can see that its write ran here.
  Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 50);
  port.on('message', (job: WriteJob) => {
    const reply = run(job);
    port.postMessage(reply, transferOf(reply));
  });
  port.postMessage({ type: 'ready' } satisfies WorkerMessage);
}
