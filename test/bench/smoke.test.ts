/**
 * Smoke test of the benchmark runner, bench/run.mjs: with tiny counts it runs every scenario as
 * child processes, exits 0 and writes JSON whose every row holds finite positive numbers.
 * Nothing about speed is asserted (no timings, no ratio thresholds): that is the benchmark's
 * job, on a quiet machine, not CI's.
 *
 * It needs dist/ (`npm test` builds first). Without a C compiler the runner skips its C rows;
 * locally this test accepts that, in CI a missing compiler fails it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, requireBuild } from '../support/built-package.js';
import { missing } from '../support/prerequisites.js';

interface Sample {
  ms: number;
  wallMs: number;
  maxRssKiB: number;
}

interface Row extends Partial<Sample> {
  writer: string;
  reference: boolean;
  skipped?: string;
  runs?: Sample[];
  perOp?: number;
  ratio?: number | null;
}

interface Check {
  name: string;
  value: number | null;
  met: boolean | null;
}

interface Results {
  machine: Record<string, unknown>;
  settings: Record<string, number>;
  scenarios: Record<string, { rows: Row[]; checks: Check[] }>;
  totalSeconds: number;
}

/** Every scenario's rows, in the runner's order. */
const expectedRows: Record<string, string[]> = {
  perCall: ['c-durable', 'node-sync-syscalls', 'writeDurableSync', 'node-promises-syscalls', 'writeDurable', 'write-file-atomic'],
  concurrency: ['c-batch', 'writeDurable-concurrent', 'writeDurable-sequential'],
  stream: ['c-copy', 'dd', 'writeDurable-stream', 'writeDurable-buffer', 'node-idle'],
  syncAll: ['c-sync', 'syncAll'],
};
/** The rows that need the C compiler (dd is timed by a C program). */
const cRows = new Set(['c-durable', 'c-batch', 'c-copy', 'dd', 'c-sync']);
/** Rows that are not compared with a reference. */
const ratioless = new Set(['node-idle']);

const tinyCounts = {
  BENCH_CHILD_TIMEOUT_S: '60',
  BENCH_WRITES: '20',
  BENCH_RUNS: '1',
  BENCH_ROUNDS: '2',
  BENCH_CONCURRENT: '4',
  BENCH_STREAM_MIB: '4',
  BENCH_SYNC_CALLS: '2',
};

const compiler = (process.env['CC'] ?? '').trim().split(/\s+/)[0] || 'cc';
// In CI a missing prerequisite throws here, failing the file instead of skipping.
const noCompiler = missing({ tools: [compiler] });
const noTools = missing({ tools: ['dd', 'sync'] });

const work = mkdtempSync(join(tmpdir(), 'durable-write-bench-smoke-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Asserts that `value` is a finite number above zero. */
function expectPositive(value: unknown, label: string): void {
  expect(typeof value === 'number' && Number.isFinite(value) && value > 0, `${label} = ${String(value)} is a finite positive number`).toBe(true);
}

/** Runs the benchmark with tiny counts and returns its stdout and parsed JSON. */
async function runBench(): Promise<{ stdout: string; results: Results }> {
  const jsonPath = join(work, 'results.json');
  const { stdout } = await promisify(execFile)(process.execPath, ['bench/run.mjs', '--json', jsonPath], {
    cwd: repoRoot,
    env: { ...process.env, ...tinyCounts },
    maxBuffer: 16 * 1024 * 1024,
    // Before the test's own timeout: SIGTERM makes the runner kill its child and clean up.
    timeout: 110_000,
    killSignal: 'SIGTERM',
  });
  return { stdout, results: JSON.parse(readFileSync(jsonPath, 'utf8')) as Results };
}

describe.skipIf(noTools !== undefined)('bench/run.mjs' + (noTools ? ` (skipped: ${noTools})` : ''), () => {
  it('runs every scenario with tiny counts and reports finite positive numbers for every row', async () => {
    requireBuild();
    const { stdout, results } = await runBench();

    expect(stdout).toContain('total time');
    expect(Object.keys(results.scenarios)).toEqual(Object.keys(expectedRows));
    expect(results.settings).toMatchObject({ runs: 1, writes: 20, concurrent: 4, rounds: 2, streamMiB: 4, syncCalls: 2 });

    for (const [scenario, writers] of Object.entries(expectedRows)) {
      const { rows, checks } = results.scenarios[scenario] ?? { rows: [], checks: [] };
      expect(rows.map((row) => row.writer), scenario).toEqual(writers);
      for (const row of rows) checkRow(scenario, row);
      for (const check of checks) {
        if (noCompiler !== undefined && check.value === null) continue;
        expect(Number.isFinite(check.value), `${scenario}: ${check.name} = ${String(check.value)} is finite`).toBe(true);
        expect(typeof check.met, `${scenario}: ${check.name} met`).toBe('boolean');
      }
    }
  }, 120_000);
});

/** A row was either skipped for want of a compiler (locally only) or holds positive numbers. */
function checkRow(scenario: string, row: Row): void {
  const label = `${scenario}/${row.writer}`;
  if (noCompiler !== undefined && cRows.has(row.writer)) {
    expect(row.skipped, label).toBeDefined();
    return;
  }
  expect(row.skipped, label).toBeUndefined();
  expect(row.runs, label).toHaveLength(1);
  for (const key of ['ms', 'wallMs', 'maxRssKiB', 'perOp'] as const) expectPositive(row[key], `${label}.${key}`);
  for (const [i, run] of (row.runs ?? []).entries()) {
    for (const key of ['ms', 'wallMs', 'maxRssKiB'] as const) expectPositive(run[key], `${label}.runs[${i}].${key}`);
  }
  if (ratioless.has(row.writer) || noCompiler !== undefined) expect(row.ratio ?? null, `${label}.ratio`).toBeNull();
  else expectPositive(row.ratio, `${label}.ratio`);
}
