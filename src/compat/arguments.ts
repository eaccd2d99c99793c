/**
 * The compat layer's share of the argument prologue: the arguments the originals accept that
 * `writeDurable` names differently or refuses with a reason of its own (a `Buffer` path, a
 * `FileHandle`, a file descriptor, `fs.writeFile`'s flags, a callback where options go). Each
 * rejection is a `TypeError` in the prologue's shape,
 * `<function>: <name> must be <what>; received <what came>`, followed by why.
 *
 * @internal
 * @module
 */
import { checkMode, checkPath, describeValue, invalidArgType, invalidArgValue, optionsObject } from '../core/arguments.js';
import { isWholeData } from '../write/data-source.js';

/** Why an open file (a descriptor or a `FileHandle`) cannot stand for the file to replace. */
const OPEN_FILE_REASON =
  'an open file cannot be replaced atomically: the new content goes to a temporary file that is renamed over a path';

/**
 * The absolute path for the original's path argument `name`: a string, a file: URL or, as
 * `fs.writeFile` takes, a `Buffer` holding a UTF-8 path. A file descriptor or a `FileHandle` is
 * refused with the reason.
 */
export function compatPath(value: unknown, name: string, operation: string): string {
  if (typeof value === 'number' || (isObject(value) && !(value instanceof URL) && typeof Reflect.get(value, 'fd') === 'number')) {
    const what = typeof value === 'number' ? `file descriptor ${value}` : 'a FileHandle';
    throw invalidArgType(`${operation}: ${name} must be a path (string, Buffer or file: URL); received ${what}: ${OPEN_FILE_REASON}`);
  }
  if (Buffer.isBuffer(value)) {
    const text = value.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(value)) {
      throw invalidArgValue(`${operation}: ${name} must be a path that is valid UTF-8; received a Buffer that is not`);
    }
    return checkPath(text, name, operation);
  }
  return checkPath(value, name, operation);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/**
 * The options object of a compat function (an encoding string stands for `{ encoding }`), every
 * name in `known`. A function in the options' place is refused: `operation` takes no callback.
 */
export function compatOptions(value: unknown, known: readonly string[], operation: string): Record<string, unknown> {
  if (typeof value === 'function') {
    throw invalidArgType(
      `${operation}: options must be an object or an encoding string; received a function (${operation} takes no callback)`,
    );
  }
  const options = optionsObject(value, known, operation, true);
  // The originals treat an option set to null as one not given.
  return Object.fromEntries(Object.entries(options).filter(([, option]) => option !== null));
}

/** Why a flag other than `'w'` cannot be honoured by a durable replace. */
function flagReason(flag: unknown): string {
  if (typeof flag !== 'string') return 'a durable write always replaces the whole file, which is what the flag \'w\' says';
  if (flag.startsWith('a')) {
    return 'a durable replace writes a whole new file and renames it over the old one, so it cannot append: read the file, append in memory, and write the whole content';
  }
  if (flag.includes('x')) return 'a durable replace renames over whatever is at the path, so it cannot fail when the file exists';
  if (flag.startsWith('r')) return 'a durable replace never writes into the existing file in place';
  return 'a durable write always replaces the whole file, which is what the flag \'w\' says';
}

/** `fs.writeFile`'s `flag`: only `'w'` (the default), with the reason for any other. */
export function checkFlag(value: unknown, operation: string): void {
  if (value === undefined || value === 'w') return;
  const message = `${operation}: flag must be 'w'; received ${describeValue(value)}: ${flagReason(value)}`;
  throw typeof value === 'string' ? invalidArgValue(message) : invalidArgType(message);
}

/**
 * The `mode` of an original: what `checkMode` takes, and as Node's `fs` takes it too any 32-bit
 * unsigned integer or octal string, of which the kernel keeps the permission bits (`& 0o7777`): a
 * `stats.mode`, file type bits and all, is a mode here.
 */
export function compatMode(value: unknown, operation: string): number | undefined {
  const mode = typeof value === 'string' && /^[0-7]+$/.test(value) ? Number.parseInt(value, 8) : value;
  if (typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 0xffff_ffff) return mode & 0o7777;
  return checkMode(value, operation);
}

/** The data of an original that takes whole data only (a string or an `ArrayBufferView`). */
export function wholeData(data: unknown, operation: string): string | NodeJS.ArrayBufferView {
  if (isWholeData(data)) return data;
  throw invalidArgType(`${operation}: data must be a string, Buffer, TypedArray or DataView; received ${describeValue(data)}`);
}
