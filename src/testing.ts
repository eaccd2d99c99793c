/**
 * durable-write/testing: fakes for unit-testing code that writes durably and controls power.
 *
 * @packageDocumentation
 */
export { FakePowerController } from './testing/fake-power-controller.js';
export type { FakePowerCall, FakePowerControllerOptions, FakePowerFailureOptions, PowerSimulatorLink } from './testing/fake-power-controller.js';
export { createCrashSimulator } from './testing/crash-simulator/crash-simulator.js';
export type { CrashSimulator, CrashSimulatorOptions, CrashState } from './testing/crash-simulator/crash-simulator.js';
export type {
  SimulatedFileData,
  SimulatedFileSystem,
  SimulatedMkdirOptions,
  SimulatedReadFileOptions,
  SimulatedRmOptions,
  SimulatedWriteFileOptions,
} from './testing/crash-simulator/simulated-file-system.js';
export type { HandleReadFileOptions, HandleWriteFileOptions, SimulatedFileHandle } from './testing/crash-simulator/simulated-file-handle.js';
export type { Fault, FaultOperation, FaultSpec } from './testing/crash-simulator/faults.js';
export type { TraceEntry } from './testing/crash-simulator/call-trace.js';
export type { SimulatedDirent, SimulatedStats } from './testing/crash-simulator/stats.js';
export type { SimulatedFsError } from './testing/crash-simulator/fs-error.js';
export type { PathLike, WritableData } from './testing/crash-simulator/node-arguments.js';
