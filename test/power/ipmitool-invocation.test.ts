/**
 * The pure half of IpmitoolPowerController: validation, argv/env construction (the in-band argv
 * in particular, which the power-loss harness runs for real inside a VM) and failure
 * classification from ipmitool's recorded stderr.
 */
import { describe, expect, it } from 'vitest';
import { IpmitoolPowerController } from '../../src/power/ipmitool.js';
import type { IpmitoolPowerControllerOptions } from '../../src/power/ipmitool.js';
import {
  buildIpmitoolInvocation,
  classifyIpmitoolFailure,
  passwordSourceMessage,
  resolveIpmitoolOptions,
} from '../../src/power/ipmitool-invocation.js';
import { redact } from '../../src/power/redact.js';
import { MAX_TIMER_MS } from '../../src/core/arguments.js';

const parentEnv = { PATH: '/usr/bin:/bin', IPMITOOL_PASSWORD: 'inherited', IPMI_PASSWORD: 'inherited2', HOME: '/root' };

describe('in-band argv', () => {
  it.each([
    ['reset', 'reset'],
    ['status', 'status'],
    ['on', 'on'],
    ['off', 'off'],
    ['cycle', 'cycle'],
    ['softOff', 'soft'],
  ] as const)('%s is exactly ipmitool -I open chassis power %s', (verb, word) => {
    const inv = buildIpmitoolInvocation(resolveIpmitoolOptions({}), verb, parentEnv);
    expect(inv.file).toBe('ipmitool');
    expect(inv.args).toEqual(['-I', 'open', 'chassis', 'power', word]);
  });

  it("defaults to 'open' without a host; no -H, -U, -E, and no password variables in the env", () => {
    const resolved = resolveIpmitoolOptions({ interface: 'open', ipmitoolPath: '/usr/sbin/ipmitool' });
    expect(resolved.interface).toBe('open');
    const inv = buildIpmitoolInvocation(resolved, 'reset', parentEnv);
    expect(inv.file).toBe('/usr/sbin/ipmitool');
    expect(inv.args).toEqual(['-I', 'open', 'chassis', 'power', 'reset']);
    expect(inv.env).toEqual({ PATH: '/usr/bin:/bin', HOME: '/root' });
    expect(inv.secrets).toEqual([]);
  });
});

describe('remote argv', () => {
  it('lanplus by default with a host, -C 3, password through -E and IPMI_PASSWORD only', () => {
    const inv = buildIpmitoolInvocation(
      resolveIpmitoolOptions({ host: 'bmc.example', username: 'admin', password: 'pw' }),
      'off',
      parentEnv,
    );
    expect(inv.args).toEqual(['-I', 'lanplus', '-H', 'bmc.example', '-U', 'admin', '-C', '3', '-E', '-v', 'chassis', 'power', 'off']);
    expect(inv.env['IPMI_PASSWORD']).toBe('pw');
    expect(inv.env).not.toHaveProperty('IPMITOOL_PASSWORD');
    expect(inv.secrets).toEqual(['pw']);
  });

  it('every option in its place', () => {
    const inv = buildIpmitoolInvocation(
      resolveIpmitoolOptions({
        host: '10.0.0.1',
        port: 6230,
        username: 'ops',
        passwordFile: '/etc/bmc.pw',
        cipherSuite: 17,
        privilegeLevel: 'operator',
        timeoutSeconds: 2,
        retries: 0,
        ipmitoolPath: '/opt/ipmitool',
      }),
      'cycle',
      parentEnv,
    );
    expect(inv.file).toBe('/opt/ipmitool');
    expect(inv.args).toEqual([
      '-I', 'lanplus', '-H', '10.0.0.1', '-p', '6230', '-U', 'ops', '-C', '17', '-L', 'OPERATOR', '-N', '2', '-R', '0',
      '-f', '/etc/bmc.pw', '-v', 'chassis', 'power', 'cycle',
    ]);
    expect(inv.env).not.toHaveProperty('IPMI_PASSWORD');
    expect(inv.env).not.toHaveProperty('IPMITOOL_PASSWORD');
  });

  it("'lan' takes no -C; passwordEnv is read from the parent env at call time", () => {
    const resolved = resolveIpmitoolOptions({ interface: 'lan', host: 'h', passwordEnv: 'BMC_PW' });
    const inv = buildIpmitoolInvocation(resolved, 'status', { ...parentEnv, BMC_PW: 'from-env' });
    expect(inv.args).toEqual(['-I', 'lan', '-H', 'h', '-E', '-v', 'chassis', 'power', 'status']);
    expect(inv.env['IPMI_PASSWORD']).toBe('from-env');
    expect(buildIpmitoolInvocation(resolved, 'status', parentEnv).args).not.toContain('-E');
  });
});

describe('validation: TypeError before anything runs', () => {
  const bad: [string, IpmitoolPowerControllerOptions][] = [
    ['host starting with -', { host: '-oProxyCommand=touch /tmp/x' }],
    ['host with a space', { host: 'a b' }],
    ['user starting with -', { host: 'h', username: '-Ppassword' }],
    ['user over 16 bytes', { host: 'h', username: 'u'.repeat(17) }],
    ['port 0', { host: 'h', port: 0 }],
    ['port 65536', { host: 'h', port: 65536 }],
    ['port 1.5', { host: 'h', port: 1.5 }],
    ['cipherSuite 18', { host: 'h', cipherSuite: 18 }],
    ['cipherSuite with lan', { interface: 'lan', host: 'h', cipherSuite: 3 }],
    ['timeoutSeconds 0', { host: 'h', timeoutSeconds: 0 }],
    ['retries -1', { host: 'h', retries: -1 }],
    ['deadlineMs 0', { host: 'h', deadlineMs: 0 }],
    ['deadlineMs 2^31 (over the timer limit)', { host: 'h', deadlineMs: 2 ** 31 }],
    ['deadlineMs 1e12', { host: 'h', deadlineMs: 1e12 }],
    ['deadlineMs Infinity', { host: 'h', deadlineMs: Number.POSITIVE_INFINITY }],
    ['deadlineMs NaN', { host: 'h', deadlineMs: Number.NaN }],
    ['two password sources', { host: 'h', password: 'a', passwordFile: '/p' }],
    ['password over 20 bytes', { host: 'h', password: 'p'.repeat(21) }],
    ['passwordFile starting with -', { host: 'h', passwordFile: '-x' }],
    ['passwordEnv not a name', { host: 'h', passwordEnv: 'A-B' }],
    ['lanplus without host', { interface: 'lanplus' }],
    ['open with a host', { interface: 'open', host: 'h' }],
    ['open with credentials', { username: 'admin' }],
    ['unknown interface', { interface: 'serial' as 'lan' }],
    ['unknown privilege', { host: 'h', privilegeLevel: 'root' as 'user' }],
    ['unknown option', { host: 'h', pasword: 'typo' } as IpmitoolPowerControllerOptions],
    ['empty ipmitoolPath', { ipmitoolPath: '' }],
  ];
  it.each(bad)('%s', (_name, options) => {
    expect(() => new IpmitoolPowerController(options)).toThrow(TypeError);
  });

  it('deadlineMs: up to the timer limit, 2^31-1 ms, which is MAX_TIMER_MS', () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    expect(resolveIpmitoolOptions({ host: 'h', deadlineMs: 2 ** 31 - 1 }).deadlineMs).toBe(2 ** 31 - 1);
    expect(resolveIpmitoolOptions({ host: 'h' }).deadlineMs).toBe(60_000);
    expect(() => new IpmitoolPowerController({ host: 'h', deadlineMs: 'soon' as unknown as number })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: "IpmitoolPowerController: deadlineMs must be a number; received 'soon'" }),
    );
  });

  it('the message names the offending option but never the password', () => {
    expect(() => new IpmitoolPowerController({ host: 'h', password: 'p'.repeat(21) })).toThrow(/password must be at most 20 bytes/);
    try {
      new IpmitoolPowerController({ host: 'h', password: 'secret-xyz', passwordFile: '/p' });
    } catch (err) {
      expect(String(err)).not.toContain('secret-xyz');
    }
  });
});

describe('failure classification from recorded ipmitool 1.8.19 -v stderr', () => {
  it.each([
    ['auth', 'Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n'],
    ['auth', 'RAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session\n'],
    ['auth', 'Activate Session command failed\nError: Unable to establish LAN session\nError: Unable to establish IPMI v1.5 / RMCP session\n'],
    ['unreachable', 'Get Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session\n'],
    ['unreachable', 'Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: No such file or directory\n'],
    ['privilege', 'Could not open device at /dev/ipmi0 or /dev/ipmi/0 or /dev/ipmidev/0: Permission denied\n'],
    ['privilege', 'Invalid completion code received: Insufficient privilege level\nSet Chassis Power Control to Down/Off failed: Insufficient privilege level\n'],
    ['unsupported', 'Invalid completion code received: Invalid command\nDiscovered IPMB address 0x0\nSet Chassis Power Control to Down/Off failed: Invalid data field in request\n'],
    ['unsupported', 'Set Chassis Power Control to Cycle failed: Command not supported in present state\n'],
    ['failed', 'Invalid completion code received: Invalid command\nsomething else\n'],
  ] as const)('%s', (reason, stderr) => {
    expect(classifyIpmitoolFailure(stderr)).toBe(reason);
  });
});

describe('redact', () => {
  it('replaces every occurrence', () => {
    expect(redact('a pw b pw', ['pw'])).toBe('a *** b ***');
    expect(redact('x', [''])).toBe('x');
  });
});

describe('passwordSourceMessage: a password source that cannot be used, said before ipmitool runs', () => {
  const options = resolveIpmitoolOptions({ host: 'bmc.example', port: 6230, passwordEnv: 'BMC_PW' });

  it('an unset passwordEnv: names the variable and what to do', () => {
    expect(passwordSourceMessage(options, 'softOff', { kind: 'env-unset', variable: 'BMC_PW' })).toBe(
      "ipmitool chassis power soft (lanplus bmc.example:6230) not run: auth: passwordEnv names BMC_PW, which is not set in this process's environment " +
        '(set BMC_PW before the call, to the empty string for an empty password, or give password or passwordFile instead)',
    );
  });

  it('an unreadable passwordFile: names the file and the errno', () => {
    expect(passwordSourceMessage(options, 'reset', { kind: 'file-unreadable', file: '/etc/bmc.pw', code: 'EACCES' })).toBe(
      'ipmitool chassis power reset (lanplus bmc.example:6230) not run: auth: passwordFile "/etc/bmc.pw" cannot be read by this process: EACCES ' +
        '(create it with the password on its first line, readable by the user this process runs as, mode 0600)',
    );
  });
});
