/** `--help`, `COMMAND --help`, `help COMMAND` and `--version` of the built command. */
import { accessSync, constants, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/built-package.js';
import { cli, cliPath, onlyJson, run } from './support/cli.js';

const COMMANDS = ['write', 'append', 'sync', 'power', 'clean'];
const pkg = JSON.parse(readFileSync(`${repoRoot}/package.json`, 'utf8')) as { version: string; bin: Record<string, string> };

describe('durable-write help', () => {
  it('--help lists every command, the exit statuses, and goes to stdout with exit 0', async () => {
    const { status, stdout, stderr } = await cli(['--help']);
    expect(status).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: durable-write COMMAND/);
    for (const command of [...COMMANDS, 'probe', 'help']) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toMatch(/^  0 +success$/m);
    expect(stdout).toMatch(/^  2 +usage error/m);
  });

  it.each(COMMANDS)('%s --help shows its usage line and common options; -h and `help COMMAND` show the same', async (command) => {
    const own = await cli([command, '--help']);
    expect(own.status).toBe(0);
    expect(own.stdout).toMatch(new RegExp(`^Usage: durable-write ${command} \\[options\\]`));
    expect(own.stdout).toContain('--json');
    expect(own.stdout).toContain('Exit status:');
    const viaHelp = await cli(['help', command]);
    expect(viaHelp).toEqual(own);
    expect((await cli([command, '-h'])).stdout).toBe(own.stdout);
  });

  it('each command lists its own options', async () => {
    const expected: Record<string, string[]> = {
      write: ['--from SRC', '--allow-empty', '--create-parents', '--mode MODE', '--fdatasync', '--best-effort-dir-sync'],
      append: ['--from SRC', '--lines', '--allow-empty', '--create-parents', '--mode MODE'],
      sync: [],
      power: ['--host HOST', '--port PORT', '--user USER', '--password-file FILE', '--password-env VAR', '--interface IF', '--cipher-suite N', '--timeout SECONDS', '--retries N', '--no-sync'],
      clean: ['--older-than AGE', '--pid-reuse-after AGE', '--dry-run'],
    };
    for (const [command, options] of Object.entries(expected)) {
      const { stdout } = await cli([command, '--help']);
      for (const option of options) expect(stdout, command).toContain(option);
    }
    expect((await cli(['power', '--help'])).stdout).not.toMatch(/--password\b(?!-)/);
  });

  it("--version prints package.json's version; with --json as an object", async () => {
    expect(await cli(['--version'])).toMatchObject({ status: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect(onlyJson((await cli(['--version', '--json'])).stdout)).toEqual({ version: pkg.version });
  });

  it("package.json's bin is dist/cli.js, which keeps its #! line, is executable and runs by itself", async () => {
    expect(pkg.bin).toEqual({ 'durable-write': './dist/cli.js' });
    expect(readFileSync(cliPath, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    accessSync(cliPath, constants.X_OK);
    expect(await run(cliPath, ['--version'])).toMatchObject({ status: 0, stdout: `${pkg.version}\n` });
  });

  it('no command at all: the help on stderr, exit 2', async () => {
    const { status, stdout, stderr } = await cli([]);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Usage: durable-write COMMAND/);
  });
});
