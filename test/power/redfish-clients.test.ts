/**
 * The Redfish test server (support/redfish-server.ts) against two independent real clients, so it
 * stays a faithful model of a BMC: DMTF's `redfishtool` CLI and OpenStack's `sushy` library (run by
 * Debian's /usr/bin/python3), each over HTTP and HTTPS with Basic and session authentication. Every
 * case reads a PowerState the test set, resets, and reads again, so a client or server that ignored
 * the state would fail; a few more cases drive the switches (tasks, ActionInfo, unusual URIs,
 * absolute Locations, several systems, 409) through the clients.
 *
 * redfishtool never verifies TLS certificates (it passes `verify=False` to requests whatever `-S`
 * says), so only sushy proves the certificate; its case with the system CAs shows it really checks.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/prerequisites.js';
import { makeCertificate } from './support/certificate.js';
import type { Certificate } from './support/certificate.js';
import { REDFISH_USERS, startRedfishServer } from './support/redfish-server.js';
import type { RedfishPowerState, RedfishServer, RedfishServerOptions } from './support/redfish-server.js';

const skip = missing({ tools: ['redfishtool', 'openssl'], python3Modules: ['sushy'] });
const { admin, operator } = REDFISH_USERS;

type Transport = 'http' | 'https';
type Auth = 'basic' | 'session';

/** What a client run ended with. */
interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of the Python clients: no CA bundle override (requests lets REQUESTS_CA_BUNDLE or
 * CURL_CA_BUNDLE win over sushy's `verify=<path>`), no proxy, no foreign Python path.
 */
function clientEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of [
    'REQUESTS_CA_BUNDLE',
    'CURL_CA_BUNDLE',
    'http_proxy',
    'https_proxy',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'all_proxy',
    'ALL_PROXY',
    'PYTHONPATH',
    'PYTHONHOME',
  ]) {
    delete env[name];
  }
  return env;
}

/** Runs a client (30 s at most), never throwing for its exit status. */
function run(file: string, args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000, env: clientEnv(), maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr: error !== null && code === -1 ? `${stderr}\n${error.message}` : stderr });
    });
  });
}

/** A failure message with everything needed to see why a client run went wrong. */
function explain(what: string, outcome: Outcome, server: RedfishServer): string {
  return [
    `${what}: exit ${outcome.code}`,
    `stdout: ${outcome.stdout}`,
    `stderr: ${outcome.stderr}`,
    'requests:',
    ...server.requests.map((r) => `  ${r.status} ${r.method} ${r.path} (${r.auth})`),
  ].join('\n');
}

/** Runs redfishtool with the scheme and authentication of the case and expects exit status 0. */
async function redfishtool(
  server: RedfishServer,
  auth: Auth,
  args: readonly string[],
  user: { readonly username: string; readonly password: string } = admin,
): Promise<Outcome> {
  const outcome = await redfishtoolOutcome(server, auth, args, user);
  expect(outcome.code, explain(`redfishtool ${args.join(' ')}`, outcome, server)).toBe(0);
  return outcome;
}

function redfishtoolOutcome(
  server: RedfishServer,
  auth: Auth,
  args: readonly string[],
  user: { readonly username: string; readonly password: string } = admin,
): Promise<Outcome> {
  const https = server.url.startsWith('https:');
  return run('redfishtool', [
    '-r',
    `127.0.0.1:${server.port}`,
    '-S',
    https ? 'Always' : 'Never',
    '-A',
    auth === 'basic' ? 'Basic' : 'Session',
    '-u',
    user.username,
    '-p',
    user.password,
    '-T',
    '10',
    ...args,
  ]);
}

/**
 * The sushy script: reads a system's PowerState and its allowed reset types, optionally resets it
 * and reads again (after `refresh()`), and prints one JSON object. Sessions are closed (DELETE) by
 * leaving the `with` block of the auth object, the only way sushy 4.3 reliably deletes its session.
 */
const SUSHY_SCRIPT = `
import json, sys
import sushy
from sushy import auth as sushy_auth

cfg = json.loads(sys.argv[1])
Auth = sushy_auth.SessionAuth if cfg['auth'] == 'session' else sushy_auth.BasicAuth
out = {}
with Auth(username=cfg['username'], password=cfg['password']) as auth:
    root = sushy.Sushy(cfg['url'], auth=auth, verify=cfg['verify'])
    system = root.get_system(cfg.get('system'))
    out['identity'] = system.identity
    out['before'] = system.power_state.value if system.power_state else None
    out['allowed'] = sorted(v.value for v in system.get_allowed_reset_system_values())
    if cfg.get('reset'):
        try:
            system.reset_system(sushy.ResetType(cfg['reset']))
        except sushy.exceptions.HTTPError as e:
            out['error'] = {'status': e.status_code, 'text': str(e)}
        except sushy.exceptions.InvalidParameterValueError as e:
            out['refused'] = str(e)
        system.refresh()
        out['after'] = system.power_state.value if system.power_state else None
print(json.dumps(out))
`;

interface SushyResult {
  readonly identity: string;
  readonly before: string | null;
  readonly allowed: string[];
  readonly after?: string | null;
  readonly error?: { readonly status: number; readonly text: string };
  readonly refused?: string;
}

async function sushyOutcome(
  server: RedfishServer,
  config: { auth: Auth; verify: string | boolean; system?: string; reset?: string; username?: string; password?: string },
): Promise<Outcome> {
  const cfg = { url: server.url, username: admin.username, password: admin.password, ...config };
  return run('/usr/bin/python3', ['-c', SUSHY_SCRIPT, JSON.stringify(cfg)]);
}

async function sushy(
  server: RedfishServer,
  config: { auth: Auth; verify: string | boolean; system?: string; reset?: string; username?: string; password?: string },
): Promise<SushyResult> {
  const outcome = await sushyOutcome(server, config);
  expect(outcome.code, explain('sushy', outcome, server)).toBe(0);
  return JSON.parse(outcome.stdout) as SushyResult;
}

/** Per case: the state the test sets, the reset, and the state that must follow. Each changes the state. */
const CASES: readonly { transport: Transport; auth: Auth; initial: RedfishPowerState; reset: string; after: RedfishPowerState }[] = [
  { transport: 'http', auth: 'basic', initial: 'Off', reset: 'On', after: 'On' },
  { transport: 'http', auth: 'session', initial: 'On', reset: 'ForceOff', after: 'Off' },
  { transport: 'https', auth: 'basic', initial: 'On', reset: 'GracefulShutdown', after: 'Off' },
  { transport: 'https', auth: 'session', initial: 'Off', reset: 'PushPowerButton', after: 'On' },
];

// A hung client is killed after 30 s (with its output and the server's log in the failure); a case
// runs up to three clients, so it gets more than vitest's default 30 s.
describe.skipIf(skip !== undefined)('Redfish test server with redfishtool and sushy' + (skip ? ` (skipped: ${skip})` : ''), { timeout: 120_000 }, () => {
  let scratch: string;
  let cert: Certificate;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'dw-redfish-'));
    cert = await makeCertificate(scratch);
  });
  afterAll(async () => {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  async function withServer(
    transport: Transport,
    options: RedfishServerOptions,
    body: (server: RedfishServer) => Promise<void>,
  ): Promise<void> {
    const server = await startRedfishServer({ ...options, ...(transport === 'https' ? { tls: { key: cert.key, cert: cert.cert } } : {}) });
    try {
      await body(server);
    } finally {
      await server.close();
    }
  }

  /** Every authenticated request carried the case's credentials, and none was refused. */
  function expectAuthUsed(server: RedfishServer, auth: Auth): void {
    const carried = new Set(server.requests.map((r) => r.auth));
    carried.delete('none');
    expect([...carried]).toEqual([auth]);
    expect(server.requests.filter((r) => r.status === 401 || r.status === 403)).toEqual([]);
  }

  describe('redfishtool', () => {
    for (const c of CASES) {
      it(`${c.transport}, ${c.auth} auth: reads PowerState ${c.initial}, resets ${c.reset}, reads ${c.after}`, async () => {
        await withServer(c.transport, {}, async (server) => {
          server.setPower(c.initial);
          const before = await redfishtool(server, c.auth, ['-P', 'PowerState', 'Systems', 'get']);
          expect(JSON.parse(before.stdout)).toEqual({ PowerState: c.initial });

          await redfishtool(server, c.auth, ['Systems', 'reset', c.reset]);
          expect(server.resets).toEqual([{ system: '1', resetType: c.reset, user: admin.username }]);
          expect(server.power()).toBe(c.after);
          const post = server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Actions/ComputerSystem.Reset'));
          expect(post.map((r) => [r.path, r.body, r.status])).toEqual([
            ['/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: c.reset }, 204],
          ]);

          const after = await redfishtool(server, c.auth, ['-P', 'PowerState', 'Systems', 'get']);
          expect(JSON.parse(after.stdout)).toEqual({ PowerState: c.after });

          expectAuthUsed(server, c.auth);
          // redfishtool logs in per run and deletes its session at the end of each run.
          expect(server.sessions()).toEqual(c.auth === 'session' ? { created: 3, deleted: 3, open: [] } : { created: 0, deleted: 0, open: [] });
          if (c.auth === 'session') {
            const logins = server.requests.filter((r) => r.method === 'POST' && r.path === '/redfish/v1/SessionService/Sessions');
            expect(logins.map((r) => [r.body, r.status])).toEqual(
              Array.from({ length: 3 }, () => [{ UserName: admin.username, Password: '***' }, 201]),
            );
          }
        });
      });
    }

    it('follows links to unusual URIs, reads ActionInfo, picks a system with -I and waits for a 202 task', async () => {
      await withServer(
        'http',
        {
          systems: ['1', '2'],
          unusualPaths: true,
          absoluteLocation: true,
          allowedValues: 'action-info',
          resetTypes: ['On', 'ForceOff', 'ForceRestart'],
          actionResponse: 202,
          taskPolls: 2,
          retryAfterSeconds: 0,
        },
        async (server) => {
          await redfishtool(server, 'session', ['-I', '2', 'Systems', 'reset', 'ForceOff'], operator);
          expect(server.power('2')).toBe('Off');
          expect(server.power('1')).toBe('On');
          expect(server.resets).toEqual([{ system: '2', resetType: 'ForceOff', user: operator.username }]);
          expect(server.lines().filter((l) => l.includes('TaskMonitors'))).toEqual(
            Array.from({ length: 3 }, () => 'GET /redfish/v1/TaskService/TaskMonitors/1'),
          );
          expect(server.requests.filter((r) => r.path.includes('TaskMonitors')).map((r) => r.status)).toEqual([202, 202, 200]);
          expect(server.lines()).toContain('GET /redfish/v1/ComputerSystems/2/ResetActionInfo');
          expect(server.lines()).toContain('POST /redfish/v1/ComputerSystems/2/Actions/Oem/Reset');
          expect(server.lines()).toContain('DELETE /redfish/v1/AccountService/Auth/Sessions/1');
          expect(server.sessions()).toEqual({ created: 1, deleted: 1, open: [] });

          // GracefulRestart is not in the ActionInfo's AllowableValues: redfishtool refuses it itself.
          server.clear();
          const refused = await redfishtoolOutcome(server, 'basic', ['-I', '2', 'Systems', 'reset', 'GracefulRestart'], operator);
          expect(refused.code).toBe(8);
          expect(refused.stderr).toContain('not supported by the remote service (via @Redfish.ActionInfo)');
          expect(server.requests.filter((r) => r.method === 'POST')).toEqual([]);
        },
      );
    });

    it('fails on a redundant reset the server refuses with 409', async () => {
      await withServer('http', { initialPower: 'Off' }, async (server) => {
        const outcome = await redfishtoolOutcome(server, 'basic', ['Systems', 'reset', 'ForceOff']);
        expect(outcome.code).toBe(5);
        expect(outcome.stderr).toContain('status_code: 409');
        expect(server.resets).toEqual([]);
      });
    });
  });

  describe('sushy', () => {
    for (const c of CASES) {
      it(`${c.transport}, ${c.auth} auth: reads PowerState ${c.initial}, resets ${c.reset}, reads ${c.after}`, async () => {
        await withServer(c.transport, {}, async (server) => {
          server.setPower(c.initial);
          const result = await sushy(server, { auth: c.auth, verify: c.transport === 'https' ? cert.certPath : true, reset: c.reset });
          expect(result).toEqual({
            identity: '1',
            before: c.initial,
            allowed: ['ForceOff', 'ForceRestart', 'GracefulRestart', 'GracefulShutdown', 'Nmi', 'On', 'PowerCycle', 'PushPowerButton'],
            after: c.after,
          });
          expect(server.resets).toEqual([{ system: '1', resetType: c.reset, user: admin.username }]);
          expect(server.power()).toBe(c.after);
          expectAuthUsed(server, c.auth);
          // sushy deletes its session when its auth object is closed (here: leaving the with block).
          expect(server.sessions()).toEqual(c.auth === 'session' ? { created: 1, deleted: 1, open: [] } : { created: 0, deleted: 0, open: [] });
          if (c.auth === 'session') expect(server.lines()).toContain('DELETE /redfish/v1/SessionService/Sessions/1');
        });
      });
    }

    it('verifies the certificate: with only the system CAs it refuses the HTTPS server', async () => {
      await withServer('https', {}, async (server) => {
        const outcome = await sushyOutcome(server, { auth: 'basic', verify: true });
        expect(outcome.code).not.toBe(0);
        expect(outcome.stderr).toContain('CERTIFICATE_VERIFY_FAILED');
        expect(server.requests).toEqual([]);
      });
    });

    it('follows links to unusual URIs and an absolute session Location, on the second of two systems', async () => {
      await withServer(
        'http',
        { systems: ['1', '2'], unusualPaths: true, absoluteLocation: true, resetTypes: ['On', 'ForceOff'], initialPower: 'Off' },
        async (server) => {
          const result = await sushy(server, {
            auth: 'session',
            verify: true,
            system: '/redfish/v1/ComputerSystems/2',
            reset: 'On',
            username: operator.username,
            password: operator.password,
          });
          // The inline AllowableValues are what sushy offers.
          expect(result).toEqual({ identity: '2', before: 'Off', allowed: ['ForceOff', 'On'], after: 'On' });
          expect(server.power('1')).toBe('Off');
          expect(server.lines()).toContain('POST /redfish/v1/AccountService/Auth/Sessions');
          expect(server.lines()).toContain('POST /redfish/v1/ComputerSystems/2/Actions/Oem/Reset');
          expect(server.lines()).toContain('DELETE /redfish/v1/AccountService/Auth/Sessions/1');
          expect(server.sessions()).toEqual({ created: 1, deleted: 1, open: [] });

          // A type missing from AllowableValues: sushy refuses it before any POST.
          server.clear();
          const refused = await sushy(server, { auth: 'basic', verify: true, system: '/redfish/v1/ComputerSystems/2', reset: 'ForceRestart' });
          expect(refused.refused).toContain('ResetType.FORCE_RESTART" is invalid');
          expect(server.requests.filter((r) => r.method === 'POST')).toEqual([]);
        },
      );
    });

    it('reads the 409 of a redundant reset as an HTTPError carrying the BMC message', async () => {
      await withServer('http', { initialPower: 'Off' }, async (server) => {
        const result = await sushy(server, { auth: 'basic', verify: true, reset: 'GracefulShutdown' });
        expect(result.error?.status).toBe(409);
        expect(result.error?.text).toContain('Server is already powered OFF.');
        expect(result.after).toBe('Off');
        expect(server.resets).toEqual([]);
      });
    });
  });
});
