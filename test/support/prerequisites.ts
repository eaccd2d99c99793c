/**
 * Prerequisites of tests that need a tool or a privilege a developer's laptop may lack.
 *
 * Locally such a test skips with a one-line reason; when `CI` is set, a missing prerequisite is
 * a failure, never a skip (CI installs everything in `.ci/run` and runs as root).
 */
import { execFileSync } from 'node:child_process';

/** Whether the test run is CI's (`CI` set to anything but empty, `0` or `false`). */
export const inCI = ((): boolean => {
  const value = process.env['CI'];
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
})();

/** Whether `tool` is on PATH. */
export function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$0"`, tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether Debian's `/usr/bin/python3` (not whichever `python3` is first on PATH, e.g. a pyenv one)
 * can import `module`, e.g. `sushy` from the `python3-sushy` package.
 */
export function hasPython3Module(module: string): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import importlib, sys; importlib.import_module(sys.argv[1])', module], {
      stdio: 'ignore',
      timeout: 30_000,
    });
    return true;
  } catch {
    return false;
  }
}

/** Whether this process runs as root. */
export const isRoot = process.getuid?.() === 0;

/**
 * The reason a test must skip, or `undefined` when every prerequisite is met.
 * In CI a missing prerequisite throws at collection time instead, so the suite fails loudly.
 *
 * @example
 * ```ts
 * const skip = missing({ tools: ['strace'] });
 * describe.skipIf(skip !== undefined)('syscall order' + (skip ? ` (skipped: ${skip})` : ''), () => { ... });
 * ```
 */
export function missing(needs: {
  tools?: readonly string[];
  /** Modules `/usr/bin/python3` must import (see {@link hasPython3Module}). */
  python3Modules?: readonly string[];
  root?: boolean;
}): string | undefined {
  const lacking: string[] = [];
  for (const tool of needs.tools ?? []) if (!hasTool(tool)) lacking.push(`${tool} is not installed`);
  for (const module of needs.python3Modules ?? []) {
    if (!hasPython3Module(module)) lacking.push(`python3 module ${module} is not importable by /usr/bin/python3`);
  }
  if (needs.root === true && !isRoot) lacking.push('needs root');
  if (lacking.length === 0) return undefined;
  const reason = lacking.join(', ');
  if (inCI) throw new Error(`CI is set but a test prerequisite is missing: ${reason}`);
  return reason;
}
