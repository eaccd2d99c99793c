/**
 * The switches of the Redfish test server (support/redfish-server.ts), driven with plain `fetch`
 * (and `node:https` for TLS): authentication, sessions, the reset action's checks and effects, the
 * three ways of answering it, tasks, lagging PowerState, injected faults and the request log.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { makeCertificate } from './support/certificate.js';
import { REDFISH_USERS, startRedfishServer } from './support/redfish-server.js';
import type { RedfishServer, RedfishServerOptions } from './support/redfish-server.js';

const { admin, operator, viewer } = REDFISH_USERS;
const SYSTEM = '/redfish/v1/Systems/1';
const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
const SESSIONS = '/redfish/v1/SessionService/Sessions';

/** Basic credentials or a session token; `null` sends none. */
type Credentials = { readonly username: string; readonly password: string } | { readonly token: string };

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

const basic = (user: { readonly username: string; readonly password: string }): string =>
  'Basic ' + Buffer.from(`${user.username}:${user.password}`).toString('base64');

let servers: RedfishServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(options: RedfishServerOptions = {}): Promise<RedfishServer> {
  const server = await startRedfishServer(options);
  servers.push(server);
  return server;
}

/** One request; credentials default to admin's Basic ones. */
async function call(
  server: RedfishServer,
  method: string,
  path: string,
  options: {
    readonly as?: Credentials | null;
    readonly body?: unknown;
    readonly headers?: Record<string, string>;
    readonly signal?: AbortSignal;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const as = options.as === undefined ? admin : options.as;
  if (as !== null) {
    if ('token' in as) headers['X-Auth-Token'] = as.token;
    else headers['Authorization'] = basic(as);
  }
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(server.url + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

const reset = (
  server: RedfishServer,
  resetType: unknown,
  as: Credentials | null = admin,
  headers?: Record<string, string>,
): Promise<Answer> =>
  call(server, 'POST', RESET, { as, body: { ResetType: resetType }, ...(headers === undefined ? {} : { headers }) });

/** The MessageId of a Redfish error body. */
function messageId(answer: Answer): unknown {
  expect(answer.body).toMatchObject({ error: { code: 'Base.1.8.GeneralError', '@Message.ExtendedInfo': [{}] } });
  const body = answer.body as { error: { '@Message.ExtendedInfo': { MessageId: unknown }[] } };
  return body.error['@Message.ExtendedInfo'][0]?.MessageId;
}

async function login(
  server: RedfishServer,
  user: { readonly username: string; readonly password: string } = admin,
): Promise<{ token: string; location: string }> {
  const answer = await call(server, 'POST', SESSIONS, { as: null, body: { UserName: user.username, Password: user.password } });
  expect(answer.status).toBe(201);
  return { token: answer.headers.get('x-auth-token') ?? '', location: answer.headers.get('location') ?? '' };
}

async function powerState(server: RedfishServer): Promise<unknown> {
  const answer = await call(server, 'GET', SYSTEM);
  expect(answer.status).toBe(200);
  return (answer.body as { PowerState: unknown }).PowerState;
}

describe('Redfish test server', () => {
  describe('service root and headers', () => {
    it('answers /redfish and the ServiceRoot without credentials, as Redfish JSON', async () => {
      const server = await start();
      const versions = await call(server, 'GET', '/redfish', { as: null });
      expect(versions.body).toEqual({ v1: '/redfish/v1/' });
      for (const path of ['/redfish/v1', '/redfish/v1/']) {
        const root = await call(server, 'GET', path, { as: null });
        expect(root.status).toBe(200);
        expect(root.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(root.headers.get('odata-version')).toBe('4.0');
        expect(root.body).toMatchObject({
          '@odata.id': '/redfish/v1/',
          '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
          Id: 'RootService',
          RedfishVersion: '1.8.0',
          Systems: { '@odata.id': '/redfish/v1/Systems' },
          SessionService: { '@odata.id': '/redfish/v1/SessionService' },
          Links: { Sessions: { '@odata.id': SESSIONS } },
          TaskService: { '@odata.id': '/redfish/v1/TaskService' },
        });
      }
      expect(server.requests.map((r) => r.auth)).toEqual(['none', 'none', 'none']);
    });

    it("'basic-only' has no SessionService: not in the root, 404 for it and for logins", async () => {
      const server = await start({ auth: 'basic-only' });
      const root = await call(server, 'GET', '/redfish/v1/', { as: null });
      expect(root.body).not.toHaveProperty('SessionService');
      expect(root.body).toMatchObject({ Links: {} });
      expect(root.body).not.toHaveProperty('Links.Sessions');
      expect((await call(server, 'GET', '/redfish/v1/SessionService')).status).toBe(404);
      const denied = await call(server, 'POST', SESSIONS, { as: null, body: { UserName: admin.username, Password: admin.password } });
      expect(denied.status).toBe(404);
      expect(messageId(denied)).toBe('Base.1.8.ResourceNotFound');
      expect((await call(server, 'GET', SYSTEM)).status).toBe(200);
    });

    it('unusual paths: the links lead to ComputerSystems, AccountService/Auth/Sessions and Oem/Reset; the usual ones are 404', async () => {
      const server = await start({ unusualPaths: true });
      const root = await call(server, 'GET', '/redfish/v1/', { as: null });
      expect(root.body).toMatchObject({
        Systems: { '@odata.id': '/redfish/v1/ComputerSystems' },
        SessionService: { '@odata.id': '/redfish/v1/SessionService' },
        Links: { Sessions: { '@odata.id': '/redfish/v1/AccountService/Auth/Sessions' } },
      });
      const service = await call(server, 'GET', '/redfish/v1/SessionService');
      expect(service.body).toMatchObject({ Sessions: { '@odata.id': '/redfish/v1/AccountService/Auth/Sessions' } });
      const system = await call(server, 'GET', '/redfish/v1/ComputerSystems/1');
      expect(system.body).toMatchObject({ Actions: { '#ComputerSystem.Reset': { target: '/redfish/v1/ComputerSystems/1/Actions/Oem/Reset' } } });
      expect((await call(server, 'GET', '/redfish/v1/Systems')).status).toBe(404);
      expect((await call(server, 'GET', SYSTEM)).status).toBe(404);
      expect((await reset(server, 'ForceOff')).status).toBe(404);
      expect((await call(server, 'POST', SESSIONS, { as: null, body: { UserName: admin.username, Password: admin.password } })).status).toBe(404);
      const accepted = await call(server, 'POST', '/redfish/v1/ComputerSystems/1/Actions/Oem/Reset', { body: { ResetType: 'ForceOff' } });
      expect(accepted.status).toBe(204);
      const session = await call(server, 'POST', '/redfish/v1/AccountService/Auth/Sessions', {
        as: null,
        body: { UserName: admin.username, Password: admin.password },
      });
      expect(session.headers.get('location')).toBe('/redfish/v1/AccountService/Auth/Sessions/1');
    });
  });

  describe('authentication', () => {
    it('401 without or with wrong credentials, with WWW-Authenticate when Basic is allowed; records no secret', async () => {
      const server = await start();
      const none = await call(server, 'GET', SYSTEM, { as: null });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="/);
      expect(messageId(none)).toBe('Base.1.8.NoValidSession');
      const wrong = await call(server, 'GET', SYSTEM, { as: { username: 'admin', password: 'nope' } });
      expect(wrong.status).toBe(401);
      expect(messageId(wrong)).toBe('Base.1.8.ResourceAtUriUnauthorized');
      const token = await call(server, 'GET', SYSTEM, { as: { token: 'not-a-token' } });
      expect(token.status).toBe(401);
      expect(server.requests.map((r) => [r.auth, r.user, r.status])).toEqual([
        ['none', undefined, 401],
        ['bad', undefined, 401],
        ['bad', undefined, 401],
      ]);
      expect(JSON.stringify(server.requests)).not.toContain('nope');
    });

    it("'session-only' refuses valid Basic credentials with 401 and no WWW-Authenticate", async () => {
      const server = await start({ auth: 'session-only' });
      const refused = await call(server, 'GET', SYSTEM);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBeNull();
      expect(server.requests[0]).toMatchObject({ auth: 'bad', user: undefined });
      const { token } = await login(server);
      expect((await call(server, 'GET', SYSTEM, { as: { token } })).status).toBe(200);
      expect(server.requests.at(-1)).toMatchObject({ auth: 'session', user: 'admin' });
    });

    it("'basic-only' knows no tokens", async () => {
      const server = await start({ auth: 'basic-only' });
      expect((await call(server, 'GET', SYSTEM, { as: { token: 'x' } })).status).toBe(401);
      expect((await call(server, 'GET', SYSTEM)).status).toBe(200);
    });
  });

  describe('sessions', () => {
    it('login, use, list, delete; the token is dead afterwards; the password is never recorded', async () => {
      const server = await start();
      const answer = await call(server, 'POST', SESSIONS, { as: null, body: { UserName: operator.username, Password: operator.password } });
      expect(answer.status).toBe(201);
      expect(answer.headers.get('location')).toBe(`${SESSIONS}/1`);
      expect(answer.body).toMatchObject({ '@odata.id': `${SESSIONS}/1`, '@odata.type': '#Session.v1_3_0.Session', Id: '1', UserName: 'operator' });
      const token = answer.headers.get('x-auth-token') ?? '';
      expect(token).toMatch(/^[0-9a-f]{32}$/);
      expect(server.requests[0]).toMatchObject({ auth: 'none', user: 'operator', body: { UserName: 'operator', Password: '***' }, status: 201 });

      expect(await call(server, 'GET', SESSIONS, { as: { token } })).toMatchObject({
        status: 200,
        body: { Members: [{ '@odata.id': `${SESSIONS}/1` }], 'Members@odata.count': 1 },
      });
      expect((await call(server, 'GET', '/redfish/v1/SessionService', { as: { token } })).body).toMatchObject({
        ServiceEnabled: true,
        SessionTimeout: 1800,
        Sessions: { '@odata.id': SESSIONS },
      });
      expect(server.sessions()).toEqual({ created: 1, deleted: 0, open: ['1'] });
      expect((await call(server, 'DELETE', `${SESSIONS}/1`, { as: { token } })).status).toBe(204);
      expect(server.sessions()).toEqual({ created: 1, deleted: 1, open: [] });
      expect((await call(server, 'GET', SYSTEM, { as: { token } })).status).toBe(401);
      expect((await call(server, 'DELETE', `${SESSIONS}/1`)).status).toBe(404);
      expect(JSON.stringify(server.requests)).not.toContain(operator.password);
      expect(JSON.stringify(server.requests)).not.toContain(token);
    });

    it('a session can be deleted with Basic auth too; absolute Locations with absoluteLocation', async () => {
      const server = await start({ absoluteLocation: true });
      const { location } = await login(server);
      expect(location).toBe(`${server.url}${SESSIONS}/1`);
      expect((await call(server, 'DELETE', new URL(location).pathname)).status).toBe(204);
    });

    it('wrong credentials 401, missing ones 400, over the limit 503 SessionLimitExceeded', async () => {
      const server = await start({ sessionLimit: 2 });
      const wrong = await call(server, 'POST', SESSIONS, { as: null, body: { UserName: 'admin', Password: 'x' } });
      expect(wrong.status).toBe(401);
      const missingPassword = await call(server, 'POST', SESSIONS, { as: null, body: { UserName: 'admin' } });
      expect(missingPassword.status).toBe(400);
      await login(server);
      await login(server, viewer);
      const over = await call(server, 'POST', SESSIONS, { as: null, body: { UserName: 'admin', Password: admin.password } });
      expect(over.status).toBe(503);
      expect(messageId(over)).toBe('Base.1.8.SessionLimitExceeded');
      server.setOptions({ sessionLimit: 3 });
      await login(server);
      expect(server.sessions()).toEqual({ created: 3, deleted: 0, open: ['1', '2', '3'] });
    });
  });

  describe('systems', () => {
    it('the collection and the system, with ETag and @odata.etag, Boot, Status and inline AllowableValues', async () => {
      const server = await start({ systems: ['System.Embedded.1'] });
      const collection = await call(server, 'GET', '/redfish/v1/Systems');
      expect(collection.body).toMatchObject({
        Members: [{ '@odata.id': '/redfish/v1/Systems/System.Embedded.1' }],
        'Members@odata.count': 1,
      });
      const system = await call(server, 'GET', '/redfish/v1/Systems/System.Embedded.1');
      expect(system.body).toMatchObject({
        '@odata.type': '#ComputerSystem.v1_10_0.ComputerSystem',
        Id: 'System.Embedded.1',
        PowerState: 'On',
        Status: { State: 'Enabled', Health: 'OK' },
        Actions: {
          '#ComputerSystem.Reset': {
            target: '/redfish/v1/Systems/System.Embedded.1/Actions/ComputerSystem.Reset',
            'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'PushPowerButton', 'PowerCycle'],
          },
        },
      });
      const etag = system.headers.get('etag');
      expect(etag).toMatch(/^W\/"[0-9a-f]+"$/);
      expect(system.body).toMatchObject({ '@odata.etag': etag });
      server.setPower('Off');
      expect((await call(server, 'GET', '/redfish/v1/Systems/System.Embedded.1')).headers.get('etag')).not.toBe(etag);
    });

    it("'action-info' links an ActionInfo resource; 'absent' lists nothing; resetAction false has no action", async () => {
      const server = await start({ allowedValues: 'action-info', resetTypes: ['On', 'ForceOff'] });
      const system = await call(server, 'GET', SYSTEM);
      expect(system.body).toMatchObject({ Actions: { '#ComputerSystem.Reset': { target: RESET, '@Redfish.ActionInfo': `${SYSTEM}/ResetActionInfo` } } });
      expect(await call(server, 'GET', `${SYSTEM}/ResetActionInfo`)).toMatchObject({
        status: 200,
        body: {
          '@odata.type': '#ActionInfo.v1_1_2.ActionInfo',
          Parameters: [{ Name: 'ResetType', Required: true, DataType: 'String', AllowableValues: ['On', 'ForceOff'] }],
        },
      });

      server.setOptions({ allowedValues: 'absent' });
      const absent = await call(server, 'GET', SYSTEM);
      expect((absent.body as { Actions: unknown }).Actions).toEqual({ '#ComputerSystem.Reset': { target: RESET } });
      expect((await call(server, 'GET', `${SYSTEM}/ResetActionInfo`)).status).toBe(404);

      server.setOptions({ resetAction: false });
      expect((await call(server, 'GET', SYSTEM)).body).toMatchObject({ Actions: {} });
      expect((await reset(server, 'ForceOff')).status).toBe(404);
      expect(server.power()).toBe('On');
    });

    it('several systems with their own power states', async () => {
      const server = await start({ systems: ['1', '2'], initialPower: 'Off' });
      expect((await call(server, 'POST', '/redfish/v1/Systems/2/Actions/ComputerSystem.Reset', { body: { ResetType: 'On' } })).status).toBe(204);
      expect([server.power('1'), server.power('2'), server.power()]).toEqual(['Off', 'On', 'Off']);
      expect(server.resets).toEqual([{ system: '2', resetType: 'On', user: 'admin' }]);
      expect(() => server.power('3')).toThrow(/no system 3/);
    });
  });

  describe('the reset action', () => {
    it('checks in order: auth, privilege, If-Match, known value, supported value, power state', async () => {
      const server = await start({ rejectIfMatch: true });
      expect((await reset(server, 'Explode', null)).status).toBe(401);
      const readOnly = await reset(server, 'Explode', viewer, { 'If-Match': '"x"' });
      expect([readOnly.status, messageId(readOnly)]).toEqual([403, 'Base.1.8.InsufficientPrivilege']);
      const ifMatch = await reset(server, 'Explode', operator, { 'If-Match': '"x"' });
      expect([ifMatch.status, messageId(ifMatch)]).toEqual([412, 'Base.1.8.PreconditionFailed']);
      const unknown = await reset(server, 'Explode', operator);
      expect([unknown.status, messageId(unknown)]).toEqual([400, 'Base.1.8.PropertyValueNotInList']);
      const unsupported = await reset(server, 'ForceOn', operator);
      expect([unsupported.status, messageId(unsupported)]).toEqual([400, 'Base.1.8.ActionParameterNotSupported']);
      const redundant = await reset(server, 'On', operator);
      expect(redundant.status).toBe(409);
      expect(JSON.stringify(redundant.body)).toContain('Server is already powered ON.');
      expect((await call(server, 'POST', RESET, { body: '{"ResetType":' })).status).toBe(400);
      expect((await call(server, 'POST', RESET, { body: {} })).status).toBe(400);
      expect((await call(server, 'GET', RESET)).status).toBe(405);
      expect(server.resets).toEqual([]);
      expect(server.requests.map((r) => r.ifMatch)).toEqual([undefined, '"x"', '"x"', undefined, undefined, undefined, undefined, undefined, undefined]);
      expect((await reset(server, 'ForceOff', operator)).status).toBe(204);
      expect(server.resets).toEqual([{ system: '1', resetType: 'ForceOff', user: 'operator' }]);
    });

    it('strictState refuses what iDRAC refuses while off; without it everything is accepted', async () => {
      const server = await start({ initialPower: 'Off' });
      for (const type of ['ForceOff', 'GracefulShutdown', 'ForceRestart', 'GracefulRestart', 'PowerCycle', 'Nmi']) {
        expect((await reset(server, type)).status, type).toBe(409);
      }
      expect(JSON.stringify((await reset(server, 'ForceOff')).body)).toContain('Server is already powered OFF.');
      expect(server.resets).toEqual([]);
      server.setOptions({ strictState: false });
      expect((await reset(server, 'ForceOff')).status).toBe(204);
      expect((await reset(server, 'ForceRestart')).status).toBe(204);
      expect(server.power()).toBe('On');
      expect((await reset(server, 'On')).status).toBe(204);
    });

    it('the effect of every reset type', async () => {
      const server = await start({ strictState: false, resetTypes: ['On', 'ForceOn', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'PowerCycle', 'PushPowerButton', 'Nmi'] });
      const effects: [string, string][] = [];
      for (const [from, type] of [
        ['Off', 'On'],
        ['Off', 'ForceOn'],
        ['On', 'ForceOff'],
        ['On', 'GracefulShutdown'],
        ['Off', 'GracefulRestart'],
        ['On', 'ForceRestart'],
        ['Off', 'PowerCycle'],
        ['On', 'PushPowerButton'],
        ['Off', 'PushPowerButton'],
        ['On', 'Nmi'],
      ] as const) {
        server.setPower(from);
        expect((await reset(server, type)).status).toBe(204);
        effects.push([`${from} ${type}`, server.power()]);
      }
      expect(effects).toEqual([
        ['Off On', 'On'],
        ['Off ForceOn', 'On'],
        ['On ForceOff', 'Off'],
        ['On GracefulShutdown', 'Off'],
        ['Off GracefulRestart', 'On'],
        ['On ForceRestart', 'On'],
        ['Off PowerCycle', 'On'],
        ['On PushPowerButton', 'Off'],
        ['Off PushPowerButton', 'On'],
        ['On Nmi', 'On'],
      ]);
      expect(server.resets).toHaveLength(10);
    });

    it('actionResponse 200 answers a Success message', async () => {
      const server = await start({ actionResponse: 200 });
      const answer = await reset(server, 'ForceOff');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ '@Message.ExtendedInfo': [{ MessageId: 'Base.1.8.Success' }] });
      expect(server.power()).toBe('Off');
    });

    it('actionResponse 202: a task monitor answers 202 with Retry-After taskPolls times, then completes and the power changes', async () => {
      const server = await start({ actionResponse: 202, taskPolls: 2, retryAfterSeconds: 3 });
      const accepted = await reset(server, 'ForceOff');
      expect(accepted.status).toBe(202);
      expect(accepted.headers.get('location')).toBe('/redfish/v1/TaskService/TaskMonitors/1');
      expect(accepted.headers.get('retry-after')).toBe('3');
      expect(accepted.body).toMatchObject({
        '@odata.id': '/redfish/v1/TaskService/Tasks/1',
        '@odata.type': '#Task.v1_4_3.Task',
        TaskState: 'Running',
        TaskMonitor: '/redfish/v1/TaskService/TaskMonitors/1',
      });
      expect(server.resets).toEqual([{ system: '1', resetType: 'ForceOff', user: 'admin' }]);
      for (let i = 0; i < 2; i++) {
        const running = await call(server, 'GET', '/redfish/v1/TaskService/TaskMonitors/1');
        expect([running.status, running.headers.get('retry-after')]).toEqual([202, '3']);
        expect(running.body).toMatchObject({ TaskState: 'Running' });
        expect(server.power()).toBe('On');
      }
      const done = await call(server, 'GET', '/redfish/v1/TaskService/TaskMonitors/1');
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ TaskState: 'Completed', TaskStatus: 'OK', PercentComplete: 100 });
      expect(server.power()).toBe('Off');
      expect((await call(server, 'GET', '/redfish/v1/TaskService/Tasks/1')).body).toMatchObject({ TaskState: 'Completed' });
      expect((await call(server, 'GET', '/redfish/v1/TaskService/Tasks')).body).toMatchObject({ 'Members@odata.count': 1 });
      expect((await call(server, 'GET', '/redfish/v1/TaskService/TaskMonitors/1', { as: null })).status).toBe(401);
    });

    it("taskOutcome 'exception' ends the task in Exception and leaves the power alone; absolute monitor Location", async () => {
      const server = await start({ actionResponse: 202, taskPolls: 0, taskOutcome: 'exception', absoluteLocation: true });
      const accepted = await reset(server, 'ForceOff');
      expect(accepted.headers.get('location')).toBe(`${server.url}/redfish/v1/TaskService/TaskMonitors/1`);
      const done = await call(server, 'GET', '/redfish/v1/TaskService/TaskMonitors/1');
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ TaskState: 'Exception', TaskStatus: 'Critical', Messages: [{ Severity: 'Critical' }] });
      expect(server.power()).toBe('On');
    });

    it('stateLagReads: n GETs show the old state, one the transition, then the new state', async () => {
      const server = await start({ stateLagReads: 2 });
      expect((await reset(server, 'ForceOff')).status).toBe(204);
      expect(server.power()).toBe('Off');
      const shown = [];
      for (let i = 0; i < 5; i++) shown.push(await powerState(server));
      expect(shown).toEqual(['On', 'On', 'PoweringOff', 'Off', 'Off']);
      await reset(server, 'On');
      const again = [];
      for (let i = 0; i < 4; i++) again.push(await powerState(server));
      expect(again).toEqual(['Off', 'Off', 'PoweringOn', 'On']);
      server.setOptions({ stateLagReads: 0 });
      await reset(server, 'ForceOff');
      expect(await powerState(server)).toBe('Off');
    });

    it('stateLagReads Infinity: the old state for ever, though the power changed (a wait that never ends)', async () => {
      const server = await start({ stateLagReads: Infinity });
      expect((await reset(server, 'ForceOff')).status).toBe(204);
      expect(server.power()).toBe('Off');
      const shown = [];
      for (let i = 0; i < 20; i++) shown.push(await powerState(server));
      expect(new Set(shown)).toEqual(new Set(['On']));
      server.setPower('Off');
      expect(await powerState(server)).toBe('Off');
    });

    it('powerStateProperty false: no PowerState on the system, whose power resets still change and strictState still checks', async () => {
      const server = await start({ powerStateProperty: false });
      const system = await call(server, 'GET', SYSTEM);
      expect(system.status).toBe(200);
      expect(system.body).not.toHaveProperty('PowerState');
      expect(system.body).toMatchObject({ Id: '1', Actions: { '#ComputerSystem.Reset': { target: RESET } } });
      expect((await reset(server, 'ForceOff')).status).toBe(204);
      expect(server.power()).toBe('Off');
      expect((await reset(server, 'ForceOff')).status).toBe(409);
      expect((await reset(server, 'PowerCycle')).status).toBe(409);
      expect((await reset(server, 'On')).status).toBe(204);
      expect(server.power()).toBe('On');
      server.setOptions({ powerStateProperty: true });
      expect(await powerState(server)).toBe('On');
    });
  });

  describe('faults', () => {
    it('status with a MessageId, matched by method and path, for `times` requests', async () => {
      const server = await start({
        faults: [{ method: 'post', path: RESET, status: 400, messageId: 'Base.1.8.PropertyValueNotInList', times: 1 }],
      });
      expect((await call(server, 'GET', SYSTEM)).status).toBe(200);
      const failed = await reset(server, 'ForceOff');
      expect([failed.status, messageId(failed)]).toEqual([400, 'Base.1.8.PropertyValueNotInList']);
      expect(server.power()).toBe('On');
      expect((await reset(server, 'ForceOff')).status).toBe(204);
      expect(server.requests.map((r) => r.status)).toEqual([200, 400, 204]);
    });

    it('a RegExp path, a default MessageId per status, first match wins, setOptions restarts the counts', async () => {
      const server = await start({ faults: [{ path: /^\/redfish\/v1\/Systems/, status: 503, times: 1 }, { status: 500 }] });
      const first = await call(server, 'GET', SYSTEM);
      expect([first.status, messageId(first)]).toEqual([503, 'Base.1.8.ServiceTemporarilyUnavailable']);
      expect((await call(server, 'GET', SYSTEM)).status).toBe(500);
      server.setOptions({ faults: [{ path: SYSTEM, status: 404, times: 1 }] });
      expect((await call(server, 'GET', `${SYSTEM}/`)).status).toBe(404);
      expect((await call(server, 'GET', SYSTEM)).status).toBe(200);
      server.setOptions({ faults: [] });
      expect((await call(server, 'GET', SYSTEM)).status).toBe(200);
    });

    it('delayMs delays the normal answer; Infinity never answers; drop destroys the socket', async () => {
      const server = await start({ faults: [{ path: SYSTEM, delayMs: 150, times: 1 }] });
      const began = Date.now();
      expect((await call(server, 'GET', SYSTEM)).status).toBe(200);
      expect(Date.now() - began).toBeGreaterThanOrEqual(140);

      server.setOptions({ faults: [{ path: SYSTEM, delayMs: Infinity, times: 1 }] });
      await expect(call(server, 'GET', SYSTEM, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
      expect(server.requests.at(-1)).toMatchObject({ path: SYSTEM, status: 0 });

      server.setOptions({ faults: [{ method: 'POST', drop: true }] });
      await expect(reset(server, 'ForceOff')).rejects.toThrow();
      expect(server.requests.at(-1)).toMatchObject({ method: 'POST', status: 0, body: { ResetType: 'ForceOff' } });
      expect(server.power()).toBe('On');
    });

    it('close() ends a request that is never answered', async () => {
      const server = await start({ faults: [{ delayMs: Infinity }] });
      const pending = call(server, 'GET', SYSTEM);
      const outcome = pending.then(
        () => 'answered',
        () => 'failed',
      );
      while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      await server.close();
      expect(await outcome).toBe('failed');
    });
  });

  describe('the request log', () => {
    it('lines(), clear() and what a request carried', async () => {
      const server = await start();
      const { token } = await login(server, operator);
      await call(server, 'GET', `${SYSTEM}?$select=PowerState`, { as: { token } });
      await reset(server, 'ForceOff', operator, { 'If-Match': 'W/"abc"' });
      expect(server.lines()).toEqual([`POST ${SESSIONS}`, `GET ${SYSTEM}?$select=PowerState`, `POST ${RESET}`]);
      expect(server.requests.slice(1)).toEqual([
        { method: 'GET', path: `${SYSTEM}?$select=PowerState`, auth: 'session', user: 'operator', ifMatch: undefined, body: undefined, status: 200 },
        { method: 'POST', path: RESET, auth: 'basic', user: 'operator', ifMatch: 'W/"abc"', body: { ResetType: 'ForceOff' }, status: 204 },
      ]);
      server.clear();
      expect([server.requests, server.resets, server.lines()]).toEqual([[], [], []]);
      expect(server.sessions().open).toEqual(['1']);
    });
  });
});

const skipTls = missing({ tools: ['openssl'] });

describe.skipIf(skipTls !== undefined)('Redfish test server over HTTPS' + (skipTls ? ` (skipped: ${skipTls})` : ''), () => {
  it('serves the certificate from makeCertificate, which verifies for 127.0.0.1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-redfish-tls-'));
    try {
      const certificate = await makeCertificate(dir);
      expect(certificate.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const server = await start({ tls: { key: certificate.key, cert: certificate.cert } });
      expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
      const { status, fingerprint, body } = await new Promise<{ status: number; fingerprint: string; body: string }>((resolve, reject) => {
        const req = httpsRequest(`${server.url}/redfish/v1/`, { ca: certificate.cert }, (res) => {
          const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint, body: text }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(fingerprint).toBe(certificate.fingerprint256);
      expect(JSON.parse(body)).toMatchObject({ '@odata.id': '/redfish/v1/' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
