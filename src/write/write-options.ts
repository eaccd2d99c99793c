/**
 * The options and the result of `writeDurable`, which every write form shares (`writeDurableJson`,
 * `openDurable`, `createDurableWriteStream`, the compat layer).
 *
 * @module
 */
import type { DirectorySyncPolicy, FlushMethod } from '../core/file-io.js';
import type { DurableFileSystem } from '../core/file-system.js';
import type { DurableWriteError } from '../core/errors.js';

/** One step of a write, reported to {@link WriteDurableOptions.onStep} as it completes. */
export interface WriteDurableStepEvent {
  /** The primitive: `lstat`, `open`, `write`, `fsync`, `fdatasync`, `fchmod`, `close`, `rename`, ... */
  readonly step: string;
  /** How long it took, in milliseconds. */
  readonly milliseconds: number;
}

/** Options of {@link writeDurable}. An encoding string may stand in their place, as with `fs.writeFile`. */
export interface WriteDurableOptions {
  /** Encoding of string data (and string chunks). Default `'utf8'`. */
  readonly encoding?: BufferEncoding | null | undefined;
  /**
   * Permission bits of the file (a number, or an octal string such as `'644'`), applied with
   * `fchmod` and not reduced by the umask. Default: the existing target's mode; for a new file,
   * `0o666 & ~umask`. The temporary file has mode `0o600` until this is set.
   */
  readonly mode?: number | string | undefined;
  /**
   * How the data is flushed: `'fsync'` (data and all metadata) or `'fdatasync'` (data and the
   * metadata needed to read it back, such as the size; cheaper where timestamps change). With
   * `'fdatasync'` POSIX does not promise that the mode and owner set on the temp file are
   * flushed; on ext4 and XFS the directory fsync that follows commits them with the rename, but
   * use `'fsync'` where the permissions must survive a crash on any file system.
   * `true` means `'fsync'`, for code passing `fs.writeFile`'s `flush: true`. Default `'fsync'`.
   */
  readonly flush?: FlushMethod | true | undefined;
  /**
   * `'required'`: a failed directory fsync rejects. `'best-effort'`: a file system that refuses
   * to fsync a directory (EINVAL, ENOTSUP, EPERM, EISDIR... as some FUSE and network file systems
   * do) is tolerated and reported in {@link WriteDurableResult.directorySyncErrors}; an I/O error
   * still rejects.
   *
   * Default, per platform: `'required'` on Linux and macOS. On Windows, which offers no directory
   * flush (`FlushFileBuffers` needs write access, and NTFS documents no flush of a directory), the
   * directory is neither opened nor flushed: the data is flushed and the rename done, and the
   * result says `directorySynced: false` with one error of code `ENOTSUP` per directory (as
   * PostgreSQL and SQLite skip it there); `'best-effort'` does the same, and `'required'` rejects
   * before anything changes (code `ENOTSUP`, stage `validate`).
   */
  readonly directorySync?: DirectorySyncPolicy | undefined;
  /**
   * How long, in milliseconds, a rename refused with `EPERM`, `EACCES` or `EBUSY` is retried on
   * Windows, where another process holding the target or the temp file open without sharing
   * delete access (an antivirus scanner, a search indexer, a backup client) refuses it for a while.
   * Tries back off from 10 ms to 100 ms apart; `signal` ends the wait. When the window has passed,
   * the call fails as any failed rename does (temp file removed, target untouched), the message
   * naming the likely cause. An integer from 0 (no retry) to 60000.
   *
   * Default, per platform: on Windows `10000` for the asynchronous functions and `1000` for the
   * synchronous ones, which block their thread meanwhile (atomically retries for 7500 and 1000,
   * graceful-fs for 60000). On Linux and macOS such a refusal is permanent and the option has no
   * effect: one rename, as ever.
   */
  readonly renameRetryMs?: number | undefined;
  /**
   * Create missing parent directories (mode `0o777 & ~umask`), fsyncing the parent of each one
   * created so that the whole path survives a crash, as fs-extra's `outputFile` would need.
   * Default `false` (a missing directory rejects with `ENOENT`, as `fs.writeFile` does).
   */
  readonly createParents?: boolean | undefined;
  /**
   * Aborts the write before its rename: nothing changes at the target, the temporary file is
   * removed and the promise rejects with an `AbortError`; on Windows also while a refused rename
   * waits to be retried ({@link WriteDurableOptions.renameRetryMs}). After the rename the write completes.
   * Default: none.
   */
  readonly signal?: AbortSignal | undefined;
  /** The file-system primitives to use (fault injection, the crash simulator). Default: Node's. */
  readonly fs?: DurableFileSystem | undefined;
  /** Called after each primitive with its name and duration. Default: none. */
  readonly onStep?: ((event: WriteDurableStepEvent) => void) | undefined;
  /** `fs.writeFile`'s flag, accepted for drop-in use: only `'w'` (replace). Default `'w'`. */
  readonly flag?: 'w' | undefined;
  /**
   * The owner to give the file, applied with `fchown` to the temp file before the rename (as
   * write-file-atomic's `chown`); it needs the privilege to give a file away (root), and a
   * refusal is an error (stage `chown`). Default: an existing target's owner, kept where the
   * process may (an `EPERM` is ignored: the file becomes the writer's); a new file's is the writer's.
   */
  readonly owner?: { readonly uid: number; readonly gid: number } | undefined;
}

/** Options of {@link writeDurableSync}: those of {@link writeDurable} but the signal. */
export type WriteDurableSyncOptions = Omit<WriteDurableOptions, 'signal'>;

/** What a completed write did. */
export interface WriteDurableResult {
  /** The file replaced: the target, or the file a symlink at the target points to. */
  readonly path: string;
  /** How many bytes the file now holds. */
  readonly bytesWritten: number;
  /** Whether every directory fsync succeeded (false only under `directorySync: 'best-effort'`, and on Windows). */
  readonly directorySynced: boolean;
  /**
   * The directory fsyncs the platform refused under `'best-effort'`, and on Windows those it
   * does not offer (code `ENOTSUP`, stage `flush-directory`); empty otherwise.
   */
  readonly directorySyncErrors: readonly DurableWriteError[];
  /** Directories created by `createParents`, outermost first. */
  readonly createdDirectories: readonly string[];
}

/** The names of {@link WriteDurableOptions}, for the prologue's unknown-name check. */
export const WRITE_OPTION_NAMES = [
  'encoding', 'mode', 'flush', 'directorySync', 'createParents', 'signal', 'fs', 'onStep', 'flag', 'owner', 'renameRetryMs',
] as const satisfies readonly (keyof WriteDurableOptions)[];
