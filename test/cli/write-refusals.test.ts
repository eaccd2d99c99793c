/**
 * What `durable-write write` refuses to commit (issue 21), the built command in a child process:
 * the output of a COMMAND that failed (`-- jq BAD`, `-- false`, killed, not found), an empty
 * input without `--allow-empty` (a failed producer at the head of a pipe, a closed standard
 * input), and an input that cannot be read (a directory, a write-only descriptor). In every case
 * FILE stays byte-identical and no temp file is left; only the exit status and stderr differ.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { tempDir } from '../support/temp-dir.js';
import { cli, cliPath, onlyJson, run } from './support/cli.js';

const title = (name: string, lacking: string | undefined): string => `${name}${lacking === undefined ? '' : ` (skipped: ${lacking})`}`;

/** The state file of the README's example, and its directory. */
function stateFile(content = '{"generation":7}\n'): { dir: string; file: string; before: Buffer } {
  const dir = realpathSync(tempDir());
  const file = join(dir, 'state.json');
  writeFileSync(file, content);
  return { dir, file, before: readFileSync(file) };
}

/** `sh -c SCRIPT` with `$0` the node binary, `$1` the built command, `$2` FILE: `"$0" "$1" write "$2"` is durable-write write FILE. */
function sh(script: string, file: string, input?: string): ReturnType<typeof run> {
  return run('sh', ['-c', script, process.execPath, cliPath, file], input === undefined ? {} : { input });
}

/** FILE is byte for byte what it was, and the directory holds nothing else (no temp file). */
function expectUntouched({ dir, file, before }: { dir: string; file: string; before: Buffer }): void {
  expect(readFileSync(file).equals(before)).toBe(true);
  expect(readdirSync(dir)).toEqual(['state.json']);
}

const noJq = missing({ tools: ['jq'] });

describe.skipIf(noJq !== undefined)(title('durable-write write FILE -- jq ...: the README recipe', noJq), () => {
  it("commits jq's output once jq exited 0", async () => {
    const { file } = stateFile();
    const result = await cli(['write', file, '--', 'jq', '-c', '.generation += 1', file]);
    expect(result).toMatchObject({ status: 0, stdout: '', stderr: `wrote 17 bytes to ${file} (durable)\n` });
    expect(readFileSync(file, 'utf8')).toBe('{"generation":8}\n');
  });

  it("a filter with a syntax error: jq's exit status, jq's stderr passed through, FILE byte-identical, no temp file", async () => {
    const state = stateFile();
    const jq = spawnSync('jq', ['.generation +=', state.file]);
    expect(jq.status).not.toBe(0);
    const result = await cli(['write', state.file, '--', 'jq', '.generation +=', state.file]);
    expect(result.status).toBe(jq.status);
    expect(result.stderr).toContain(jq.stderr.toString());
    expect(result.stderr).toContain(`durable-write write: ERR_COMMAND_FAILED, stage command, path ${state.file}: jq exited with status ${jq.status}`);
    expectUntouched(state);
  });

  it('a malformed file (jq fails after printing part of its output): FILE byte-identical', async () => {
    const state = stateFile('{"generation":7}\n{"generation":\n');
    const result = await cli(['write', state.file, '--', 'jq', '-c', '.generation += 1', state.file]);
    expect(result.status).toBe(spawnSync('jq', ['-c', '.generation += 1', state.file]).status);
    expect(result.status).not.toBe(0);
    expectUntouched(state);
  });

  it('a filter error in a pipe (`jq BAD FILE | durable-write write FILE`): refused as empty input, exit 1, FILE byte-identical', async () => {
    const state = stateFile();
    const result = await sh(`jq '.generation +=' "$2" | "$0" "$1" write "$2"`, state.file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`refusing to replace ${state.file} with empty input; pass --allow-empty to write an empty file`);
    expectUntouched(state);
  });

  it('twin: the same failing filter written naively (`jq BAD f > f.new; mv f.new f`) empties the file', async () => {
    const { file } = stateFile();
    await run('sh', ['-c', `jq '.generation +=' "$0" > "$0.new"; mv "$0.new" "$0"`, file]);
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

describe('durable-write write FILE -- COMMAND', () => {
  it('`-- false`: exit 1, FILE byte-identical', async () => {
    const state = stateFile();
    const result = await cli(['write', state.file, '--', 'false']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`durable-write write: ERR_COMMAND_FAILED, stage command, path ${state.file}: false exited with status 1; its output was not written and ${state.file} is unchanged\n`);
    expectUntouched(state);
  });

  it("a COMMAND that fails after more output than the first batch (the temp file exists): its status, the temp file removed", async () => {
    const state = stateFile();
    const result = await cli(['write', state.file, '--', 'sh', '-c', 'head -c 300000 /dev/zero; exit 3']);
    expect(result.status).toBe(3);
    expectUntouched(state);
  });

  it('a COMMAND killed by a signal: 128 + its number, FILE byte-identical', async () => {
    const state = stateFile();
    const result = await cli(['write', state.file, '--', 'sh', '-c', 'printf partial; kill -KILL $$']);
    expect(result.status).toBe(137);
    expect(result.stderr).toContain('sh was killed by SIGKILL');
    expectUntouched(state);
  });

  it('a COMMAND that cannot be run: 127 not found, 126 not executable (as shells report them), FILE byte-identical', async () => {
    const state = stateFile();
    const notFound = await cli(['write', state.file, '--', 'durable-write-no-such-program']);
    expect(notFound.status).toBe(127);
    expect(notFound.stderr).toMatch(/^durable-write write: ENOENT, stage command, path \S+: cannot run durable-write-no-such-program/);
    const notExecutable = join(tempDir(), 'data.txt');
    writeFileSync(notExecutable, 'not a program');
    expect((await cli(['write', state.file, '--', notExecutable])).status).toBe(126);
    expectUntouched(state);
  });

  it('an empty output of a COMMAND that exits 0 is refused (exit 1) unless --allow-empty', async () => {
    const state = stateFile();
    const refused = await cli(['write', state.file, '--', 'true']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`refusing to replace ${state.file} with the empty output of true; pass --allow-empty to write an empty file`);
    expectUntouched(state);
    expect((await cli(['write', '--allow-empty', state.file, '--', 'true'])).status).toBe(0);
    expect(readFileSync(state.file, 'utf8')).toBe('');
  });

  it("no shell: the arguments reach COMMAND as they are; its standard input is the command's own", async () => {
    const dir = tempDir();
    const args = await cli(['write', join(dir, 'args'), '--', 'printf', '%s|', 'a b', '$HOME', '--json']);
    expect(args.status).toBe(0);
    expect(readFileSync(join(dir, 'args'), 'utf8')).toBe('a b|$HOME|--json|');
    expect((await cli(['write', join(dir, 'copy'), '--', 'cat'], { input: 'from stdin' })).status).toBe(0);
    expect(readFileSync(join(dir, 'copy'), 'utf8')).toBe('from stdin');
  });

  it('--json: a failed COMMAND is one JSON error on stderr with its stage and code; stdout empty', async () => {
    const state = stateFile();
    const result = await cli(['write', '--json', state.file, '--', 'false']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(onlyJson(result.stderr)).toMatchObject({ code: 'ERR_COMMAND_FAILED', stage: 'command', path: state.file });
  });

  it('the command line: --from with a COMMAND, or a `--` with nothing after it, is a usage error (2); `write -- -odd-name` still names a file', async () => {
    const state = stateFile();
    expect(await cli(['write', '--from', state.file, state.file, '--', 'cat'])).toMatchObject({ status: 2 });
    expect((await cli(['write', state.file, '--'])).stderr).toContain('-- must be followed by COMMAND [ARGS...]');
    const dir = tempDir();
    execFileSync(process.execPath, [cliPath, 'write', '--', '-odd-name', '--', 'printf', 'odd'], { cwd: dir, stdio: 'ignore' });
    execFileSync(process.execPath, [cliPath, 'write', '--', '-plain'], { cwd: dir, input: 'plain', stdio: ['pipe', 'ignore', 'ignore'] });
    expect(readFileSync(join(dir, '-odd-name'), 'utf8')).toBe('odd');
    expect(readFileSync(join(dir, '-plain'), 'utf8')).toBe('plain');
    expectUntouched(state);
  });
});

describe('durable-write write with an empty or unreadable input', () => {
  it('an empty standard input: exit 1 without touching FILE; --allow-empty writes the empty file', async () => {
    const state = stateFile();
    const refused = await cli(['write', state.file], { input: '' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `durable-write write: ERR_EMPTY_INPUT, stage source, path ${state.file}: refusing to replace ${state.file} with empty input; pass --allow-empty to write an empty file\n`,
    );
    expectUntouched(state);
    expect((await cli(['write', '--allow-empty', state.file], { input: '' })).status).toBe(0);
    expect(readFileSync(state.file, 'utf8')).toBe('');
  });

  it('a failed producer in a pipe (`false | durable-write write FILE`): exit 1, FILE byte-identical', async () => {
    const state = stateFile();
    expect((await sh('false | "$0" "$1" write "$2"', state.file)).status).toBe(1);
    expectUntouched(state);
  });

  it('standard input closed (`<&-`): exit 1, FILE byte-identical', async () => {
    const state = stateFile();
    const result = await sh('"$0" "$1" write "$2" <&-', state.file);
    expect(result.status).toBe(1);
    // Node reopens a closed fd 0 on /dev/null before any JavaScript runs: the message says both.
    expect(result.stderr).toContain('standard input is /dev/null, or was closed');
    expectUntouched(state);
  });

  it('a directory as standard input: exit 1 with EISDIR, FILE byte-identical', async () => {
    const state = stateFile();
    const result = await sh('"$0" "$1" write "$2" < "${2%/*}"', state.file);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('durable-write write: EISDIR, stage source: cannot read standard input (EISDIR: it is a directory); nothing was written\n');
    expectUntouched(state);
  });

  it('--from a directory: exit 1 with EISDIR, stage source, FILE byte-identical', async () => {
    const state = stateFile();
    const sub = join(state.dir, 'sub');
    mkdirSync(sub);
    const result = await cli(['write', '--from', sub, state.file]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^durable-write write: EISDIR, stage source, path \S+\/sub: cannot read --from/);
    expect(readFileSync(state.file).equals(state.before)).toBe(true);
    expect(readdirSync(state.dir).sort()).toEqual(['state.json', 'sub']);
  });

  it('a standard input that cannot be read (open write-only: EBADF): exit 1 with the error, FILE byte-identical', async () => {
    const state = stateFile();
    const elsewhere = join(tempDir(), 'write-only');
    writeFileSync(elsewhere, 'x');
    const result = await run('sh', ['-c', '"$0" "$1" write "$2" 0>>"$3"', process.execPath, cliPath, state.file, elsewhere]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^durable-write write: EBADF, /);
    expectUntouched(state);
  });
});
