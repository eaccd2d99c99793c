/**
 * Runs INSIDE the guest, under strace (started by guest/cases.mjs): one library write whose
 * device starts failing writes at a chosen step, swapped from `onStep` (synchronously, so the
 * library's next syscall already meets the failing device).
 *
 *   node write-case.mjs <json>
 *     { lib, api: 'async' | 'sync', trigger: 'after-data' | 'after-rename', target, disk, sectors,
 *       label, seed, oldSize, newSize }
 *
 * 'after-data': at the first step after the last data write (fchmod), so that the file fsync's
 * writeback fails. 'after-rename': right after the rename, so that the directory fsync fails.
 * Prints one JSON object on stdout: the error (or result), the steps seen, and what the guest's
 * page cache shows right after the call (not what the disk holds: cases.mjs checks that after the
 * device is healthy again and the file system has been checked and remounted).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { swapTable, tables } from './dm.mjs';
import { payload, classify, sha256 } from '../lib/payload.mjs';

/** The name write-case.mjs opens (and fails to) right after the call under test; cases.mjs splits the strace log there. */
const END_OF_CALL = '--end-of-call--';

const spec = JSON.parse(process.argv[2] ?? '{}');
const lib = await import(pathToFileURL(spec.lib).href);
const fresh = payload(`new:${spec.label}`, spec.seed, spec.newSize);
const old = payload(`old:${spec.label}`, spec.seed, spec.oldSize);

/** @type {string[]} */
const steps = [];
/** @type {{ afterStep: string, stepIndex: number, swapMs: number } | undefined} */
let swapped;
let sawWrite = false;
/** @param {{ step: string }} event */
function onStep({ step }) {
  steps.push(step);
  if (swapped !== undefined) return;
  let now = false;
  if (spec.trigger === 'after-data') {
    if (step === 'write') sawWrite = true;
    else if (sawWrite) now = true;
  } else if (spec.trigger === 'after-rename') {
    now = step === 'rename';
  }
  if (now) {
    const swapMs = swapTable(tables.errorWrites(spec.disk, spec.sectors));
    swapped = { afterStep: step, stepIndex: steps.length - 1, swapMs };
  }
}

/** @param {unknown} error */
function describe(error) {
  if (!(error instanceof Error)) return { thrown: String(error) };
  const e = /** @type {any} */ (error);
  const cause = e.cause instanceof Error ? /** @type {any} */ (e.cause) : undefined;
  return {
    name: e.name,
    constructor: e.constructor?.name,
    stage: e.stage,
    code: e.code,
    path: e.path,
    tmpPath: e.tmpPath,
    message: e.message,
    isDurableWriteError: lib.isDurableWriteError(e),
    isFlushError: lib.isFlushError(e),
    instanceofFlushError: e instanceof lib.FlushError,
    cause: cause === undefined ? undefined : { code: cause.code, errno: cause.errno, syscall: cause.syscall, message: cause.message },
  };
}

const started = performance.now();
let outcome;
try {
  const result =
    spec.api === 'sync'
      ? lib.writeDurableSync(spec.target, fresh, { onStep })
      : await lib.writeDurable(spec.target, fresh, { onStep });
  outcome = { resolved: true, result: { bytesWritten: result.bytesWritten, directorySynced: result.directorySynced } };
} catch (error) {
  outcome = { resolved: false, error: describe(error) };
}
const callMs = Math.round(performance.now() - started);

// What this machine shows right away (page cache), before any remount or follow-up call.
const dir = path.dirname(spec.target);
let visible;
try {
  visible = fs.readFileSync(spec.target);
} catch {
  visible = undefined;
}
const directoryAtOnce = fs.readdirSync(dir).sort();

/** A follow-up call's outcome: 'ok' or the error's name, stage and code. @param {() => unknown} call */
function followUp(call) {
  try {
    call();
    return { ok: true };
  } catch (error) {
    const e = /** @type {any} */ (error);
    return { ok: false, name: e?.name, stage: e?.stage, code: e?.code };
  }
}
// A marker in the strace log between the call and the follow-ups: an openat that fails ENOENT.
try {
  fs.closeSync(fs.openSync(path.join(dir, END_OF_CALL), 'r'));
} catch {}

// What a caller might do next while the device still fails. After a failed directory fsync:
// "fsync the directory again" (the library's fsyncDirectorySync, a new descriptor). Then, in
// every case: write again at once.
const retryDirectoryFsync = spec.trigger === 'after-rename' ? followUp(() => lib.fsyncDirectorySync(path.dirname(spec.target))) : null;
const immediateRewrite = followUp(() => lib.writeDurableSync(spec.target, fresh));

process.stdout.write(
  JSON.stringify({
    api: spec.api,
    trigger: spec.trigger,
    ...outcome,
    callMs,
    retryDirectoryFsync,
    immediateRewrite,
    steps,
    swapped: swapped ?? null,
    cacheView: {
      target: classify(visible, old, fresh),
      targetSha256: visible === undefined ? null : sha256(visible),
      directory: directoryAtOnce,
    },
  }) + '\n',
);
