/**
 * Names of temporary files, and the one parser of them.
 *
 * A temp file is `.<target name>.<pid>.<12 hex>.dwtmp` in the target's directory: the name of
 * the target it will replace, the pid of the process that made it (Worker threads share their
 * process's pid), 6 random bytes, and a suffix of its own, so that a name identifies a file this
 * library made and the process that made it. The target name is cut (on a UTF-8 character
 * boundary) so that the whole name fits NAME_MAX (255 bytes) and the whole path fits PATH_MAX
 * (4096 bytes with its NUL): near PATH_MAX the name keeps less of the target's, and at the very
 * edge, where even the shortest full name does not fit, the random part is cut to 8 hex digits
 * (`.<pid>.<8 hex>.dwtmp` with at most 3 bytes of the target's name before it).
 *
 * {@link parseTempPath} also reads the names 0.2.0 made, `.<target name>.<12 hex>.tmp` and, only
 * at the PATH_MAX edge, `.<target name>.<8 hex>.tmp`, so that `removeStaleTemps` still cleans
 * what 0.2.0 writers left; that support remains in 0.3.x only.
 *
 * @internal
 * @module
 */
import { randomFillSync } from 'node:crypto';
import * as nodePath from 'node:path';

/** The longest file name, in bytes, on Linux file systems (NAME_MAX). */
export const NAME_MAX = 255;
/** The longest path, in bytes, the kernel takes, less the terminating NUL (PATH_MAX - 1). */
export const PATH_MAX = 4095;
/** The highest pid Linux can give (PID_MAX_LIMIT - 1: pids stay below pid_max, at most 2^22): a name with a higher one was not made here. */
export const HIGHEST_PID = 4_194_303;

/** The end of every temp name this version makes. */
export const TEMP_SUFFIX = '.dwtmp';
/** The end of the names 0.2.0 made. */
const LEGACY_SUFFIX = '.tmp';

/** Random bytes in a temp name: 6 (12 hex digits), or 4 when even the shortest full name does not fit. */
const RANDOM_BYTES = 6;
const RANDOM_BYTES_AT_THE_EDGE = 4;
const RANDOM_DIGITS = RANDOM_BYTES * 2;

/** Random bytes drawn from the system in one call per {@link POOL_BYTES}, not one per name (a call costs ~8 µs). */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `count` fresh random bytes, as hex. */
function randomHex(count: number): string {
  if (used + count > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + count);
  used += count;
  return hex;
}

/** Cuts `name` to at most `maxBytes` UTF-8 bytes without splitting a character. */
function truncateUtf8(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  let bytes = 0;
  let end = 0;
  for (const char of name) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return name.slice(0, end);
}

/** What a name may take in `dir`: NAME_MAX, and what PATH_MAX leaves after the directory and its slash. */
function roomIn(dir: string): number {
  return Math.min(NAME_MAX, PATH_MAX - Buffer.byteLength(dir) - 1);
}

/** A fresh temporary path beside `target`, within NAME_MAX and PATH_MAX wherever `target` itself is. */
export function tempPathFor(target: string): string {
  const dir = nodePath.dirname(target);
  const room = roomIn(dir);
  const full = `.${process.pid}.${randomHex(RANDOM_BYTES)}${TEMP_SUFFIX}`;
  const suffix = room >= full.length + 1 ? full : `.${process.pid}.${randomHex(RANDOM_BYTES_AT_THE_EDGE)}${TEMP_SUFFIX}`;
  const base = truncateUtf8(nodePath.basename(target), Math.max(0, room - 1 - suffix.length));
  return nodePath.join(dir, `.${base}${suffix}`);
}

/** What a temp file's name says. */
export interface TempName {
  /** `'current'`: `.<name>.<pid>.<hex>.dwtmp`, made by this version; `'0.2.0'`: `.<name>.<hex>.tmp`, made by 0.2.0 (or 0.1.0). */
  readonly format: 'current' | '0.2.0';
  /** What the name keeps of the target's name: cut to fit, possibly empty. */
  readonly base: string;
  /** The pid of the process that made it; `undefined` for a 0.2.0 name, which carries none. */
  readonly pid: number | undefined;
}

/** `.`, the target's name (no `/`, possibly empty), `.`, a pid without leading zeros, `.`, 12 or 8 lowercase hex digits, `.dwtmp`. */
const CURRENT_NAME = /^\.([^/]*)\.([1-9][0-9]{0,6})\.([0-9a-f]{12}|[0-9a-f]{8})\.dwtmp$/;
/** 0.2.0's: `.`, the target's name, `.`, 12 or 8 lowercase hex digits, `.tmp`. */
const LEGACY_NAME = /^\.([^/]*)\.([0-9a-f]{12}|[0-9a-f]{8})\.tmp$/;

/**
 * Whether a name of `nameBytes` bytes, keeping `baseBytes` of its target's name and `digits`
 * random hex digits, is one `tempPathFor` picks in a directory leaving `room` bytes for a name.
 * The full form always is (the file exists, so it fitted when it was made). The 8-digit form is
 * made only where the full form does not fit, its target's name cut to fill what is left: at most
 * 3 bytes short of the room (a UTF-8 character has at most 4), so that a name such as
 * `.report.20241231.tmp` in an ordinary directory is never taken for one.
 */
function madeWithRoom(room: number, nameBytes: number, baseBytes: number, digits: number): boolean {
  if (digits === RANDOM_DIGITS) return true;
  const shortestFull = nameBytes - baseBytes + (RANDOM_DIGITS - digits);
  return room < shortestFull && nameBytes <= room && nameBytes > room - 4;
}

/**
 * Reads the name of `tmpPath` as a temp file's name: the current format, or 0.2.0's; `undefined`
 * for any other name (a look-alike such as `.session.cafebabe.tmp` included). The path's
 * directory must be the one the file is in, as the writer named it (its canonical path: writes
 * resolve their target's directory with `realpath`), since whether the 8-digit edge form could be
 * made there depends on its length.
 */
export function parseTempPath(tmpPath: string): TempName | undefined {
  const name = nodePath.basename(tmpPath);
  const current = name.endsWith(TEMP_SUFFIX) ? CURRENT_NAME.exec(name) : null;
  const legacy = current === null && name.endsWith(LEGACY_SUFFIX) ? LEGACY_NAME.exec(name) : null;
  const base = (current ?? legacy)?.[1];
  const digits = (current?.[3] ?? legacy?.[2])?.length;
  if (base === undefined || digits === undefined) return undefined;
  const pid = current === null ? undefined : Number(current[2]);
  if (pid !== undefined && pid > HIGHEST_PID) return undefined;
  if (!madeWithRoom(roomIn(nodePath.dirname(tmpPath)), Buffer.byteLength(name), Buffer.byteLength(base), digits)) return undefined;
  return { format: current === null ? '0.2.0' : 'current', base, pid };
}
