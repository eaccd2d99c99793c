/**
 * `durable-write power VERB --protocol redfish`, the built command against the Redfish test server
 * over HTTPS with a certificate made by openssl: every verb; the flush before `reset`, `cycle`
 * and `off` (under strace: sync(2) has returned before the first connect to the BMC), none with
 * `--no-sync`, and not a byte to the BMC after a failed flush; TLS by `--ca`, `--fingerprint`
 * and `--insecure`; usage errors for options of the other protocol; the password in no output.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { makeCertificate, type Certificate } from '../power/support/certificate.js';
import { DEFAULT_RESET_TYPES, REDFISH_USERS, startRedfishServer, type RedfishServer } from '../power/support/redfish-server.js';
import { cli, onlyJson, straceCli, type CliResult } from './support/cli.js';

const lacking = missing({ tools: ['openssl'] });
const noStrace = missing({ tools: ['openssl', 'strace'] });
const { admin, viewer } = REDFISH_USERS;

describe.skipIf(lacking !== undefined)(`durable-write power --protocol redfish${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  let server: RedfishServer;
  let certificate: Certificate;
  let scratch: string;
  let passwordFile: string;
  const remote = (): string[] => [
    '--protocol', 'redfish', '--host', '127.0.0.1', '--port', String(server.port), '--user', admin.username,
    '--password-file', passwordFile, '--ca', certificate.certPath,
  ];
  const power = (verb: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    cli(['power', verb, ...remote(), ...extra], { env });

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'dw-cli-redfish-'));
    certificate = await makeCertificate(scratch);
    passwordFile = join(scratch, 'bmc.pw');
    await writeFile(passwordFile, `${admin.password}\n`, { mode: 0o600 });
    server = await startRedfishServer({ tls: { key: certificate.key, cert: certificate.cert } });
  });
  afterAll(async () => {
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  });
  afterEach(() => {
    expect(server.sessions().open).toEqual([]);
    server.setOptions({ resetTypes: DEFAULT_RESET_TYPES, stateLagReads: 0, powerStateProperty: true });
    server.setPower('On');
    server.clear();
  });

  it('status prints on, then off', async () => {
    expect(await power('status')).toMatchObject({ status: 0, stdout: 'on\n', stderr: '' });
    server.setPower('Off');
    expect(await power('status')).toMatchObject({ status: 0, stdout: 'off\n', stderr: '' });
  });

  it.each([
    ['reset', 'ForceRestart'],
    ['cycle', 'PowerCycle'],
    ['off', 'ForceOff'],
  ])('%s flushes first, then posts %s', async (verb, resetType) => {
    const result = await power(verb);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^sync\\(\\): done in [\\d.]+ m?s\\npower ${verb}: done in [\\d.]+ m?s\\n$`));
    expect(server.resets.map((r) => r.resetType)).toEqual([resetType]);
  });

  it('on and soft-off do not flush', async () => {
    server.setPower('Off');
    expect((await power('on')).stdout).toMatch(/^power on: done in/);
    expect((await power('soft-off')).stdout).toMatch(/^power soft-off: requested in/);
    expect(server.resets.map((r) => r.resetType)).toEqual(['On', 'GracefulShutdown']);
  });

  it('--json reports the verb, the flush and the time', async () => {
    const result = await power('reset', ['--json']);
    expect(onlyJson(result.stdout)).toMatchObject({ command: 'power', verb: 'reset', ok: true, flushed: { call: 'sync', ok: true } });
  });

  it('a failed flush sends nothing to the BMC; the twin with --no-sync resets', async () => {
    const PATH = await mkdtemp(join(scratch, 'bin-without-sync-'));
    const failed = await power('reset', [], { PATH });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^durable-write power: ENOENT, stage sync: /);
    expect(failed.stderr).toContain('reset NOT sent');
    expect(server.requests).toEqual([]);
    const twin = await power('reset', ['--no-sync'], { PATH });
    expect(twin.status, twin.stderr).toBe(0);
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceRestart']);
  });

  it('--fingerprint and --insecure connect too; without either, the self-signed certificate is refused (exit 1) and nothing sent', async () => {
    const base = ['power', 'status', '--protocol', 'redfish', '--host', '127.0.0.1', '--port', String(server.port), '--user', admin.username, '--password-file', passwordFile];
    expect(await cli([...base, '--fingerprint', certificate.fingerprint256])).toMatchObject({ status: 0, stdout: 'on\n' });
    expect(await cli([...base, '--insecure'])).toMatchObject({ status: 0, stdout: 'on\n' });
    server.clear();
    const refused = await cli(base);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^durable-write power: DEPTH_ZERO_SELF_SIGNED_CERT, failed, stage power: Redfish status/);
    expect(refused.stderr).toMatch(/pass tls\.ca .* or tls\.fingerprint256/);
    expect(server.requests).toEqual([]);
  });

  it('the password comes from REDFISH_PASSWORD when no source is named, and is printed nowhere', async () => {
    const args = ['power', 'reset', '--protocol', 'redfish', '--host', '127.0.0.1', '--port', String(server.port), '--user', admin.username, '--insecure', '--json'];
    const result = await cli(args, { env: { REDFISH_PASSWORD: admin.password } });
    expect(result.status, result.stderr).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toContain(admin.password);
    const wrong = await cli(args, { env: { REDFISH_PASSWORD: 'wrong-pw-0042' } });
    expect(wrong.status).toBe(1);
    expect(onlyJson(wrong.stderr)).toMatchObject({ stage: 'power', reason: 'auth', httpStatus: 401 });
    expect(`${wrong.stdout}${wrong.stderr}`).not.toContain('wrong-pw-0042');
  });

  it('a ReadOnly account: exit 1, reason privilege', async () => {
    const file = join(scratch, 'viewer.pw');
    await writeFile(file, viewer.password, { mode: 0o600 });
    const result = await cli(['power', 'reset', '--no-sync', '--protocol', 'redfish', '--host', '127.0.0.1', '--port', String(server.port), '--user', viewer.username, '--password-file', file, '--insecure']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/privilege, stage power: .*HTTP 403/);
  });

  it("cycle where the BMC lacks PowerCycle: the wait for off is --cycle-off-wait, also with --no-wait; a failure says On was not sent, and --json lists what was", async () => {
    // A wait for off that never ends: the machine went off, the BMC keeps reading On.
    server.setOptions({ resetTypes: ['On', 'ForceOff', 'ForceRestart'], stateLagReads: Infinity });
    const result = await power('cycle', ['--no-sync', '--no-wait', '--cycle-off-wait', '1', '--json']);
    expect(result.status).toBe(1);
    const report = onlyJson(result.stderr);
    expect(report).toMatchObject({ stage: 'power', reason: 'timeout', sent: ['ForceOff'] });
    expect(report['message']).toMatch(/after 1000 ms \(cycleOffTimeoutMs\); ForceOff was accepted; On was not sent: the machine may be off/);
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceOff']);
    expect(server.power()).toBe('Off');
    server.setPower('On');
    const human = await power('cycle', ['--no-sync', '--cycle-off-wait', '1']);
    expect(human.status).toBe(1);
    expect(human.stderr).toMatch(/^durable-write power: ETIMEDOUT, timeout, stage power: .*ForceOff was accepted; On was not sent: the machine may be off/);
  });

  it('a system without PowerState: status exits 1 saying the power state is unknown; reset posts ForceRestart', async () => {
    server.setOptions({ powerStateProperty: false });
    const status = await power('status');
    expect(status.status).toBe(1);
    expect(status.stdout).toBe('');
    expect(status.stderr).toMatch(/unsupported, stage power: .*the power state is unknown: \/redfish\/v1\/Systems\/1 reports no PowerState/);
    expect(status.stderr).not.toMatch(/BMC's message/);
    const reset = await power('reset', ['--no-sync']);
    expect(reset.status, reset.stderr).toBe(0);
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceRestart']);
  });

  it('--no-wait and --wait are taken', async () => {
    server.setPower('Off');
    expect((await power('on', ['--no-wait'])).status).toBe(0);
    expect((await power('off', ['--wait', '5'])).status).toBe(0);
  });

  it.each([
    [['--protocol', 'redfsh'], /unknown protocol 'redfsh' \(did you mean redfish\?\)/],
    [['--protocol', 'redfish', '--user', 'u'], /--protocol redfish needs --host/],
    [['--protocol', 'redfish', '--host', 'bmc'], /--protocol redfish needs --user/],
    [['--protocol', 'redfish', '--host', 'bmc', '--user', 'u', '--cipher-suite', '3'], /--cipher-suite does not apply to --protocol redfish/],
    [['--host', 'bmc', '--ca', '/etc/ca.pem', '--insecure'], /--ca, --insecure do not apply to --protocol ipmi/],
    [['--protocol', 'redfish', '--host', 'bmc', '--user', 'u', '--password-env', 'PATH', '--insecure', '--fingerprint', 'AB'], /give at most one of --ca, --fingerprint and --insecure/],
    [['--protocol', 'redfish', '--host', 'https://bmc', '--user', 'u', '--password-env', 'PATH'], /host must be a bare host name or address/],
    [['--protocol', 'redfish', '--host', 'bmc', '--user', 'u', '--password-env', 'DW_UNSET_PW'], /no password: DW_UNSET_PW is not set/],
    [['--protocol', 'redfish', '--host', 'bmc', '--user', 'u', '--password-env', 'PATH', '--wait', '0'], /--wait must be an integer from 1 to 3600/],
    [['--protocol', 'redfish', '--host', 'bmc', '--user', 'u', '--password-env', 'PATH', '--cycle-off-wait', '0'], /--cycle-off-wait must be an integer from 1 to 3600/],
    [['--host', 'bmc', '--cycle-off-wait', '60'], /--cycle-off-wait does not apply to --protocol ipmi/],
  ])('usage error: %j', async (args, pattern) => {
    const result = await cli(['power', 'status', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(pattern);
  });

  describe.skipIf(noStrace !== undefined)(`under strace${noStrace === undefined ? '' : ` (skipped: ${noStrace})`}`, () => {
    it.each(['reset', 'cycle', 'off'])('%s: sync() has returned 0 before the first connect to the BMC', async (verb) => {
      const result = await straceCli('sync,connect', ['power', verb, ...remote()]);
      expect(result.status, result.stderr).toBe(0);
      const lines = result.trace.split('\n');
      const synced = lines.findIndex((line) => /(^\d+\s+sync\(\)|<\.\.\. sync resumed>.*)\s+= 0$/.test(line));
      const connected = lines.findIndex((line) => line.includes(`sin_port=htons(${server.port})`));
      expect(synced).toBeGreaterThanOrEqual(0);
      expect(connected).toBeGreaterThan(synced);
    });
  });
});
