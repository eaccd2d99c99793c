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
import { runSync } from '../core/effect.js';
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
    return { type: 'failed', id: job.id, error: sendError(error) };
  }
}

const port = parentPort;
if (port !== null) {
  port.on('message', (job: WriteJob) => port.postMessage(run(job)));
  port.postMessage({ type: 'ready' } satisfies WorkerMessage);
}
