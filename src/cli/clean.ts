/**
 * `durable-write clean DIR`: `removeStaleTemps`, removing the temp files (`.NAME.PID.HEX.dwtmp`,
 * and 0.2.0's `.NAME.HEX.tmp`) that killed or crashed writers left in DIR, whose writer is not
 * running, older than `--older-than` (default 15 minutes), and listing each with its size and why
 * it goes or stays; `--dry-run` lists what it would remove.
 *
 * @internal
 * @module
 */
import { removeStaleTemps, type KeptTemp, type RemovedTemp } from '../write/remove-stale-temps.js';
import { defineCommand } from './command.js';
import { formatAge, formatBytes } from './output.js';
import { parseDuration } from './values.js';

const DEFAULT_AGE = '15m';
const DEFAULT_PID_REUSE_AFTER = '24h';

/** Why a temp file goes, for people. */
function whyRemoved(temp: RemovedTemp): string {
  switch (temp.reason) {
    case 'writer-dead':
      return `writer pid ${temp.pid ?? '?'} is not running`;
    case 'pid-reused':
      return `pid ${temp.pid ?? '?'} runs, but the file is older than --pid-reuse-after or than that process: the pid was reused`;
    case 'no-pid':
      return 'a 0.2.0 name, without a pid: age is the only guard';
  }
}

/** Why a temp file stays, for people. */
function whyKept(temp: KeptTemp): string {
  switch (temp.reason) {
    case 'held':
      return 'in use by this process';
    case 'writer-alive':
      return `${formatAge(temp.ageMs)} old, writer pid ${temp.pid ?? '?'} is running`;
    case 'recent':
      return `${formatAge(temp.ageMs)} old, younger than --older-than`;
  }
}

export const cleanCommand = defineCommand({
  name: 'clean',
  arguments: 'DIR',
  summary: 'remove the temp files that crashed or killed writers left in DIR',
  description: [
    'Removes from DIR (not its subdirectories) the regular files named exactly as durable-write names its temp files ' +
      '(.NAME.PID.HEX.dwtmp, or .NAME.HEX.tmp as 0.2.0 did) whose writer is not running and that were last modified at ' +
      'least --older-than ago, and prints each with its size and why it goes or stays. Nothing else is ever touched: ' +
      'not your files, not symlinks, not directories. A temp file whose PID is a running process on this machine is ' +
      'kept whatever its age, unless it is older than --pid-reuse-after (pids are reused). Writers on other machines ' +
      'or in other pid namespaces are not seen: for them, and for 0.2.0 names, age is the only guard, so use ' +
      '--older-than 0 only when nothing else writes to DIR.',
  ],
  options: {
    'older-than': {
      type: 'string',
      value: 'AGE',
      help: `only files last modified at least AGE ago: 500ms, 90s, 15m, 2h, 1d, or milliseconds (default ${DEFAULT_AGE})`,
    },
    'pid-reuse-after': {
      type: 'string',
      value: 'AGE',
      help: `trust a running writer pid only for files modified less than AGE ago; 0 trusts none (default ${DEFAULT_PID_REUSE_AFTER})`,
    },
    'dry-run': { type: 'boolean', help: 'remove nothing; list what would be removed and what is kept, and why' },
  },
  arity: { min: 1, max: 1 },
  async run({ values, positionals: [dir = ''] }, { out, signal }) {
    const olderThanMs = parseDuration('--older-than', values['older-than'] ?? DEFAULT_AGE);
    const pidReuseAfterMs = parseDuration('--pid-reuse-after', values['pid-reuse-after'] ?? DEFAULT_PID_REUSE_AFTER);
    const dryRun = values['dry-run'] === true;
    const { removed, kept } = await removeStaleTemps(dir, { olderThanMs, pidReuseAfterMs, dryRun, signal });
    for (const temp of removed) {
      out.line(`${dryRun ? 'would remove' : 'removed'} ${temp.path} (${formatBytes(temp.size)}, ${formatAge(temp.ageMs)} old, ${whyRemoved(temp)})`);
    }
    for (const temp of kept) out.line(`kept ${temp.path} (${formatBytes(temp.size)}, ${whyKept(temp)})`);
    if (removed.length === 0 && kept.length === 0) out.line(`no temp files in ${dir}`);
    out.result({ command: 'clean', dir, dryRun, olderThanMs, pidReuseAfterMs, removed, kept });
    return 0;
  },
});
