/**
 * RedfishPowerController against the Redfish test server (test/power/support/redfish-server.ts),
 * which models what real BMCs do and is itself kept honest by DMTF's redfishtool and OpenStack's
 * sushy (redfish-clients.test.ts). For each verb: the exact sequence of requests, the cycle
 * fallback, every session created deleted (after a failure or an abort too), each error reason,
 * TLS verification, and the password in no message, field or URL.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PowerControlError, PowerControlReason } from '../../src/power/power-controller.js';
import { RedfishPowerController, type RedfishPowerControllerOptions } from '../../src/power/redfish.js';
import { isRoot, missing } from '../support/prerequisites.js';
import { makeCertificate, type Certificate } from './support/certificate.js';
import { rejection } from './support/rejection.js';
import { REDFISH_USERS, startRedfishServer, type RedfishServer, type RedfishServerOptions } from './support/redfish-server.js';

const { admin, viewer } = REDFISH_USERS;
const PASSWORDS = Object.values(REDFISH_USERS).map((user) => user.password);

/** The PowerControlError of `reason` a promise rejects with, no password anywhere in it. */
async function expectReason(promise: Promise<unknown>, reason: PowerControlReason): Promise<PowerControlError> {
  const error = await rejection(promise, PASSWORDS);
  expect(error.reason, error.message).toBe(reason);
  return error;
}

const servers: RedfishServer[] = [];
let scratch = '';

async function start(options: RedfishServerOptions = {}): Promise<RedfishServer> {
  const server = await startRedfishServer(options);
  servers.push(server);
  return server;
}

/** A controller for `server` over http as admin, waiting briefly. */
function controller(server: RedfishServer, extra: Partial<RedfishPowerControllerOptions> = {}): RedfishPowerController {
  return new RedfishPowerController({
    host: '127.0.0.1',
    port: server.port,
    scheme: 'http',
    username: admin.username,
    password: admin.password,
    wait: { timeoutMs: 5000, intervalMs: 5 },
    ...extra,
  });
}

/** The server's request lines with session and task ids made generic. */
function sequence(server: RedfishServer): string[] {
  return server.lines().map((line) => line.replace(/\/Sessions\/[^/\s]+$/, '/Sessions/ID').replace(/\/(TaskMonitors|Tasks)\/\d+$/, '/$1/N'));
}

const ROOT = 'GET /redfish/v1/';
const LOGIN = 'POST /redfish/v1/SessionService/Sessions';
const SYSTEMS = 'GET /redfish/v1/Systems';
const SYSTEM = 'GET /redfish/v1/Systems/1';
const RESET = 'POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
const LOGOUT = 'DELETE /redfish/v1/SessionService/Sessions/ID';
const OPEN = [ROOT, LOGIN, SYSTEMS, SYSTEM];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'dw-redfish-'));
});
afterEach(async () => {
  // Every session any test created was deleted, whatever happened.
  for (const server of servers) {
    const sessions = server.sessions();
    expect(sessions.open, 'sessions left open').toEqual([]);
    expect(sessions.deleted).toBe(sessions.created);
    // No request carried If-Match or a password in its URL.
    for (const request of server.requests) {
      expect(request.ifMatch).toBeUndefined();
      for (const password of PASSWORDS) expect(request.path).not.toContain(password);
    }
  }
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('each verb: the exact requests, with a session', () => {
  it('status reads PowerState: root, login, Systems, the system, logout', async () => {
    const server = await start();
    expect(await controller(server).status()).toBe('on');
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
    server.setPower('Off');
    expect(await controller(server).status()).toBe('off');
  });

  it('on posts On and waits for on; nothing is posted when already on', async () => {
    const server = await start({ initialPower: 'Off' });
    await controller(server).on();
    expect(server.resets.map((r) => r.resetType)).toEqual(['On']);
    expect(sequence(server)).toEqual([...OPEN, RESET, SYSTEM, LOGOUT]);
    expect(server.requests.find((r) => r.method === 'POST' && r.path.endsWith('Reset'))?.body).toEqual({ ResetType: 'On' });
    server.clear();
    await controller(server).on();
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
  });

  it('off posts ForceOff and waits for off; nothing is posted when already off', async () => {
    const server = await start();
    await controller(server).off();
    expect(server.power()).toBe('Off');
    expect(sequence(server)).toEqual([...OPEN, RESET, SYSTEM, LOGOUT]);
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceOff']);
    server.clear();
    await controller(server).off();
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
  });

  it('softOff posts GracefulShutdown and does not wait; PushPowerButton where that is missing; unsupported when both are', async () => {
    const server = await start({ stateLagReads: 3 });
    await controller(server).softOff();
    expect(sequence(server)).toEqual([...OPEN, RESET, LOGOUT]);
    expect(server.resets.map((r) => r.resetType)).toEqual(['GracefulShutdown']);

    const noGraceful = await start({ resetTypes: ['On', 'ForceOff', 'ForceRestart', 'PushPowerButton'] });
    await controller(noGraceful).softOff();
    expect(noGraceful.resets.map((r) => r.resetType)).toEqual(['PushPowerButton']);

    // Both types named, and those the BMC allows.
    const neither = await start({ resetTypes: ['On', 'ForceOff'] });
    const error = await expectReason(controller(neither).softOff(), 'unsupported');
    expect(error.message).toMatch(/allows none of ResetType GracefulShutdown, PushPowerButton on \/redfish\/v1\/Systems\/1 \(it allows On, ForceOff\); nothing was sent/);
    expect(error.sent).toEqual([]);
    expect(neither.resets).toEqual([]);
    expect(sequence(neither)).toEqual([...OPEN, LOGOUT]);
  });

  it('reset posts ForceRestart; a machine that is off is powered On instead (and waited for)', async () => {
    const server = await start();
    await controller(server).reset();
    expect(sequence(server)).toEqual([...OPEN, RESET, LOGOUT]);
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceRestart']);
    server.clear();
    server.setPower('Off');
    await controller(server).reset();
    expect(server.resets.map((r) => r.resetType)).toEqual(['On']);
    expect(sequence(server)).toEqual([...OPEN, RESET, SYSTEM, LOGOUT]);
    expect(server.power()).toBe('On');
  });

  it('cycle posts PowerCycle where allowed', async () => {
    const server = await start();
    await controller(server).cycle();
    expect(sequence(server)).toEqual([...OPEN, RESET, LOGOUT]);
    expect(server.resets.map((r) => r.resetType)).toEqual(['PowerCycle']);
  });

  it('cycle without PowerCycle: ForceOff, wait for off, On, wait for on', async () => {
    const server = await start({ resetTypes: ['On', 'ForceOff', 'ForceRestart', 'GracefulShutdown'], stateLagReads: 1 });
    await controller(server).cycle();
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceOff', 'On']);
    // ForceOff; the lagging read says On, the next PoweringOff (off); On; the lagging read says Off, the next PoweringOn (on).
    expect(sequence(server)).toEqual([...OPEN, RESET, SYSTEM, SYSTEM, RESET, SYSTEM, SYSTEM, LOGOUT]);
    expect(server.power()).toBe('On');
  });

  it('cycle without PowerCycle and with wait: false still waits for off before On, and not for on after it', async () => {
    const server = await start({ resetTypes: ['On', 'ForceOff'], stateLagReads: 1 });
    await controller(server, { wait: false }).cycle();
    expect(sequence(server)).toEqual([...OPEN, RESET, SYSTEM, SYSTEM, RESET, LOGOUT]);
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceOff', 'On']);
  });

  it('cycle with no allowed values listed: PowerCycle is tried, and its refusal falls back to ForceOff, On', async () => {
    const server = await start({ allowedValues: 'absent', resetTypes: ['On', 'ForceOff', 'ForceRestart'] });
    await controller(server).cycle();
    expect(sequence(server)).toEqual([...OPEN, RESET, RESET, SYSTEM, RESET, SYSTEM, LOGOUT]);
    expect(server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('Reset')).map((r) => [r.body, r.status])).toEqual([
      [{ ResetType: 'PowerCycle' }, 400],
      [{ ResetType: 'ForceOff' }, 204],
      [{ ResetType: 'On' }, 204],
    ]);
  });

  it('cycle of a machine that is off powers it On', async () => {
    const server = await start({ initialPower: 'Off' });
    await controller(server).cycle();
    expect(server.resets.map((r) => r.resetType)).toEqual(['On']);
  });

  it('wait: false resolves once the BMC accepted the request', async () => {
    const server = await start({ stateLagReads: 5 });
    await controller(server, { wait: false }).off();
    expect(sequence(server)).toEqual([...OPEN, RESET, LOGOUT]);
  });
});

describe("cycle()'s fallback where the BMC lacks PowerCycle (iDRAC 9)", () => {
  const NO_POWER_CYCLE = ['On', 'ForceOff', 'ForceRestart', 'GracefulShutdown', 'PushPowerButton'];
  const LEFT_OFF = 'ForceOff was accepted; On was not sent: the machine may be off';

  it('with wait: false, its wait for off has its own bound, cycleOffTimeoutMs, named when it passes', async () => {
    // A wait for off that never ends: the machine went off, the BMC keeps reading On.
    const server = await start({ resetTypes: NO_POWER_CYCLE, stateLagReads: Infinity });
    const error = await expectReason(controller(server, { wait: false, cycleOffTimeoutMs: 100 }).cycle(), 'timeout');
    expect(error.message).toMatch(/PowerState of \/redfish\/v1\/Systems\/1 is On, not Off, after 100 ms \(cycleOffTimeoutMs\)/);
    expect(error.message).not.toContain('wait.timeoutMs');
    expect(sequence(server).at(-1)).toBe(LOGOUT);
  });

  it('wait.timeoutMs does not bound it: cycleOffTimeoutMs does', async () => {
    const server = await start({ resetTypes: NO_POWER_CYCLE, stateLagReads: Infinity });
    const error = await expectReason(controller(server, { wait: { timeoutMs: 60_000, intervalMs: 5 }, cycleOffTimeoutMs: 50 }).cycle(), 'timeout');
    expect(error.message).toMatch(/after 50 ms \(cycleOffTimeoutMs\)/);
  });

  it('a wait for off that passes its bound says ForceOff was accepted and On never sent, with sent: [ForceOff]', async () => {
    const server = await start({ resetTypes: NO_POWER_CYCLE, stateLagReads: Infinity });
    const error = await expectReason(controller(server, { cycleOffTimeoutMs: 100 }).cycle(), 'timeout');
    expect(error.sent).toEqual(['ForceOff']);
    expect(error.message).toContain(LEFT_OFF);
    // The machine is indeed off: ForceOff was the only reset, and On was never posted.
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceOff']);
    expect(server.power()).toBe('Off');
    expect(sequence(server).filter((line) => line === RESET)).toHaveLength(1);
  });

  it('an abort during the wait for off says the same', async () => {
    const server = await start({ resetTypes: NO_POWER_CYCLE, stateLagReads: Infinity });
    const abort = new AbortController();
    const call = controller(server).cycle({ signal: abort.signal });
    // Abort once ForceOff was accepted and the wait began: a GET of the system came after it.
    const waiting = (): boolean => {
      const lines = sequence(server);
      return lines.includes(RESET) && lines.slice(lines.indexOf(RESET)).includes(SYSTEM);
    };
    while (!waiting()) await new Promise((resolve) => setTimeout(resolve, 5));
    abort.abort();
    const error = await expectReason(call, 'aborted');
    expect(error.sent).toEqual(['ForceOff']);
    expect(error.message).toContain(LEFT_OFF);
    expect(server.power()).toBe('Off');
  });

  it('an On the BMC refuses after ForceOff: On was sent but not confirmed, and the machine may be off', async () => {
    // The first POST (ForceOff) is handled normally, the second (On) answered 500.
    const server = await start({
      resetTypes: NO_POWER_CYCLE,
      faults: [
        { method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', times: 1 },
        { method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', status: 500 },
      ],
    });
    const error = await expectReason(controller(server).cycle(), 'failed');
    expect(error.httpStatus).toBe(500);
    expect(error.sent).toEqual(['ForceOff']);
    expect(error.message).toContain('ForceOff was accepted; On was sent but not confirmed: the machine may be off');
    expect(server.power()).toBe('Off');
  });

  it('a wait for on that passes wait.timeoutMs after both: ForceOff and On were accepted', async () => {
    // ForceOff reads off after one lagging read; On is held 300 ms on arrival, while the test makes its new state never show.
    const server = await start({
      resetTypes: NO_POWER_CYCLE,
      stateLagReads: 1,
      faults: [
        { method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', times: 1 },
        { method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', delayMs: 300 },
      ],
    });
    const waited = controller(server, { wait: { timeoutMs: 50, intervalMs: 5 } }).cycle();
    while (sequence(server).filter((line) => line === RESET).length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    server.setOptions({ stateLagReads: Infinity });
    const error = await expectReason(waited, 'timeout');
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceOff', 'On']);
    expect(error.sent).toEqual(['ForceOff', 'On']);
    expect(error.message).toMatch(/is Off, not On, after 50 ms \(wait\.timeoutMs\); ForceOff, On were accepted \(/);
  });

  it('a single-step verb whose wait fails names the one reset accepted', async () => {
    const server = await start({ stateLagReads: Infinity });
    const error = await expectReason(controller(server, { wait: { timeoutMs: 50, intervalMs: 5 } }).off(), 'timeout');
    expect(error.sent).toEqual(['ForceOff']);
    expect(error.message).toMatch(/after 50 ms \(wait\.timeoutMs\); ForceOff was accepted \(/);
  });

  it('a reset refused before anything was accepted has sent: []', async () => {
    const server = await start({ faults: [{ method: 'POST', status: 409 }] });
    const error = await expectReason(controller(server).reset(), 'failed');
    expect(error.sent).toEqual([]);
    expect(error.message).not.toContain('accepted');
  });
});

describe('a system without PowerState (the schema does not require it)', () => {
  it('status() is unsupported: the power state is unknown, and no BMC message is pointed to', async () => {
    const server = await start({ powerStateProperty: false });
    const error = await expectReason(controller(server).status(), 'unsupported');
    expect(error.message).toMatch(/the power state is unknown: \/redfish\/v1\/Systems\/1 reports no PowerState/);
    expect(error.message).not.toMatch(/BMC's message/);
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
  });

  it('reset() posts ForceRestart', async () => {
    const server = await start({ powerStateProperty: false });
    await controller(server).reset();
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceRestart']);
    expect(sequence(server)).toEqual([...OPEN, RESET, LOGOUT]);
  });

  it('cycle() posts PowerCycle where the BMC allows it', async () => {
    const server = await start({ powerStateProperty: false });
    await controller(server).cycle();
    expect(server.resets.map((r) => r.resetType)).toEqual(['PowerCycle']);
    expect(sequence(server)).toEqual([...OPEN, RESET, LOGOUT]);
  });

  it('cycle() where the BMC lacks PowerCycle is unsupported, nothing sent: its fallback needs the state', async () => {
    const server = await start({ powerStateProperty: false, resetTypes: ['On', 'ForceOff'] });
    const error = await expectReason(controller(server).cycle(), 'unsupported');
    expect(error.message).toMatch(/reports no PowerState, which the fallback .* needs; nothing was sent/);
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
    const unlisted = await start({ powerStateProperty: false, allowedValues: 'absent', resetTypes: ['On', 'ForceOff'] });
    const refused = await expectReason(controller(unlisted).cycle(), 'unsupported');
    expect(refused.message).toMatch(/PowerCycle was refused; nothing else was sent/);
    expect(unlisted.resets).toEqual([]);
  });

  it.each(['on', 'off', 'softOff'] as const)('%s() is unsupported before anything is sent, without pointing to a BMC message', async (verb) => {
    const server = await start({ powerStateProperty: false });
    const error = await expectReason(controller(server)[verb](), 'unsupported');
    expect(error.message).toMatch(new RegExp(`the power state is unknown: .* reports no PowerState, which ${verb}\\(\\) needs .*; nothing was sent`));
    expect(error.message).not.toMatch(/BMC's message/);
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
  });
});

describe('what real BMCs do', () => {
  it('allowed values in @Redfish.ActionInfo are read before posting, and a type they lack is refused before posting', async () => {
    const server = await start({ allowedValues: 'action-info', initialPower: 'Off' });
    await controller(server).on();
    expect(sequence(server)).toEqual([...OPEN, 'GET /redfish/v1/Systems/1/ResetActionInfo', RESET, SYSTEM, LOGOUT]);

    const limited = await start({ allowedValues: 'action-info', resetTypes: ['On', 'ForceOff'] });
    const error = await expectReason(controller(limited).reset(), 'unsupported');
    expect(error.message).toContain('ForceRestart');
    expect(limited.resets).toEqual([]);
    expect(sequence(limited)).not.toContain(RESET);
  });

  it('an inline type the BMC lacks is refused before posting', async () => {
    const server = await start({ resetTypes: ['On', 'ForceOff'] });
    await expectReason(controller(server).reset(), 'unsupported');
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
  });

  it('allowed values absent: the type is posted, and the BMC\'s 400 ActionParameterNotSupported is unsupported', async () => {
    const server = await start({ allowedValues: 'absent', resetTypes: ['On', 'ForceOff'] });
    const error = await expectReason(controller(server).reset(), 'unsupported');
    expect(error.httpStatus).toBe(400);
    expect(error.message).toContain('ActionParameterNotSupported');
  });

  it('a system without a reset action: unsupported, nothing posted', async () => {
    const server = await start({ resetAction: false });
    const error = await expectReason(controller(server).reset(), 'unsupported');
    expect(error.message).toContain('no #ComputerSystem.Reset action');
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
  });

  it('202 with a task monitor: polled until done, honouring Retry-After', async () => {
    const server = await start({ actionResponse: 202, taskPolls: 2, retryAfterSeconds: 1 });
    const started = performance.now();
    await controller(server).reset();
    const elapsed = performance.now() - started;
    const monitor = 'GET /redfish/v1/TaskService/TaskMonitors/N';
    expect(sequence(server)).toEqual([...OPEN, RESET, monitor, monitor, monitor, LOGOUT]);
    // Three pauses of Retry-After: 1 second each (the controller's own interval is 5 ms).
    expect(elapsed).toBeGreaterThanOrEqual(2900);
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceRestart']);
  });

  it('a task still running after wait.timeoutMs is a timeout, and the session is still deleted', async () => {
    const server = await start({ actionResponse: 202, taskPolls: 1_000_000, retryAfterSeconds: 0 });
    const error = await expectReason(controller(server, { wait: { timeoutMs: 200, intervalMs: 5 } }).reset(), 'timeout');
    expect(error.message).toMatch(/the task at \/redfish\/v1\/TaskService\/TaskMonitors\/\d+ still runs after 200 ms/);
    expect(sequence(server).at(-1)).toBe(LOGOUT);
  });

  it('a task that ends in Exception is failed, with the task\'s words', async () => {
    const server = await start({ actionResponse: 202, taskPolls: 1, retryAfterSeconds: 0, taskOutcome: 'exception' });
    const error = await expectReason(controller(server).reset(), 'failed');
    expect(error.message).toMatch(/task .* failed: TaskState Exception/);
  });

  it('a task monitor deleted on completion (404): the Task resource the 202 named tells how it ended', async () => {
    const server = await start({ actionResponse: 202, taskPolls: 1, retryAfterSeconds: 0, taskMonitorGone: true });
    await controller(server).reset();
    const monitor = 'GET /redfish/v1/TaskService/TaskMonitors/N';
    expect(sequence(server)).toEqual([...OPEN, RESET, monitor, monitor, 'GET /redfish/v1/TaskService/Tasks/N', LOGOUT]);
    const failing = await start({ actionResponse: 202, taskPolls: 1, retryAfterSeconds: 0, taskMonitorGone: true, taskOutcome: 'exception' });
    const error = await expectReason(controller(failing).reset(), 'failed');
    expect(error.message).toMatch(/the task at \/redfish\/v1\/TaskService\/Tasks\/\d+ failed: TaskState Exception/);
  });

  it('200 with a body is success as much as 204', async () => {
    const server = await start({ actionResponse: 200 });
    await controller(server).reset();
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceRestart']);
  });

  it('state lag: PowerState is read until it changes; PoweringOn counts as on, PoweringOff as off', async () => {
    const server = await start({ initialPower: 'Off', stateLagReads: 3 });
    await controller(server).on();
    // Three reads still Off, then PoweringOn, which is on.
    expect(sequence(server)).toEqual([...OPEN, RESET, SYSTEM, SYSTEM, SYSTEM, SYSTEM, LOGOUT]);
    const lagged = await start({ stateLagReads: 1 });
    await controller(lagged, { wait: false }).off();
    expect(await controller(lagged).status()).toBe('on'); // the lagging read
    expect(await controller(lagged).status()).toBe('off'); // PoweringOff
    expect(await controller(lagged).status()).toBe('off'); // Off
  });

  it('a state that does not change within wait.timeoutMs is a timeout, and the session is still deleted', async () => {
    const server = await start({ stateLagReads: 1000 });
    const error = await expectReason(controller(server, { wait: { timeoutMs: 150, intervalMs: 20 } }).off(), 'timeout');
    expect(error.message).toMatch(/PowerState of \/redfish\/v1\/Systems\/1 is On, not Off, after 150 ms/);
    expect(sequence(server).at(-1)).toBe(LOGOUT);
  });

  it('a BMC that answers 412 to If-Match on an action: never sent, every verb works', async () => {
    const server = await start({ rejectIfMatch: true, resetTypes: ['On', 'ForceOff', 'ForceRestart', 'GracefulShutdown'] });
    const power = controller(server);
    await power.reset();
    await power.cycle();
    await power.off();
    await power.on();
    server.setPower('On');
    await power.softOff();
    expect(server.requests.filter((r) => r.status === 412)).toEqual([]);
  });

  it('the session limit (503 at login) is failed and named as such; nothing to delete', async () => {
    const server = await start({ sessionLimit: 0 });
    const error = await expectReason(controller(server).status(), 'failed');
    expect(error.httpStatus).toBe(503);
    expect(error.message).toMatch(/session limit reached/);
    expect(error.message).toMatch(/SessionTimeout/);
    expect(sequence(server)).toEqual([ROOT, LOGIN]);
  });

  it('two systems: systemId chooses; without it the call fails naming both', async () => {
    const server = await start({ systems: ['1', '2'] });
    const error = await expectReason(controller(server).status(), 'failed');
    expect(error.message).toMatch(/has 2 systems \(1, 2\): pass systemId/);
    await controller(server, { systemId: '2' }).off();
    expect(server.power('2')).toBe('Off');
    expect(server.power('1')).toBe('On');
    expect(sequence(server).slice(-5)).toEqual([SYSTEMS, 'GET /redfish/v1/Systems/2', 'POST /redfish/v1/Systems/2/Actions/ComputerSystem.Reset', 'GET /redfish/v1/Systems/2', LOGOUT]);
    await expectReason(controller(server, { systemId: '3' }).status(), 'failed');
  });

  it('a Dell-style system Id and unusual paths are found by following links', async () => {
    const server = await start({ systems: ['System.Embedded.1'], unusualPaths: true, initialPower: 'Off' });
    await controller(server).on();
    expect(server.power('System.Embedded.1')).toBe('On');
    expect(server.lines().some((line) => line.startsWith('POST /redfish/v1/AccountService/Auth/Sessions'))).toBe(true);
    expect(server.lines().some((line) => line.startsWith('POST /redfish/v1/ComputerSystems/System.Embedded.1/Actions/Oem/Reset'))).toBe(true);
  });

  it("a login answered without a Location header: the session's @odata.id is deleted", async () => {
    const server = await start({ sessionLocation: false });
    expect(await controller(server).status()).toBe('on');
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
  });

  it('absolute Location headers (session and task monitor) are followed by their path', async () => {
    const server = await start({ absoluteLocation: true, actionResponse: 202, taskPolls: 1, retryAfterSeconds: 0 });
    await controller(server).reset();
    expect(sequence(server)).toEqual([...OPEN, RESET, 'GET /redfish/v1/TaskService/TaskMonitors/N', 'GET /redfish/v1/TaskService/TaskMonitors/N', LOGOUT]);
  });
});

describe('auth', () => {
  it('auto on a BMC without a session service: Basic on every request after the root, no login', async () => {
    const server = await start({ auth: 'basic-only', initialPower: 'Off' });
    await controller(server).on();
    expect(sequence(server)).toEqual([ROOT, SYSTEMS, SYSTEM, RESET, SYSTEM]);
    expect(server.requests.slice(1).map((r) => r.auth)).toEqual(['basic', 'basic', 'basic', 'basic']);
  });

  it('a root without Links.Sessions but with a SessionService: the login goes to its standard Sessions collection', async () => {
    const server = await start({ linksSessions: false });
    expect(await controller(server).status()).toBe('on');
    expect(sequence(server)).toEqual([...OPEN, LOGOUT]);
  });

  it("auth 'basic' sends Basic from the first request and never logs in", async () => {
    const server = await start();
    await controller(server, { auth: 'basic' }).reset();
    expect(sequence(server)).toEqual([ROOT, SYSTEMS, SYSTEM, RESET]);
    expect(server.requests.map((r) => r.auth)).toEqual(['basic', 'basic', 'basic', 'basic']);
  });

  it("auto on a BMC without sessions, for a user name with ':' (which Basic cannot carry): unsupported, nothing sent with it", async () => {
    const server = await start({ auth: 'basic-only' });
    const error = await expectReason(controller(server, { username: 'dom:ops' }).status(), 'unsupported');
    expect(error.message).toMatch(/RFC 7617/);
    expect(sequence(server)).toEqual([ROOT]);
  });

  it("auth 'session' on a BMC without sessions is unsupported", async () => {
    const server = await start({ auth: 'basic-only' });
    await expectReason(controller(server, { auth: 'session' }).status(), 'unsupported');
    expect(sequence(server)).toEqual([ROOT]);
  });

  it('a refused login is auth, and is never retried with Basic', async () => {
    const server = await start();
    const error = await expectReason(controller(server, { password: 'wrong-password' }).status(), 'auth');
    expect(error.httpStatus).toBe(401);
    expect(error.message).not.toContain('wrong-password');
    expect(sequence(server)).toEqual([ROOT, LOGIN]);
  });

  it('Basic refused by a sessions-only BMC is auth', async () => {
    const server = await start({ auth: 'session-only' });
    await expectReason(controller(server, { auth: 'basic' }).status(), 'auth');
  });

  it('a ReadOnly account reads the state, and a reset is privilege (403)', async () => {
    const server = await start();
    const power = controller(server, { username: viewer.username, password: viewer.password });
    expect(await power.status()).toBe('on');
    const error = await expectReason(power.reset(), 'privilege');
    expect(error.httpStatus).toBe(403);
    expect(error.message).toMatch(/Operator or Administrator/);
  });

  it('passwordFile (first line) and passwordEnv are read at each call', async () => {
    const server = await start();
    const file = join(scratch, 'bmc.pw');
    await writeFile(file, `${admin.password}\nignored\n`, { mode: 0o600 });
    expect(await controller(server, { password: undefined, passwordFile: file }).status()).toBe('on');
    process.env['DW_TEST_REDFISH_PW'] = admin.password;
    try {
      expect(await controller(server, { password: undefined, passwordEnv: 'DW_TEST_REDFISH_PW' }).status()).toBe('on');
    } finally {
      delete process.env['DW_TEST_REDFISH_PW'];
    }
  });

  it('a password source that cannot be used is auth, before any request', async () => {
    const server = await start();
    const unset = await expectReason(controller(server, { password: undefined, passwordEnv: 'DW_TEST_UNSET_PW' }).status(), 'auth');
    expect(unset.message).toContain('DW_TEST_UNSET_PW');
    const missingFile = await expectReason(controller(server, { password: undefined, passwordFile: join(scratch, 'none') }).status(), 'auth');
    expect(missingFile.code).toBe('ENOENT');
    if (!isRoot) {
      const file = join(scratch, 'unreadable.pw');
      await writeFile(file, 'x');
      await chmod(file, 0o000);
      expect((await expectReason(controller(server, { password: undefined, passwordFile: file }).status(), 'auth')).code).toBe('EACCES');
    }
    expect(server.requests).toEqual([]);
  });
});

describe('errors', () => {
  it('connection refused is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await expectReason(new RedfishPowerController({ host: '127.0.0.1', port, scheme: 'http', username: 'u', password: 'p' }).status(), 'unreachable');
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('an unknown host is unreachable', async () => {
    const error = await expectReason(new RedfishPowerController({ host: 'no-such-bmc.invalid', username: 'u', password: 'p' }).status(), 'unreachable');
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain(error.code);
  });

  it('a connect that does not finish within requestTimeoutMs is unreachable', async () => {
    // A listener that never accepts, its backlog filled: the kernel drops further SYNs, so a connect hangs.
    // (A Node server always accepts; Python's socket does only when asked.)
    const listener = spawn('python3', ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)']);
    const fillers: Socket[] = [];
    try {
      const port = await new Promise<number>((resolve) => listener.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim()))));
      for (let i = 0; i < 3; i += 1) {
        fillers.push(connect(port, '127.0.0.1').on('error', () => undefined));
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      const error = await expectReason(
        new RedfishPowerController({ host: '127.0.0.1', port, scheme: 'http', username: 'u', password: 'p', requestTimeoutMs: 300 }).status(),
        'unreachable',
      );
      expect(error.code).toBe('ETIMEDOUT');
      expect(error.message).toMatch(/no connection within 300 ms/);
    } finally {
      for (const filler of fillers) filler.destroy();
      listener.kill();
    }
  });

  it('an answer that does not come within requestTimeoutMs is a timeout; the session is deleted', async () => {
    const server = await start({ faults: [{ method: 'GET', path: '/redfish/v1/Systems/1', delayMs: 2000 }] });
    const error = await expectReason(controller(server, { requestTimeoutMs: 200 }).status(), 'timeout');
    expect(error.code).toBe('ETIMEDOUT');
    expect(sequence(server).at(-1)).toBe(LOGOUT);
  });

  it('the signal aborts mid-request; the session is deleted before the call rejects', async () => {
    const server = await start({ faults: [{ method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', delayMs: 5000 }] });
    const controllerAbort = new AbortController();
    setTimeout(() => controllerAbort.abort(), 150);
    const error = await expectReason(controller(server).reset({ signal: controllerAbort.signal }), 'aborted');
    expect(error.code).toBe('ABORT_ERR');
    expect(server.sessions().open).toEqual([]);
  });

  it('the logout waits at most 5 s: an aborted call ends even when the BMC does not answer the DELETE', async () => {
    const server = await start({
      faults: [
        { method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', delayMs: 60_000 },
        { method: 'DELETE', path: /\/Sessions\//, delayMs: 60_000 },
      ],
    });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const started = performance.now();
    await expectReason(controller(server).reset({ signal: abort.signal }), 'aborted');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(5000);
    expect(elapsed).toBeLessThan(8000);
    // The DELETE was sent; the BMC never answered it, so this one session stays open there, and
    // the check after each test (every session deleted) does not apply to this server.
    expect(sequence(server).at(-1)).toBe(LOGOUT);
    servers.splice(servers.indexOf(server), 1);
    await server.close();
  });

  it('a signal that already fired sends nothing', async () => {
    const server = await start();
    await expectReason(controller(server).status({ signal: AbortSignal.abort() }), 'aborted');
    expect(server.requests).toEqual([]);
  });

  it.each([
    [500, undefined, 'failed', /HTTP 500/],
    [503, undefined, 'failed', /HTTP 503/],
    [409, undefined, 'failed', /present state/],
    [400, 'Base.1.8.PropertyValueNotInList', 'unsupported', /PropertyValueNotInList/],
    [400, 'Base.1.8.ActionParameterNotSupported', 'unsupported', /ActionParameterNotSupported/],
    [400, 'Base.1.8.GeneralError', 'failed', /HTTP 400/],
    [403, 'Base.1.8.InsufficientPrivilege', 'privilege', /HTTP 403/],
  ] as const)('HTTP %i %s on the action is %s', async (status, messageId, reason, pattern) => {
    const server = await start({ faults: [{ method: 'POST', path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', status, ...(messageId === undefined ? {} : { messageId }) }] });
    const error = await expectReason(controller(server).reset(), reason);
    expect(error.httpStatus).toBe(status);
    expect(error.message).toMatch(pattern);
  });

  it('a connection dropped mid-request is failed, and no BMC message is pointed to', async () => {
    const server = await start({ faults: [{ method: 'GET', path: '/redfish/v1/Systems', drop: true }] });
    const error = await expectReason(controller(server).status(), 'failed');
    expect(error.message).not.toMatch(/BMC's message/);
    expect(error.message).toMatch(/connection broke/);
  });
});

const noOpenssl = missing({ tools: ['openssl'] });

describe.skipIf(noOpenssl !== undefined)(`TLS${noOpenssl === undefined ? '' : ` (skipped: ${noOpenssl})`}`, () => {
  let certificate: Certificate;
  let other: Certificate;
  beforeAll(async () => {
    certificate = await makeCertificate(await mkdtemp(join(scratch, 'tls-')));
    other = await makeCertificate(await mkdtemp(join(scratch, 'tls-other-')));
  });
  const https = (server: RedfishServer, extra: Partial<RedfishPowerControllerOptions> = {}): RedfishPowerController =>
    controller(server, { scheme: 'https', ...extra });

  it('a self-signed certificate is refused by default: failed, saying to pass tls.ca or tls.fingerprint256, nothing sent', async () => {
    const server = await start({ tls: { key: certificate.key, cert: certificate.cert } });
    const error = await expectReason(https(server).status(), 'failed');
    expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(error.message).toMatch(/tls\.ca .* tls\.fingerprint256/);
    expect(server.requests).toEqual([]);
  });

  it('tls.ca verifies it (and the host name against it)', async () => {
    const server = await start({ tls: { key: certificate.key, cert: certificate.cert } });
    expect(await https(server, { tls: { ca: certificate.cert } }).status()).toBe('on');
    const wrongCa = await expectReason(https(server, { tls: { ca: other.cert } }).status(), 'failed');
    expect(wrongCa.message).toMatch(/tls\.ca/);
    await https(server, { tls: { ca: certificate.cert } }).reset();
    expect(server.resets.map((r) => r.resetType)).toEqual(['ForceRestart']);
  });

  it('tls.fingerprint256 pins it; a different certificate gets no request at all', async () => {
    const server = await start({ tls: { key: certificate.key, cert: certificate.cert } });
    expect(await https(server, { tls: { fingerprint256: certificate.fingerprint256.toLowerCase() } }).status()).toBe('on');
    server.clear();
    const error = await expectReason(https(server, { tls: { fingerprint256: other.fingerprint256 } }).status(), 'failed');
    expect(error.code).toBe('ERR_TLS_FINGERPRINT_MISMATCH');
    expect(server.requests).toEqual([]);
  });

  it('tls.insecure accepts any certificate', async () => {
    const server = await start({ tls: { key: certificate.key, cert: certificate.cert } });
    expect(await https(server, { tls: { insecure: true } }).status()).toBe('on');
  });

  it('https to a plain http server is failed, not a hang', async () => {
    const server = await start();
    await expectReason(https(server, { tls: { insecure: true }, requestTimeoutMs: 2000 }).status(), 'failed');
  });
});
