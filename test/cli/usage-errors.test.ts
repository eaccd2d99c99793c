/** Usage errors exit 2 and name the closest valid spelling; nothing is written, flushed or run. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { cli } from './support/cli.js';

describe('usage errors: exit 2 with the closest valid spelling', () => {
  it.each([
    [['wirte', 'f'], "unknown command 'wirte' (did you mean write?)"],
    [['snyc'], "unknown command 'snyc' (did you mean sync?)"],
    [['--verison'], 'unknown option --verison (did you mean --version?)'],
    [['write', '--mdoe', '640', 'f'], 'unknown option --mdoe (did you mean --mode?)'],
    [['write', '--create-parent', 'f'], 'unknown option --create-parent (did you mean --create-parents?)'],
    [['clean', '--dryrun', 'd'], 'unknown option --dryrun (did you mean --dry-run?)'],
    [['power', 'status', '--hots', 'bmc'], 'unknown option --hots (did you mean --host?)'],
    [['write', '--mode', '999', 'f'], "--mode must be an octal mode such as 640 or 0644; received '999'"],
    [['write', '--mode', 'rw-r-----', 'f'], "--mode must be an octal mode such as 640 or 0644; received 'rw-r-----'"],
    [['write', 'f', '--mode'], '--mode needs a value: --mode MODE'],
    [['write', '--json=yes', 'f'], '--json takes no value'],
    [['write'], 'missing FILE'],
    [['write', 'a', 'b'], "unexpected argument 'b'"],
    [['clean'], 'missing DIR'],
    [['clean', '--older-than', '5x', 'd'], "--older-than must be a duration such as 15m, 90s, 2h, 1d, 500ms, or milliseconds; received '5x'"],
    [['power'], 'missing VERB'],
    [['power', 'rest'], "unknown power verb 'rest' (did you mean reset?)"],
    [['power', 'status', '--host', 'bmc', '--port', '70000'], "--port must be an integer from 1 to 65535; received '70000'"],
    [['power', 'status', '--user', 'admin'], '--user need --host'],
    [['power', 'status', '--host', 'bmc', '--password-file', 'f', '--password-env', 'V'], 'give --password-file or --password-env, not both'],
    [['power', 'status', '--host', 'bmc', '--interface', 'lanplsu', '--password-env', 'HOME'], "unknown interface 'lanplsu' (did you mean lanplus?)"],
    [['power', 'status', '--host', '-oProxyCommand=x', '--password-env', 'HOME'], '--host needs a value: --host HOST'],
    [['power', 'status', '--host=-oProxyCommand=x', '--password-env', 'HOME'], "host must not start with '-'"],
    [['write', ''], 'writeDurable: path must not be empty'],
    [['clean', ''], 'removeStaleTemps: dir must not be empty'],
    [['sync', '/', ''], 'PATH must not be empty'],
  ])('%j', async (args, message) => {
    const { status, stdout, stderr } = await cli(args);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).toMatch(/Try 'durable-write( \w+)? --help'\.\n$/);
  });

  it('--password is refused with the reason, and its value is never repeated', async () => {
    for (const args of [['--password', 'hunter2-secret'], ['--password=hunter2-secret']]) {
      const { status, stderr } = await cli(['power', 'status', '--host', 'bmc', ...args]);
      expect(status).toBe(2);
      expect(stderr).toContain('there is no --password option: a password on a command line is visible to every user');
      expect(stderr).not.toContain('hunter2');
    }
  });

  it('a remote BMC without a password source: IPMI_PASSWORD (the default) is not set', async () => {
    const { status, stderr } = await cli(['power', 'status', '--host', 'bmc'], { env: { IPMI_PASSWORD: undefined } });
    expect(status).toBe(2);
    expect(stderr).toContain('no password: IPMI_PASSWORD is not set');
    const named = await cli(['power', 'status', '--host', 'bmc', '--password-env', 'DW_TEST_UNSET_VARIABLE']);
    expect(named.stderr).toContain('no password: DW_TEST_UNSET_VARIABLE is not set');
  });

  it('with --json the usage error is one JSON object on stderr, stdout empty', async () => {
    const { status, stdout, stderr } = await cli(['write', '--json', '--mdoe', '640', 'f']);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr)).toEqual({ code: 'ERR_USAGE', stage: 'usage', path: null, message: 'unknown option --mdoe (did you mean --mode?)' });
  });

  it('a usage error touches nothing: the target of a bad write is not created', async () => {
    const target = join(tempDir(), 'state');
    expect((await cli(['write', '--mode', '8', target], { input: 'data' })).status).toBe(2);
    expect(existsSync(target)).toBe(false);
  });

  it('twin: the same command lines spelt right are accepted', async () => {
    const target = join(tempDir(), 'state');
    expect((await cli(['write', '--mode', '640', target], { input: 'data' })).status).toBe(0);
    expect(existsSync(target)).toBe(true);
  });
});
