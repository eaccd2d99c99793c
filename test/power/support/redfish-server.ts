/**
 * An in-process Redfish service (DMTF DSP0266) on 127.0.0.1 for the tests of RedfishPowerController:
 * a BMC with one or more ComputerSystems whose power state it holds, Basic and session
 * authentication, the `#ComputerSystem.Reset` action answered 204, 200 or 202 with a task, and a
 * switch for each behaviour real BMCs (iDRAC, iLO, XCC, OpenBMC) differ in: where the allowed reset
 * types are listed, refusing redundant resets with 409, PowerState lagging behind a reset (or absent), If-Match
 * on actions, a session limit, absolute Location headers, unusual URIs, and injected faults.
 *
 * Zero dependencies (`node:http`/`node:https`). Every request is recorded, without the Authorization
 * header or any password. `test/power/redfish-clients.test.ts` keeps it honest against DMTF's
 * redfishtool and OpenStack's sushy; `test/power/redfish-server.test.ts` tests the switches.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';

/** The accounts the service knows, one per Redfish role. */
export const REDFISH_USERS = {
  admin: { username: 'admin', password: 'admin-pw-4711', role: 'Administrator' },
  operator: { username: 'operator', password: 'operator-pw', role: 'Operator' },
  viewer: { username: 'viewer', password: 'viewer-pw', role: 'ReadOnly' },
} as const;

type RedfishUser = (typeof REDFISH_USERS)[keyof typeof REDFISH_USERS];

/** A system's power state as the service holds it (the `PowerState` a GET shows may lag behind it). */
export type RedfishPowerState = 'On' | 'Off';

/** Every value of the Redfish `ResetType` enumeration (Resource schema); others get 400 PropertyValueNotInList. */
export const REDFISH_RESET_TYPE_VALUES: readonly string[] = [
  'On',
  'ForceOff',
  'GracefulShutdown',
  'GracefulRestart',
  'ForceRestart',
  'Nmi',
  'ForceOn',
  'PushPowerButton',
  'PowerCycle',
  'FullPowerCycle',
  'Suspend',
  'Pause',
  'Resume',
];

/** The reset types a system supports unless `resetTypes` says otherwise (iDRAC's list: no ForceOn). */
export const DEFAULT_RESET_TYPES: readonly string[] = [
  'On',
  'ForceOff',
  'GracefulShutdown',
  'GracefulRestart',
  'ForceRestart',
  'Nmi',
  'PushPowerButton',
  'PowerCycle',
];

/** An injected failure. Faults are matched in order and the first match wins. */
export interface RedfishFault {
  /** The request method it applies to, e.g. `'POST'`; default any. */
  readonly method?: string;
  /** A string matches the path (without query) exactly, ignoring one trailing slash; default any. */
  readonly path?: string | RegExp;
  /** Answer this status with a Redfish error body. */
  readonly status?: number;
  /** The MessageId in `@Message.ExtendedInfo`, e.g. `'Base.1.8.PropertyValueNotInList'`; default one fitting `status`. */
  readonly messageId?: string;
  /** Wait this long before answering (or dropping, or handling normally); `Infinity` never answers. */
  readonly delayMs?: number;
  /** Destroy the socket without answering. */
  readonly drop?: boolean;
  /** How many requests it applies to; default unlimited. */
  readonly times?: number;
}

/** The switches of the service; every one can also be changed at run time with `setOptions`. */
export interface RedfishServerOptions {
  /** HTTPS with this key and certificate; HTTP when absent. Fixed at start. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Which authentication is accepted; default `'both'`. `'basic-only'` has no SessionService. */
  readonly auth?: 'both' | 'basic-only' | 'session-only';
  /** The systems' Ids; default `['1']`, e.g. `['System.Embedded.1']` or `['1', '2']`. */
  readonly systems?: readonly string[];
  /** Every system's power state at start; default `'On'`. */
  readonly initialPower?: RedfishPowerState;
  /** Where the allowed reset types are listed: in the action, in an ActionInfo resource, or nowhere; default `'inline'`. */
  readonly allowedValues?: 'inline' | 'action-info' | 'absent';
  /** The reset types the systems support; default {@link DEFAULT_RESET_TYPES}. */
  readonly resetTypes?: readonly string[];
  /** `false`: the systems have no `#ComputerSystem.Reset` action (POSTs where it would be get 404); default `true`. */
  readonly resetAction?: boolean;
  /** How an accepted reset is answered: 204 empty, 200 with a Success message, 202 with a task; default 204. */
  readonly actionResponse?: 200 | 204 | 202;
  /** 202 only: how many GETs of the task (monitor or Task resource) find it running before it completes; default 2. */
  readonly taskPolls?: number;
  /** 202 only: the `Retry-After` header of 202 answers; default 1. */
  readonly retryAfterSeconds?: number;
  /** 202 only: `'exception'` ends the task in TaskState Exception without changing the power; default `'completed'`. */
  readonly taskOutcome?: 'completed' | 'exception';
  /**
   * After an accepted power change the next n GETs of the system show the old PowerState, then one
   * shows PoweringOn/PoweringOff; `Infinity`: the old one for ever (a wait for the new state that
   * never ends, though the power did change); default 0.
   */
  readonly stateLagReads?: number;
  /**
   * `false`: the systems have no PowerState property (the schema does not require it; DMTF's
   * industrial IoT mockup has none), though they still hold a power state that resets change and
   * `strictState` checks; default `true`.
   */
  readonly powerStateProperty?: boolean;
  /** Refuse redundant or impossible resets (On while On, ForceOff while Off, restarts while Off) with 409 as iDRAC does; default `true`. */
  readonly strictState?: boolean;
  /** A reset POST carrying If-Match gets 412 PreconditionFailed; default `false`. */
  readonly rejectIfMatch?: boolean;
  /** Logins while this many sessions are open get 503 SessionLimitExceeded; default 64. */
  readonly sessionLimit?: number;
  /** Location headers (session, task monitor) as absolute URLs; default `false` (paths). */
  readonly absoluteLocation?: boolean;
  /** 202 only: the service deletes a task's monitor once the task ended, so that GET answers 404 (the Task resource stays); default `false`. */
  readonly taskMonitorGone?: boolean;
  /** `false`: the ServiceRoot lists the SessionService but no `Links.Sessions` (older services); default `true`. */
  readonly linksSessions?: boolean;
  /** `false`: a login's 201 carries no Location header (its body still has the session's `@odata.id`), as some BMCs answer; default `true`. */
  readonly sessionLocation?: boolean;
  /**
   * Systems at /redfish/v1/ComputerSystems, Sessions at /redfish/v1/AccountService/Auth/Sessions
   * (linked from the ServiceRoot and the SessionService), reset targets at .../Actions/Oem/Reset,
   * to prove a client follows links; default `false`.
   */
  readonly unusualPaths?: boolean;
  /** Injected failures, applied after a request is recorded and before it is handled. */
  readonly faults?: readonly RedfishFault[];
}

/** One request as the service received and answered it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as received. */
  readonly path: string;
  /**
   * The credentials it carried: none, valid Basic, a live session's X-Auth-Token, or `'bad'` (wrong
   * ones, an unknown token, or Basic where only sessions are accepted). A session login's credentials
   * are in the body, so a login records `'none'` (and `user` when it succeeded).
   */
  readonly auth: 'none' | 'basic' | 'session' | 'bad';
  /** The authenticated user name. */
  readonly user: string | undefined;
  /** The If-Match header. */
  readonly ifMatch: string | undefined;
  /** The parsed JSON body (any `Password` replaced by `'***'`), or undefined when empty or not JSON. */
  readonly body: unknown;
  /** The status answered; 0 when dropped or not (yet) answered. */
  readonly status: number;
}

/** A running service. */
export interface RedfishServer {
  /** e.g. `'https://127.0.0.1:41234'`. */
  readonly url: string;
  readonly port: number;
  /** Every request, in order of arrival. */
  readonly requests: RecordedRequest[];
  /** `METHOD path` lines of the requests, e.g. `['GET /redfish/v1/', 'POST /redfish/v1/SessionService/Sessions']`. */
  lines(): string[];
  /** Empties `requests` and `resets`. */
  clear(): void;
  /** The power state the service holds (not a lagging one); default the first system. */
  power(systemId?: string): RedfishPowerState;
  /** Sets the power state (and ends any lag); default the first system. */
  setPower(state: RedfishPowerState, systemId?: string): void;
  /** Accepted resets in order (a 202 reset counts when accepted, whatever the task's outcome). */
  readonly resets: { readonly system: string; readonly resetType: string; readonly user: string | undefined }[];
  /** How many sessions were created and deleted, and the Ids of the open ones. */
  sessions(): { readonly created: number; readonly deleted: number; readonly open: readonly string[] };
  /** Changes switches at run time; new `faults` restart their `times` counts. `tls` cannot change. */
  setOptions(patch: Partial<RedfishServerOptions>): void;
  /** Closes the service, destroying open sockets (and so answering no pending request). */
  close(): Promise<void>;
}

type Settings = Required<Omit<RedfishServerOptions, 'tls'>>;

const DEFAULTS: Settings = {
  auth: 'both',
  systems: ['1'],
  initialPower: 'On',
  allowedValues: 'inline',
  resetTypes: DEFAULT_RESET_TYPES,
  resetAction: true,
  actionResponse: 204,
  taskPolls: 2,
  retryAfterSeconds: 1,
  taskOutcome: 'completed',
  stateLagReads: 0,
  powerStateProperty: true,
  strictState: true,
  rejectIfMatch: false,
  sessionLimit: 64,
  absoluteLocation: false,
  sessionLocation: true,
  linksSessions: true,
  taskMonitorGone: false,
  unusualPaths: false,
  faults: [],
};

const REGISTRY = 'Base.1.8.';

/** Default texts of the Base registry messages the service uses. */
const MESSAGES: Record<string, { readonly message: string; readonly resolution: string }> = {
  GeneralError: {
    message: 'A general error has occurred. See Resolution for information on how to resolve the error.',
    resolution: 'None.',
  },
  InternalError: {
    message: 'The request failed due to an internal service error. The service is still operational.',
    resolution: 'Resubmit the request. If the problem persists, consider resetting the service.',
  },
  InsufficientPrivilege: {
    message: 'There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.',
    resolution: 'Either abandon the operation or change the associated access rights and resubmit the request if the operation failed.',
  },
  NoValidSession: {
    message: 'There is no valid session established with the implementation.',
    resolution: 'Establish a session before attempting any operations.',
  },
  ResourceAtUriUnauthorized: {
    message: 'While accessing the resource, the service received an authorization error: Unauthorized.',
    resolution: 'Ensure that the appropriate access is provided for the service in order for it to access the URI.',
  },
  ResourceNotFound: {
    message: 'The requested resource was not found.',
    resolution: 'Provide a valid resource identifier and resubmit the request.',
  },
  PreconditionFailed: {
    message: 'The ETag supplied did not match the ETag required to change this resource.',
    resolution: 'Try the operation again using the appropriate ETag.',
  },
  SessionLimitExceeded: {
    message: 'The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.',
    resolution: 'Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions (if supported).',
  },
  ServiceTemporarilyUnavailable: {
    message: 'The service is temporarily unavailable.',
    resolution: 'Wait for the indicated retry duration and retry the operation.',
  },
  MalformedJSON: {
    message: 'The request body submitted was malformed JSON and could not be parsed by the receiving service.',
    resolution: 'Ensure that the request body is valid JSON and resubmit the request.',
  },
  ActionParameterMissing: {
    message: 'The action requires the parameter ResetType to be present in the request body.',
    resolution: 'Supply the action with the required parameter in the request body when the request is resubmitted.',
  },
  ActionParameterValueTypeError: {
    message: 'The value for the parameter ResetType in the action is of a different type than the parameter can accept.',
    resolution: 'Correct the value for the parameter in the request body and resubmit the request if the operation failed.',
  },
  PropertyValueNotInList: {
    message: 'The value for the property ResetType is not in the list of acceptable values.',
    resolution: 'Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.',
  },
  ActionParameterNotSupported: {
    message: 'The parameter value for ResetType is not supported on the target resource.',
    resolution: 'Remove the parameter supplied and resubmit the request if the operation failed.',
  },
  PropertyMissing: {
    message: 'The property UserName or Password is a required property and must be included in the request.',
    resolution: 'Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.',
  },
};

/** The MessageId an injected fault without one answers, by status. */
function faultMessageId(status: number): string {
  switch (status) {
    case 400:
      return 'GeneralError';
    case 401:
      return 'NoValidSession';
    case 403:
      return 'InsufficientPrivilege';
    case 404:
      return 'ResourceNotFound';
    case 412:
      return 'PreconditionFailed';
    case 503:
      return 'ServiceTemporarilyUnavailable';
    default:
      return status >= 500 ? 'InternalError' : 'GeneralError';
  }
}

/** The Redfish error body: `{"error":{"code","message","@Message.ExtendedInfo":[...]}}`. */
function errorBody(messageId: string, message?: string, severity = 'Critical'): unknown {
  const short = messageId.includes('.') ? messageId.slice(messageId.lastIndexOf('.') + 1) : messageId;
  const id = messageId.includes('.') ? messageId : REGISTRY + messageId;
  const text = MESSAGES[short];
  return {
    error: {
      code: `${REGISTRY}GeneralError`,
      message: 'A general error has occurred. See ExtendedInfo for more information.',
      '@Message.ExtendedInfo': [
        {
          '@odata.type': '#Message.v1_1_1.Message',
          MessageId: id,
          Message: message ?? text?.message ?? `${short}.`,
          MessageArgs: [],
          Severity: severity,
          MessageSeverity: severity,
          Resolution: text?.resolution ?? 'None.',
        },
      ],
    },
  };
}

interface SystemState {
  power: RedfishPowerState;
  /** What GETs show while the change has not "reached" the service yet. */
  lag: { readonly old: RedfishPowerState; reads: number; readonly transitional: 'PoweringOn' | 'PoweringOff' } | undefined;
}

interface Session {
  readonly id: string;
  readonly token: string;
  readonly user: RedfishUser;
}

interface Task {
  readonly id: number;
  readonly system: string;
  readonly resetType: string;
  readonly target: string;
  pollsLeft: number;
  state: 'Running' | 'Completed' | 'Exception';
  readonly startTime: string;
  endTime: string | undefined;
}

interface MutableRecord {
  method: string;
  path: string;
  auth: RecordedRequest['auth'];
  user: string | undefined;
  ifMatch: string | undefined;
  body: unknown;
  status: number;
}

/** The power state a reset leaves a system in. */
function powerAfter(current: RedfishPowerState, resetType: string): RedfishPowerState {
  switch (resetType) {
    case 'On':
    case 'ForceOn':
    case 'GracefulRestart':
    case 'ForceRestart':
    case 'PowerCycle':
    case 'FullPowerCycle':
      return 'On';
    case 'ForceOff':
    case 'GracefulShutdown':
      return 'Off';
    case 'PushPowerButton':
      return current === 'On' ? 'Off' : 'On';
    default:
      return current;
  }
}

/** Why iDRAC refuses `resetType` in state `current` (409), or undefined. */
function conflict(current: RedfishPowerState, resetType: string): string | undefined {
  if (current === 'On' && (resetType === 'On' || resetType === 'ForceOn')) return 'Server is already powered ON.';
  if (current === 'Off') {
    if (resetType === 'ForceOff' || resetType === 'GracefulShutdown') return 'Server is already powered OFF.';
    if (['GracefulRestart', 'ForceRestart', 'PowerCycle', 'FullPowerCycle', 'Nmi'].includes(resetType)) {
      return `Unable to perform ${resetType} because the server is powered OFF.`;
    }
  }
  return undefined;
}

/** A copy of a parsed body with every `Password` property replaced by `'***'`. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k.toLowerCase() === 'password' ? '***' : redact(v);
    return out;
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Starts a Redfish service on 127.0.0.1 on a random port. */
export async function startRedfishServer(options: RedfishServerOptions = {}): Promise<RedfishServer> {
  const { tls, ...rest } = options;
  let settings: Settings = { ...DEFAULTS, ...rest };
  let faultUses: number[] = settings.faults.map(() => 0);
  const systems = new Map<string, SystemState>();
  const syncSystems = (): void => {
    for (const id of [...systems.keys()]) if (!settings.systems.includes(id)) systems.delete(id);
    for (const id of settings.systems) if (!systems.has(id)) systems.set(id, { power: settings.initialPower, lag: undefined });
  };
  syncSystems();

  const requests: MutableRecord[] = [];
  const resets: { system: string; resetType: string; user: string | undefined }[] = [];
  const sessions = new Map<string, Session>();
  let sessionSeq = 0;
  let sessionsDeleted = 0;
  const tasks = new Map<number, Task>();
  let taskSeq = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const scheme = tls === undefined ? 'http' : 'https';
  let port = 0;
  const uuid = '8b4a6c52-3d5e-4f10-9a7b-' + randomBytes(6).toString('hex');

  // ---- URIs (they depend on `unusualPaths`) ----
  const paths = (): {
    systems: string;
    sessionService: string;
    sessions: string;
    system: (id: string) => string;
    resetTarget: (id: string) => string;
    actionInfo: (id: string) => string;
  } => {
    const systemsPath = settings.unusualPaths ? '/redfish/v1/ComputerSystems' : '/redfish/v1/Systems';
    return {
      systems: systemsPath,
      sessionService: '/redfish/v1/SessionService',
      sessions: settings.unusualPaths ? '/redfish/v1/AccountService/Auth/Sessions' : '/redfish/v1/SessionService/Sessions',
      system: (id) => `${systemsPath}/${id}`,
      resetTarget: (id) => `${systemsPath}/${id}/Actions/${settings.unusualPaths ? 'Oem/Reset' : 'ComputerSystem.Reset'}`,
      actionInfo: (id) => `${systemsPath}/${id}/ResetActionInfo`,
    };
  };
  const TASKS = '/redfish/v1/TaskService/Tasks';
  const MONITORS = '/redfish/v1/TaskService/TaskMonitors';
  const location = (path: string): string => (settings.absoluteLocation ? `${scheme}://127.0.0.1:${port}${path}` : path);
  const basicAllowed = (): boolean => settings.auth !== 'session-only';
  const sessionsAllowed = (): boolean => settings.auth !== 'basic-only';

  // ---- answering ----
  const send = (
    res: ServerResponse,
    rec: MutableRecord,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ): void => {
    rec.status = status;
    if (res.destroyed || res.writableEnded) return;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const all: Record<string, string | number> = { 'OData-Version': '4.0', 'Cache-Control': 'no-cache', ...headers };
    if (payload !== undefined) {
      all['Content-Type'] = 'application/json; charset=utf-8';
      all['Content-Length'] = Buffer.byteLength(payload);
    }
    res.writeHead(status, all);
    res.end(payload);
  };
  const sendError = (
    res: ServerResponse,
    rec: MutableRecord,
    status: number,
    messageId: string,
    message?: string,
    headers: Record<string, string> = {},
    severity?: string,
  ): void => {
    const extra = { ...headers };
    if (status === 401 && basicAllowed()) extra['WWW-Authenticate'] = 'Basic realm="Redfish test server"';
    send(res, rec, status, errorBody(messageId, message, severity), extra);
  };
  const notFound = (res: ServerResponse, rec: MutableRecord, path: string): void =>
    sendError(res, rec, 404, 'ResourceNotFound', `The requested resource ${path} was not found.`);
  const notAllowed = (res: ServerResponse, rec: MutableRecord, method: string, allow: string): void =>
    sendError(res, rec, 405, 'GeneralError', `The HTTP method ${method} is not allowed on this resource.`, {
      Allow: allow,
    });

  // ---- resources ----
  const serviceRoot = (): unknown => {
    const p = paths();
    const root: Record<string, unknown> = {
      '@odata.id': '/redfish/v1/',
      '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot',
      Id: 'RootService',
      Name: 'Root Service',
      RedfishVersion: '1.8.0',
      UUID: uuid,
      Systems: { '@odata.id': p.systems },
      TaskService: { '@odata.id': '/redfish/v1/TaskService' },
      Links: sessionsAllowed() && settings.linksSessions ? { Sessions: { '@odata.id': p.sessions } } : {},
    };
    if (sessionsAllowed()) root['SessionService'] = { '@odata.id': p.sessionService };
    return root;
  };
  const sessionResource = (s: Session): unknown => ({
    '@odata.id': `${paths().sessions}/${s.id}`,
    '@odata.type': '#Session.v1_3_0.Session',
    Id: s.id,
    Name: 'User Session',
    Description: 'Manager User Session',
    UserName: s.user.username,
    Password: null,
  });
  const systemResource = (id: string, powerState: string): Record<string, unknown> => {
    const p = paths();
    const system: Record<string, unknown> = {
      '@odata.id': p.system(id),
      '@odata.type': '#ComputerSystem.v1_10_0.ComputerSystem',
      Id: id,
      Name: 'System',
      SystemType: 'Physical',
      Manufacturer: 'durable-write',
      Model: 'Redfish test server',
      UUID: uuid.slice(0, -2) + createHash('sha256').update(id).digest('hex').slice(0, 2),
      ...(settings.powerStateProperty ? { PowerState: powerState } : {}),
      Status: { State: 'Enabled', Health: 'OK' },
      Boot: {
        BootSourceOverrideEnabled: 'Disabled',
        BootSourceOverrideTarget: 'None',
        'BootSourceOverrideTarget@Redfish.AllowableValues': ['None', 'Pxe', 'Hdd', 'Cd', 'BiosSetup'],
      },
    };
    if (settings.resetAction) {
      const action: Record<string, unknown> = { target: p.resetTarget(id) };
      if (settings.allowedValues === 'inline') action['ResetType@Redfish.AllowableValues'] = [...settings.resetTypes];
      if (settings.allowedValues === 'action-info') action['@Redfish.ActionInfo'] = p.actionInfo(id);
      system['Actions'] = { '#ComputerSystem.Reset': action };
    } else {
      system['Actions'] = {};
    }
    return system;
  };
  const taskResource = (t: Task): unknown => {
    const messages =
      t.state === 'Exception'
        ? [
            {
              MessageId: `${REGISTRY}GeneralError`,
              Message: `The ${t.resetType} reset of system ${t.system} failed.`,
              MessageArgs: [],
              Severity: 'Critical',
              MessageSeverity: 'Critical',
              Resolution: 'Retry the operation.',
            },
          ]
        : t.state === 'Completed'
          ? [{ MessageId: `${REGISTRY}Success`, Message: 'Successfully Completed Request', MessageArgs: [], Severity: 'OK', MessageSeverity: 'OK', Resolution: 'None' }]
          : [];
    return {
      '@odata.id': `${TASKS}/${t.id}`,
      '@odata.type': '#Task.v1_4_3.Task',
      Id: String(t.id),
      Name: `Task ${t.id}`,
      TaskState: t.state,
      TaskStatus: t.state === 'Exception' ? 'Critical' : 'OK',
      StartTime: t.startTime,
      ...(t.endTime === undefined ? {} : { EndTime: t.endTime }),
      PercentComplete: t.state === 'Running' ? 0 : 100,
      TaskMonitor: `${MONITORS}/${t.id}`,
      Messages: messages,
      Payload: {
        HttpOperation: 'POST',
        TargetUri: t.target,
        JsonBody: JSON.stringify({ ResetType: t.resetType }),
        HttpHeaders: [],
      },
    };
  };

  // ---- power ----
  const changePower = (state: SystemState, next: RedfishPowerState): void => {
    if (next !== state.power && settings.stateLagReads > 0) {
      state.lag = { old: state.power, reads: settings.stateLagReads, transitional: next === 'On' ? 'PoweringOn' : 'PoweringOff' };
    }
    state.power = next;
  };
  /** The PowerState one GET of the system shows (consuming one lagging read). */
  const shownPower = (state: SystemState): string => {
    const lag = state.lag;
    if (lag === undefined) return state.power;
    if (lag.reads > 0) {
      lag.reads -= 1;
      return lag.old;
    }
    state.lag = undefined;
    return lag.transitional;
  };
  /** One GET of a task: it runs for `taskPolls` GETs, then completes (the effect happens then). */
  const pollTask = (t: Task): void => {
    if (t.state !== 'Running') return;
    if (t.pollsLeft > 0) {
      t.pollsLeft -= 1;
      return;
    }
    t.endTime = new Date().toISOString();
    if (settings.taskOutcome === 'exception') {
      t.state = 'Exception';
      return;
    }
    t.state = 'Completed';
    const state = systems.get(t.system);
    if (state !== undefined) changePower(state, powerAfter(state.power, t.resetType));
  };

  // ---- authentication ----
  const authenticate = (req: IncomingMessage): { auth: RecordedRequest['auth']; user: RedfishUser | undefined } => {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string') {
      if (sessionsAllowed()) {
        for (const s of sessions.values()) if (s.token === token) return { auth: 'session', user: s.user };
      }
      return { auth: 'bad', user: undefined };
    }
    const header = req.headers.authorization;
    if (header === undefined) return { auth: 'none', user: undefined };
    const match = /^Basic\s+(\S+)$/i.exec(header);
    if (match === null || !basicAllowed()) return { auth: 'bad', user: undefined };
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const user = Object.values(REDFISH_USERS).find((u) => colon >= 0 && u.username === name && u.password === password);
    return user === undefined ? { auth: 'bad', user: undefined } : { auth: 'basic', user };
  };

  // ---- handlers ----
  const login = (res: ServerResponse, rec: MutableRecord, body: unknown, malformed: boolean): void => {
    if (malformed) return sendError(res, rec, 400, 'MalformedJSON');
    if (!isRecord(body) || typeof body['UserName'] !== 'string' || typeof body['Password'] !== 'string') {
      return sendError(res, rec, 400, 'PropertyMissing');
    }
    const { UserName: name, Password: password } = body;
    const user = Object.values(REDFISH_USERS).find((u) => u.username === name && u.password === password);
    if (user === undefined) {
      return sendError(res, rec, 401, 'ResourceAtUriUnauthorized', 'Login failed: the user name or password is wrong.');
    }
    if (sessions.size >= settings.sessionLimit) return sendError(res, rec, 503, 'SessionLimitExceeded');
    sessionSeq += 1;
    const session: Session = { id: String(sessionSeq), token: randomBytes(16).toString('hex'), user };
    sessions.set(session.id, session);
    rec.user = user.username;
    send(res, rec, 201, sessionResource(session), {
      'X-Auth-Token': session.token,
      ...(settings.sessionLocation ? { Location: location(`${paths().sessions}/${session.id}`) } : {}),
    });
  };

  const reset = (
    res: ServerResponse,
    rec: MutableRecord,
    systemId: string,
    user: RedfishUser,
    body: unknown,
    malformed: boolean,
    ifMatch: string | undefined,
  ): void => {
    const state = systems.get(systemId);
    if (state === undefined) return notFound(res, rec, rec.path);
    if (user.role === 'ReadOnly') return sendError(res, rec, 403, 'InsufficientPrivilege');
    if (settings.rejectIfMatch && ifMatch !== undefined) return sendError(res, rec, 412, 'PreconditionFailed');
    if (malformed) return sendError(res, rec, 400, 'MalformedJSON');
    if (!isRecord(body) || !('ResetType' in body)) return sendError(res, rec, 400, 'ActionParameterMissing');
    const resetType = body['ResetType'];
    if (typeof resetType !== 'string') return sendError(res, rec, 400, 'ActionParameterValueTypeError');
    if (!REDFISH_RESET_TYPE_VALUES.includes(resetType)) {
      return sendError(
        res,
        rec,
        400,
        'PropertyValueNotInList',
        `The value ${resetType} for the property ResetType is not in the list of acceptable values.`,
      );
    }
    if (!settings.resetTypes.includes(resetType)) {
      return sendError(
        res,
        rec,
        400,
        'ActionParameterNotSupported',
        `The parameter value ${resetType} for ResetType is not supported on the target resource.`,
      );
    }
    const refusal = settings.strictState ? conflict(state.power, resetType) : undefined;
    if (refusal !== undefined) return sendError(res, rec, 409, 'GeneralError', refusal, {}, 'Informational');

    resets.push({ system: systemId, resetType, user: user.username });
    if (settings.actionResponse === 202) {
      taskSeq += 1;
      const task: Task = {
        id: taskSeq,
        system: systemId,
        resetType,
        target: rec.path,
        pollsLeft: settings.taskPolls,
        state: 'Running',
        startTime: new Date().toISOString(),
        endTime: undefined,
      };
      tasks.set(task.id, task);
      return send(res, rec, 202, taskResource(task), {
        Location: location(`${MONITORS}/${task.id}`),
        'Retry-After': String(settings.retryAfterSeconds),
      });
    }
    changePower(state, powerAfter(state.power, resetType));
    if (settings.actionResponse === 200) {
      return send(res, rec, 200, {
        '@Message.ExtendedInfo': [
          {
            '@odata.type': '#Message.v1_1_1.Message',
            MessageId: `${REGISTRY}Success`,
            Message: 'The request completed successfully.',
            MessageArgs: [],
            Severity: 'OK',
            MessageSeverity: 'OK',
            Resolution: 'None',
          },
        ],
      });
    }
    send(res, rec, 204);
  };

  /** Everything but /redfish, the ServiceRoot and a login: the request is authenticated as `user`. */
  const routeAuthenticated = (
    req: IncomingMessage,
    res: ServerResponse,
    rec: MutableRecord,
    path: string,
    user: RedfishUser,
    body: unknown,
    malformed: boolean,
  ): void => {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const p = paths();

    if (sessionsAllowed()) {
      if (path === p.sessionService) {
        if (method !== 'GET') return notAllowed(res, rec, method, 'GET');
        return send(res, rec, 200, {
          '@odata.id': p.sessionService,
          '@odata.type': '#SessionService.v1_1_8.SessionService',
          Id: 'SessionService',
          Name: 'Session Service',
          Description: 'Session Service',
          Status: { State: 'Enabled', Health: 'OK' },
          ServiceEnabled: true,
          SessionTimeout: 1800,
          Sessions: { '@odata.id': p.sessions },
        });
      }
      if (path === p.sessions) {
        if (method !== 'GET') return notAllowed(res, rec, method, 'GET, POST');
        const members = [...sessions.values()].map((s) => ({ '@odata.id': `${p.sessions}/${s.id}` }));
        return send(res, rec, 200, {
          '@odata.id': p.sessions,
          '@odata.type': '#SessionCollection.SessionCollection',
          Name: 'Session Collection',
          Members: members,
          'Members@odata.count': members.length,
        });
      }
      if (path.startsWith(`${p.sessions}/`)) {
        const session = sessions.get(path.slice(p.sessions.length + 1));
        if (session === undefined) return notFound(res, rec, path);
        if (method === 'GET') return send(res, rec, 200, sessionResource(session));
        if (method === 'DELETE') {
          sessions.delete(session.id);
          sessionsDeleted += 1;
          return send(res, rec, 204);
        }
        return notAllowed(res, rec, method, 'GET, DELETE');
      }
    }

    if (path === p.systems) {
      if (method !== 'GET') return notAllowed(res, rec, method, 'GET');
      const members = [...systems.keys()].map((id) => ({ '@odata.id': p.system(id) }));
      return send(res, rec, 200, {
        '@odata.id': p.systems,
        '@odata.type': '#ComputerSystemCollection.ComputerSystemCollection',
        Name: 'Computer System Collection',
        Members: members,
        'Members@odata.count': members.length,
      });
    }
    for (const [id, state] of systems) {
      if (path === p.system(id)) {
        if (method !== 'GET') return notAllowed(res, rec, method, 'GET');
        const resource = systemResource(id, shownPower(state));
        const etag = `W/"${createHash('sha256').update(JSON.stringify(resource)).digest('hex').slice(0, 16)}"`;
        return send(res, rec, 200, { '@odata.etag': etag, ...resource }, { ETag: etag });
      }
      if (settings.resetAction && path === p.resetTarget(id)) {
        if (method !== 'POST') return notAllowed(res, rec, method, 'POST');
        return reset(res, rec, id, user, body, malformed, rec.ifMatch);
      }
      if (settings.resetAction && settings.allowedValues === 'action-info' && path === p.actionInfo(id)) {
        if (method !== 'GET') return notAllowed(res, rec, method, 'GET');
        return send(res, rec, 200, {
          '@odata.id': p.actionInfo(id),
          '@odata.type': '#ActionInfo.v1_1_2.ActionInfo',
          Id: 'ResetActionInfo',
          Name: 'Reset Action Info',
          Parameters: [{ Name: 'ResetType', Required: true, DataType: 'String', AllowableValues: [...settings.resetTypes] }],
        });
      }
    }

    if (path === '/redfish/v1/TaskService') {
      if (method !== 'GET') return notAllowed(res, rec, method, 'GET');
      return send(res, rec, 200, {
        '@odata.id': '/redfish/v1/TaskService',
        '@odata.type': '#TaskService.v1_1_4.TaskService',
        Id: 'TaskService',
        Name: 'Task Service',
        ServiceEnabled: true,
        CompletedTaskOverWritePolicy: 'Oldest',
        LifeCycleEventOnTaskStateChange: false,
        Status: { State: 'Enabled', Health: 'OK' },
        Tasks: { '@odata.id': TASKS },
      });
    }
    if (path === TASKS) {
      if (method !== 'GET') return notAllowed(res, rec, method, 'GET');
      const members = [...tasks.keys()].map((id) => ({ '@odata.id': `${TASKS}/${id}` }));
      return send(res, rec, 200, {
        '@odata.id': TASKS,
        '@odata.type': '#TaskCollection.TaskCollection',
        Name: 'Task Collection',
        Members: members,
        'Members@odata.count': members.length,
      });
    }
    const taskMatch = /^\/redfish\/v1\/TaskService\/(Tasks|TaskMonitors)\/(\d+)$/.exec(path);
    if (taskMatch !== null) {
      const task = tasks.get(Number(taskMatch[2]));
      if (task === undefined) return notFound(res, rec, path);
      if (method !== 'GET') return notAllowed(res, rec, method, 'GET');
      pollTask(task);
      if (taskMatch[1] === 'TaskMonitors' && task.state !== 'Running' && settings.taskMonitorGone) return notFound(res, rec, path);
      if (taskMatch[1] === 'TaskMonitors' && task.state === 'Running') {
        return send(res, rec, 202, taskResource(task), {
          Location: location(`${MONITORS}/${task.id}`),
          'Retry-After': String(settings.retryAfterSeconds),
        });
      }
      return send(res, rec, 200, taskResource(task));
    }

    notFound(res, rec, path);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    let malformed = false;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        malformed = true;
      }
    }
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
    const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
    const { auth, user } = authenticate(req);
    const ifMatch = req.headers['if-match'];
    const rec: MutableRecord = {
      method,
      path: target,
      auth,
      user: user?.username,
      ifMatch,
      body: body === undefined ? undefined : redact(body),
      status: 0,
    };
    requests.push(rec);

    // Injected faults.
    const index = settings.faults.findIndex(
      (f, i) =>
        (f.times === undefined || (faultUses[i] ?? 0) < f.times) &&
        (f.method === undefined || f.method.toUpperCase() === method.toUpperCase()) &&
        (f.path === undefined ||
          (typeof f.path === 'string' ? f.path === rawPath || f.path === path : f.path.test(rawPath))),
    );
    const fault = settings.faults[index];
    if (fault !== undefined) {
      faultUses[index] = (faultUses[index] ?? 0) + 1;
      if (fault.delayMs !== undefined && fault.delayMs > 0) {
        if (fault.delayMs === Infinity) return; // never answered; close() destroys the socket
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, fault.delayMs);
          timers.add(timer);
        });
        if (res.destroyed || req.socket.destroyed) return;
      }
      if (fault.drop === true) {
        req.socket.destroy();
        return;
      }
      if (fault.status !== undefined) {
        return sendError(res, rec, fault.status, fault.messageId ?? faultMessageId(fault.status));
      }
    }

    // Unauthenticated resources.
    if (path === '/redfish') {
      if (method !== 'GET' && method !== 'HEAD') return notAllowed(res, rec, method, 'GET');
      return send(res, rec, 200, { v1: '/redfish/v1/' });
    }
    if (path === '/redfish/v1') {
      if (method !== 'GET' && method !== 'HEAD') return notAllowed(res, rec, method, 'GET');
      return send(res, rec, 200, serviceRoot());
    }
    if (method === 'POST' && (path === paths().sessions || path === '/redfish/v1/SessionService/Sessions')) {
      if (!sessionsAllowed() || path !== paths().sessions) return notFound(res, rec, path);
      return login(res, rec, body, malformed);
    }

    if (user === undefined) {
      // No credentials or an unknown token: no session; wrong Basic credentials: unauthorized.
      const badBasic = auth === 'bad' && req.headers['x-auth-token'] === undefined;
      return sendError(res, rec, 401, badBasic ? 'ResourceAtUriUnauthorized' : 'NoValidSession');
    }
    routeAuthenticated(req, res, rec, path, user, body, malformed);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8', 'OData-Version': '4.0' });
        res.end(JSON.stringify(errorBody('InternalError')));
      } else {
        res.destroy();
      }
    });
  };

  const server: Server =
    tls === undefined ? createHttpServer(onRequest) : createHttpsServer({ key: tls.key, cert: tls.cert }, onRequest);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the Redfish test server has no TCP address');
  port = address.port;

  const system = (systemId: string | undefined): SystemState => {
    const id = systemId ?? settings.systems[0];
    const state = id === undefined ? undefined : systems.get(id);
    if (state === undefined) throw new Error(`the Redfish test server has no system ${String(id)}`);
    return state;
  };

  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    requests,
    lines: () => requests.map((r) => `${r.method} ${r.path}`),
    clear: () => {
      requests.length = 0;
      resets.length = 0;
    },
    power: (systemId) => system(systemId).power,
    setPower: (state, systemId) => {
      const s = system(systemId);
      s.power = state;
      s.lag = undefined;
    },
    resets,
    sessions: () => ({ created: sessionSeq, deleted: sessionsDeleted, open: [...sessions.keys()] }),
    setOptions: (patch) => {
      const { tls: newTls, ...changes } = patch;
      if (newTls !== undefined) throw new Error('the Redfish test server cannot change tls at run time');
      settings = { ...settings, ...changes };
      if (changes.faults !== undefined) faultUses = changes.faults.map(() => 0);
      if (changes.systems !== undefined) syncSystems();
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
