/**
 * `writeDurableJson` and `writeDurableJsonSync`: `JSON.stringify` a value the way fs-extra and
 * jsonfile write it (`spaces`, `replacer`, `EOL`, a final newline by default), then replace the
 * file with `writeDurable`'s syscalls and guarantees.
 *
 * @module
 */
import { checkBoolean, checkString, describeValue, invalidArgType, invalidArgValue } from '../core/arguments.js';
import { writeDurableSyncWith, writeDurableWith, type WriteDurableOptions, type WriteDurableResult, type WriteDurableSyncOptions } from './write-durable.js';

/** The `replacer` of `JSON.stringify`: a function, or the property names to keep. */
export type JsonReplacer = ((this: unknown, key: string, value: unknown) => unknown) | readonly (string | number)[] | null;

/** How the JSON text is made; the options of jsonfile's `writeFile`. */
export interface JsonFormatOptions {
  /** Indentation, as `JSON.stringify`'s third argument: a number of spaces (0 to 10) or a string. Default: none (one line). */
  readonly spaces?: number | string | undefined;
  /** `JSON.stringify`'s replacer. Default: none. */
  readonly replacer?: JsonReplacer | undefined;
  /** The line ending, put in place of every `\n` of the text and at its end. Default `'\n'`. */
  readonly EOL?: string | undefined;
  /** Whether the text ends with `EOL`, as jsonfile (and so fs-extra) writes it. Default `true`. */
  readonly finalEOL?: boolean | undefined;
}

/** Options of {@link writeDurableJson}: how the JSON is made, and every {@link WriteDurableOptions} option. */
export interface WriteDurableJsonOptions extends JsonFormatOptions, Omit<WriteDurableOptions, 'encoding'> {}

/** Options of {@link writeDurableJsonSync}: those of {@link writeDurableJson} but the signal. */
export interface WriteDurableJsonSyncOptions extends JsonFormatOptions, Omit<WriteDurableSyncOptions, 'encoding'> {}

const JSON_OPTION_NAMES = ['spaces', 'replacer', 'EOL', 'finalEOL'] as const satisfies readonly (keyof JsonFormatOptions)[];

/** The JSON text of `value` as `options` ask; a TypeError when it has none (undefined, a function, a symbol) or cannot be made (a cycle, a BigInt). */
function jsonText(value: unknown, options: Record<string, unknown>, operation: string): string {
  if (options['encoding'] !== undefined) {
    throw invalidArgValue(`${operation}: encoding is not an option here; JSON is written as UTF-8`);
  }
  const spaces = options['spaces'];
  if (spaces !== undefined && typeof spaces !== 'number' && typeof spaces !== 'string') {
    throw invalidArgType(`${operation}: spaces must be a number or a string; received ${describeValue(spaces)}`);
  }
  const replacer = options['replacer'];
  if (replacer !== undefined && replacer !== null && typeof replacer !== 'function' && !Array.isArray(replacer)) {
    throw invalidArgType(`${operation}: replacer must be a function or an array of property names; received ${describeValue(replacer)}`);
  }
  const eol = checkString(options['EOL'], '\n', 'EOL', operation);
  const finalEOL = checkBoolean(options['finalEOL'], true, 'finalEOL', operation);
  // JSON.stringify's overloads take either form of replacer; typeof and Array.isArray checked it above.
  const text: unknown = JSON.stringify(value, replacer as Parameters<typeof JSON.stringify>[1], spaces);
  if (typeof text !== 'string') {
    throw invalidArgType(`${operation}: value must be something JSON can represent; received ${describeValue(value)}`);
  }
  return (eol === '\n' ? text : text.replaceAll('\n', eol)) + (finalEOL ? eol : '');
}

/**
 * Writes `value` as JSON to `path`, atomically and durably: the text jsonfile (fs-extra's
 * `writeJson`/`outputJson`) would write, with a final newline by default, through
 * {@link writeDurable} (the same syscalls, guarantees and errors).
 *
 * @throws `TypeError` before the disk is touched when `value` has no JSON text (`undefined`, a
 *   function) or cannot be stringified (a cycle, a BigInt: `JSON.stringify`'s own TypeError).
 *
 * @example
 * ```ts
 * import { writeDurableJson } from 'durable-write';
 * await writeDurableJson('/var/lib/app/state.json', { generation: 8 }, { spaces: 2 });
 * ```
 */
export function writeDurableJson(path: string | URL, value: unknown, options?: WriteDurableJsonOptions): Promise<WriteDurableResult> {
  const operation = 'writeDurableJson';
  return writeDurableWith(operation, path, options, JSON_OPTION_NAMES, (o) => jsonText(value, o, operation));
}

/**
 * The synchronous {@link writeDurableJson}: the same text, syscalls and guarantees.
 *
 * @example
 * ```ts
 * import { writeDurableJsonSync } from 'durable-write';
 * writeDurableJsonSync('/etc/app/config.json', { port: 8080 }, { spaces: 2, mode: 0o640 });
 * ```
 */
export function writeDurableJsonSync(path: string | URL, value: unknown, options?: WriteDurableJsonSyncOptions): WriteDurableResult {
  const operation = 'writeDurableJsonSync';
  return writeDurableSyncWith(operation, path, options, JSON_OPTION_NAMES, (o) => jsonText(value, o, operation));
}
