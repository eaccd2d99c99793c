/**
 * The two forms of a `durable-write probe` report: lines for a person, written as each method
 * finishes, and one JSON object for a script.
 *
 * @module
 */
import type { DeviceInfo } from './probe-device.js';
import { BLOCK_SIZE, measured, type MethodResult } from './probe-methods.js';
import { formatLatency, formatRate } from './probe-units.js';
import type { ProbeWarning } from './probe-warnings.js';

/** Everything the probe found, as `--json` prints it. */
export interface ProbeReport {
  readonly command: 'probe';
  /** The directory probed, absolute. */
  readonly directory: string;
  /** The time given to each method, seconds. */
  readonly seconds: number;
  /** The size of each write, bytes. */
  readonly blockSize: number;
  readonly device: DeviceInfo;
  /** One entry a method, in the order they ran. */
  readonly methods: readonly MethodResult[];
  readonly warnings: readonly ProbeWarning[];
}

/** Builds the report object from its parts. */
export function probeReport(
  directory: string,
  seconds: number,
  device: DeviceInfo,
  methods: readonly MethodResult[],
  warnings: readonly ProbeWarning[],
): ProbeReport {
  return { command: 'probe', directory, seconds, blockSize: BLOCK_SIZE, device, methods, warnings };
}

/** What the device line says the device is. */
function deviceSummary(device: DeviceInfo): string {
  if (device.blockDevice === 'unknown') return `unknown (no block device found for st_dev ${device.dev})`;
  const kind = device.kind === 'partition' ? `partition of ${device.disk}` : device.kind;
  const over = device.underlying.length > 0 ? ` over ${device.underlying.join(', ')}` : '';
  const identity = [device.driver === 'unknown' ? '' : `driver ${device.driver}`, device.model === 'unknown' ? '' : `vendor/model ${device.model}`]
    .filter((part) => part !== '')
    .join(', ');
  const rotational = device.rotational === 'unknown' ? 'unknown' : device.rotational ? 'yes' : 'no';
  return (
    `${device.blockDevice} (${device.dev}): ${kind}${over}${identity === '' ? '' : `, ${identity}`}` +
    `${device.virtualDisk ? ' (a virtual disk)' : ''}; rotational: ${rotational}; write cache: ${device.writeCache}`
  );
}

/** The lines that open the human report, before any method runs. */
export function reportHeader(directory: string, seconds: number, device: DeviceInfo): string[] {
  const mount = device.fsType === 'unknown' ? 'unknown' : `${device.fsType} on ${device.mountPoint} (source ${device.mountSource})`;
  return [
    `directory  ${directory} (${BLOCK_SIZE / 1024} KiB writes, ${seconds} s per method)`,
    `mount      ${mount}`,
    `device     ${deviceSummary(device)}`,
    '',
    `${'method'.padEnd(18)}${'ops/s'.padStart(10)}${'p50'.padStart(11)}${'p99'.padStart(11)}${'count'.padStart(9)}`,
  ];
}

/** The table row of one method. */
export function reportRow(result: MethodResult): string {
  if (!measured(result)) return `${result.name.padEnd(18)}  failed (${result.error.code ?? 'no code'}; the error is on stderr)`;
  return (
    `${result.name.padEnd(18)}${formatRate(result.opsPerSecond).padStart(10)}` +
    `${formatLatency(result.p50Us).padStart(11)}${formatLatency(result.p99Us).padStart(11)}${String(result.count).padStart(9)}`
  );
}

/** The closing lines of the human report: the warnings, or what their absence means. */
export function reportWarnings(warnings: readonly ProbeWarning[]): string[] {
  if (warnings.length === 0) return ['', 'no warnings (the probe spots flushes too fast to be real; it cannot prove that slower ones reach stable storage)'];
  return ['', ...warnings.map((warning) => `warning: ${warning.message}`)];
}
