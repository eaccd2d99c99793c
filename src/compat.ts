/**
 * durable-write/compat: drop-in, durable twins of `fs.writeFile`, fs-extra's `outputFile`,
 * `outputJson` and `writeJson`, and write-file-atomic, for a one-line migration: change the
 * import, keep the calls. Each takes its original's arguments, defaults and callback forms, and
 * replaces the file with `writeDurable`'s syscalls and guarantees (temp file, fsync, rename,
 * directory fsync). What a durable replace cannot honour (appending, `fsync: false`, a file
 * descriptor) is a `TypeError` that says why, never silently ignored.
 *
 * @packageDocumentation
 */
export { writeFile, writeFileSync } from './compat/node-fs.js';
export type { WriteFileOptions, WriteFileSyncOptions } from './compat/node-fs.js';
export {
  outputFile,
  outputFileSync,
  outputJson,
  outputJson as outputJSON,
  outputJsonSync,
  outputJsonSync as outputJSONSync,
  writeJson,
  writeJson as writeJSON,
  writeJsonSync,
  writeJsonSync as writeJSONSync,
} from './compat/fs-extra.js';
export type { JsonWriteOptions, JsonWriteSyncOptions, NoParamCallback } from './compat/fs-extra.js';
export { writeFileAtomic, writeFileAtomicSync } from './compat/write-file-atomic.js';
export type { WriteFileAtomicCallback, WriteFileAtomicData, WriteFileAtomicOptions } from './compat/write-file-atomic.js';
