/**
 * durable-write: file writes that survive a crash, a power cut or a BMC hard reset.
 *
 * @packageDocumentation
 */
export {
  AbortError,
  DurableWriteError,
  FlushError,
  isAbortError,
  isDurableWriteError,
  isFlushError,
} from './errors.js';
export type { DurableWriteErrorOptions, DurableWriteStage } from './errors.js';
export { nodeFileSystem } from './file-system.js';
export type { DurableFileHandle, DurableFileSystem, DurableStats } from './file-system.js';
