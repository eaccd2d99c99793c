/**
 * durable-write/testing: fakes for unit-testing code that writes durably and controls power.
 *
 * @packageDocumentation
 */
export { FakePowerController } from './fake-power-controller.js';
export type { FakePowerCall, FakePowerControllerOptions, FakePowerFailureOptions, PowerSimulatorLink } from './fake-power-controller.js';
export { createCrashSimulator } from './crash-simulator/crash-simulator.js';
export type { CrashSimulator, CrashSimulatorOptions, CrashState } from './crash-simulator/crash-simulator.js';
export type {
  SimulatedFileData,
  SimulatedFileSystem,
  SimulatedMkdirOptions,
  SimulatedReadFileOptions,
  SimulatedRmOptions,
  SimulatedWriteFileOptions,
} from './crash-simulator/simulated-file-system.js';
export type { HandleReadFileOptions, HandleWriteFileOptions, SimulatedFileHandle } from './crash-simulator/simulated-file-handle.js';
export type { Fault, FaultOperation, FaultSpec } from './crash-simulator/faults.js';
export type { TraceEntry } from './crash-simulator/simulated-kernel.js';
export type { SimulatedDirent, SimulatedStats } from './crash-simulator/stats.js';
export type { SimulatedFsError } from './crash-simulator/errors.js';
export type { PathLike, WritableData } from './crash-simulator/arguments.js';
