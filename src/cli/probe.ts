/**
 * `durable-write probe [DIR]`: a `pg_test_fsync` for this library. It times, for a fixed time
 * each, the flushes a durable write is made of and the library's own calls, in a fresh
 * subdirectory of DIR that it removes afterwards; reports the device under DIR; and warns when
 * the flushes are too fast for that device to be real.
 *
 * @internal
 * @module
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errnoCode } from '../core/errors.js';
import { defineCommand } from './command.js';
import { CommandError, UsageError } from './errors.js';
import { describeDevice, type DeviceInfo } from './probe-device.js';
import { PROBE_METHODS, measured, timeMethod, type MethodResult } from './probe-methods.js';
import { probeReport, reportHeader, reportRow, reportWarnings } from './probe-report.js';
import { probeWarnings } from './probe-warnings.js';

/** What `runProbe` writes to, and whether stderr is a terminal (progress is drawn only then). */
interface ProbeIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly isTTY: boolean;
}

const DEFAULT_SECONDS = 2;
const MAX_SECONDS = 3600;

/** `--seconds`: a number of seconds above 0, fractions allowed. */
function parseSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SECONDS;
  const seconds = /^\d*\.?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0 && seconds <= MAX_SECONDS)) {
    throw new UsageError(`--seconds must be a number of seconds above 0 and at most ${MAX_SECONDS}, such as 2 or 0.5; received '${text}'`);
  }
  return seconds;
}

/** The storage under `directory`, once it is known to be a directory; else a {@link CommandError} with its errno code. */
function inspectDirectory(directory: string): DeviceInfo {
  try {
    if (!statSync(directory).isDirectory()) throw Object.assign(new Error(`not a directory: ${directory}`), { code: 'ENOTDIR' });
    return describeDevice(directory);
  } catch (error) {
    const code = errnoCode(error);
    throw new CommandError(`cannot probe ${directory}${code === undefined ? '' : ` (${code})`}`, { code, stage: 'probe', path: directory, cause: error });
  }
}

/** Thrown once a signal has stopped the probe. */
function interrupted(directory: string): CommandError {
  return new CommandError('interrupted; the probe removed its working directory', { code: 'ABORT_ERR', stage: 'probe', path: directory });
}

const probeCommand = defineCommand({
  name: 'probe',
  arguments: '[DIR]',
  summary: 'time the flushes a durable write is made of on the storage under DIR, and check them against the device',
  description: [
    'Times, for --seconds each, 4 KiB at a time: write+fsync, write+fdatasync, O_DSYNC write, directory fsync, ' +
      'writeDurable, writeDurableSync and sync(), each reported as operations per second and median (p50) and 99th ' +
      'percentile (p99) latency. It works in a fresh subdirectory of DIR (default: the current directory) and removes ' +
      'it afterwards.',
    'It reports the device under DIR (from /proc/self/mountinfo and /sys/dev/block: rotational or not, write cache) ' +
      'and warns when the flushes are too fast for that device to have made the data durable, or when the file ' +
      'system cannot keep data at all (tmpfs). Exit status 0 means every method was measured, warnings or not.',
  ],
  options: {
    seconds: { type: 'string', value: 'N', help: `time per method in seconds (default ${DEFAULT_SECONDS}; fractions such as 0.5 are allowed)` },
  },
  arity: { min: 0, max: 1 },
  async run({ values, positionals: [dir = '.'] }, { out, signal }) {
    const seconds = parseSeconds(values.seconds);
    const directory = resolve(dir);
    const device = inspectDirectory(directory);
    let work: string;
    try {
      work = mkdtempSync(join(directory, '.durable-write-probe-'));
    } catch (error) {
      const code = errnoCode(error);
      throw new CommandError(`cannot create the probe's working directory in ${directory}${code === undefined ? '' : ` (${code})`}`, {
        code,
        stage: 'probe',
        path: directory,
        cause: error,
      });
    }
    for (const line of reportHeader(directory, seconds, device)) out.line(line);
    const results: MethodResult[] = [];
    try {
      for (const method of PROBE_METHODS) {
        const progress = out.progress(`${method.name}:`);
        const result = await timeMethod(method, work, seconds, (count) => progress.update(`${count} ops`), signal);
        progress.done();
        if (signal.aborted) throw interrupted(directory);
        if (!measured(result)) out.error('probe', result.error);
        out.line(reportRow(result));
        results.push(result);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const warnings = probeWarnings(device, results);
    for (const line of reportWarnings(warnings)) out.line(line);
    out.result(probeReport(directory, seconds, device, results, warnings));
    return results.every(measured) ? 0 : 1;
  },
});

/**
 * `durable-write probe`, given the arguments after `probe`. Resolves to the exit status: 0 when
 * every method was measured (warnings or not), 1 when DIR is unusable or a method failed, 2 on a
 * usage error, 128+N when signal N stopped it. While it runs, SIGINT and SIGTERM stop it at the
 * next turn of the event loop (within about 0.1 s), after which it removes its working directory.
 */
export async function runProbe(argv: string[], io: ProbeIo): Promise<number> {
  const controller = new AbortController();
  const interrupt = (name: NodeJS.Signals): void => controller.abort(name);
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    return await probeCommand.execute(argv, { ...io, stdin: () => process.stdin, stdinIsTTY: false }, controller.signal);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
