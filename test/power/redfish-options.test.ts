/**
 * The options of RedfishPowerController: every invalid one is a TypeError from the constructor,
 * before any request, in the house message shape; the defaults; and the pure readers of
 * redfish-protocol.ts on the shapes real BMCs send.
 */
import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS } from '../../src/core/arguments.js';
import { RedfishPowerController, type RedfishPowerControllerOptions } from '../../src/power/redfish.js';
import { resolveRedfishOptions } from '../../src/power/redfish-options.js';
import { actionInfoAllowed, members, pathOf, powerState, resetAction, retryAfterMs, taskProgress } from '../../src/power/redfish-protocol.js';
import { classifyAnswer, progressText, redfishError } from '../../src/power/redfish-failure.js';

const base = { host: 'bmc.example', username: 'operator', password: 'pw' } as const;
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('RedfishPowerController options', () => {
  it("defaults: https on 443, auto auth, verified TLS, 30 s requests, waiting 120 s every second, cycle's wait for off 120 s", () => {
    expect(resolveRedfishOptions(base)).toEqual({
      host: 'bmc.example',
      port: 443,
      scheme: 'https',
      username: 'operator',
      password: { kind: 'value', password: 'pw' },
      systemId: undefined,
      auth: 'auto',
      tls: { kind: 'verify', ca: undefined },
      requestTimeoutMs: 30_000,
      wait: { timeoutMs: 120_000, intervalMs: 1_000 },
      settleTimeoutMs: 120_000,
      settleIntervalMs: 1_000,
      cycleOffTimeoutMs: 120_000,
    });
    expect(resolveRedfishOptions({ ...base, scheme: 'http' }).port).toBe(80);
    expect(resolveRedfishOptions({ ...base, wait: false }).wait).toBeUndefined();
    // cycle's wait for off has its own bound: neither wait: false nor wait.timeoutMs sets it.
    expect(resolveRedfishOptions({ ...base, wait: false }).cycleOffTimeoutMs).toBe(120_000);
    expect(resolveRedfishOptions({ ...base, wait: { timeoutMs: 5_000 } }).cycleOffTimeoutMs).toBe(120_000);
    expect(resolveRedfishOptions({ ...base, wait: false, cycleOffTimeoutMs: 30_000 }).cycleOffTimeoutMs).toBe(30_000);
    expect(resolveRedfishOptions({ ...base, host: '[fe80::1]' }).host).toBe('fe80::1');
    expect(resolveRedfishOptions({ ...base, tls: { fingerprint256: 'ab'.repeat(32) } }).tls).toEqual({
      kind: 'fingerprint',
      fingerprint256: Array.from({ length: 32 }, () => 'AB').join(':'),
    });
  });

  const invalid: readonly [string, Record<string, unknown>, RegExp][] = [
    ['no host', { host: undefined }, /host must be a string; received undefined/],
    ['a URL as host', { host: 'https://bmc' }, /host must be a bare host name or address; give the scheme as scheme/],
    ['a port in host', { host: 'bmc:443' }, /host must not carry a port; give the port as port/],
    ['a path in host', { host: 'bmc/redfish' }, /host must be a host name/],
    ['a port out of range', { port: 70000 }, /port must be an integer from 1 to 65535/],
    ['an unknown scheme', { scheme: 'ftp' }, /scheme must be one of 'https', 'http'/],
    ['no username', { username: undefined }, /username must be a string/],
    ['no password source', { password: undefined }, /give exactly one of password, passwordFile and passwordEnv; received 0/],
    ['two password sources', { passwordFile: '/etc/pw' }, /give exactly one of password, passwordFile and passwordEnv; received 2/],
    ['a bad variable name', { password: undefined, passwordEnv: 'BMC-PW' }, /passwordEnv must be an environment variable name/],
    ['a systemId with a slash', { systemId: 'Systems/1' }, /systemId must be a system's Id, without '\/'/],
    ['an unknown auth', { auth: 'digest' }, /auth must be one of 'auto', 'session', 'basic'/],
    ['a colon in the user name with Basic', { username: 'dom:ops', auth: 'basic' }, /username must not contain ':' with auth 'basic' .*RFC 7617/],
    ['tls over http', { scheme: 'http', tls: { insecure: true } }, /tls applies to scheme 'https' only/],
    ['two tls checks', { tls: { ca: PEM, insecure: true } }, /give at most one of tls.ca, tls.fingerprint256 and tls.insecure/],
    ['a CA file name', { tls: { ca: '/etc/ca.pem' } }, /tls.ca must be PEM text .* not a file name/],
    ['a short fingerprint', { tls: { fingerprint256: 'AB:CD' } }, /tls.fingerprint256 must be a SHA-256 fingerprint/],
    ['an unknown tls field', { tls: { verify: false } }, /tls: unknown option 'verify'/],
    ['a zero request timeout', { requestTimeoutMs: 0 }, /requestTimeoutMs must be a positive number of milliseconds/],
    ['a timer Node cannot arm', { wait: { timeoutMs: MAX_TIMER_MS + 1 } }, /wait.timeoutMs must be a positive number of milliseconds up to 2147483647/],
    ['wait: true', { wait: true }, /wait must be false or an object/],
    ['a zero cycleOffTimeoutMs', { cycleOffTimeoutMs: 0 }, /cycleOffTimeoutMs must be a positive number of milliseconds/],
    ['cycleOffTimeoutMs in seconds as a string', { cycleOffTimeoutMs: '60' }, /cycleOffTimeoutMs must be a number; received '60'/],
    ['a misspelt option', { sytemId: '1' }, /unknown option 'sytemId' \(did you mean systemId\?\)/],
  ];

  it.each(invalid)('%s: a TypeError before any request', (_name, patch, pattern) => {
    const options = { ...base, ...patch } as unknown as RedfishPowerControllerOptions;
    expect(() => new RedfishPowerController(options)).toThrow(TypeError);
    expect(() => new RedfishPowerController(options)).toThrow(pattern);
    expect(() => new RedfishPowerController(options)).toThrow(/^RedfishPowerController: /);
  });

  it('the password is in no validation message', () => {
    const secret = 'hunter2-secret';
    for (const patch of [{ passwordFile: '/x' }, { port: 0 }, { tls: { ca: 'nope' } }]) {
      try {
        new RedfishPowerController({ ...base, password: secret, ...patch } as RedfishPowerControllerOptions);
      } catch (err) {
        expect(String(err)).not.toContain(secret);
      }
    }
  });
});

describe('reading Redfish resources', () => {
  it('PowerState: transitions count as the state they head to; anything else is unknown', () => {
    expect(['On', 'PoweringOn', 'Paused', 'Off', 'PoweringOff', 'Unknown', undefined].map((s) => powerState({ PowerState: s }))).toEqual([
      'on', 'on', 'on', 'off', 'off', undefined, undefined,
    ]);
  });

  it('members, with the Id from the last path segment (trailing slash and escapes allowed)', () => {
    expect(members({ Members: [{ '@odata.id': '/redfish/v1/Systems/System.Embedded.1' }, { '@odata.id': '/redfish/v1/Systems/a%20b/' }, {}] })).toEqual([
      { path: '/redfish/v1/Systems/System.Embedded.1', id: 'System.Embedded.1' },
      { path: '/redfish/v1/Systems/a%20b/', id: 'a b' },
    ]);
    expect(members({})).toEqual([]);
  });

  it('the reset action: inline allowed values, an ActionInfo link, or neither', () => {
    const target = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
    expect(resetAction({ Actions: { '#ComputerSystem.Reset': { target, 'ResetType@Redfish.AllowableValues': ['On', 'ForceOff'] } } })).toEqual({
      target,
      allowed: ['On', 'ForceOff'],
      actionInfo: undefined,
    });
    expect(resetAction({ Actions: { '#ComputerSystem.Reset': { target, '@Redfish.ActionInfo': '/x/ResetActionInfo' } } })?.actionInfo).toBe('/x/ResetActionInfo');
    expect(resetAction({ Actions: {} })).toBeUndefined();
    expect(actionInfoAllowed({ Parameters: [{ Name: 'Other' }, { Name: 'ResetType', AllowableValues: ['On'] }] })).toEqual(['On']);
  });

  it('a Location: absolute URLs give their path (the request still goes to the configured BMC)', () => {
    expect(pathOf('https://bmc.internal:8443/redfish/v1/SessionService/Sessions/7?x=1')).toBe('/redfish/v1/SessionService/Sessions/7?x=1');
    expect(pathOf('/redfish/v1/TaskService/TaskMonitors/3')).toBe('/redfish/v1/TaskService/TaskMonitors/3');
  });

  it('Retry-After: seconds or an HTTP date; anything else is ignored', () => {
    const now = Date.parse('Fri, 04 Dec 2026 16:00:00 GMT');
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(' 0 ')).toBe(0);
    expect(retryAfterMs('Fri, 04 Dec 2026 16:00:02 GMT', now)).toBe(2000);
    expect(retryAfterMs('Fri, 04 Dec 2026 15:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });

  it('task states', () => {
    expect(['New', 'Running', 'Completed', 'Exception', 'Killed', 'Cancelled', undefined].map((TaskState) => taskProgress({ TaskState }))).toEqual([
      'running', 'running', 'completed', 'failed', 'failed', 'failed', 'unknown',
    ]);
    expect(taskProgress({ TaskState: 'Completed', TaskStatus: 'Critical' })).toBe('failed');
  });

  it('answers: 401 auth, 403 privilege, 400 with the not-supported MessageIds unsupported, 404 on the action unsupported, 503 SessionLimitExceeded named', () => {
    const body = (id: string): unknown => ({ error: { code: 'Base.1.8.GeneralError', '@Message.ExtendedInfo': [{ MessageId: id }] } });
    expect(classifyAnswer(401, undefined, false)).toEqual({ reason: 'auth', kind: 'general' });
    expect(classifyAnswer(403, undefined, true)).toEqual({ reason: 'privilege', kind: 'general' });
    expect(classifyAnswer(400, body('Base.1.0.ActionParameterNotSupported'), true).reason).toBe('unsupported');
    expect(classifyAnswer(400, body('Base.1.8.PropertyValueNotInList'), true).reason).toBe('unsupported');
    // OpenBMC's bmcweb, for a ResetType a build left out.
    expect(classifyAnswer(400, body('Base.1.8.1.ActionParameterUnknown'), true).reason).toBe('unsupported');
    expect(classifyAnswer(400, body('Base.1.8.MalformedJSON'), true).reason).toBe('failed');
    expect(classifyAnswer(404, undefined, true).reason).toBe('unsupported');
    expect(classifyAnswer(404, undefined, false).reason).toBe('failed');
    expect(classifyAnswer(503, body('Base.1.8.SessionLimitExceeded'), false)).toEqual({ reason: 'failed', kind: 'session-limit' });
    expect(classifyAnswer(409, undefined, true)).toEqual({ reason: 'failed', kind: 'conflict' });
  });
});

describe('what a failed verb had the BMC do', () => {
  it('accepted, sent but not confirmed, not sent, and what the machine may be left in', () => {
    expect(progressText({ accepted: [], unanswered: undefined, unsent: [] })).toBeUndefined();
    expect(progressText({ accepted: [], unanswered: 'ForceOff', unsent: ['On'] })).toBeUndefined();
    expect(progressText({ accepted: ['On'], unanswered: undefined, unsent: [] })).toBe('On was accepted');
    expect(progressText({ accepted: ['ForceOff'], unanswered: undefined, unsent: ['On'] })).toBe('ForceOff was accepted; On was not sent: the machine may be off');
    expect(progressText({ accepted: ['ForceOff'], unanswered: 'On', unsent: [] })).toBe('ForceOff was accepted; On was sent but not confirmed: the machine may be off');
    expect(progressText({ accepted: ['ForceOff', 'On'], unanswered: undefined, unsent: [] })).toBe('ForceOff, On were accepted');
  });

  it('redfishError appends it and sets sent; the advice of failed points to a BMC message only where the detail quotes one', () => {
    const progress = { accepted: ['ForceOff'], unanswered: undefined, unsent: ['On'] };
    const error = redfishError('https://bmc:443', 'cycle', { reason: 'timeout', detail: 'PowerState is On', progress }, []);
    expect(error.message).toBe(
      'Redfish cycle (https://bmc:443) failed: timeout: PowerState is On; ForceOff was accepted; On was not sent: the machine may be off ' +
        '(the BMC did not answer, or the power state did not change, in time; it may still act: read status() before trying again)',
    );
    expect(error.sent).toEqual(['ForceOff']);
    expect(Object.isFrozen(error.sent)).toBe(true);
    expect(redfishError('o', 'on', { reason: 'failed', detail: 'HTTP 500: Base.1.8.InternalError: boom', quotesBmc: true }, []).message).toMatch(/\(see the BMC's message\)$/);
    const silent = redfishError('o', 'on', { reason: 'failed', detail: 'HTTP 500' }, []);
    expect(silent.message).not.toMatch(/BMC's message/);
    expect(silent.message).toMatch(/the BMC gave no reason/);
    expect(silent.sent).toEqual([]);
  });
});
