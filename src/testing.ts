/**
 * durable-write/testing: fakes for unit-testing code that writes durably and controls power.
 *
 * @packageDocumentation
 */
export { nodeFileSystem } from './file-system.js';
