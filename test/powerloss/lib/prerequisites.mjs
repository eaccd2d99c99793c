/**
 * What the harness needs on the host, found or explained. Locally a missing piece makes the run
 * skip with one line; with `CI` set it is a failure (CI installs everything in `.ci/run`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

/** Whether this is CI's run (`CI` set to anything but empty, `0` or `false`). */
export const inCI = (() => {
  const value = process.env['CI'];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
})();

/**
 * Where `tool` is on PATH (with the usual sbin and bin directories searched first when `sbin` is
 * set), or undefined.
 * @param {string} tool
 * @param {{ sbin?: boolean }} [options]
 * @returns {string | undefined}
 */
export function which(tool, { sbin = false } = {}) {
  const search = sbin ? 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH command -v "$0"' : 'command -v "$0"';
  try {
    return execFileSync('sh', ['-c', search, tool], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Skips the run locally, fails it in CI: prints one line prefixed with `harness` and exits (0
 * locally, 2 with `CI` set).
 * @param {string} harness e.g. `powerloss`
 * @returns {(reason: string) => never}
 */
export function prerequisiteMissingFor(harness) {
  return (reason) => {
    if (inCI) {
      console.error(`${harness}: FAILED: CI is set but a prerequisite is missing: ${reason}`);
      process.exit(2);
    }
    console.log(`${harness}: skipped: ${reason}`);
    process.exit(0);
  };
}

/**
 * On SIGINT, SIGTERM and SIGHUP: `kill`, one line (`<harness>: interrupted by <signal>; <what>`),
 * exit 130; and `kill` at every exit.
 * @param {string} harness
 * @param {() => void} kill
 * @param {string} what e.g. `every QEMU was killed`
 */
export function killOnExit(harness, kill, what) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      kill();
      console.error(`${harness}: interrupted by ${signal}; ${what}`);
      process.exit(130);
    });
  }
  process.on('exit', kill);
}

/**
 * A positive integer from the environment variable `name`, or `fallback` when it is unset or
 * empty; anything else is a usage error (one line prefixed with `harness`, exit 2).
 * @param {string} harness
 * @param {string} name
 * @param {number} fallback
 * @returns {number}
 */
export function intEnv(harness, name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${harness}: ${name} must be a positive integer, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

/**
 * The name of the work directory of a run started at `started` (ms since the epoch):
 * `run-<UTC time to the second>-<pid>`.
 * @param {number} started
 * @returns {string}
 */
export function runDirName(started) {
  return `run-${new Date(started).toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${process.pid}`;
}

/**
 * Makes the directory of a run started at `started` in `workDir`; then keeps the newest `keep`
 * runs' directories (this one included) and drops older ones that no other run can still be
 * using (untouched for an hour).
 * @param {string} workDir
 * @param {number} started
 * @param {number} keep
 * @returns {string} the run's directory
 */
export function makeRunDir(workDir, started, keep) {
  const runDir = path.join(workDir, runDirName(started));
  fs.mkdirSync(runDir, { recursive: true });
  const oldRuns = fs
    .readdirSync(workDir)
    .filter((name) => /^run-\d{8}T\d{6}(-\d+)?$/.test(name))
    .sort()
    .slice(0, -keep)
    .filter((name) => Date.now() - fs.statSync(path.join(workDir, name)).mtimeMs > 3_600_000);
  for (const name of oldRuns) fs.rmSync(path.join(workDir, name), { recursive: true, force: true });
  return runDir;
}

/**
 * Copies the built package's directory (`dist/` of `libModule`) into `<runDir>/package/dist` with a
 * `package.json` of type module, so that a rebuild of dist/ during the run (tsup cleans it first)
 * cannot break a guest halfway; returns the snapshot's index module.
 * @param {string} libModule
 * @param {string} runDir
 * @returns {string}
 */
export function snapshotLibrary(libModule, runDir) {
  const snapshot = path.join(runDir, 'package');
  fs.cpSync(path.dirname(libModule), path.join(snapshot, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(snapshot, 'package.json'), JSON.stringify({ type: 'module', private: true }) + '\n');
  return path.join(snapshot, 'dist', path.basename(libModule));
}

/**
 * Whether an ELF executable is static (no PT_INTERP program header), read from its headers.
 * @param {string} file
 */
function isStaticElf(file) {
  const head = Buffer.alloc(4096);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false; // ELF64 only
  const phoff = Number(head.readBigUInt64LE(32));
  const phentsize = head.readUInt16LE(54);
  const phnum = head.readUInt16LE(56);
  for (let i = 0; i < phnum; i += 1) {
    const at = phoff + i * phentsize;
    if (at + 4 > head.length) return false;
    if (head.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}

/** A module by name in modules.dep or modules.builtin. @param {string} moduleDir @param {string} name */
function hasModule(moduleDir, name) {
  const norm = (/** @type {string} */ f) => path.basename(f).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
  for (const file of ['modules.dep', 'modules.builtin']) {
    const p = path.join(moduleDir, file);
    if (!fs.existsSync(p)) continue;
    for (const line of fs.readFileSync(p, 'utf8').split('\n')) {
      const f = line.split(':')[0] ?? '';
      if (f !== '' && norm(f) === name) return true;
    }
  }
  return false;
}

/** The power-loss harness's host tools: `[tool, Debian package]`. */
const POWERLOSS_TOOLS = [
  ['mkfs.ext4', 'e2fsprogs'],
  ['e2fsck', 'e2fsprogs'],
  ['debugfs', 'e2fsprogs'],
  ['cpio', 'cpio'],
];
/** The power-loss harness's guest tools: the guest runs the host's own /usr/bin/ipmitool. */
const POWERLOSS_USR_TOOLS = [['ipmitool', 'ipmitool']];

/**
 * @typedef {object} Rig
 * @property {string} qemu
 * @property {string} kernel
 * @property {string} kernelVersion
 * @property {string} moduleDir
 * @property {string} busybox
 */

/**
 * Finds the rig's pieces; returns them, or the list of what is missing. The defaults are the
 * power-loss harness's; the other harnesses pass their own tools and modules.
 * @param {object} [options]
 * @param {string} [options.repoDir]
 * @param {string} [options.libModule] the built package, checked to exist when given
 * @param {string[][]} [options.tools] host tools as `[tool, Debian package]`
 * @param {string[][]} [options.usrTools] tools the guest runs from the host's /usr share, which
 *   must therefore be found under /usr
 * @param {boolean} [options.realpathUsrTools] resolve symbolic links before the /usr check
 * @param {boolean} [options.sbin] search the sbin and bin directories too (see {@link which})
 * @param {string[]} [options.modules] kernel modules the guest loads, checked to exist
 * @returns {{ rig: Rig } | { missing: string[] }}
 */
export function findRig({
  repoDir,
  libModule,
  tools = POWERLOSS_TOOLS,
  usrTools = POWERLOSS_USR_TOOLS,
  realpathUsrTools = false,
  sbin = false,
  modules = [],
} = {}) {
  /** @type {string[]} */
  const missing = [];
  if (process.platform !== 'linux' || process.arch !== 'x64') missing.push('needs Linux on x86-64');
  const qemu = which('qemu-system-x86_64', { sbin });
  if (qemu === undefined) missing.push('qemu-system-x86_64 (Debian: qemu-system-x86)');
  for (const [tool, pkg] of tools) {
    if (which(tool, { sbin }) === undefined) missing.push(`${tool} (Debian: ${pkg})`);
  }
  // The guest runs these (and node) from the host's /usr share.
  for (const [tool, pkg] of usrTools) {
    const found = which(tool, { sbin });
    if (found === undefined || !(realpathUsrTools ? fs.realpathSync(found) : found).startsWith('/usr/')) {
      missing.push(`${tool} under /usr (Debian: ${pkg})`);
    }
  }
  if (!process.execPath.startsWith('/usr/')) {
    missing.push(`node under /usr (the guest sees only the host's /usr; this node is ${process.execPath})`);
  }
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p) && isStaticElf(p));
  if (busybox === undefined) missing.push('a static busybox (Debian: busybox-static)');
  let kernel;
  let kernelVersion;
  let moduleDir;
  const versions = fs.existsSync('/boot')
    ? fs
        .readdirSync('/boot')
        .filter((name) => name.startsWith('vmlinuz-'))
        .map((name) => name.slice('vmlinuz-'.length))
        .filter((version) => fs.existsSync(path.join('/lib/modules', version, 'modules.dep')))
        .sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))
    : [];
  kernelVersion = versions.at(-1);
  if (kernelVersion === undefined) {
    missing.push('a kernel image /boot/vmlinuz-* with its modules (Debian: linux-image-amd64)');
  } else {
    kernel = path.join('/boot', `vmlinuz-${kernelVersion}`);
    moduleDir = path.join('/lib/modules', kernelVersion);
    try {
      fs.accessSync(kernel, fs.constants.R_OK);
    } catch {
      missing.push(`read access to ${kernel} (run as root)`);
    }
    for (const name of modules) {
      if (!hasModule(moduleDir, name)) missing.push(`kernel module ${name} in ${moduleDir}`);
    }
  }
  if (libModule !== undefined && !fs.existsSync(libModule)) {
    missing.push(`the built package ${path.relative(repoDir ?? '', libModule)} (run npm run build)`);
  }
  if (missing.length > 0 || qemu === undefined || busybox === undefined || !kernel || !kernelVersion || !moduleDir) {
    return { missing };
  }
  return { rig: { qemu, kernel, kernelVersion, moduleDir, busybox } };
}

/**
 * Whether the built package exports what the guest calls (by default, what the power-loss guest
 * calls); the reason when it does not.
 * @param {string} libModule
 * @param {string[]} [names] the functions the guest calls
 * @returns {Promise<string | undefined>}
 */
export async function checkLibrary(libModule, names = ['writeDurable', 'syncAll', 'IpmitoolPowerController']) {
  try {
    const lib = await import(new URL(`file://${libModule}`).href);
    const absent = names.filter((name) => typeof lib[name] !== 'function');
    return absent.length === 0 ? undefined : `${libModule} does not export ${absent.join(', ')} (rebuild: npm run build)`;
  } catch (error) {
    return `cannot import ${libModule}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * The machine a run was measured on, for the results JSON of every QEMU harness.
 * @param {Rig} rig
 */
export function describeMachine(rig) {
  return {
    host: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    guestKernel: rig.kernelVersion,
    node: process.version,
    qemu: rig.qemu,
    accel: 'tcg',
  };
}
