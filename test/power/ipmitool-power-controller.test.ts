/**
 * IpmitoolPowerController against real ipmitool talking to a real OpenIPMI ipmi_sim on 127.0.0.1;
 * and, with a stand-in ipmitool, the checks of the password source made before ipmitool runs.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IpmitoolPowerController } from '../../src/power/ipmitool.js';
import type { IpmitoolPowerControllerOptions } from '../../src/power/ipmitool.js';
import { isPowerControlError } from '../../src/power/power-controller.js';
import { isDurableWriteError } from '../../src/core/errors.js';
import { missing } from '../support/prerequisites.js';
import { freeUdpPort, SIM_USERS, startIpmiSim } from './support/ipmi-sim.js';
import { rejection } from './support/rejection.js';
import type { IpmiSim } from './support/ipmi-sim.js';

const skip = missing({ tools: ['ipmitool', 'ipmi_sim'] });
const { admin, viewer } = SIM_USERS;

/** Pids of running ipmitool processes whose argv contains `needle`. */
async function ipmitoolProcessesWith(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const parts = argv.split('\0');
    if (parts[0]?.endsWith('ipmitool') === true && parts.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

describe.skipIf(skip !== undefined)('IpmitoolPowerController with ipmi_sim' + (skip ? ` (skipped: ${skip})` : ''), () => {
  let sim: IpmiSim;
  let scratch: string;
  const remote = (extra: IpmitoolPowerControllerOptions = {}): IpmitoolPowerController =>
    new IpmitoolPowerController({ host: '127.0.0.1', port: sim.port, username: admin.username, password: admin.password, ...extra });

  beforeAll(async () => {
    sim = await startIpmiSim();
    scratch = await mkdtemp(join(tmpdir(), 'dw-ipmitool-'));
  });
  afterAll(async () => {
    await sim.stop();
    await rm(scratch, { recursive: true, force: true });
  });
  afterEach(async () => {
    await sim.setPower('on');
  });

  describe('every verb reads or changes the simulated power state', () => {
    it('status reads on and off', async () => {
      const power = remote();
      expect(await power.status()).toBe('on');
      await sim.setPower('off');
      expect(await power.status()).toBe('off');
    });

    it('off then on', async () => {
      const power = remote();
      await power.off();
      expect(await sim.power()).toBe('off');
      expect(await power.status()).toBe('off');
      await power.on();
      expect(await sim.power()).toBe('on');
      expect((await sim.calls()).slice(-3)).toEqual(['set power 0', 'get power', 'set power 1']);
    });

    it('on is idempotent when on, off when off', async () => {
      const power = remote();
      await power.on();
      await power.on();
      expect(await sim.power()).toBe('on');
      await power.off();
      await power.off();
      expect(await sim.power()).toBe('off');
    });

    it('cycle cuts power, and the sim powers back on a second later', async () => {
      const before = (await sim.calls()).length;
      await remote().cycle();
      expect((await sim.calls()).slice(before)).toContain('set power 0');
      // Wait for the power-on half, so it cannot land in a later test.
      const deadline = Date.now() + 15_000;
      while (!(await sim.calls()).slice(before).includes('set power 1')) {
        if (Date.now() > deadline) throw new Error(`no power-on after cycle: ${(await sim.calls()).slice(before).join(', ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await sim.calls()).slice(before).filter((c) => c.startsWith('set'))).toEqual(['set power 0', 'set power 1']);
      expect(await sim.power()).toBe('on');
    });

    it('reset sends a hard reset', async () => {
      const before = (await sim.calls()).length;
      await remote().reset();
      expect((await sim.calls()).slice(before)).toEqual(['set reset 1']);
      expect(await sim.power()).toBe('on');
    });

    it('softOff sends the ACPI soft shutdown', async () => {
      const before = (await sim.calls()).length;
      const power = remote();
      await power.softOff();
      expect((await sim.calls()).slice(before)).toEqual(['set shutdown 1']);
      expect(await power.status()).toBe('off');
    });

    it("works over IPMI 1.5 'lan' too", async () => {
      await sim.setPower('off');
      expect(await remote({ interface: 'lan' }).status()).toBe('off');
    });
  });

  describe('passwords', () => {
    it('passwordFile (-f) and passwordEnv (-E) authenticate', async () => {
      const file = join(scratch, 'bmc.pw');
      await writeFile(file, `${admin.password}\n`, { mode: 0o600 });
      const base = { host: '127.0.0.1', port: sim.port, username: admin.username };
      expect(await new IpmitoolPowerController({ ...base, passwordFile: file }).status()).toBe('on');
      process.env['DW_TEST_BMC_PASSWORD'] = admin.password;
      try {
        expect(await new IpmitoolPowerController({ ...base, passwordEnv: 'DW_TEST_BMC_PASSWORD' }).status()).toBe('on');
      } finally {
        delete process.env['DW_TEST_BMC_PASSWORD'];
      }
    });

    it("never puts the password on ipmitool's argv, and an inherited IPMITOOL_PASSWORD does not override it", async () => {
      // A wrapper records ipmitool's argv and environment, then runs the real ipmitool.
      const wrapper = join(scratch, 'record-ipmitool');
      await writeFile(
        wrapper,
        `#!/bin/sh\nprintf '%s\\n' "$@" > "${scratch}/argv.txt"\nenv > "${scratch}/env.txt"\nexec ipmitool "$@"\n`,
      );
      await chmod(wrapper, 0o755);
      process.env['IPMITOOL_PASSWORD'] = 'inherited-wrong';
      try {
        // Success proves the right password reached ipmitool despite IPMITOOL_PASSWORD.
        expect(await remote({ ipmitoolPath: wrapper }).status()).toBe('on');
      } finally {
        delete process.env['IPMITOOL_PASSWORD'];
      }
      const argv = await readFile(join(scratch, 'argv.txt'), 'utf8');
      const env = await readFile(join(scratch, 'env.txt'), 'utf8');
      expect(argv).not.toContain(admin.password);
      expect(argv.split('\n')).toContain('-E');
      expect(argv.split('\n')).not.toContain('-P');
      expect(env).toContain(`IPMI_PASSWORD=${admin.password}`);
      expect(env).not.toContain('IPMITOOL_PASSWORD');
    });

    it('twin: with IPMITOOL_PASSWORD inherited, a naive -E uses it and fails', async () => {
      const run = promisify(execFile);
      const err: unknown = await run(
        'ipmitool',
        ['-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', String(sim.port), '-U', admin.username, '-E', 'chassis', 'power', 'status'],
        { env: { ...process.env, IPMI_PASSWORD: admin.password, IPMITOOL_PASSWORD: 'inherited-wrong' } },
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 1 });
    });

    it('wrong password: reason auth, and the password is in no part of the error', async () => {
      const password = 'Wr0ng-But-Secret';
      const err = await rejection(remote({ password }).off());
      expect(err.reason).toBe('auth');
      expect(err.exitCode).toBe(1);
      expect(err.stage).toBe('power');
      expect(err.verb).toBe('off');
      expect(err.stderr).toMatch(/RAKP 2 HMAC is invalid/);
      expect(err.message).toMatch(/auth/);
      expect(isDurableWriteError(err)).toBe(true);
      const everything = [err.message, err.stderr, err.stack ?? '', JSON.stringify(err), String(err.cause)].join('\n');
      expect(everything).not.toContain(password);
      expect(await sim.power()).toBe('on');
    });

    it('a passwordFile that does not exist: reason auth at once, not ipmitool\'s "unreachable" after its retries', async () => {
      // Real ipmitool with a missing -f file prompts on the (ignored) stdin, goes on without a
      // password, and on a port where nothing answers reports Get Auth Capabilities error.
      const port = await freeUdpPort();
      const file = join(scratch, 'no-such.pw');
      const started = Date.now();
      const err = await rejection(remote({ port, password: undefined, passwordFile: file, timeoutSeconds: 1, retries: 1 }).status());
      expect(err.reason).toBe('auth');
      expect(err.code).toBe('ENOENT');
      expect(err.message).toContain(file);
      expect(err.stderr).toBe('');
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('wrong user: reason auth', async () => {
      const err = await rejection(remote({ username: 'nobody' }).status());
      expect(err.reason).toBe('auth');
      expect(err.stderr).toMatch(/unauthorized name/);
    });

    it('redacts the password from a stderr that echoes it', async () => {
      const leaky = join(scratch, 'leaky-ipmitool');
      await writeFile(leaky, '#!/bin/sh\necho "debug: password is $IPMI_PASSWORD" >&2\nexit 1\n');
      await chmod(leaky, 0o755);
      const err = await rejection(remote({ ipmitoolPath: leaky }).reset());
      expect(err.reason).toBe('failed');
      expect(err.stderr).toBe('debug: password is ***\n');
      expect(err.message).not.toContain(admin.password);
      expect(err.message).toContain('***');
    });
  });

  describe('failures', () => {
    it('privilege: a user-level session may not change power', async () => {
      const power = remote({ username: viewer.username, password: viewer.password, privilegeLevel: 'user' });
      expect(await power.status()).toBe('on');
      const err = await rejection(power.off());
      expect(err.reason).toBe('privilege');
      expect(await sim.power()).toBe('on');
    });

    it('unreachable within a few seconds with timeoutSeconds 1, retries 1', async () => {
      const port = await freeUdpPort();
      const started = Date.now();
      const err = await rejection(remote({ port, timeoutSeconds: 1, retries: 1 }).status());
      expect(err.reason).toBe('unreachable');
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('timeout: the overall deadline kills ipmitool', async () => {
      const port = await freeUdpPort();
      const started = Date.now();
      const err = await rejection(remote({ port, deadlineMs: 300 }).reset());
      expect(err.reason).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(await ipmitoolProcessesWith(String(port))).toEqual([]);
    });

    it('an abort mid-call kills the child', async () => {
      const port = await freeUdpPort();
      const controller = new AbortController();
      const call = remote({ port }).off({ signal: controller.signal });
      // Wait until ipmitool runs, then abort.
      const deadline = Date.now() + 3000;
      while ((await ipmitoolProcessesWith(String(port))).length === 0) {
        if (Date.now() > deadline) throw new Error('ipmitool never started');
        await new Promise((r) => setTimeout(r, 10));
      }
      controller.abort(new Error('operator cancelled'));
      const started = Date.now();
      const err = await rejection(call);
      expect(err.reason).toBe('aborted');
      expect(err.code).toBe('ABORT_ERR');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await ipmitoolProcessesWith(String(port))).toEqual([]);
    });

    it('an already-aborted signal runs nothing', async () => {
      const before = (await sim.calls()).length;
      const err = await rejection(remote().off({ signal: AbortSignal.abort() }));
      expect(err.reason).toBe('aborted');
      expect((await sim.calls()).length).toBe(before);
    });

    it('not-installed: ipmitool missing', async () => {
      const err = await rejection(remote({ ipmitoolPath: join(scratch, 'no', 'ipmitool') }).status());
      expect(err.reason).toBe('not-installed');
      expect(err.code).toBe('ENOENT');
      expect(err.message).toContain('ipmitool');
      const bare = await rejection(remote({ ipmitoolPath: 'durable-write-no-such-ipmitool' }).status());
      expect(bare.reason).toBe('not-installed');
    });

    it('stdin is ignored: a child reading stdin gets EOF instead of hanging', async () => {
      const reader = join(scratch, 'stdin-reading-ipmitool');
      await writeFile(reader, '#!/bin/sh\ncat > /dev/null\nexec ipmitool "$@"\n');
      await chmod(reader, 0o755);
      expect(await remote({ ipmitoolPath: reader, deadlineMs: 3000 }).status()).toBe('on');
    });
  });

  describe('a BMC without chassis control', () => {
    let bare: IpmiSim;
    beforeAll(async () => {
      bare = await startIpmiSim({ chassisControl: false });
    });
    afterAll(async () => {
      await bare.stop();
    });
    const bareController = (): IpmitoolPowerController =>
      new IpmitoolPowerController({ host: '127.0.0.1', port: bare.port, username: admin.username, password: admin.password });

    it('rejects a verb it cannot do with reason unsupported', async () => {
      const err = await rejection(bareController().reset());
      expect(err.reason).toBe('unsupported');
      expect(err.stderr).toMatch(/Invalid data field in request/);
    });

    it('off() still resolves when the BMC refuses it but reports the machine off', async () => {
      await expect(bareController().off()).resolves.toBeUndefined();
      const err = await rejection(bareController().on());
      expect(err.reason).toBe('unsupported');
    });
  });
});

describe('with a stand-in ipmitool (no BMC)', () => {
  const VARIABLE = 'DW_TEST_PASSWORD_SOURCE';
  /** The largest delay a Node timer honours, written out so that the test does not trust the library's constant. */
  const TIMER_LIMIT = 2 ** 31 - 1;

  let scratch: string;
  let marker: string;
  let fakeIpmitool: string;
  let slowIpmitool: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'dw-stand-in-ipmitool-'));
    marker = join(scratch, 'ran');
    fakeIpmitool = join(scratch, 'fake-ipmitool');
    // Records that it ran, its argv and whether it got IPMI_PASSWORD, then reports the power on.
    await writeFile(
      fakeIpmitool,
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${marker}'\n[ "\${IPMI_PASSWORD+set}" = set ] && echo "IPMI_PASSWORD=[$IPMI_PASSWORD]" >> '${marker}'\necho 'Chassis Power is on'\n`,
    );
    slowIpmitool = join(scratch, 'slow-ipmitool');
    await writeFile(slowIpmitool, `#!/bin/sh\nsleep 0.3\nexec '${fakeIpmitool}' "$@"\n`);
    await Promise.all([chmod(fakeIpmitool, 0o755), chmod(slowIpmitool, 0o755)]);
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });
  afterEach(async () => {
    delete process.env[VARIABLE];
    await rm(marker, { force: true });
  });

  const controller = (extra: IpmitoolPowerControllerOptions): IpmitoolPowerController =>
    new IpmitoolPowerController({ host: '127.0.0.1', username: 'admin', ipmitoolPath: fakeIpmitool, ...extra });

  async function ran(): Promise<boolean> {
    return stat(marker).then(
      () => true,
      () => false,
    );
  }

  describe('deadlineMs and the timer limit (2^31-1 ms; a longer Node timer fires after 1 ms)', () => {
    it('2^31-1 ms is accepted and does not fire early: a 300 ms run resolves', async () => {
      const started = Date.now();
      expect(await controller({ ipmitoolPath: slowIpmitool, deadlineMs: TIMER_LIMIT }).status()).toBe('on');
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });

    it.each([
      ['2^31', 2 ** 31, 'number 2147483648'],
      ['1e12', 1e12, 'number 1000000000000'],
      ['Infinity', Number.POSITIVE_INFINITY, 'number Infinity'],
    ])('%s is rejected with a TypeError naming the limit, before anything runs', async (_name, deadlineMs, received) => {
      let error: unknown;
      try {
        await controller({ deadlineMs }).reset();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(TypeError);
      expect(isPowerControlError(error)).toBe(false);
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      expect((error as Error).message).toBe(
        "IpmitoolPowerController: deadlineMs must be a positive number of milliseconds up to 2147483647 (Node's timer limit, about 24.8 days); " +
          `received ${received}`,
      );
      expect(await ran()).toBe(false);
    });
  });

  describe('the password source, checked before ipmitool runs', () => {
    describe('passwordEnv', () => {
      it('naming a variable that is not set: reason auth, saying so, and ipmitool is not run', async () => {
        delete process.env[VARIABLE];
        const err = await rejection(controller({ passwordEnv: VARIABLE }).reset());
        expect(err).toMatchObject({ reason: 'auth', verb: 'reset', stage: 'power', exitCode: undefined, stderr: '' });
        expect(err.message).toContain(VARIABLE);
        expect(err.message).toContain("not set in this process's environment");
        expect(await ran()).toBe(false);
      });

      it('on() and off() do not turn it into a status call: still auth, still nothing run', async () => {
        const err = await rejection(controller({ passwordEnv: VARIABLE }).off());
        expect(err).toMatchObject({ reason: 'auth', verb: 'off' });
        expect(await ran()).toBe(false);
      });

      it('is read at each call: set after the constructor, it is used; its value is in no message', async () => {
        const power = controller({ passwordEnv: VARIABLE });
        const unset = await rejection(power.status());
        process.env[VARIABLE] = 'Value-Of-The-Variable';
        expect(await power.status()).toBe('on');
        expect(await readFile(marker, 'utf8')).toContain('IPMI_PASSWORD=[Value-Of-The-Variable]');
        expect(unset.message).not.toContain('Value-Of-The-Variable');
      });

      it('set to the empty string passes through as an empty password (IPMI allows one)', async () => {
        process.env[VARIABLE] = '';
        expect(await controller({ passwordEnv: VARIABLE }).status()).toBe('on');
        const record = (await readFile(marker, 'utf8')).split('\n');
        expect(record).toContain('-E');
        expect(record).toContain('IPMI_PASSWORD=[]');
      });
    });

    describe('passwordFile', () => {
      it('that does not exist: reason auth, code ENOENT, the file named, the fs error as cause; ipmitool is not run', async () => {
        const file = join(scratch, 'missing.pw');
        const err = await rejection(controller({ passwordFile: file }).reset());
        expect(err).toMatchObject({ reason: 'auth', verb: 'reset', code: 'ENOENT', exitCode: undefined, stderr: '' });
        expect(err.message).toContain(file);
        expect(err.cause).toBeInstanceOf(Error);
        expect(err.cause).toMatchObject({ code: 'ENOENT', path: file });
        expect(await ran()).toBe(false);
      });

      it('below a regular file: code ENOTDIR; ipmitool is not run', async () => {
        const parent = join(scratch, 'plain');
        await writeFile(parent, 'not a directory');
        const err = await rejection(controller({ passwordFile: join(parent, 'bmc.pw') }).status());
        expect(err).toMatchObject({ reason: 'auth', code: 'ENOTDIR' });
        expect(await ran()).toBe(false);
      });

      it('readable: ipmitool runs with -f FILE', async () => {
        const file = join(scratch, 'bmc.pw');
        await writeFile(file, 'Content-Of-The-File\n', { mode: 0o600 });
        expect(await controller({ passwordFile: file }).status()).toBe('on');
        const record = await readFile(marker, 'utf8');
        expect(record.split('\n')).toEqual(expect.arrayContaining(['-f', file]));
        expect(record).not.toContain('Content-Of-The-File');
      });

      it('is never opened by this process: a FIFO nobody writes to does not block the call', async () => {
        const fifo = join(scratch, 'bmc.fifo');
        expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
        expect(await controller({ passwordFile: fifo }).status()).toBe('on');
      });
    });
  });
});
