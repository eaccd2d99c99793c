/**
 * `open(2)` flags for the crash simulator: the numeric `fs.constants` form the library passes,
 * and the string form (`'r'`, `'w'`, `'wx'`, `'a+'`, ...) of `node:fs/promises`.
 *
 * @module
 */
import { constants } from 'node:fs';
import { fsError } from './fs-error.js';

/** What an `open` asks for, decoded. */
export interface OpenFlags {
  readonly readable: boolean;
  readonly writable: boolean;
  readonly create: boolean;
  readonly exclusive: boolean;
  readonly truncate: boolean;
  readonly append: boolean;
  readonly directory: boolean;
  readonly noFollow: boolean;
  /** O_SYNC / O_DSYNC: each write is durable when it returns. */
  readonly synchronous: boolean;
}

const STRING_FLAGS: Readonly<Record<string, number>> = {
  r: constants.O_RDONLY,
  rs: constants.O_RDONLY | constants.O_SYNC,
  sr: constants.O_RDONLY | constants.O_SYNC,
  'r+': constants.O_RDWR,
  'rs+': constants.O_RDWR | constants.O_SYNC,
  'sr+': constants.O_RDWR | constants.O_SYNC,
  w: constants.O_TRUNC | constants.O_CREAT | constants.O_WRONLY,
  wx: constants.O_TRUNC | constants.O_CREAT | constants.O_WRONLY | constants.O_EXCL,
  xw: constants.O_TRUNC | constants.O_CREAT | constants.O_WRONLY | constants.O_EXCL,
  'w+': constants.O_TRUNC | constants.O_CREAT | constants.O_RDWR,
  'wx+': constants.O_TRUNC | constants.O_CREAT | constants.O_RDWR | constants.O_EXCL,
  'xw+': constants.O_TRUNC | constants.O_CREAT | constants.O_RDWR | constants.O_EXCL,
  a: constants.O_APPEND | constants.O_CREAT | constants.O_WRONLY,
  ax: constants.O_APPEND | constants.O_CREAT | constants.O_WRONLY | constants.O_EXCL,
  xa: constants.O_APPEND | constants.O_CREAT | constants.O_WRONLY | constants.O_EXCL,
  as: constants.O_APPEND | constants.O_CREAT | constants.O_WRONLY | constants.O_SYNC,
  sa: constants.O_APPEND | constants.O_CREAT | constants.O_WRONLY | constants.O_SYNC,
  'a+': constants.O_APPEND | constants.O_CREAT | constants.O_RDWR,
  'ax+': constants.O_APPEND | constants.O_CREAT | constants.O_RDWR | constants.O_EXCL,
  'xa+': constants.O_APPEND | constants.O_CREAT | constants.O_RDWR | constants.O_EXCL,
  'as+': constants.O_APPEND | constants.O_CREAT | constants.O_RDWR | constants.O_SYNC,
  'sa+': constants.O_APPEND | constants.O_CREAT | constants.O_RDWR | constants.O_SYNC,
};

/** Decodes `flags` (a number or a Node flag string; default `'r'`), as `open` would. */
export function decodeFlags(flags: number | string | undefined, path: string): OpenFlags {
  let value: number;
  if (flags === undefined) value = constants.O_RDONLY;
  else if (typeof flags === 'number') value = flags;
  else {
    const known = STRING_FLAGS[flags];
    if (known === undefined) {
      throw Object.assign(new TypeError(`The value "${flags}" is invalid for option "flags"`), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    value = known;
  }
  const access = value & 3;
  if (access === 3) throw fsError('EINVAL', 'open', path);
  const has = (bit: number): boolean => (value & bit) !== 0;
  return {
    readable: access === constants.O_RDONLY || access === constants.O_RDWR,
    writable: access === constants.O_WRONLY || access === constants.O_RDWR,
    create: has(constants.O_CREAT),
    exclusive: has(constants.O_EXCL),
    truncate: has(constants.O_TRUNC),
    append: has(constants.O_APPEND),
    directory: has(constants.O_DIRECTORY),
    noFollow: has(constants.O_NOFOLLOW),
    synchronous: has(constants.O_SYNC) || has(constants.O_DSYNC),
  };
}
