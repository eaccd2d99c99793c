/**
 * The compat layer's differential tests, run again as the unprivileged user `nobody` (uid and
 * gid 65534, no supplementary group) when the suite runs as root, as CI does: a read-only target,
 * a read-only directory, an existing file's owner and `chown: false` behave differently without
 * root's override, and each peer must be matched there too. The files run in a child vitest
 * (`setpriv`, from util-linux), from the sources, with its temp files in a directory `nobody` may
 * write; run as any other user, the files themselves are that run.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built-package.js';
import { missing } from '../support/prerequisites.js';
import { tempDir } from '../support/temp-dir.js';

const NOBODY = '65534';

/** The differential files: each compares a peer with its compat twin. */
const FILES = [
  'test/compat/node-fs.test.ts',
  'test/compat/fs-extra.test.ts',
  'test/compat/write-file-atomic.test.ts',
  'test/compat/read-only.test.ts',
  'test/compat/resolution.test.ts',
  'test/compat/rejections.test.ts',
];

const lacking = missing({ tools: ['setpriv', 'unshare', 'mount'], root: true });

/** The environment of the child: this one, without vitest's own variables (it is a run of its own) nor CI (nobody is not root). */
function childEnvironment(tmp: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'CI'));
  return { ...env, TMPDIR: tmp, HOME: tmp, NO_COLOR: '1', FORCE_COLOR: '0' };
}

/**
 * Runs `args` as `nobody` in the repository, seen through a bind mount at `view` (a directory
 * under the temp directory) in a mount namespace of the child's own: a checkout below a
 * directory only root may enter (`/root`, 0700) is then still reachable, and nothing outside
 * the child changes.
 */
function asNobody(args: readonly string[], tmp: string, view: string): ReturnType<typeof spawnSync> {
  const script = 'mount --bind "$0" "$1" && cd "$1" && shift && exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"';
  return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, repoRoot, view, ...args], {
    env: childEnvironment(tmp),
    encoding: 'utf8',
    timeout: 170_000,
  });
}

describe.skipIf(lacking !== undefined)(`the compat differential tests as nobody (uid ${NOBODY})${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  it('pass: every peer and its twin agree without root, except where docs/migrating.md says they differ', { timeout: 180_000 }, () => {
    const tmp = tempDir('durable-write-nobody-');
    chmodSync(tmp, 0o1777);
    const view = join(tmp, 'repository');
    mkdirSync(view);
    const reachable = asNobody([process.execPath, '-e', 'require("fs").accessSync(".", require("fs").constants.R_OK)'], tmp, view);
    expect(reachable.status, `nobody cannot read the checkout ${repoRoot} (are its files readable by others?): ${String(reachable.stderr)}`).toBe(0);
    // `--configLoader runner`: vite would bundle the config into node_modules, which nobody may not write.
    const run = asNobody([process.execPath, 'node_modules/vitest/vitest.mjs', 'run', '--configLoader', 'runner', ...FILES], tmp, view);
    const output = `${String(run.stdout)}\n${String(run.stderr)}`;
    expect(run.status, output).toBe(0);
    const summary = /vitest: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(output);
    expect(summary, output).not.toBeNull();
    expect(Number(summary?.[1]), output).toBeGreaterThan(250);
    expect(Number(summary?.[2]), output).toBe(0);
  });
});
