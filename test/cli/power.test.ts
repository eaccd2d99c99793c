/**
 * `durable-write power VERB`, the built command against real ipmitool and a real OpenIPMI
 * ipmi_sim on 127.0.0.1: every verb, with `--password-file` and with `--password-env`; the flush
 * before `reset`, `cycle` and `off` (under strace: sync(2) returns before ipmitool is executed),
 * none with `--no-sync`, and no power action after a failed flush; the password in no child's
 * argv and in no output.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { SIM_USERS, startIpmiSim, type IpmiSim } from '../power/support/ipmi-sim.js';
import { cli, onlyJson, straceCli, type CliOptions, type CliResult } from './support/cli.js';

const lacking = missing({ tools: ['ipmitool', 'ipmi_sim'] });
const noStrace = missing({ tools: ['strace', 'ipmitool', 'ipmi_sim'] });
const { admin } = SIM_USERS;
const VERBS = ['status', 'on', 'off', 'cycle', 'reset', 'soft-off'] as const;
const FLUSHING = ['off', 'cycle', 'reset'];

/** The index of the first line of `trace` matching `pattern`, or -1. */
function lineOf(trace: string, pattern: RegExp): number {
  return trace.split('\n').findIndex((line) => pattern.test(line));
}

describe.skipIf(lacking !== undefined)(`durable-write power with ipmi_sim${lacking === undefined ? '' : ` (skipped: ${lacking})`}`, () => {
  let sim: IpmiSim;
  let scratch: string;
  let passwordFile: string;
  const remote = (): string[] => ['--host', '127.0.0.1', '--port', String(sim.port), '--user', admin.username];
  /** The two ways of giving the password, each as options and environment. */
  const sources = (): Record<'password-file' | 'password-env', { args: string[]; options: CliOptions }> => ({
    'password-file': { args: [...remote(), '--password-file', passwordFile], options: {} },
    'password-env': { args: [...remote(), '--password-env', 'DW_BMC_PW'], options: { env: { DW_BMC_PW: admin.password } } },
  });
  const power = (verb: string, source: 'password-file' | 'password-env', extra: string[] = []): Promise<CliResult> => {
    const { args, options } = sources()[source];
    return cli(['power', verb, ...args, ...extra], options);
  };

  beforeAll(async () => {
    sim = await startIpmiSim();
    scratch = await mkdtemp(join(tmpdir(), 'dw-cli-power-'));
    passwordFile = join(scratch, 'bmc.pw');
    await writeFile(passwordFile, `${admin.password}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await sim.stop();
    await rm(scratch, { recursive: true, force: true });
  });
  afterEach(async () => {
    await sim.setPower('on');
  });

  /** Waits for the sim's power-on half of a cycle, so that it cannot land in a later test. */
  async function untilPowerOn(before: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await sim.calls()).slice(before).includes('set power 1')) {
      if (Date.now() > deadline) throw new Error(`no power-on after cycle: ${(await sim.calls()).slice(before).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  describe.each(['password-file', 'password-env'] as const)('with --%s', (source) => {
    it('status prints on, then off', async () => {
      expect(await power('status', source)).toMatchObject({ status: 0, stdout: 'on\n', stderr: '' });
      await sim.setPower('off');
      expect(await power('status', source)).toMatchObject({ status: 0, stdout: 'off\n', stderr: '' });
    });

    it('off flushes first, then cuts the power; on powers it back without a flush', async () => {
      const off = await power('off', source);
      expect(off.status).toBe(0);
      expect(off.stdout).toMatch(/^sync\(\): done in [\d.]+ m?s\npower off: done in [\d.]+ m?s\n$/);
      expect(await sim.power()).toBe('off');
      const on = await power('on', source);
      expect(on.status).toBe(0);
      expect(on.stdout).toMatch(/^power on: done in [\d.]+ m?s\n$/);
      expect(await sim.power()).toBe('on');
    });

    it('reset flushes first, then sends the hard reset', async () => {
      const before = (await sim.calls()).length;
      const result = await power('reset', source);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^sync\(\): done in [\d.]+ m?s\npower reset: done in [\d.]+ m?s\n$/);
      expect((await sim.calls()).slice(before)).toEqual(['set reset 1']);
    });

    it('cycle flushes first, then power goes off and on again', async () => {
      const before = (await sim.calls()).length;
      const result = await power('cycle', source);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^sync\(\): done in .*\npower cycle: done in /);
      await untilPowerOn(before);
      expect((await sim.calls()).slice(before).filter((call) => call.startsWith('set'))).toEqual(['set power 0', 'set power 1']);
    });

    it('soft-off requests the ACPI shutdown without a flush (the OS flushes as it shuts down)', async () => {
      const before = (await sim.calls()).length;
      const result = await power('soft-off', source);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^power soft-off: requested in [\d.]+ m?s \(the OS shuts down/);
      expect((await sim.calls()).slice(before)).toEqual(['set shutdown 1']);
    });

    it('the password is in no output of any verb', async () => {
      for (const verb of VERBS) {
        const before = (await sim.calls()).length;
        const result = await power(verb, source, ['--json']);
        expect(result.status, `${verb}: ${result.stderr}`).toBe(0);
        expect(`${result.stdout}${result.stderr}`).not.toContain(admin.password);
        if (verb === 'cycle') await untilPowerOn(before);
        await sim.setPower('on');
      }
    });
  });

  it('without --password-env or --password-file, the password comes from IPMI_PASSWORD, as ipmitool -E reads it', async () => {
    const result = await cli(['power', 'status', ...remote()], { env: { IPMI_PASSWORD: admin.password } });
    expect(result).toMatchObject({ status: 0, stdout: 'on\n' });
  });

  it('--json status: one object on stdout with the state, nothing else', async () => {
    const result = await power('status', 'password-file', ['--json']);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(onlyJson(result.stdout)).toEqual({ command: 'power', verb: 'status', ok: true, state: 'on', flushed: null, ms: expect.any(Number) });
  });

  it('--json reset reports the flush before it', async () => {
    const result = await power('reset', 'password-file', ['--json']);
    expect(onlyJson(result.stdout)).toMatchObject({ verb: 'reset', ok: true, flushed: { call: 'sync', path: null, ok: true } });
  });

  it('a wrong password: exit 1, reason auth, stage power; the wrong password is not printed either', async () => {
    const result = await cli(['power', 'status', ...remote(), '--password-env', 'DW_BMC_PW'], { env: { DW_BMC_PW: 'wrong-pw-0042' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^durable-write power: auth, stage power: ipmitool chassis power status/);
    expect(result.stderr).not.toContain('wrong-pw-0042');
    const json = await cli(['power', 'status', '--json', ...remote(), '--password-env', 'DW_BMC_PW'], { env: { DW_BMC_PW: 'wrong-pw-0042' } });
    expect(onlyJson(json.stderr)).toMatchObject({ code: null, stage: 'power', path: null, reason: 'auth' });
    expect(json.stdout).toBe('');
  });

  it('an unreadable --password-file: exit 1 with ENOENT and reason auth, and ipmitool never runs', async () => {
    const before = (await sim.calls()).length;
    const result = await cli(['power', 'status', ...remote(), '--password-file', join(scratch, 'nope')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^durable-write power: ENOENT, auth, stage power: /);
    expect((await sim.calls()).length).toBe(before);
  });

  describe('a failed flush stops the power action', () => {
    /** A PATH with ipmitool and no `sync` program: syncAll() fails with ENOENT. */
    async function pathWithoutSync(): Promise<string> {
      const bin = await mkdtemp(join(scratch, 'bin-without-sync-'));
      await symlink(execFileSync('sh', ['-c', 'command -v ipmitool'], { encoding: 'utf8' }).trim(), join(bin, 'ipmitool'));
      return bin;
    }

    it('reset after a failed sync is never sent: exit 1, the flush error on stderr, the BMC untouched', async () => {
      const PATH = await pathWithoutSync();
      const before = (await sim.calls()).length;
      const result = await cli(['power', 'reset', ...remote(), '--password-file', passwordFile], { env: { PATH } });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^durable-write power: ENOENT, stage sync: /);
      expect(result.stderr).toContain('reset NOT sent');
      expect((await sim.calls()).slice(before)).toEqual([]);
    });

    it('twin: with --no-sync the same PATH resets (nothing to fail), so the flush is what stopped it', async () => {
      const PATH = await pathWithoutSync();
      const before = (await sim.calls()).length;
      const result = await cli(['power', 'reset', '--no-sync', ...remote(), '--password-file', passwordFile], { env: { PATH } });
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^power reset: done in/);
      expect((await sim.calls()).slice(before)).toEqual(['set reset 1']);
    });
  });

  describe.skipIf(noStrace !== undefined)(`under strace${noStrace === undefined ? '' : ` (skipped: ${noStrace})`}`, () => {
    it.each(FLUSHING)('%s: sync() has returned 0 before ipmitool is executed', async (verb) => {
      const before = (await sim.calls()).length;
      const result = await straceCli('sync,execve', ['power', verb, ...remote(), '--password-file', passwordFile]);
      expect(result.status, result.stderr).toBe(0);
      const synced = lineOf(result.trace, /(^\d+\s+sync\(\)|<\.\.\. sync resumed>.*)\s+= 0$/);
      // The first attempt to execute ipmitool (the spawn tries each PATH entry), however it ends.
      const ipmitool = lineOf(result.trace, /execve\("[^"]*\/ipmitool", /);
      expect(synced).toBeGreaterThanOrEqual(0);
      expect(ipmitool).toBeGreaterThan(synced);
      if (verb === 'cycle') await untilPowerOn(before);
    });

    it('--no-sync: no sync(), no sync program, straight to ipmitool', async () => {
      const result = await straceCli('sync,execve', ['power', 'reset', '--no-sync', ...remote(), '--password-file', passwordFile]);
      expect(result.status).toBe(0);
      expect(result.trace).not.toMatch(/sync\(\)/);
      expect(result.trace).not.toMatch(/execve\("[^"]*\/sync"/);
      expect(result.trace).toMatch(/execve\("[^"]*\/ipmitool", .*= 0$/m);
    });

    it.each(['password-file', 'password-env'] as const)('--%s: the password is in no argv of any process (execve), for every verb', async (source) => {
      for (const verb of VERBS) {
        const before = (await sim.calls()).length;
        const { args, options } = sources()[source];
        const result = await straceCli('execve', ['power', verb, ...args], options);
        expect(result.status, `${verb}: ${result.stderr}`).toBe(0);
        const execs = result.trace.split('\n').filter((line) => line.includes('execve('));
        expect(execs.some((line) => /\/ipmitool", \[.*"(-f|-E)"/.test(line))).toBe(true);
        for (const line of execs) expect(line).not.toContain(admin.password);
        if (verb === 'cycle') await untilPowerOn(before);
        await sim.setPower('on');
      }
    });
  });
});
