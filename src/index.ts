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
export { syncAll } from './sync-all.js';
export type { SyncAllOptions } from './sync-all.js';
export { syncFilesystem } from './sync-filesystem.js';
export type { SyncFilesystemOptions } from './sync-filesystem.js';
export type { PowerCallOptions, PowerController, PowerState, PowerVerb } from './power-controller.js';
export { IpmitoolPowerController } from './ipmitool-power-controller.js';
export type { IpmitoolPowerControllerOptions } from './ipmitool-power-controller.js';
export { isPowerControlError, PowerControlError } from './power-control-error.js';
export type { PowerControlErrorOptions, PowerControlReason } from './power-control-error.js';
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
