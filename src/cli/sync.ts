/**
 * `durable-write sync [PATH...]`: `syncAll()` (sync(2), every file system) without PATH, else
 * `syncFilesystem()` (syncfs(2), which reports writeback errors) on each PATH in turn. Every PATH
 * is attempted; the exit status is 1 when any failed.
 *
 * @internal
 * @module
 */
import { syncAll, syncFilesystem } from '../sync/sync.js';
import { defineCommand, type CommandContext } from './command.js';
import { errorReport, failureStatus, UsageError, type ErrorReport } from './errors.js';
import { formatDuration, roundMs } from './output.js';

/** One flush, as `--json` reports it. */
interface FlushReport {
  readonly call: 'sync' | 'syncfs';
  readonly path: string | null;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: ErrorReport;
}

/**
 * Runs one flush with a progress line, prints `sync(): done in 2.1 ms` (or reports its failure),
 * and returns its report. Shared with `power`, which flushes before a hard power action.
 */
export async function timedFlush(
  call: 'sync' | 'syncfs',
  path: string | undefined,
  { out, signal }: Pick<CommandContext, 'out' | 'signal'>,
  command: string,
): Promise<FlushReport> {
  const label = call === 'sync' ? 'sync()' : `syncfs(${path ?? ''})`;
  const progress = out.progress(`${label}:`);
  const started = performance.now();
  try {
    await (call === 'sync' ? syncAll({ signal }) : syncFilesystem(path ?? '', { signal }));
    const ms = performance.now() - started;
    progress.done();
    out.line(`${label}: done in ${formatDuration(ms)}`);
    return { call, path: path ?? null, ok: true, ms: roundMs(ms) };
  } catch (error) {
    const ms = performance.now() - started;
    progress.done();
    const report = errorReport(error);
    out.error(command, report);
    return { call, path: path ?? null, ok: false, ms: roundMs(ms), error: report };
  }
}

export const syncCommand = defineCommand({
  name: 'sync',
  arguments: '[PATH...]',
  summary: 'flush every file system (sync), or those holding each PATH (syncfs)',
  description: [
    'Without PATH: sync(2), which flushes the dirty data of every file system and reports no errors. ' +
      'With PATHs: syncfs(2) on the file system holding each PATH, one after another; syncfs reports a writeback ' +
      'error (EIO, ENOSPC...) since the last syncfs, and a PATH that cannot be opened (ENOENT...). Every PATH is ' +
      'attempted; the exit status is 1 if any failed. Each flush is printed with its time.',
  ],
  options: {},
  arity: { min: 0, max: Number.POSITIVE_INFINITY },
  async run({ positionals }, context) {
    // The one PATH the library would refuse as an argument: refused before anything is flushed.
    if (positionals.includes('')) throw new UsageError('PATH must not be empty');
    const flushes: FlushReport[] = [];
    if (positionals.length === 0) flushes.push(await timedFlush('sync', undefined, context, 'sync'));
    for (const path of positionals) {
      if (context.signal.aborted) break;
      flushes.push(await timedFlush('syncfs', path, context, 'sync'));
    }
    const ok = flushes.every((flush) => flush.ok) && !context.signal.aborted;
    context.out.result({ command: 'sync', ok, flushes });
    return ok ? 0 : failureStatus(undefined, context.signal);
  },
});
