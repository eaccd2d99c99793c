/**
 * Reading a command's options with `node:util`'s `parseArgs` (strict), every mistake turned into a
 * {@link UsageError} that says what is wrong and, for a misspelt option, the closest valid one:
 * `unknown option --mdoe (did you mean --mode?)`. An option value is never repeated in a message
 * (someone may have typed a secret where an option was expected).
 *
 * @internal
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestName } from '../core/arguments.js';
import { UsageError } from './errors.js';

/** One option of a command: `parseArgs`'s description, plus what its help shows. */
export interface CliOption {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The value's placeholder in help texts (`MODE`, `SRC`); string options only. */
  readonly value?: string;
  /** One sentence for `--help`. */
  readonly help: string;
}

/** A command's options, by long name (without the `--`). */
export type CliOptions = Readonly<Record<string, CliOption>>;

/** The options every command takes. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean', help: 'print one JSON object on stdout (errors as JSON on stderr)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies CliOptions;

type StrictConfig<O extends CliOptions> = { args: string[]; options: O; strict: true; allowPositionals: true };

/** What `parseArgs` returns for `O` in strict mode: `values` typed by option name, and the positionals. */
export type ParsedArgs<O extends CliOptions> = ReturnType<typeof parseArgs<StrictConfig<O>>>;

/** Long names that are refused on purpose, each with the reason shown instead of a suggestion. */
export type RefusedOptions = Readonly<Record<string, string>>;

/** A command line read against a command's options. */
export interface ParsedCommand<O extends CliOptions> {
  readonly args: ParsedArgs<O>;
  /** Whether `--json` was given (one of {@link COMMON_OPTIONS}, known whatever `O` is). */
  readonly json: boolean;
  /** Whether `--help` (or `-h`) was given. */
  readonly help: boolean;
}

/**
 * `argv` read against `options`, or a {@link UsageError}: an unknown option (with the closest
 * valid spelling, or the reason from `refused`), a value given to a flag, a missing value.
 */
export function parseCommand<O extends CliOptions>(argv: readonly string[], options: O, refused: RefusedOptions = {}): ParsedCommand<O> {
  const given = checkOptions(argv, options, refused);
  try {
    const args = parseArgs<StrictConfig<O>>({ args: [...argv], options, strict: true, allowPositionals: true });
    return { args, json: given.has('json'), help: given.has('help') };
  } catch (error) {
    // What checkOptions did not foresee: parseArgs's own first sentence.
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw new UsageError(message);
  }
}

/**
 * Walks the tokens of a lenient parse, for messages better than strict parseArgs gives; returns
 * the long names of the options given.
 */
function checkOptions(argv: readonly string[], options: CliOptions, refused: RefusedOptions): Set<string> {
  const config = { args: [...argv], options, strict: false, allowPositionals: true, tokens: true } as const satisfies ParseArgsConfig;
  const { tokens } = parseArgs(config);
  const known = Object.keys(options);
  const given = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (option === undefined) {
      const reason = refused[token.name];
      if (reason !== undefined) throw new UsageError(`there is no ${token.rawName} option: ${reason}`);
      const guess = closestName(token.name, known);
      throw new UsageError(`unknown option ${token.rawName}${guess === undefined ? '' : ` (did you mean --${guess}?)`}`);
    }
    if (option.type === 'boolean' && token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
    const valueMissing = token.value === undefined || (token.inlineValue !== true && token.value.length > 1 && token.value.startsWith('-'));
    if (option.type === 'string' && valueMissing) {
      throw new UsageError(`${token.rawName} needs a value: ${token.rawName} ${option.value ?? 'VALUE'}`);
    }
    given.add(token.name);
  }
  return given;
}

/** A command line split for a command that runs another: its own part, and the command after `--`. */
export interface SplitCommandLine {
  /** The arguments the command parses itself (options, its positionals, and a leading `--` that ends its options). */
  readonly own: readonly string[];
  /** The words after the `--` that follows the command's positionals, or `undefined` without one (an empty array for a trailing `--`). */
  readonly rest: readonly string[] | undefined;
}

/**
 * Splits `argv` at the `--` that follows the command's first positional: `FILE -- jq . FILE` is
 * `FILE`, then the command `jq . FILE`. A `--` before any positional still ends the options
 * (`-- -odd-name`), and a second one after the positional starts the command
 * (`-- -odd-name -- jq ...`). Option values are told from positionals as `options` says.
 */
export function splitCommandLine(argv: readonly string[], options: CliOptions): SplitCommandLine {
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const terminator = tokens.find((token) => token.kind === 'option-terminator');
  if (terminator === undefined) return { own: argv, rest: undefined };
  const positionalBefore = tokens.some((token) => token.kind === 'positional' && token.index < terminator.index);
  // Without a positional before it, this `--` ends the options: the next word is the positional.
  const split = positionalBefore ? terminator.index : argv.indexOf('--', terminator.index + 2);
  if (split === -1) return { own: argv, rest: undefined };
  return { own: argv.slice(0, split), rest: argv.slice(split + 1) };
}

/** Whether `--json` is among the options of `argv` (before any `--`): for errors found before the command line is parsed. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
