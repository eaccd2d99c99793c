/**
 * The kill -9 torture test's supervisor: N writer processes replace the same few files in a loop,
 * a reader process checks every read, and the supervisor SIGKILLs writers at random instants
 * (exponential intervals from a seeded PRNG, which also picks the victim among the running
 * writers) and restarts them, for a bounded time. At the end it
 * kills every writer, collects the reader's figures, checks the final files, runs the library's
 * `removeStaleTemps` on the directory (`olderThanMs: 0`: every writer is dead) and lists what is
 * left.
 *
 * Used by `kill-torture.test.ts` (vitest) and by `run.mjs` (the standalone runner).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkVersion, exponential, prng, targetName } from './format.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
export const WRITER_SCRIPT = join(here, 'writer.mjs');
export const READER_SCRIPT = join(here, 'reader.mjs');
export const DIST_ESM = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** The defaults of each mode: the twin writes larger files, so that reads catch them partial. */
export const DEFAULTS = {
  durable: { writers: 8, files: 4, readers: 1, minSize: 1024, maxSize: 256 * 1024, killMeanMs: 100 },
  naive: { writers: 8, files: 4, readers: 1, minSize: 256 * 1024, maxSize: 1024 * 1024, killMeanMs: 100 },
};

/** A random 32-bit seed. */
export function randomSeed() {
  return Math.floor(Math.random() * 4294967296) >>> 0;
}

/** Reads an integer or float from the environment; `fallback` when unset or empty. */
export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number; got ${JSON.stringify(raw)}`);
  return value;
}

/** Splits a child's stdout into lines. */
function onLines(stream, handle) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      handle(line);
    }
  });
}

/** Keeps the last 4 KiB of a child's stderr. */
function tail(stream) {
  const kept = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    kept.text = (kept.text + chunk).slice(-4096);
  });
  return kept;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one torture run. Options: `mode` ('durable' | 'naive'), `seconds`, `seed`, and optionally
 * `writers`, `files`, `readers`, `minSize`, `maxSize`, `killMeanMs`, `dist` (the built ESM entry),
 * `keepDir`, `log` (a function for progress lines). Resolves with the figures (see the README part
 * of the docs); rejects only when the harness itself fails. Every child is killed and the
 * directory removed (unless `keepDir`) before it settles, on failure too.
 */
export async function runTorture(options) {
  const mode = options.mode;
  if (mode !== 'durable' && mode !== 'naive') throw new Error(`runTorture: mode must be 'durable' or 'naive'; got ${mode}`);
  const defaults = DEFAULTS[mode];
  const config = {
    mode,
    seconds: options.seconds,
    seed: options.seed >>> 0,
    writers: options.writers ?? defaults.writers,
    files: options.files ?? defaults.files,
    readers: options.readers ?? defaults.readers,
    minSize: options.minSize ?? defaults.minSize,
    maxSize: options.maxSize ?? defaults.maxSize,
    killMeanMs: options.killMeanMs ?? defaults.killMeanMs,
  };
  if (!(config.seconds > 0 && config.seconds <= 3600)) throw new Error(`runTorture: seconds must be in (0, 3600]; got ${config.seconds}`);
  for (const key of ['writers', 'files', 'readers']) {
    if (!(Number.isInteger(config[key]) && config[key] >= 1 && config[key] <= 256)) throw new Error(`runTorture: ${key} must be an integer in [1, 256]`);
  }
  const dist = options.dist ?? DIST_ESM;
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(options.baseDir ?? tmpdir(), `durable-write-torture-${mode}-`));
  const targets = Array.from({ length: config.files }, (_, i) => targetName(i));
  const children = new Set();
  const killAll = () => {
    for (const child of children) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  // Should the supervisor's process exit abruptly, no child may survive it (they also exit when their stdin closes).
  process.on('exit', killAll);

  const rng = prng(config.seed);
  const startedAt = Date.now();
  const figures = {
    kills: 0,
    killsSkipped: 0,
    finalKills: 0,
    spawns: 0,
    writesCompleted: 0,
    writesPerFile: new Array(config.files).fill(0),
    writerErrors: [],
    startMs: [],
  };
  let stopping = false;
  const deadline = startedAt + config.seconds * 1000 + 60_000;

  const track = (child) => {
    children.add(child);
    const exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        children.delete(child);
        resolve({ code, signal });
      });
      child.on('error', (error) => {
        children.delete(child);
        resolve({ code: null, signal: null, error });
      });
    });
    // EPIPE when a child dies while we write to its stdin: not an error of the run.
    child.stdin.on('error', () => {});
    return exited;
  };

  // Writers.
  const writers = Array.from({ length: config.writers }, (_, id) => ({ id, incarnation: -1, child: undefined, ready: false, writes: 0, killed: false, exited: Promise.resolve() }));
  const spawnWriter = (w) => {
    w.incarnation++;
    w.ready = false;
    w.writes = 0;
    w.killed = false;
    figures.spawns++;
    const child = spawn(
      process.execPath,
      [
        WRITER_SCRIPT,
        '--dir', dir,
        '--files', String(config.files),
        '--writer', String(w.id),
        '--incarnation', String(w.incarnation),
        '--seed', String(config.seed),
        '--mode', mode,
        '--min-size', String(config.minSize),
        '--max-size', String(config.maxSize),
        '--dist', dist,
        '--deadline', String(deadline),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    w.child = child;
    const spawnedAt = Date.now();
    const stderr = tail(child.stderr);
    onLines(child.stdout, (line) => {
      if (line === 'R') {
        w.ready = true;
        figures.startMs.push(Date.now() - spawnedAt);
      }
      else if (line.startsWith('W ')) {
        figures.writesCompleted++;
        w.writes++;
        const file = Number(line.slice(2));
        if (file >= 0 && file < config.files) figures.writesPerFile[file]++;
      }
    });
    const incarnation = w.incarnation;
    w.exited = track(child).then(({ code, signal, error }) => {
      const expected = w.killed && signal === 'SIGKILL';
      if (!expected) {
        figures.writerErrors.push({ writer: w.id, incarnation, code, signal, error: error ? String(error) : undefined, stderr: stderr.text });
      }
      if (!stopping && w.child === child) spawnWriter(w);
    });
  };

  // Readers.
  const readers = [];
  const startReader = (index) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [READER_SCRIPT, '--dir', dir, '--files', String(config.files), '--deadline', String(deadline)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const reader = { index, child, stats: undefined, stderr: tail(child.stderr), exit: undefined };
      reader.exit = track(child);
      onLines(child.stdout, (line) => {
        if (line === 'R') resolve(reader);
        else if (line.startsWith('S ')) reader.stats = JSON.parse(line.slice(2));
      });
      reader.exit.then(({ code, signal }) => reject(new Error(`reader ${index} exited before it was ready (code ${code}, signal ${signal}): ${reader.stderr.text}`)));
    });

  try {
    for (let i = 0; i < config.readers; i++) readers.push(await startReader(i));
    for (const w of writers) spawnWriter(w);
    // The clock starts once every writer has started (node's start-up is slow on a loaded machine), at most 30 s on.
    const startLimit = Date.now() + 30_000;
    const broken = () => figures.writerErrors.length >= 10;
    while (!writers.every((w) => w.ready) && Date.now() < startLimit && !broken()) await sleep(10);
    figures.firstStartMs = Date.now() - startedAt;
    const writeStart = Date.now();
    const endAt = writeStart + config.seconds * 1000;
    log(`torture ${mode}: seed ${config.seed}, ${config.writers} writers, ${config.files} files, ${config.readers} reader(s), ${config.seconds} s`);

    // The kill loop: the kill instants (a Poisson process: exponential intervals) and the writer to
    // kill both come from the seeded PRNG. The instants are a schedule from the start, so that a
    // late wake-up (spawning a writer blocks this thread, more so on a loaded machine) does not
    // thin the kills out: a late kill happens at once.
    let nextProgress = writeStart + 5000;
    let killAt = writeStart;
    for (;;) {
      killAt += exponential(rng, config.killMeanMs);
      const pick = rng();
      // Writers that fail by themselves: stop early, the run has failed (writerErrors says why).
      if (killAt >= endAt || broken()) break;
      await sleep(Math.max(0, killAt - Date.now()));
      // One of the writers running: started, not already killed, and past its first write (so
      // that on a loaded machine, where node takes seconds to start, every incarnation writes);
      // none: a skipped kill. The instant within its write loop is random.
      const running = writers.filter((w) => w.child !== undefined && w.ready && w.writes > 0 && !w.killed);
      const w = running[Math.floor(pick * running.length)];
      if (w === undefined) {
        figures.killsSkipped++;
      } else {
        w.killed = true;
        w.child.kill('SIGKILL');
        figures.kills++;
      }
      if (Date.now() >= nextProgress) {
        nextProgress += 5000;
        log(`  ${Math.round((Date.now() - writeStart) / 1000)} s: ${figures.kills} kills, ${figures.writesCompleted} writes`);
      }
    }
    if (!broken()) await sleep(Math.max(0, endAt - Date.now()));

    // Stop: kill every writer (kill -9 as well), then the readers.
    stopping = true;
    for (const w of writers) {
      // (One killed a moment ago and not yet gone counts as that kill, not as a final one.)
      if (w.child !== undefined && !w.killed && w.child.exitCode === null && w.child.signalCode === null) {
        w.killed = true;
        w.child.kill('SIGKILL');
        figures.finalKills++;
      }
    }
    await Promise.all(writers.map((w) => w.exited));
    const writeSeconds = (Date.now() - writeStart) / 1000;
    for (const reader of readers) reader.child.stdin.write('stop\n');
    const readerTimeout = sleep(15_000).then(() => 'timeout');
    for (const reader of readers) {
      const outcome = await Promise.race([reader.exit, readerTimeout]);
      if (outcome === 'timeout' || reader.stats === undefined) {
        throw new Error(`reader ${reader.index} did not report its figures: ${reader.stderr.text}`);
      }
    }

    // The files as the writers left them, and the temp files killed writers left behind.
    const finalFiles = targets.map((name, file) => {
      let buffer;
      try {
        buffer = readFileSync(join(dir, name));
      } catch (error) {
        return { name, ok: false, problem: String(error.code ?? error) };
      }
      const result = checkVersion(buffer, file);
      return result.ok ? { name, ok: true, version: result.version, bytes: result.bytes } : { name, ok: false, problem: `${result.kind}: ${result.detail}` };
    });
    const before = readdirSync(dir).sort();
    const tempsBefore = before.filter((name) => !targets.includes(name));
    const { removeStaleTemps } = await import(pathToFileURL(dist).href);
    // Every writer has exited, but its pid may already be another process's (pid_max can be 32768),
    // which removeStaleTemps would rightly trust: pidReuseAfterMs 0 trusts no pid, age alone guards.
    const cleanup = await removeStaleTemps(dir, { olderThanMs: 0, pidReuseAfterMs: 0 });
    const after = readdirSync(dir).sort();

    const reads = sumReaders(readers.map((r) => r.stats));
    const result = {
      config,
      dir,
      durationSeconds: Math.round(writeSeconds * 10) / 10,
      kills: figures.kills,
      killsSkipped: figures.killsSkipped,
      finalKills: figures.finalKills,
      spawns: figures.spawns,
      writesCompleted: figures.writesCompleted,
      writesPerSecond: Math.round(figures.writesCompleted / writeSeconds),
      writesPerFile: figures.writesPerFile,
      writerErrors: figures.writerErrors,
      writerStartMs: median(figures.startMs),
      firstStartMs: figures.firstStartMs,
      readsChecked: reads.reads,
      readsOk: reads.ok,
      badReads: reads.failed,
      badReadKinds: reads.kinds,
      emptyReads: reads.kinds.empty,
      shortReads: reads.kinds.short,
      tornReads: reads.failed - reads.kinds.empty - reads.kinds.short,
      missingBeforeFirstWrite: reads.missingBeforeFirstWrite,
      missingAfterSeen: reads.missingAfterSeen,
      versionChanges: reads.versionChanges,
      readerErrors: reads.errors,
      badReadSamples: reads.samples,
      finalFiles,
      finalFilesOk: finalFiles.filter((f) => f.ok).length,
      tempsBeforeCleanup: tempsBefore.length,
      tempsRemoved: cleanup.removed.length,
      tempsKept: cleanup.kept.length,
      leftover: after.filter((name) => !targets.includes(name)),
      remaining: after,
    };
    log(summarize(result));
    return result;
  } finally {
    stopping = true;
    killAll();
    await Promise.all([...writers.map((w) => w.exited), ...readers.map((r) => r.exit)]);
    process.removeListener('exit', killAll);
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The median of some numbers (0 for none). */
function median(values) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The readers' figures, added up. */
function sumReaders(all) {
  const total = { reads: 0, ok: 0, failed: 0, kinds: {}, missingBeforeFirstWrite: 0, missingAfterSeen: 0, versionChanges: 0, errors: [], samples: [] };
  for (const s of all) {
    for (const key of ['reads', 'ok', 'failed', 'missingBeforeFirstWrite', 'missingAfterSeen', 'versionChanges']) total[key] += s[key];
    for (const [kind, count] of Object.entries(s.kinds)) total.kinds[kind] = (total.kinds[kind] ?? 0) + count;
    total.errors.push(...s.errors);
    total.samples.push(...s.samples.slice(0, Math.max(0, 20 - total.samples.length)));
  }
  return total;
}

/** One paragraph of figures. */
export function summarize(r) {
  const c = r.config;
  return [
    `torture ${c.mode} (seed ${c.seed}; ${c.writers} writers, ${c.files} files, ${c.readers} reader(s), ${c.minSize}..${c.maxSize} B, kill every ${c.killMeanMs} ms on average, ${r.durationSeconds} s):`,
    `  kills ${r.kills} (+${r.finalKills} at the end, ${r.killsSkipped} skipped: no writer past its first write), writer starts ${r.spawns} (median ${r.writerStartMs} ms to ready), writer errors ${r.writerErrors.length}`,
    `  writes completed ${r.writesCompleted} (${r.writesPerSecond}/s; per file ${r.writesPerFile.join(' ')})`,
    `  reads checked ${r.readsChecked}: ok ${r.readsOk}, bad ${r.badReads} (torn ${r.tornReads}, empty ${r.emptyReads}, short ${r.shortReads}; ${JSON.stringify(r.badReadKinds)}), version changes seen ${r.versionChanges}`,
    `  missing before first write ${r.missingBeforeFirstWrite}, missing after it existed ${r.missingAfterSeen}, reader errors ${r.readerErrors.length}`,
    `  final files whole ${r.finalFilesOk}/${r.finalFiles.length}; temp files left by killed writers ${r.tempsBeforeCleanup}, removed by removeStaleTemps ${r.tempsRemoved}, kept ${r.tempsKept}, left over ${r.leftover.length}`,
  ].join('\n');
}

/** Why a durable run fails (empty: it passes). */
export function durableProblems(r) {
  const problems = [];
  if (r.badReads > 0) problems.push(`${r.badReads} bad reads (torn ${r.tornReads}, empty ${r.emptyReads}, short ${r.shortReads}): ${JSON.stringify(r.badReadSamples.slice(0, 5))}`);
  if (r.missingAfterSeen > 0) problems.push(`${r.missingAfterSeen} reads found a file missing after it existed`);
  if (r.readerErrors.length > 0) problems.push(`reader errors: ${r.readerErrors.slice(0, 3).join('; ')}`);
  if (r.writerErrors.length > 0) problems.push(`writer errors: ${JSON.stringify(r.writerErrors.slice(0, 3))}`);
  if (r.finalFilesOk !== r.finalFiles.length) problems.push(`final files not whole: ${JSON.stringify(r.finalFiles.filter((f) => !f.ok))}`);
  if (r.leftover.length > 0) problems.push(`left in the directory after removeStaleTemps: ${r.leftover.join(', ')}`);
  if (r.tempsRemoved !== r.tempsBeforeCleanup) problems.push(`removeStaleTemps removed ${r.tempsRemoved} of ${r.tempsBeforeCleanup} temp files`);
  problems.push(...vacuity(r));
  return problems;
}

/** Why a twin run fails to prove the harness can see tearing (empty: it did see it). */
export function twinProblems(r) {
  const problems = [];
  if (r.badReads === 0) problems.push(`the naive twin showed no torn, short or empty read in ${r.readsChecked} reads: the harness is blind`);
  if (r.writerErrors.length > 0) problems.push(`writer errors: ${JSON.stringify(r.writerErrors.slice(0, 3))}`);
  if (r.readerErrors.length > 0) problems.push(`reader errors: ${r.readerErrors.slice(0, 3).join('; ')}`);
  return problems;
}

/** A run that killed nothing, wrote nothing or read nothing proves nothing. */
function vacuity(r) {
  const problems = [];
  if (r.kills === 0) problems.push('no writer was killed during the run');
  if (r.writesCompleted === 0) problems.push('no write completed');
  if (r.readsChecked === 0) problems.push('no read was checked');
  return problems;
}
