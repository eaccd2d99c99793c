/**
 * The help texts: `durable-write --help` and `durable-write COMMAND --help`, made from each
 * command's own description and option table, so that the help cannot drift from what is parsed.
 *
 * @internal
 * @module
 */
import type { CliOptions } from './parse.js';

/** What a command's help is made of. */
export interface CommandHelp {
  readonly name: string;
  /** The arguments after the options: `FILE`, `[PATH...]`. */
  readonly arguments: string;
  /** What may follow the arguments after a `--`: `COMMAND [ARGS...]` (run by the command). */
  readonly rest?: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** Paragraphs shown under the usage line. */
  readonly description: readonly string[];
  readonly options: CliOptions;
  /** Exit statuses of this command besides the common ones: `[status, meaning]` rows. */
  readonly exitStatus?: readonly (readonly [string, string])[];
}

const WIDTH = 100;

/** `text` wrapped at {@link WIDTH} columns, every line after the first indented by `indent` spaces. */
function wrap(text: string, indent: number, firstWidth = WIDTH): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const limit = lines.length === 0 ? firstWidth : WIDTH - indent;
    if (line !== '' && line.length + 1 + word.length > limit) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** Two columns: names padded to one width, then their text wrapped beside them. */
function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return rows.map(([name, text]) => `  ${name.padEnd(width)}${wrap(text, width + 2, WIDTH - width - 2)}`).join('\n');
}

/** The exit statuses, the same for every command. */
const EXIT_STATUS = [
  ['0', 'success'],
  ['1', 'the operation failed (stderr names the errno code, the stage and the path)'],
  ['2', 'usage error: unknown command or option, bad value, missing argument'],
  ['130, 143', 'interrupted by SIGINT or SIGTERM (a write not yet renamed is abandoned: the target keeps its old content; what append appended stays)'],
] as const;

/** The help of one command. */
export function commandHelp(command: CommandHelp): string {
  const options = Object.entries(command.options).map(([name, option]): [string, string] => {
    const short = option.short === undefined ? '    ' : `-${option.short}, `;
    return [`${short}--${name}${option.type === 'string' ? ` ${option.value ?? 'VALUE'}` : ''}`, option.help];
  });
  return [
    `Usage: durable-write ${command.name} [options] ${command.arguments}${command.rest === undefined ? '' : ` [-- ${command.rest}]`}`,
    '',
    ...command.description.flatMap((paragraph) => [wrap(paragraph, 0), '']),
    'Options:',
    table(options),
    '',
    'Exit status:',
    table([...EXIT_STATUS, ...(command.exitStatus ?? [])]),
    '',
  ].join('\n');
}

/** `durable-write --help`: the commands, the global options, the exit statuses. */
export function mainHelp(commands: readonly Pick<CommandHelp, 'name' | 'arguments' | 'summary'>[]): string {
  return [
    'Usage: durable-write COMMAND [options] [arguments]',
    '',
    'Durable file writes, flushes and BMC power control, from the shell.',
    '',
    'Commands:',
    table([...commands.map((c): [string, string] => [`${c.name} ${c.arguments}`.trim(), c.summary]), ['help [COMMAND]', 'show the help of COMMAND']]),
    '',
    'Options:',
    table([
      ['-h, --help', 'show this help; durable-write COMMAND --help shows a command\'s own'],
      ['    --version', 'print the version'],
    ]),
    '',
    wrap('Every command takes --json: one JSON object on stdout, and each error as one JSON object on stderr.', 0),
    '',
    'Exit status:',
    table(EXIT_STATUS),
    '',
    'Documentation: docs/cli.md in the durable-write package.',
    '',
  ].join('\n');
}
