/**
 * Runs the coreutils `sync` program for `syncAll` (no arguments: `sync(2)`) and
 * `syncFilesystem` (`--file-system -- PATH`: `syncfs(2)`), and turns its outcome into a
 * {@link DurableWriteError} whose `code` is the errno name the kernel reported.
 *
 * Why a program and not a native addon: Node has no binding for `sync(2)` or `syncfs(2)`, the
 * package has zero runtime dependencies and no build step on install, and coreutils' `sync` is
 * present on every Linux distribution (the spawn costs about a millisecond; see docs/power.md for
 * the measured overhead). Under `LC_ALL=C` coreutils reports a failure on stderr as
 * `sync: error syncing 'PATH': <strerror text>` and exits 1; {@link errnoFromStrerror} maps the
 * text back to the errno name.
 *
 * @module
 * @internal
 */
import { AbortError, DurableWriteError } from '../core/errors.js';
import { throwIfAborted } from '../core/failure.js';
import { hostPlatform, type Platform } from '../core/platform.js';
import { runProgram } from '../core/run-program.js';

/** The program run when the caller names none: GNU coreutils' `sync`. */
export const DEFAULT_SYNC_PROGRAM = 'sync';

/** glibc's `strerror()` texts (the C locale) for the errnos a sync or an open can report. */
const STRERROR_C: Readonly<Record<string, string>> = {
  'Operation not permitted': 'EPERM',
  'No such file or directory': 'ENOENT',
  'Interrupted system call': 'EINTR',
  'Input/output error': 'EIO',
  'No such device or address': 'ENXIO',
  'Bad file descriptor': 'EBADF',
  'Cannot allocate memory': 'ENOMEM',
  'Permission denied': 'EACCES',
  'No such device': 'ENODEV',
  'Not a directory': 'ENOTDIR',
  'Is a directory': 'EISDIR',
  'Invalid argument': 'EINVAL',
  'Too many open files': 'EMFILE',
  'Too many open files in system': 'ENFILE',
  'File too large': 'EFBIG',
  'No space left on device': 'ENOSPC',
  'Read-only file system': 'EROFS',
  'File name too long': 'ENAMETOOLONG',
  'Function not implemented': 'ENOSYS',
  'Too many levels of symbolic links': 'ELOOP',
  'Value too large for defined data type': 'EOVERFLOW',
  'Operation not supported': 'EOPNOTSUPP',
  'Transport endpoint is not connected': 'ENOTCONN',
  'Connection timed out': 'ETIMEDOUT',
  'Stale file handle': 'ESTALE',
  'Structure needs cleaning': 'EUCLEAN',
  'Remote I/O error': 'EREMOTEIO',
  'Disk quota exceeded': 'EDQUOT',
  'No medium found': 'ENOMEDIUM',
  'Device or resource busy': 'EBUSY',
  'Resource temporarily unavailable': 'EAGAIN',
};

/** The errno name for a glibc `strerror()` text in the C locale, or `undefined` if unknown. */
export function errnoFromStrerror(text: string): string | undefined {
  return STRERROR_C[text.trim()];
}

/** The failure line of coreutils `sync`: `sync: error syncing 'P': Input/output error`. */
const FAILURE_LINE = /^[^:\n]*: error (opening|syncing|reading|writing)?\s*.*: ([^:\n]+)$/;

/** What {@link runSyncProgram} needs. */
export interface SyncProgramCall {
  readonly stage: 'sync' | 'syncfs';
  /** The program's arguments. */
  readonly args: readonly string[];
  /** The path the call is about (syncfs only). */
  readonly path?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** The program to run; `undefined` for the default, {@link DEFAULT_SYNC_PROGRAM}, which Windows lacks. */
  readonly syncProgram: string | undefined;
}

/**
 * The refusal of `syncAll` or `syncFilesystem` on Windows without a `syncProgram`: Windows has no
 * `sync(2)` or `syncfs(2)`, and no coreutils `sync` to reach them (code `ENOTSUP`).
 */
export function syncUnsupported(call: Pick<SyncProgramCall, 'stage' | 'path'>): DurableWriteError {
  const name = call.stage === 'sync' ? 'syncAll' : 'syncFilesystem';
  return new DurableWriteError(
    `${name} is not supported on Windows: it has no ${call.stage}(2), and flushing a whole volume (FlushFileBuffers on the volume) ` +
      'needs administrative rights. Nothing is needed for files written with writeDurable, writeDurableJson, openDurable, ' +
      'createDurableWriteStream or the compat functions (each is flushed before its call resolves), nor after fsyncFile; ' +
      "to flush other programs' data, pass syncProgram: a program of your choice, run with the arguments coreutils sync takes " +
      `(${call.stage === 'sync' ? 'none' : '--file-system -- PATH'}), such as Sysinternals' sync.exe for syncAll (as an administrator)`,
    { code: 'ENOTSUP', stage: call.stage, path: call.path },
  );
}

/** Runs `sync` and resolves once it exited 0; rejects with a typed error otherwise. */
export async function runSyncProgram(call: SyncProgramCall & { readonly syncProgram: string }): Promise<void> {
  const { stage, path, syncProgram } = call;
  const what = stage === 'sync' ? 'sync(2)' : `syncfs(2) on ${JSON.stringify(path)}`;
  const outcome = await runProgram(syncProgram, call.args, {
    env: { ...process.env, LC_ALL: 'C' },
    signal: call.signal,
    // A child inside sync(2) is uninterruptible; settle on abort without waiting for it.
    reapWaitMs: 0,
  });
  switch (outcome.kind) {
    case 'exited': {
      if (outcome.exitCode === 0) return;
      const stderr = outcome.stderr.trim();
      const lines = stderr.split('\n');
      const last = lines[lines.length - 1] ?? '';
      if (/unrecognized option|invalid option/.test(stderr)) {
        throw new DurableWriteError(
          `${what} is not available: '${syncProgram}' does not support --file-system ` +
            `(GNU coreutils 8.24 or later is needed; install the coreutils package): ${stderr}`,
          { code: 'ENOSYS', stage, path },
        );
      }
      const match = FAILURE_LINE.exec(last);
      const text = match?.[2];
      const code = text === undefined ? undefined : errnoFromStrerror(text);
      const how =
        outcome.exitCode === null ? `was killed by ${outcome.signal ?? 'a signal'}` : `exited with status ${outcome.exitCode}`;
      throw new DurableWriteError(
        `${what} failed${code === undefined ? '' : ` with ${code}`}: '${syncProgram}' ${how}` +
          (stderr === '' ? '' : `: ${stderr}`) +
          '. Data written before this call may not be on stable storage.',
        { code, stage, path },
      );
    }
    case 'spawn-error': {
      const code = outcome.error.code;
      const missing = code === 'ENOENT';
      throw new DurableWriteError(
        missing
          ? `${what} needs the '${syncProgram}' program from GNU coreutils, and it was not found` +
              (syncProgram.includes('/') ? '' : ' on PATH') +
              ' (install the coreutils package, or pass syncProgram)'
          : `${what} could not start '${syncProgram}' (the sync program of GNU coreutils): ${outcome.error.message}`,
        { code, stage, path, cause: outcome.error },
      );
    }
    case 'aborted':
    case 'timeout':
      throw new AbortError({ stage, path, cause: outcome.kind === 'aborted' ? outcome.reason : undefined });
  }
}

/**
 * The flow both `syncAll` and `syncFilesystem` follow: reject if already aborted; call the fs
 * seam's own flush when it has one (then honour an abort that came meanwhile); else run `sync`,
 * or on Windows, without a `syncProgram`, reject at once ({@link syncUnsupported}).
 */
export async function flushThroughSeamOrProgram(
  call: SyncProgramCall & { readonly seamFlush: (() => Promise<void>) | undefined },
  platform: Platform = hostPlatform,
): Promise<void> {
  const where = { path: call.path };
  throwIfAborted(call.signal, call.stage, where);
  if (call.seamFlush !== undefined) {
    await call.seamFlush();
    throwIfAborted(call.signal, call.stage, where);
    return;
  }
  if (call.syncProgram === undefined && platform === 'windows') throw syncUnsupported(call);
  await runSyncProgram({ ...call, syncProgram: call.syncProgram ?? DEFAULT_SYNC_PROGRAM });
}
