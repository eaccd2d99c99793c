/**
 * Shared by the Node writers of bench/run.mjs: loading the library, argument parsing, the set-up
 * every writer of a scenario does alike, and the timed loop with its one JSON result line on
 * stdout, `{"ms": <loop milliseconds>, "maxRssKiB": <peak RSS>}`.
 */
import { closeSync, constants, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The library under test: the runner's snapshot of dist/ (its index.js in the environment
 * variable DURABLE_WRITE_BENCH_DIST, so that a rebuild during a run cannot mix two builds), or
 * this checkout's dist/index.js when a writer is run by hand.
 * @returns {Promise<typeof import('../../dist/index.js')>}
 */
export function loadLibrary() {
  const snapshot = process.env.DURABLE_WRITE_BENCH_DIST;
  return import(snapshot ? pathToFileURL(snapshot).href : new URL('../../dist/index.js', import.meta.url).href);
}

/**
 * The positional argument at `index` (0 is the first after the script).
 * @param {number} index
 * @returns {string}
 */
export function arg(index) {
  const value = process.argv[2 + index];
  if (value === undefined || value === '') throw new Error(`missing argument ${index + 1}`);
  return value;
}

/**
 * The positional argument at `index` as a positive integer.
 * @param {number} index
 * @returns {number}
 */
export function countArg(index) {
  const value = Number(arg(index));
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`argument ${index + 1} must be a positive integer`);
  return value;
}

/**
 * The payload every writer writes: `size` bytes of 'x', as the C programs write.
 * @param {number} size
 * @returns {Buffer}
 */
export function payload(size) {
  return Buffer.alloc(size, 'x');
}

/**
 * `count` file paths f0..f(count-1) in `dir`, the names c-batch uses.
 * @param {string} dir
 * @param {number} count
 * @returns {string[]}
 */
export function numberedFiles(dir, count) {
  return Array.from({ length: count }, (_, i) => join(dir, `f${i}`));
}

/**
 * Set-up before timing, as the C programs do it: creates each path with `data`, fsynced, then
 * fsyncs `dir`, so every timed write replaces a file that is already on disk.
 * @param {string} dir
 * @param {string[]} paths
 * @param {Buffer} data
 */
export function createFiles(dir, paths, data) {
  for (const path of paths) {
    const fd = openSync(path, 'w', 0o600);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
  }
  fsyncDirectorySync(dir);
}

/**
 * open(dir, O_RDONLY|O_DIRECTORY), fsync, close, through node:fs sync calls.
 * @param {string} dir
 */
export function fsyncDirectorySync(dir) {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  fsyncSync(fd);
  closeSync(fd);
}

/**
 * Times `loop` with process.hrtime.bigint(), prints the result line (the loop's milliseconds
 * and this process's peak RSS, process.resourceUsage().maxRSS in KiB) and exits at once, so
 * that anything the library leaves holding the event loop open (a timer, a worker thread)
 * cannot stall the run. Writes to a pipe are synchronous on Linux: the line is out before exit.
 * @param {() => unknown} loop sync or async
 * @returns {Promise<never>}
 */
export async function measure(loop) {
  const start = process.hrtime.bigint();
  await loop();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(`${JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
  process.exit(0);
}
