/**
 * `writeDurableJson` and `writeDurableJsonSync`: `JSON.stringify` a value the way fs-extra and
 * jsonfile write it (`spaces`, `replacer`, `EOL`, a final newline by default), then replace the
 * file with `writeDurable`'s syscalls and guarantees.
 *
 * @module
 */
import { checkBoolean, describeValue, invalidArgType, invalidArgValue } from '../core/arguments.js';
import { writeDurableSyncWith, writeDurableWith, type WriteDurableOptions, type WriteDurableResult, type WriteDurableSyncOptions } from './write-durable.js';

/** The `replacer` of `JSON.stringify`: a function, or the property names to keep. */
export type JsonReplacer = ((this: unknown, key: string, value: unknown) => unknown) | readonly (string | number)[] | null;

/** How the JSON text is made; the options of jsonfile's `writeFile`. */
export interface JsonFormatOptions {
  /** Indentation, as `JSON.stringify`'s third argument: a number of spaces (0 to 10) or a string. Default: none (one line). */
  readonly spaces?: number | string | undefined;
  /** `JSON.stringify`'s replacer. Default: none. */
  readonly replacer?: JsonReplacer | undefined;
  /** The line ending, put in place of every `\n` of the text and at its end (any string). Default `'\n'`. */
  readonly EOL?: string | undefined;
  /** Whether the text ends with `EOL`, as jsonfile (and so fs-extra) writes it. Default `true`. */
  readonly finalEOL?: boolean | undefined;
}

/** Options of {@link writeDurableJson}: how the JSON is made, and every {@link WriteDurableOptions} option. */
export interface WriteDurableJsonOptions extends JsonFormatOptions, Omit<WriteDurableOptions, 'encoding'> {}

/** Options of {@link writeDurableJsonSync}: those of {@link writeDurableJson} but the signal. */
export interface WriteDurableJsonSyncOptions extends JsonFormatOptions, Omit<WriteDurableSyncOptions, 'encoding'> {}

/** @internal The names of jsonfile's formatting options. */
export const JSON_FORMAT_NAMES = ['spaces', 'replacer', 'EOL', 'finalEOL'] as const satisfies readonly (keyof JsonFormatOptions)[];

/** `JSON.stringify`'s replacer, as its overloads take it (either form). */
type StringifyReplacer = Parameters<typeof JSON.stringify>[1];

function checkReplacer(value: unknown, operation: string): StringifyReplacer {
  if (value === undefined || value === null) return null;
  // typeof and Array.isArray checked it; the overloads of JSON.stringify take either form.
  if (typeof value === 'function' || Array.isArray(value)) return value as StringifyReplacer;
  throw invalidArgType(`${operation}: replacer must be a function or an array of property names; received ${describeValue(value)}`);
}

function checkSpaces(value: unknown, operation: string): number | string | undefined {
  if (value === undefined || typeof value === 'number' || typeof value === 'string') return value;
  throw invalidArgType(`${operation}: spaces must be a number or a string; received ${describeValue(value)}`);
}

/**
 * @internal jsonfile's `stringify(value, options)` (what fs-extra writes): `JSON.stringify(value,
 * replacer, spaces)`, every `\n` made `EOL`, and `EOL` at the end unless `finalEOL` is false; its
 * options checked (`options` as the prologue returned them). A TypeError when `value` has no JSON
 * text (undefined, a function: the error `noText` makes, which the compat layer makes jsonfile's)
 * or cannot be stringified (a cycle, a BigInt).
 */
export function jsonText(
  value: unknown,
  options: Readonly<Record<string, unknown>>,
  operation: string,
  noText = (what: unknown): TypeError => invalidArgType(`${operation}: value must be something JSON can represent; received ${describeValue(what)}`),
): string {
  const spaces = checkSpaces(options['spaces'], operation);
  const replacer = checkReplacer(options['replacer'], operation);
  const eol = options['EOL'] ?? '\n';
  if (typeof eol !== 'string') throw invalidArgType(`${operation}: EOL must be a string; received ${describeValue(eol)}`);
  const finalEOL = checkBoolean(options['finalEOL'], true, 'finalEOL', operation);
  const text: unknown = JSON.stringify(value, replacer, spaces);
  if (typeof text !== 'string') throw noText(value);
  return text.replaceAll('\n', eol) + (finalEOL ? eol : '');
}

/** The text `writeDurableJson` writes: JSON is UTF-8, so `encoding` is no option there. */
function durableJsonText(value: unknown, options: Readonly<Record<string, unknown>>, operation: string): string {
  if (options['encoding'] !== undefined) {
    throw invalidArgValue(`${operation}: encoding is not an option here; JSON is written as UTF-8`);
  }
  return jsonText(value, options, operation);
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
  return writeDurableWith(operation, path, options, JSON_FORMAT_NAMES, (o) => durableJsonText(value, o, operation));
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
  return writeDurableSyncWith(operation, path, options, JSON_FORMAT_NAMES, (o) => durableJsonText(value, o, operation));
}
