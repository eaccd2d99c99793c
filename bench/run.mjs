#!/usr/bin/env node
/**
 * durable-write benchmark: the library against C reference programs, in one command.
 *
 *   npm run build && node bench/run.mjs [--json PATH]
 *
 * What it measures (every scenario in one run; each writer is its own child process, a C binary
 * from bench/c or `node bench/writers/NAME.mjs`, working in a fresh directory under os.tmpdir()
 * that the runner makes before and removes after the child):
 *
 *   1. perCall      BENCH_WRITES replacements of one 4 KiB file, one after another:
 *                   c-durable (reference: open tmp O_EXCL, write, fsync, close, rename, open dir,
 *                   fsync, close), the same syscalls through node:fs sync calls and through
 *                   node:fs/promises, writeDurableSync, writeDurable, write-file-atomic (fsync:
 *                   true; it does not fsync the directory).
 *   2. concurrency  BENCH_CONCURRENT files in one directory, BENCH_ROUNDS rounds each replacing
 *                   all of them with 4 KiB: c-batch (reference: a single-threaded loop, one
 *                   directory fsync per round), writeDurable under Promise.all, writeDurable one
 *                   at a time.
 *   3. stream       a BENCH_STREAM_MIB MiB copy of a page-cached source file: c-copy (reference:
 *                   dd's read 1 MiB / write loop, fsync, close), dd bs=1M conv=fsync itself,
 *                   writeDurable from fs.createReadStream, writeDurable from one Buffer read
 *                   before timing, and node-idle (the peak-RSS baseline of a Node process).
 *   4. syncAll      BENCH_SYNC_CALLS calls: sync(2) in a C loop (reference) against syncAll().
 *
 * How: each child times its own measured loop on a monotonic clock (C: clock_gettime
 * CLOCK_MONOTONIC; Node: process.hrtime.bigint()) and prints one line, {"ms", "maxRssKiB"}.
 * Ratios are computed from those loop times, so process startup is excluded; the runner also
 * records every child's whole-process wall time. dd cannot time itself: bench/c/time-command.c
 * times the whole dd process (fork and exec included). Each scenario runs BENCH_RUNS times with
 * its writers interleaved within every run (run 1: A, B, C; run 2: A, B, C; ...) so drifting load
 * hits all alike; the medians are reported. Goals are informational: the exit status is 0
 * whether or not they are met, and 1 only when something failed (a child, the C build, set-up).
 *
 * The C programs are compiled at bench time with $CC (default `cc`) -O2 into
 * os.tmpdir()/durable-write-bench-build-<hash of sources and compiler>, reused while unchanged.
 * Without a compiler the C rows (and dd, which needs the C timer) are skipped with a note and
 * their ratios are "n/a".
 *
 * Environment (positive integers):
 *   BENCH_RUNS             runs of every scenario, medians reported            (default 5)
 *   BENCH_WRITES           perCall: replacements per child                     (default 3000)
 *   BENCH_CONCURRENT       concurrency: files per round                        (default 64)
 *   BENCH_ROUNDS           concurrency: rounds per child                       (default 40)
 *   BENCH_STREAM_MIB       stream: MiB copied per child                        (default 512)
 *   BENCH_SYNC_CALLS       syncAll: calls per child                            (default 20)
 *   BENCH_CHILD_TIMEOUT_S  seconds before a child is killed and the run fails  (default 300)
 * and CC, the C compiler with optional leading arguments (default cc).
 *
 * Output: the table on stdout, one progress line per child run on stderr, and the same data as
 * JSON in PATH (default bench/results/latest.json): { machine, settings, scenarios, ... }.
 * It needs dist/index.js: run `npm run build` first. The run copies dist/ once at its start and
 * every Node child loads that copy, so a rebuild while it runs cannot mix two builds.
 * Interrupted (SIGINT, SIGTERM, a closed stdout), it kills its running child and removes its temp
 * directories.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, cpSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readSync, realpathSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const C_SOURCES = join(ROOT, 'bench', 'c');
const NODE_WRITERS = join(ROOT, 'bench', 'writers');
const DIST = join(ROOT, 'dist', 'index.js');
const DEFAULT_JSON = join(ROOT, 'bench', 'results', 'latest.json');
const FILE_SIZE = 4096;
const MIB = 1024 * 1024;
const C_FLAGS = ['-O2', '-Wall'];
const LOOP_TIMING = 'in-process loop (startup excluded)';
const DD_TIMING = 'whole dd process, timed by bench/c/time-command.c (fork and exec included)';
/** The functions the Node writers use; a dist/ without them is not a usable build. */
const LIBRARY_EXPORTS = ['writeDurable', 'writeDurableSync', 'syncAll'];

/** What an interrupted run must clean up: its temp directories and its running child. */
const live = {
  /** @type {Set<string>} */
  dirs: new Set(),
  /** @type {import('node:child_process').ChildProcess | undefined} */
  child: undefined,
};

/** @type {Record<string, [variable: string, fallback: number]>} The BENCH_* settings: environment variable and default of each. */
const SETTING_DEFAULTS = {
  runs: ['BENCH_RUNS', 5],
  writes: ['BENCH_WRITES', 3000],
  concurrent: ['BENCH_CONCURRENT', 64],
  rounds: ['BENCH_ROUNDS', 40],
  streamMiB: ['BENCH_STREAM_MIB', 512],
  syncCalls: ['BENCH_SYNC_CALLS', 20],
  childTimeoutS: ['BENCH_CHILD_TIMEOUT_S', 300],
};

/**
 * @typedef {{ runs: number, writes: number, concurrent: number, rounds: number, streamMiB: number, syncCalls: number, childTimeoutS: number }} Settings
 * @typedef {{ ms: number, wallMs: number, maxRssKiB: number, ddReportedMs?: number }} Sample one child run
 * @typedef {object} Writer one row of a scenario
 * @property {string} name the row's name
 * @property {'c' | 'node'} kind a C program (bench/c/PROGRAM.c) or a Node script (bench/writers/PROGRAM.mjs)
 * @property {string} program
 * @property {(dir: string, context: Record<string, string>) => string[]} args the child's arguments; dir is its fresh directory
 * @property {boolean} [reference] the row the others' ratios divide by
 * @property {string} [timing] what its ms measure, when not the child's own loop
 * @property {boolean} [ratioless] a row that is not compared (node-idle)
 * @property {string[]} [needs] programs on PATH it needs besides its own (dd)
 * @typedef {object} Scenario
 * @property {string} key the scenario's key in the JSON
 * @property {string} title
 * @property {string} unit the per-operation unit shown in the table
 * @property {(ms: number) => number} perOp the per-operation time, in `unit`, of a loop's ms
 * @property {Writer[]} writers
 * @property {(rows: Row[]) => Check[]} checks the goals, computed from the rows
 * @property {(dir: string) => Record<string, string>} [setUp] prepares shared input in dir, once
 * @property {(rows: Row[]) => string[]} [notes] extra lines printed under the table
 * @typedef {{ title: string, unit: string, rows: Row[], checks: Check[], notes: string[] }} ScenarioResult
 * @typedef {object} Environment what every child run needs
 * @property {string} runDir this run's temp directory (the dist/ copy, the scenarios' shared input)
 * @property {string} library the dist/ copy's index.js
 * @property {Map<string, string> | undefined} binaries C program name to binary; undefined without a compiler
 * @typedef {object} Row
 * @property {string} writer
 * @property {boolean} reference
 * @property {string} timing
 * @property {string} [skipped] why the row was not run
 * @property {Sample[]} [runs]
 * @property {number} [ms] median loop time
 * @property {number} [wallMs] median whole-process wall time
 * @property {number} [maxRssKiB] median peak RSS
 * @property {number} [perOp] median per-operation time, in the scenario's unit
 * @property {number | null} [ratio] ms over the reference's ms; null when there is none
 * @property {number} [ddReportedMs] median of dd's own report, for the dd row
 * @typedef {object} Check one goal
 * @property {string} name
 * @property {string | null} row the row whose ratio it constrains (shown in that row), or null
 * @property {number | null} value null when it cannot be computed (a skipped row)
 * @property {string} unit
 * @property {'<=' | '>='} op
 * @property {number} target
 * @property {boolean | null} met
 */

// ---------------------------------------------------------------------------------------------
// Settings, arguments and the machine

/**
 * The BENCH_* settings from `env`; throws on a value that is not a positive integer.
 * @param {NodeJS.ProcessEnv} env
 * @returns {Settings}
 */
function readSettings(env) {
  const entries = Object.entries(SETTING_DEFAULTS).map(([key, [variable, fallback]]) => {
    const text = env[variable];
    if (text === undefined || text === '') return [key, fallback];
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${variable} must be a positive integer, not '${text}'`);
    return [key, value];
  });
  return /** @type {Settings} */ (Object.fromEntries(entries));
}

/**
 * The JSON output path from the command line.
 * @param {string[]} argv
 * @returns {string}
 */
function readJsonPath(argv) {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'string' } }, strict: true });
  return values.json === undefined ? DEFAULT_JSON : resolve(values.json);
}

/**
 * First line of `file --version`'s output, or undefined when `file` cannot run.
 * @param {string} file
 * @param {string[]} [leading] arguments before --version
 * @returns {string | undefined}
 */
function versionOf(file, leading = []) {
  const result = spawnSync(file, [...leading, '--version'], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return result.stdout.split('\n')[0]?.trim();
}

/** @returns {string} the first "model name" of /proc/cpuinfo, or os.cpus()'s. */
function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line !== undefined) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall through
  }
  return cpus()[0]?.model ?? 'unknown';
}

/**
 * The mount holding `path`, from /proc/self/mountinfo: the longest mount point above it.
 * @param {string} path
 * @returns {{ mountPoint: string, fsType: string, device: string } | undefined}
 */
function mountOf(path) {
  let text;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const unescape = (/** @type {string} */ s) => s.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
  const mounts = text.split('\n').filter(Boolean).map((line) => {
    const [before, after = ''] = line.split(' - ');
    const [fsType = '?', device = '?'] = after.split(' ');
    return { mountPoint: unescape(before?.split(' ')[4] ?? ''), fsType, device };
  });
  const inside = (/** @type {string} */ mountPoint) => mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
  return mounts.filter((m) => inside(m.mountPoint)).sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
}

/**
 * What the results were measured on.
 * @param {string | undefined} compiler
 * @returns {Record<string, unknown>}
 */
function describeMachine(compiler) {
  const dir = realpathSync(tmpdir());
  return {
    node: process.version,
    kernel: release(),
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    tmpdir: dir,
    filesystem: mountOf(dir) ?? null,
    compiler: compiler ?? null,
    dd: versionOf('dd') ?? null,
    date: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// The library under test

/**
 * Copies dist/ into `dir` (with a package.json marking its .js files as ES modules), checks that
 * the copy loads and exports what the writers use, and hashes its code for the record.
 * @param {string} dir
 * @returns {Promise<{ index: string, sha256: string }>} the copy's index.js and the hash
 */
async function snapshotLibrary(dir) {
  const missingBuild = `${relative(process.cwd(), DIST)} is missing or incomplete: run npm run build first`;
  if (!existsSync(DIST)) throw new Error(missingBuild);
  cpSync(dirname(DIST), dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const index = join(dir, 'index.js');
  /** @type {Record<string, unknown>} */
  let library;
  try {
    library = await import(pathToFileURL(index).href);
  } catch (error) {
    throw new Error(`${missingBuild} (${/** @type {Error} */ (error).message})`);
  }
  const absent = LIBRARY_EXPORTS.filter((name) => typeof library[name] !== 'function');
  if (absent.length > 0) throw new Error(`${missingBuild} (no ${absent.join(', ')})`);
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).filter((f) => /\.(c?js)$/.test(f)).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  return { index, sha256: hash.digest('hex') };
}

// ---------------------------------------------------------------------------------------------
// The C programs

/** @returns {{ file: string, leading: string[] }} $CC split into the program and its arguments. */
function compilerCommand() {
  const [file = 'cc', ...leading] = (process.env.CC ?? '').trim().split(/\s+/).filter(Boolean);
  return { file, leading };
}

/**
 * Compiles every bench/c/*.c into its own binary, in a build directory named after a hash of
 * the sources, the compiler and the flags, reusing binaries already there.
 * @param {{ file: string, leading: string[] }} cc
 * @param {string} compilerVersion
 * @returns {Map<string, string>} program name to binary path
 */
function buildCPrograms(cc, compilerVersion) {
  const sources = readdirSync(C_SOURCES).filter((f) => f.endsWith('.c') || f.endsWith('.h')).sort();
  const hash = createHash('sha256').update(JSON.stringify([cc, compilerVersion, C_FLAGS]));
  for (const source of sources) hash.update(source).update(readFileSync(join(C_SOURCES, source)));
  const buildDir = join(tmpdir(), `durable-write-bench-build-${hash.digest('hex').slice(0, 12)}`);
  mkdirSync(buildDir, { recursive: true });
  const binaries = new Map();
  for (const source of sources.filter((f) => f.endsWith('.c'))) {
    const name = source.slice(0, -2);
    const binary = join(buildDir, name);
    if (!existsSync(binary)) compileOne(cc, join(C_SOURCES, source), binary);
    binaries.set(name, binary);
  }
  return binaries;
}

/**
 * Compiles one program into `binary` (through a temporary name, so runs in parallel never see
 * half a binary); throws with the compiler's output on failure.
 * @param {{ file: string, leading: string[] }} cc
 * @param {string} source
 * @param {string} binary
 */
function compileOne(cc, source, binary) {
  const partial = `${binary}.${process.pid}.tmp`;
  const result = spawnSync(cc.file, [...cc.leading, ...C_FLAGS, '-o', partial, source], { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`compiling ${relative(ROOT, source)} failed:\n${result.stderr ?? ''}${result.error?.message ?? ''}`);
  }
  renameSync(partial, binary);
}

// ---------------------------------------------------------------------------------------------
// The scenarios

/**
 * A C-program writer.
 * @param {string} name row name (and bench/c/NAME.c)
 * @param {Writer['args']} args
 * @param {Partial<Writer>} [extra]
 * @returns {Writer}
 */
function cWriter(name, args, extra = {}) {
  return { name, kind: 'c', program: name, args, ...extra };
}

/**
 * A Node writer, `node bench/writers/SCRIPT.mjs`.
 * @param {string} name row name
 * @param {string} script
 * @param {Writer['args']} args
 * @param {Partial<Writer>} [extra]
 * @returns {Writer}
 */
function nodeWriter(name, script, args, extra = {}) {
  return { name, kind: 'node', program: script, args, ...extra };
}

/**
 * A goal on a row's ratio to the reference.
 * @param {Row[]} rows
 * @param {string} writer
 * @param {'<=' | '>='} op
 * @param {number} target
 * @returns {Check}
 */
function ratioCheck(rows, writer, op, target) {
  const value = rows.find((r) => r.writer === writer)?.ratio ?? null;
  return makeCheck(`${writer} ratio`, writer, value, '×', op, target);
}

/**
 * @param {string} name
 * @param {string | null} row
 * @param {number | null} value
 * @param {string} unit
 * @param {'<=' | '>='} op
 * @param {number} target
 * @returns {Check}
 */
function makeCheck(name, row, value, unit, op, target) {
  const met = value === null ? null : op === '<=' ? value <= target : value >= target;
  return { name, row, value, unit, op, target, met };
}

/**
 * The median of a row's field, or null when the row was skipped.
 * @param {Row[]} rows
 * @param {string} writer
 * @param {'ms' | 'perOp' | 'maxRssKiB'} key
 * @returns {number | null}
 */
function field(rows, writer, key) {
  return rows.find((r) => r.writer === writer)?.[key] ?? null;
}

/**
 * @param {Settings} s
 * @returns {Scenario}
 */
function perCallScenario(s) {
  const args = (/** @type {string} */ dir) => [dir, String(s.writes), String(FILE_SIZE)];
  return {
    key: 'perCall',
    title: `Per-call cost: ${s.writes} replacements of one 4 KiB file, one after another`,
    unit: 'µs/write',
    perOp: (ms) => (ms * 1000) / s.writes,
    writers: [
      cWriter('c-durable', args, { reference: true }),
      nodeWriter('node-sync-syscalls', 'node-sync-syscalls', args),
      nodeWriter('writeDurableSync', 'write-durable-sync', args),
      nodeWriter('node-promises-syscalls', 'node-promises-syscalls', args),
      nodeWriter('writeDurable', 'write-durable', args),
      nodeWriter('write-file-atomic', 'write-file-atomic', args),
    ],
    checks: (rows) => [ratioCheck(rows, 'writeDurableSync', '<=', 1.1), ratioCheck(rows, 'writeDurable', '<=', 1.3)],
    notes: () => ['write-file-atomic fsyncs the file but not the directory: one fsync fewer per write.'],
  };
}

/**
 * @param {Settings} s
 * @returns {Scenario}
 */
function concurrencyScenario(s) {
  const writes = s.concurrent * s.rounds;
  const args = (/** @type {string} */ dir) => [dir, String(s.concurrent), String(s.rounds), String(FILE_SIZE)];
  return {
    key: 'concurrency',
    title: `Concurrency: ${s.concurrent} files × ${s.rounds} rounds of 4 KiB replacements (${writes} writes)`,
    unit: 'µs/write',
    perOp: (ms) => (ms * 1000) / writes,
    writers: [
      cWriter('c-batch', args, { reference: true }),
      nodeWriter('writeDurable-concurrent', 'write-durable-concurrent', args),
      nodeWriter('writeDurable-sequential', 'write-durable-sequential', args),
    ],
    checks: (rows) => {
      const concurrent = field(rows, 'writeDurable-concurrent', 'ms');
      const sequential = field(rows, 'writeDurable-sequential', 'ms');
      const throughput = concurrent === null || sequential === null ? null : sequential / concurrent;
      return [
        ratioCheck(rows, 'writeDurable-concurrent', '<=', 1),
        makeCheck('throughput of writeDurable-concurrent over writeDurable-sequential', null, throughput, '×', '>=', 3),
      ];
    },
    notes: () => ['c-batch: one thread, one directory fsync per round; writeDurable fsyncs the directory per write.'],
  };
}

/**
 * @param {Settings} s
 * @returns {Scenario}
 */
function streamScenario(s) {
  const dst = (/** @type {string} */ dir) => join(dir, 'dst');
  return {
    key: 'stream',
    title: `Streaming: a ${s.streamMiB} MiB copy of a page-cached file, fsynced`,
    unit: 'ms/copy',
    perOp: (ms) => ms,
    setUp: (dir) => ({ src: createSourceFile(join(dir, 'src'), s.streamMiB) }),
    writers: [
      cWriter('c-copy', (dir, { src = '' }) => [src, dst(dir), String(MIB)], { reference: true }),
      cWriter('dd', (dir, { src = '' }) => ['dd', `if=${src}`, `of=${dst(dir)}`, 'bs=1M', 'conv=fsync'], {
        program: 'time-command',
        timing: DD_TIMING,
        needs: ['dd'],
      }),
      nodeWriter('writeDurable-stream', 'write-durable-stream', (dir, { src = '' }) => [src, dir]),
      nodeWriter('writeDurable-buffer', 'write-durable-buffer', (dir, { src = '' }) => [src, dir]),
      nodeWriter('node-idle', 'node-idle', () => [], { ratioless: true, timing: 'one event-loop turn (only its peak RSS matters)' }),
    ],
    checks: (rows) => {
      const stream = field(rows, 'writeDurable-stream', 'maxRssKiB');
      const idle = field(rows, 'node-idle', 'maxRssKiB');
      const growth = stream === null || idle === null ? null : (stream - idle) / 1024;
      return [
        ratioCheck(rows, 'writeDurable-stream', '<=', 1.1),
        ratioCheck(rows, 'writeDurable-buffer', '<=', 1.1),
        makeCheck('peak RSS growth of writeDurable-stream over node-idle', null, growth, 'MiB', '<=', 64),
      ];
    },
    notes: (rows) => {
      const dd = rows.find((r) => r.writer === 'dd');
      const lines = ['dd is timed as a whole process by bench/c/time-command.c (fork and exec included); its ratio is for the record.'];
      if (dd?.ddReportedMs !== undefined) lines.push(`dd's own report (copy and fsync, after opening the files): median ${dd.ddReportedMs.toFixed(1)} ms.`);
      lines.push('node-idle loads node:fs and the library and writes nothing: the RSS baseline.');
      return lines;
    },
  };
}

/**
 * @param {Settings} s
 * @returns {Scenario}
 */
function syncAllScenario(s) {
  const args = () => [String(s.syncCalls)];
  return {
    key: 'syncAll',
    title: `syncAll: ${s.syncCalls} calls one after another`,
    unit: 'ms/call',
    perOp: (ms) => ms / s.syncCalls,
    writers: [cWriter('c-sync', args, { reference: true }), nodeWriter('syncAll', 'sync-all', args)],
    checks: (rows) => {
      const c = field(rows, 'c-sync', 'perOp');
      const node = field(rows, 'syncAll', 'perOp');
      return [makeCheck('syncAll minus C sync(), per call', null, c === null || node === null ? null : node - c, 'ms', '<=', 5)];
    },
  };
}

/**
 * Writes `mib` MiB of random-looking bytes to `path` (a random MiB, its first 8 bytes the
 * block's number, so no two blocks are alike), fsyncs it so that no writeback of it lands in a
 * timed run, then reads it once so that it is in the page cache.
 * @param {string} path
 * @param {number} mib
 * @returns {string} path
 */
function createSourceFile(path, mib) {
  const block = randomBytes(MIB);
  const fd = openSync(path, 'w');
  for (let i = 0; i < mib; i += 1) {
    block.writeBigUInt64LE(BigInt(i), 0);
    writeSync(fd, block);
  }
  fsyncSync(fd);
  closeSync(fd);
  const reader = openSync(path, 'r');
  while (readSync(reader, block) > 0);
  closeSync(reader);
  return path;
}

// ---------------------------------------------------------------------------------------------
// Running children

/**
 * Kills a child and everything in its process group.
 * @param {import('node:child_process').ChildProcess} child
 */
function killGroup(child) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs one child to completion, in its own process group (so that a timeout or an interrupted
 * run kills it with whatever it started, dd under time-command), and reads its result line.
 * @param {string} file
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 * @param {number} timeoutS
 * @returns {Promise<Sample & { stderr: string }>}
 */
function runChild(file, args, env, timeoutS) {
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    live.child = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutS * 1000);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      live.child = undefined;
      clearTimeout(timer);
      if (timedOut) {
        reject(new Error(`${[file, ...args].join(' ')} did not finish within ${timeoutS} s (BENCH_CHILD_TIMEOUT_S), killed:\n${stderr.trim()}`));
        return;
      }
      if (code !== 0) {
        reject(new Error(`${[file, ...args].join(' ')} exited ${code ?? signal}:\n${stderr.trim()}`));
        return;
      }
      try {
        resolvePromise({ ...parseResultLine(stdout), wallMs, stderr });
      } catch (error) {
        reject(new Error(`${[file, ...args].join(' ')}: ${/** @type {Error} */ (error).message}`));
      }
    });
  });
}

/**
 * The last line of a child's stdout: {"ms": number, "maxRssKiB": number}.
 * @param {string} stdout
 * @returns {{ ms: number, maxRssKiB: number }}
 */
function parseResultLine(stdout) {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const parsed = JSON.parse(line);
  if (!Number.isFinite(parsed.ms) || !Number.isFinite(parsed.maxRssKiB)) throw new Error(`bad result line: ${line}`);
  return { ms: parsed.ms, maxRssKiB: parsed.maxRssKiB };
}

/**
 * dd's own elapsed time from its LC_ALL=C report ("... copied, 0.398 s, 1.3 GB/s").
 * @param {string} stderr
 * @returns {number | undefined} milliseconds
 */
function ddReportedMs(stderr) {
  const match = /copied, ([\d.]+) s,/.exec(stderr);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1000;
}

/**
 * Runs one writer once in a fresh directory under os.tmpdir(), removed afterwards.
 * @param {Writer} writer
 * @param {Record<string, string>} context what the scenario's setUp made
 * @param {Environment} environment
 * @param {number} timeoutS
 * @returns {Promise<Sample>}
 */
async function runWriter(writer, context, { binaries, library }, timeoutS) {
  // Synchronous: no moment where the directory exists but an interruption would not remove it.
  const dir = mkdtempSync(join(tmpdir(), `durable-write-bench-${writer.name}-`));
  live.dirs.add(dir);
  try {
    const args = writer.args(dir, context);
    const [file, fileArgs] =
      writer.kind === 'c'
        ? [/** @type {string} */ (binaries?.get(writer.program)), args]
        : [process.execPath, [join(NODE_WRITERS, `${writer.program}.mjs`), ...args]];
    const env = { ...process.env, LC_ALL: 'C', DURABLE_WRITE_BENCH_DIST: library };
    const { stderr, ...sample } = await runChild(file, fileArgs, env, timeoutS);
    const reported = writer.needs?.includes('dd') ? ddReportedMs(stderr) : undefined;
    return reported === undefined ? sample : { ...sample, ddReportedMs: reported };
  } finally {
    await rm(dir, { recursive: true, force: true });
    live.dirs.delete(dir);
  }
}

/**
 * Why a writer cannot run here, or undefined.
 * @param {Writer} writer
 * @param {Map<string, string> | undefined} binaries undefined without a compiler
 * @returns {string | undefined}
 */
function skipReason(writer, binaries) {
  if (writer.kind === 'c' && binaries === undefined) return 'no C compiler';
  const absent = (writer.needs ?? []).filter((tool) => versionOf(tool) === undefined);
  return absent.length > 0 ? `${absent.join(', ')} not found` : undefined;
}

/**
 * Runs a scenario: settings.runs runs, each running every writer once in order.
 * @param {Scenario} scenario
 * @param {Settings} settings
 * @param {Environment} environment
 * @returns {Promise<ScenarioResult>}
 */
async function runScenario(scenario, settings, environment) {
  const shared = join(environment.runDir, scenario.key);
  mkdirSync(shared);
  try {
    const context = scenario.setUp?.(shared) ?? {};
    const active = scenario.writers.filter((w) => skipReason(w, environment.binaries) === undefined);
    /** @type {Map<string, Sample[]>} */
    const samples = new Map(active.map((w) => [w.name, []]));
    for (let run = 1; run <= settings.runs; run += 1) {
      for (const writer of active) {
        const sample = await runWriter(writer, context, environment, settings.childTimeoutS);
        samples.get(writer.name)?.push(sample);
        progress(scenario.key, run, settings.runs, writer.name, sample);
      }
    }
    const rows = summarize(scenario, samples, environment.binaries);
    return { title: scenario.title, unit: scenario.unit, rows, checks: scenario.checks(rows), notes: scenario.notes?.(rows) ?? [] };
  } finally {
    await rm(shared, { recursive: true, force: true });
  }
}

/**
 * @param {string} key
 * @param {number} run
 * @param {number} runs
 * @param {string} writer
 * @param {Sample} sample
 */
function progress(key, run, runs, writer, sample) {
  const rss = (sample.maxRssKiB / 1024).toFixed(1);
  process.stderr.write(`[${key} ${run}/${runs}] ${writer}: loop ${sample.ms.toFixed(1)} ms, wall ${sample.wallMs.toFixed(1)} ms, peak RSS ${rss} MiB\n`);
}

/**
 * @param {number[]} values
 * @returns {number} the median (the mean of the middle two for an even count)
 */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? /** @type {number} */ (sorted[mid]) : (/** @type {number} */ (sorted[mid - 1]) + /** @type {number} */ (sorted[mid])) / 2;
}

/**
 * The scenario's rows: medians of each writer's samples and ratios to the reference.
 * @param {Scenario} scenario
 * @param {Map<string, Sample[]>} samples
 * @param {Map<string, string> | undefined} binaries
 * @returns {Row[]}
 */
function summarize(scenario, samples, binaries) {
  const reference = scenario.writers.find((w) => w.reference);
  const referenceRuns = reference === undefined ? undefined : samples.get(reference.name);
  const referenceMs = referenceRuns === undefined ? null : median(referenceRuns.map((r) => r.ms));
  return scenario.writers.map((writer) => {
    const base = { writer: writer.name, reference: writer.reference === true, timing: writer.timing ?? LOOP_TIMING };
    const runs = samples.get(writer.name);
    if (runs === undefined) return { ...base, skipped: skipReason(writer, binaries) ?? 'not run' };
    const ms = median(runs.map((r) => r.ms));
    const reported = runs.flatMap((r) => (r.ddReportedMs === undefined ? [] : [r.ddReportedMs]));
    return {
      ...base,
      runs,
      ms,
      wallMs: median(runs.map((r) => r.wallMs)),
      maxRssKiB: median(runs.map((r) => r.maxRssKiB)),
      perOp: scenario.perOp(ms),
      ratio: writer.ratioless || referenceMs === null ? null : ms / referenceMs,
      ...(reported.length > 0 ? { ddReportedMs: median(reported) } : {}),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Output

/**
 * @param {number} value
 * @returns {string} a time with 4 significant digits or more
 */
function formatNumber(value) {
  if (Math.abs(value) >= 1000) return value.toFixed(0);
  if (Math.abs(value) >= 100) return value.toFixed(1);
  if (Math.abs(value) >= 10) return value.toFixed(2);
  return value.toFixed(3);
}

/**
 * @param {Check} check
 * @returns {string} the goal as text, e.g. "≤ 1.10×"
 */
function formatGoal(check) {
  const op = check.op === '<=' ? '≤' : '≥';
  return check.unit === '×' ? `${op} ${check.target.toFixed(2)}×` : `${op} ${check.target} ${check.unit}`;
}

/**
 * @param {Check} check
 * @returns {string} the measured value as text, e.g. "3.41×", "12.5 MiB", "+1.23 ms"
 */
function formatCheckValue(check) {
  if (check.value === null) return 'n/a';
  if (check.unit === '×') return `${check.value.toFixed(2)}×`;
  if (check.unit === 'ms') return `${check.value >= 0 ? '+' : ''}${check.value.toFixed(2)} ms`;
  return `${check.value.toFixed(1)} ${check.unit}`;
}

/**
 * @param {Check} check
 * @returns {string} "met", "NOT met" or "n/a"
 */
function formatMet(check) {
  return check.met === null ? 'n/a' : check.met ? 'met' : 'NOT met';
}

/**
 * A table's lines: a header and a row per writer, columns padded to their widest cell.
 * @param {string[][]} cells the first row is the header
 * @param {boolean[]} rightAligned per column
 * @returns {string[]}
 */
function tableLines(cells, rightAligned) {
  const widths = cells[0]?.map((_, col) => Math.max(...cells.map((row) => row[col]?.length ?? 0))) ?? [];
  return cells.map((row) => `  ${row.map((cell, col) => (rightAligned[col] ? cell.padStart(widths[col] ?? 0) : cell.padEnd(widths[col] ?? 0))).join('  ')}`.trimEnd());
}

/**
 * One scenario's section of the table.
 * @param {number} index
 * @param {ScenarioResult} result
 * @returns {string[]}
 */
function scenarioLines(index, result) {
  const header = ['writer', result.unit, 'ratio', 'goal', 'status', 'loop ms', 'wall ms', 'peak RSS'];
  const body = result.rows.map((row) => {
    const name = row.reference ? `${row.writer} (reference)` : row.writer;
    if (row.skipped !== undefined) return [name, `skipped: ${row.skipped}`, 'n/a', '', '', '', '', ''];
    const check = result.checks.find((c) => c.row === row.writer);
    return [
      name,
      formatNumber(/** @type {number} */ (row.perOp)),
      row.ratio === null || row.ratio === undefined ? (row.reference ? '' : 'n/a') : `${row.ratio.toFixed(2)}×`,
      check === undefined ? '' : formatGoal(check),
      check === undefined ? '' : formatMet(check),
      formatNumber(/** @type {number} */ (row.ms)),
      formatNumber(/** @type {number} */ (row.wallMs)),
      `${((row.maxRssKiB ?? 0) / 1024).toFixed(1)} MiB`,
    ];
  });
  const extraChecks = result.checks.filter((c) => c.row === null).map((c) => `  ${c.name}: ${formatCheckValue(c)} (goal ${formatGoal(c)}): ${formatMet(c)}`);
  return [
    `${index}. ${result.title}`,
    ...tableLines([header, ...body], [false, true, true, false, false, true, true, true]),
    ...extraChecks,
    ...result.notes.map((note) => `  note: ${note}`),
    '',
  ];
}

/**
 * The header lines: machine, settings and how to read the numbers.
 * @param {Record<string, any>} machine
 * @param {Settings} settings
 * @param {string} library the hash of the dist/ code measured
 * @returns {string[]}
 */
function headerLines(machine, settings, library) {
  const fs = machine.filesystem;
  const where = fs === null ? 'unknown file system' : `${fs.fsType} on ${fs.device} (mounted at ${fs.mountPoint})`;
  return [
    `durable-write benchmark, ${machine.date}`,
    `node ${machine.node}, Linux ${machine.kernel}, ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB)`,
    `temp dir ${machine.tmpdir}: ${where}; C compiler: ${machine.compiler ?? 'none (C rows skipped)'}`,
    `runs ${settings.runs}; writes ${settings.writes}; concurrent ${settings.concurrent} × rounds ${settings.rounds}; stream ${settings.streamMiB} MiB; sync calls ${settings.syncCalls}; library sha256 ${library.slice(0, 12)}`,
    'Times are medians over the runs of each child\'s own timed loop (process startup excluded; "wall ms" includes it).',
    'Ratios divide those loop times by the reference row\'s. Goals are informational.',
    '',
  ];
}

/**
 * Writes the JSON results, creating the directory.
 * @param {string} path
 * @param {unknown} data
 */
function writeJson(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Main

/**
 * The C programs, or undefined (with a note on stderr) when there is no compiler.
 * @returns {{ binaries: Map<string, string> | undefined, compiler: string | undefined }}
 */
function prepareCPrograms() {
  const cc = compilerCommand();
  const compiler = versionOf(cc.file, cc.leading);
  if (compiler === undefined) {
    process.stderr.write(`note: no C compiler (${cc.file}); the C rows are skipped and their ratios are n/a\n`);
    return { binaries: undefined, compiler: undefined };
  }
  return { binaries: buildCPrograms(cc, compiler), compiler: `${[cc.file, ...cc.leading].join(' ')} ${C_FLAGS.join(' ')} (${compiler})` };
}

/**
 * Kills the running child's process group and removes the temp directories, then exits.
 * @param {string} reason a signal's name, or what else stopped the run
 * @param {number} status the exit status
 */
function interrupted(reason, status) {
  if (live.child !== undefined) killGroup(live.child);
  for (const dir of live.dirs) rmSync(dir, { recursive: true, force: true });
  try {
    process.stderr.write(`bench interrupted (${reason}); temp directories removed\n`);
  } finally {
    process.exit(status);
  }
}

/** Cleans up and exits on SIGINT, SIGTERM or a closed stdout (`node bench/run.mjs | head`). */
function handleInterruptions() {
  process.once('SIGINT', () => interrupted('SIGINT', 130));
  process.once('SIGTERM', () => interrupted('SIGTERM', 143));
  process.stdout.on('error', (error) => interrupted(`stdout: ${error.message}`, 1));
}

/**
 * Runs every scenario, printing each section as it completes.
 * @param {Settings} settings
 * @param {Environment} environment
 * @returns {Promise<Record<string, ScenarioResult>>}
 */
async function runAll(settings, environment) {
  const scenarios = [perCallScenario(settings), concurrencyScenario(settings), streamScenario(settings), syncAllScenario(settings)];
  /** @type {Record<string, ScenarioResult>} */
  const results = {};
  for (const [i, scenario] of scenarios.entries()) {
    const result = await runScenario(scenario, settings, environment);
    results[scenario.key] = result;
    process.stdout.write(`${scenarioLines(i + 1, result).join('\n')}\n`);
  }
  return results;
}

async function main() {
  const started = process.hrtime.bigint();
  const jsonPath = readJsonPath(process.argv.slice(2));
  const settings = readSettings(process.env);
  handleInterruptions();
  const runDir = mkdtempSync(join(tmpdir(), 'durable-write-bench-run-'));
  live.dirs.add(runDir);
  try {
    const library = await snapshotLibrary(join(runDir, 'dist'));
    const { binaries, compiler } = prepareCPrograms();
    const machine = describeMachine(compiler);
    process.stdout.write(`${headerLines(machine, settings, library.sha256).join('\n')}\n`);
    const scenarios = await runAll(settings, { runDir, library: library.index, binaries });
    const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const timing = { rows: LOOP_TIMING, dd: DD_TIMING };
    writeJson(jsonPath, { machine, settings, library: { dist: 'dist/index.js', sha256: library.sha256 }, timing, scenarios, totalSeconds });
    const shown = relative(process.cwd(), jsonPath);
    process.stdout.write(`total time ${totalSeconds.toFixed(1)} s; JSON written to ${shown.startsWith('..') ? jsonPath : shown}\n`);
  } finally {
    rmSync(runDir, { recursive: true, force: true });
    live.dirs.delete(runDir);
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
