/**
 * Starting the write worker (`write-offload.ts`) without ever crashing or failing a write: when
 * the worker may not start, or cannot, every call takes the general path, which makes the same
 * syscalls from the calling thread.
 *
 * It does not start:
 * - when the environment variable {@link WORKER_SWITCH} is `0` (or `false`, `off`, `no`): the
 *   opt-out for constrained environments, read when the worker would start (a process's second
 *   eligible call);
 * - under Node's permission model without `--allow-worker` (`new Worker` would throw);
 * - on Linux, when the process's address space is limited (`ulimit -v`, `RLIMIT_AS`) and less than
 *   {@link WORKER_ADDRESS_SPACE} of it is left: V8 reserves address space for a new isolate, and a
 *   reservation that fails aborts the whole process ("Fatal process OOM in Failed to reserve
 *   virtual memory for CodeRange"), which no `try` can catch. Measured on Linux x64, Node 20: a
 *   process that could write once aborted on starting a default worker under any limit up to
 *   1.5 GB; with {@link WORKER_LIMITS} a worker took 32 to 90 MiB more.
 *
 * It starts with {@link WORKER_LIMITS}, modest resource limits (the default code range alone
 * reserves hundreds of MiB), and whatever `new Worker` throws is caught.
 *
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/** The environment variable whose value `0` (or `false`, `off`, `no`) keeps the write worker from ever starting. */
export const WORKER_SWITCH = 'DURABLE_WRITE_WORKER';

/** Values of {@link WORKER_SWITCH} that turn the worker off. */
const OFF: ReadonlySet<string> = new Set(['0', 'false', 'off', 'no']);

/**
 * The worker's resource limits: a 16 MiB code range instead of V8's default reservation (what
 * aborted the process under `ulimit -v`), and an old generation far above what a worker holding at
 * most a few 1 MiB jobs needs. The young generation keeps its default: a smaller one made no
 * difference to the address space needed and costs scavenges.
 */
export const WORKER_LIMITS: ResourceLimits = { codeRangeSizeMb: 16, maxOldGenerationSizeMb: 64 };

/** Address space that must be left under a limit for the worker to start: several times what it takes. */
export const WORKER_ADDRESS_SPACE = 256 * 1024 * 1024;

/** Whether {@link WORKER_SWITCH} turns the worker off. */
function switchedOff(): boolean {
  return OFF.has((process.env[WORKER_SWITCH] ?? '').trim().toLowerCase());
}

/** Whether the permission model is on and refuses workers. */
function workersRefused(): boolean {
  const permission: NodeJS.ProcessPermission | undefined = process.permission;
  return permission !== undefined && !permission.has('worker');
}

/** The address space left under the process's limit (Linux), or `undefined` when unlimited or unknown. */
function addressSpaceLeft(): number | undefined {
  try {
    const limit = /^Max address space\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    const used = /^VmSize:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return limit === undefined || used === undefined ? undefined : Number(limit) - Number(used) * 1024;
  } catch {
    return undefined; // not Linux, or /proc not readable: nothing to go by
  }
}

/** Whether the worker may start: not switched off, not refused, enough address space left. */
function mayStart(): boolean {
  if (switchedOff() || workersRefused()) return false;
  const left = addressSpaceLeft();
  return left === undefined || left >= WORKER_ADDRESS_SPACE;
}

/**
 * The worker for `file`, started with {@link WORKER_LIMITS} and no inherited `execArgv`, or
 * `undefined` when it must not or cannot start (see the module comment). Never throws.
 */
export function startWorker(file: string): Worker | undefined {
  if (!mayStart()) return undefined;
  try {
    // No inherited execArgv: the worker is plain JavaScript and needs no flag, and some of the
    // caller's break a worker (`--input-type` with `-e` does: the worker exits at once).
    return new Worker(file, { name: 'durable-write', execArgv: [], resourceLimits: WORKER_LIMITS });
  } catch {
    return undefined;
  }
}
