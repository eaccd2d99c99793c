/**
 * `durable-write clean DIR`: `removeStaleTemps`, removing the `.NAME.HEX.tmp` files that killed
 * or crashed writers left in DIR, older than `--older-than` (default 15 minutes), and listing
 * each with its size; `--dry-run` lists what it would remove.
 *
 * @internal
 * @module
 */
import { removeStaleTemps } from '../write/remove-stale-temps.js';
import { defineCommand } from './command.js';
import { formatAge, formatBytes } from './output.js';
import { parseDuration } from './values.js';

const DEFAULT_AGE = '15m';

export const cleanCommand = defineCommand({
  name: 'clean',
  arguments: 'DIR',
  summary: 'remove the temp files that crashed or killed writers left in DIR',
  description: [
    'Removes from DIR (not its subdirectories) the regular files named as durable-write names its temp files ' +
      '(.NAME.HEX.tmp) and last modified at least --older-than ago, and prints each with its size. Nothing else is ' +
      'ever touched: not your files, not symlinks, not directories. A write still running in another process keeps ' +
      'its temp file fresh, so the default age leaves it alone; use --older-than 0 only when nothing else writes to DIR.',
  ],
  options: {
    'older-than': {
      type: 'string',
      value: 'AGE',
      help: `only files last modified at least AGE ago: 500ms, 90s, 15m, 2h, 1d, or milliseconds (default ${DEFAULT_AGE})`,
    },
    'dry-run': { type: 'boolean', help: 'remove nothing; list what would be removed' },
  },
  arity: { min: 1, max: 1 },
  async run({ values, positionals: [dir = ''] }, { out, signal }) {
    const olderThanMs = parseDuration('--older-than', values['older-than'] ?? DEFAULT_AGE);
    const dryRun = values['dry-run'] === true;
    const { removed, kept } = await removeStaleTemps(dir, { olderThanMs, dryRun, signal });
    for (const temp of removed) out.line(`${dryRun ? 'would remove' : 'removed'} ${temp.path} (${formatBytes(temp.size)}, ${formatAge(temp.ageMs)} old)`);
    for (const temp of kept) {
      const why = temp.reason === 'held' ? 'in use by this process' : `${formatAge(temp.ageMs)} old, younger than --older-than`;
      out.line(`kept ${temp.path} (${formatBytes(temp.size)}, ${why})`);
    }
    if (removed.length === 0 && kept.length === 0) out.line(`no temp files in ${dir}`);
    out.result({ command: 'clean', dir, dryRun, olderThanMs, removed, kept });
    return 0;
  },
});
