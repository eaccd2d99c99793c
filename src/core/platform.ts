/**
 * The platform whose rules the library follows, decided once, here, from `process.platform`.
 *
 * Windows differs from Linux and macOS in what the durable steps may ask of it
 * (`docs/platforms.md`):
 * - a file is flushed (`FlushFileBuffers`, which Node's `fsync` calls) only through a handle
 *   opened for writing, so an existing file is opened `O_RDWR` to be flushed, as PostgreSQL's
 *   `fsync_fname` opens one;
 * - a directory cannot be flushed: `FlushFileBuffers` refuses the read-only handle Windows gives
 *   for a directory, and NTFS documents no flush of one. The directory flush is skipped and
 *   reported, as PostgreSQL and SQLite skip it on Windows;
 * - another process holding a file open (an antivirus scanner, an indexer) makes a rename over it
 *   fail for a while (`EPERM`, `EACCES`, `EBUSY`), so a rename is retried for a bounded window;
 * - there is no `sync(2)`: `syncAll` and `syncFilesystem` refuse without a `syncProgram`;
 * - `.` and `..` are resolved lexically by Win32 itself, before the file system sees a path, so
 *   a relative path is made absolute with `path.resolve`, in the platform's separators.
 *
 * The functions that decide take the platform as a parameter (defaulting to
 * {@link hostPlatform}), so that the Windows rules are tested on Linux too.
 *
 * @internal
 * @module
 */

/** A family of platforms the library tells apart: Windows, or the POSIX systems (Linux, macOS, the BSDs). */
export type Platform = 'windows' | 'posix';

/** The platform this process runs on. */
export const hostPlatform: Platform = process.platform === 'win32' ? 'windows' : 'posix';

/**
 * How long a rename refused with `EPERM`, `EACCES` or `EBUSY` is retried on Windows, in
 * milliseconds (the `renameRetryMs` option): by default 10 s for the asynchronous functions
 * (atomically retries for 7.5 s, graceful-fs for 60 s) and 1 s for the synchronous ones, which
 * block their thread meanwhile (atomically's 1 s); at most 60 s, graceful-fs's window, which it
 * chose for antivirus software that holds a file for up to a minute.
 */
export const RENAME_RETRY_MS = { async: 10_000, sync: 1_000, max: 60_000 } as const;
