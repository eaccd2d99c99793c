/**
 * The common opening of an operation on one path (`fsyncFile`, `fsyncDirectory`): check the
 * path, the options object, the fs seam and the signal, then hand over to the operation's steps.
 *
 * @internal
 * @module
 */
import type { DurableWriteStage } from '../core/errors.js';
import { checkFileSystem, checkPath, checkSignal, optionsObject } from '../core/arguments.js';
import type { Step } from '../core/effect.js';
import { fileIo, type FileIo } from '../core/file-io.js';
import { throwIfAborted, type FailureContext } from '../core/failure.js';

/** Checks the arguments of `operation` and returns its steps; throws before any I/O on bad input or an aborted signal. */
export function pathOperation<T>(
  path: unknown,
  options: unknown,
  mode: 'sync' | 'async',
  operation: string,
  stage: DurableWriteStage,
  steps: (io: FileIo, options: Record<string, unknown>, ctx: FailureContext) => Step<T>,
): Step<T> {
  const o = optionsObject(options, operation);
  const ctx: FailureContext = { operation, path: checkPath(path, 'path', operation) };
  const io = fileIo(checkFileSystem(o['fs'], mode, operation));
  const signal = checkSignal(o['signal'], operation);
  const body = steps(io, o, ctx);
  throwIfAborted(signal, stage, ctx);
  return body;
}
