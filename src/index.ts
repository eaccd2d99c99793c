/**
 * durable-write: file writes that survive a crash, a power cut or a BMC hard reset.
 *
 * @packageDocumentation
 */
export { writeDurable, writeDurableSync } from './write/write-durable.js';
export type {
  DataChunk,
  DirectorySyncPolicy,
  FlushMethod,
  WriteDurableData,
  WriteDurableOptions,
  WriteDurableResult,
  WriteDurableStepEvent,
  WriteDurableSyncOptions,
} from './write/write-durable.js';
export { openDurable } from './write/open-durable.js';
export type { OpenDurableOptions, PendingFile, PendingWriteStreamOptions } from './write/open-durable.js';
export { createDurableWriteStream } from './write/write-stream.js';
export type { DurableWriteStream, DurableWriteStreamOptions } from './write/write-stream.js';
export { writeDurableJson, writeDurableJsonSync } from './write/write-json.js';
export { removeStaleTemps, removeStaleTempsSync } from './write/remove-stale-temps.js';
export type { KeptTemp, RemovedTemp, RemoveStaleTempsOptions, RemoveStaleTempsResult, RemoveStaleTempsSyncOptions, StaleTemp } from './write/remove-stale-temps.js';
export type { JsonFormatOptions, JsonReplacer, WriteDurableJsonOptions, WriteDurableJsonSyncOptions } from './write/write-json.js';
export { appendDurable, appendDurableSync } from './write/append-durable.js';
export type { AppendDurableOptions, AppendDurableResult, AppendDurableSyncOptions } from './write/append-durable.js';
export { openDurableLog, readDurableLog } from './write/durable-log.js';
export type {
  DurableLog,
  DurableLogContents,
  DurableLogFormat,
  DurableLogRecovery,
  OpenDurableLogOptions,
  ReadDurableLogOptions,
} from './write/durable-log.js';
export { renameDurable, renameDurableSync } from './write/rename-durable.js';
export type { RenameDurableOptions, RenameDurableResult, RenameDurableSyncOptions } from './write/rename-durable.js';
export { fsyncFile, fsyncFileSync } from './write/fsync-file.js';
export type { FsyncFileOptions, FsyncFileSyncOptions } from './write/fsync-file.js';
export { fsyncDirectory, fsyncDirectorySync } from './write/fsync-directory.js';
export type { FsyncDirectoryOptions, FsyncDirectoryResult, FsyncDirectorySyncOptions } from './write/fsync-directory.js';
export { syncAll, syncFilesystem } from './sync/sync.js';
export type { SyncAllOptions, SyncFilesystemOptions } from './sync/sync.js';
export { isPowerControlError, PowerControlError } from './power/power-controller.js';
export type {
  PowerCallOptions,
  PowerController,
  PowerControlErrorOptions,
  PowerControlReason,
  PowerState,
  PowerVerb,
} from './power/power-controller.js';
export { IpmitoolPowerController } from './power/ipmitool.js';
export type { IpmitoolPowerControllerOptions } from './power/ipmitool.js';
export { RedfishPowerController } from './power/redfish.js';
export type { RedfishPowerControllerOptions, RedfishTlsOptions, RedfishWaitOptions } from './power/redfish.js';
export {
  AbortError,
  DurableWriteError,
  FlushError,
  isAbortError,
  isDurableWriteError,
  isFlushError,
  isLogCorruptionError,
  isTornTailError,
  LogCorruptionError,
  TornTailError,
} from './core/errors.js';
export type { DurableWriteErrorOptions, DurableWriteStage } from './core/errors.js';
export { nodeFileSystem } from './core/file-system.js';
export type { DurableFileHandle, DurableFileSystem, DurableStats } from './core/file-system.js';
