/**
 * What a command is: its help (usage line, description, option table), its arity, and its run,
 * tied together by {@link defineCommand}, which parses the command line, answers `--help`, checks
 * the number of arguments, and turns a failure into its report and exit status.
 *
 * @internal
 * @module
 */
import { errorReport, failureStatus, isUsageError, UsageError } from './errors.js';
import { Output, type CliIo } from './output.js';
import { COMMON_OPTIONS, parseCommand, splitCommandLine, wantsJson, type CliOptions, type ParsedArgs, type RefusedOptions } from './parse.js';
import { commandHelp, type CommandHelp } from './usage.js';

/** What a command's run is given. */
export interface CommandContext {
  readonly io: CliIo;
  readonly out: Output;
  /** Fires on SIGINT or SIGTERM: pass it to every library call. */
  readonly signal: AbortSignal;
}

/** What a command's run is given of its command line: the parsed options and positionals, and the command after `--` if it takes one. */
export type CommandArgs<O extends CliOptions> = ParsedArgs<O> & {
  /** The words after `--` (never empty), for a definition with `rest`; otherwise `undefined`. */
  readonly rest: readonly [string, ...string[]] | undefined;
};

/** A command, as its module describes it. */
export interface CommandDefinition<O extends CliOptions> extends CommandHelp {
  readonly options: O;
  /** How many arguments it takes (`max` may be `Infinity`). */
  readonly arity: { readonly min: number; readonly max: number };
  /** Long options that do not exist on purpose, with the reason given to whoever tries one. */
  readonly refused?: RefusedOptions;
  /** Runs the command; resolves with the exit status. A thrown error is reported by {@link Command.execute}. */
  run(args: CommandArgs<O & typeof COMMON_OPTIONS>, context: CommandContext): Promise<number>;
}

/** A command, as the dispatcher sees it. */
export interface Command {
  readonly name: string;
  readonly arguments: string;
  readonly summary: string;
  /** The text of `durable-write NAME --help`. */
  help(): string;
  /** Runs the command on its arguments (those after its name); resolves with the exit status. */
  execute(argv: readonly string[], io: CliIo, signal: AbortSignal): Promise<number>;
}

/** The {@link Command} of a definition. */
export function defineCommand<const O extends CliOptions>(definition: CommandDefinition<O>): Command {
  const options = { ...definition.options, ...COMMON_OPTIONS };
  const help = (): string => commandHelp({ ...definition, options });
  return {
    name: definition.name,
    arguments: definition.arguments,
    summary: definition.summary,
    help,
    async execute(argv, io, signal) {
      let out = new Output(io, wantsJson(argv));
      try {
        const { own, rest } = definition.rest === undefined ? { own: argv, rest: undefined } : splitCommandLine(argv, options);
        const { args, json, help: wantsHelp } = parseCommand(own, options, definition.refused);
        out = new Output(io, json);
        if (wantsHelp) {
          io.stdout.write(help());
          return 0;
        }
        const count = args.positionals.length;
        if (count < definition.arity.min) throw new UsageError(`missing ${definition.arguments}`);
        if (count > definition.arity.max) throw new UsageError(`unexpected argument '${args.positionals[definition.arity.max] ?? ''}'`);
        if (rest !== undefined && !isNonEmpty(rest)) throw new UsageError(`-- must be followed by ${definition.rest ?? 'a command'}`);
        return await definition.run({ ...args, rest }, { io, out, signal });
      } catch (error) {
        out.error(definition.name, errorReport(error));
        if (isUsageError(error) && !out.json) io.stderr.write(`Try 'durable-write ${definition.name} --help'.\n`);
        return failureStatus(error, signal);
      }
    },
  };
}

/** Whether `words` has a first word (a COMMAND to run). */
function isNonEmpty(words: readonly string[]): words is readonly [string, ...string[]] {
  return words.length > 0;
}
