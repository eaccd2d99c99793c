/**
 * durable-write: file writes that survive a crash, a power cut or a BMC hard reset.
 *
 * @packageDocumentation
 */
export { writeDurable, writeDurableSync } from './write-durable.js';
export type {
  DataChunk,
  DirectorySyncPolicy,
  FlushMethod,
  WriteDurableData,
  WriteDurableOptions,
  WriteDurableResult,
  WriteDurableStepEvent,
  WriteDurableSyncOptions,
} from './write-durable.js';
export { renameDurable, renameDurableSync } from './rename-durable.js';
export type { RenameDurableOptions, RenameDurableResult, RenameDurableSyncOptions } from './rename-durable.js';
export { fsyncFile, fsyncFileSync } from './fsync-file.js';
export type { FsyncFileOptions, FsyncFileSyncOptions } from './fsync-file.js';
export { fsyncDirectory, fsyncDirectorySync } from './fsync-directory.js';
export type { FsyncDirectoryOptions, FsyncDirectoryResult, FsyncDirectorySyncOptions } from './fsync-directory.js';
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
