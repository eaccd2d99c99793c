/**
 * The options of `RedfishPowerController` and their validation, free of I/O: every check runs in
 * the constructor, before any request, and throws a `TypeError` in the one message shape of
 * `core/arguments.ts`.
 *
 * @internal
 * @module
 */
import { isIP } from 'node:net';
import {
  checkBoolean,
  checkChoice,
  checkInteger,
  checkString,
  checkTimeout,
  describeValue,
  invalidArgType,
  invalidArgValue,
  optionsObject,
} from '../core/arguments.js';

/** How the BMC's TLS certificate is checked. Give at most one field. */
export interface RedfishTlsOptions {
  /**
   * The certificate authority (PEM; one, several in one string, or an array) that signed the
   * BMC's certificate, used instead of Node's bundled CAs. The host name is still checked against
   * the certificate's names. For a self-signed BMC certificate, its own certificate is its CA.
   * Default: Node's bundled CAs.
   */
  readonly ca?: string | Buffer | readonly (string | Buffer)[] | undefined;
  /**
   * The SHA-256 fingerprint of the BMC's certificate, as `openssl x509 -noout -fingerprint
   * -sha256` prints it (`AB:CD:...`, 32 bytes; case and colons do not matter). The connection is
   * accepted only when the BMC shows exactly this certificate; neither the CA nor the host name
   * is checked, and nothing is sent before the check. Default: none.
   */
  readonly fingerprint256?: string | undefined;
  /**
   * `true` accepts any certificate: whoever answers on the BMC's address receives the password.
   * For a lab only. Default: `false` (the certificate is verified).
   */
  readonly insecure?: boolean | undefined;
}

/** How a verb waits for the power state it asked for. */
export interface RedfishWaitOptions {
  /**
   * How long to wait, in milliseconds, for `PowerState` to reach the verb's target (and for a
   * task the BMC answered with 202 to finish); past it the verb rejects with reason `'timeout'`.
   * Default `120000`.
   */
  readonly timeoutMs?: number | undefined;
  /** Milliseconds between two reads of `PowerState` (a task's `Retry-After` wins over it). Default `1000`. */
  readonly intervalMs?: number | undefined;
}

/** Options of `RedfishPowerController`. Validated by its constructor (TypeError) before any request. */
export interface RedfishPowerControllerOptions {
  /** The BMC's host name or IP address (IPv6 with or without brackets); no scheme, path or port. Required. */
  readonly host: string;
  /** The BMC's TCP port, 1 to 65535. Default: 443 for `https`, 80 for `http`. */
  readonly port?: number | undefined;
  /**
   * `'https'` or `'http'`. Plain `http` sends the password and the session token in clear text;
   * use it only on a management network you trust, or against a test server. Default `'https'`.
   */
  readonly scheme?: 'https' | 'http' | undefined;
  /** The BMC account. An Operator account can read and change power; a ReadOnly one can only read. Required. */
  readonly username: string;
  /**
   * The password. Exactly one of `password`, `passwordFile` and `passwordEnv` is required. It is
   * sent only in the body of the session login (or, with Basic auth, in the `Authorization`
   * header), never in a URL, and it never appears in an error, whose texts have it replaced by
   * `***`.
   */
  readonly password?: string | undefined;
  /**
   * A file whose first line is the password, read at each call. When this process cannot read
   * it, the call rejects with reason `'auth'` (its `code` the errno name) before any request.
   * Default: none.
   */
  readonly passwordFile?: string | undefined;
  /**
   * The name of an environment variable holding the password, read at each call. When it is not
   * set at the call, the call rejects with reason `'auth'` before any request. Default: none.
   */
  readonly passwordEnv?: string | undefined;
  /**
   * The `Id` of the computer system to control (the last segment of its `@odata.id`, such as
   * `System.Embedded.1` on a Dell or `1` on most others). Needed only when `/redfish/v1/Systems`
   * has more than one member. Default: the only member.
   */
  readonly systemId?: string | undefined;
  /**
   * How to log in. `'session'`: a Redfish session (`POST` to the session collection, then the
   * `X-Auth-Token` header), deleted at the end of every call, also after an error or an abort.
   * `'basic'`: HTTP Basic on every request. `'auto'`: a session when the service root lists a
   * session service, else Basic; a refused login (401) is final, never retried with Basic.
   * Default `'auto'`.
   */
  readonly auth?: 'auto' | 'session' | 'basic' | undefined;
  /** How the BMC's certificate is verified (`https` only). Default: against Node's bundled CAs and the host name. */
  readonly tls?: RedfishTlsOptions | undefined;
  /**
   * Milliseconds one request may take, from connecting to the last byte of the answer. A connect
   * that does not finish in time rejects with reason `'unreachable'`; an answer that does not
   * come in time, with `'timeout'`. Default `30000` (BMCs are slow).
   */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * After `on`, `off`, `cycle` and `reset`, read `PowerState` until it is the verb's target (on;
   * off for `off`), up to a timeout (see {@link RedfishWaitOptions}). `false` resolves once the
   * BMC accepted the request. `softOff` never waits (the operating system decides when it is
   * off); the fallback of `cycle` always waits for off before it powers on, for at most
   * {@link cycleOffTimeoutMs}. Default: `{ timeoutMs: 120000, intervalMs: 1000 }`.
   */
  readonly wait?: RedfishWaitOptions | false | undefined;
  /**
   * How long, in milliseconds, the fallback of `cycle()` (where the BMC lacks `PowerCycle`:
   * `ForceOff`, a wait for off, then `On`) waits for `PowerState` to read off before it posts
   * `On`, reading it every `wait.intervalMs` (1000 with `wait: false`). This wait happens with
   * `wait: false` too, and `wait.timeoutMs` does not bound it: an `On` sent while the machine
   * still reads on is refused or ignored. Past it, `cycle()` rejects with reason `'timeout'`,
   * `ForceOff` accepted and `On` never sent (`sent: ['ForceOff']`): the machine may be off.
   * Default `120000`.
   */
  readonly cycleOffTimeoutMs?: number | undefined;
}

/** Where the password comes from. */
export type RedfishPasswordSource =
  | { readonly kind: 'value'; readonly password: string }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'env'; readonly variable: string };

/** How the certificate is checked, resolved. */
export type ResolvedRedfishTls =
  | { readonly kind: 'verify'; readonly ca: string | Buffer | (string | Buffer)[] | undefined }
  | { readonly kind: 'fingerprint'; readonly fingerprint256: string }
  | { readonly kind: 'insecure' };

/** Validated options with their defaults applied. */
export interface ResolvedRedfishOptions {
  readonly host: string;
  readonly port: number;
  readonly scheme: 'https' | 'http';
  readonly username: string;
  readonly password: RedfishPasswordSource;
  readonly systemId: string | undefined;
  readonly auth: 'auto' | 'session' | 'basic';
  readonly tls: ResolvedRedfishTls;
  readonly requestTimeoutMs: number;
  /** `undefined` when the verbs do not wait. */
  readonly wait: { readonly timeoutMs: number; readonly intervalMs: number } | undefined;
  /** How long a task may take, even with `wait: false`. */
  readonly settleTimeoutMs: number;
  /** How often a task or a power state is read when `wait` is false. */
  readonly settleIntervalMs: number;
  /** How long the fallback of `cycle` waits for off (see {@link RedfishPowerControllerOptions.cycleOffTimeoutMs}). */
  readonly cycleOffTimeoutMs: number;
}

/** The default of {@link RedfishPowerControllerOptions.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The default of {@link RedfishWaitOptions.timeoutMs}. */
export const DEFAULT_WAIT_TIMEOUT_MS = 120_000;
/** The default of {@link RedfishWaitOptions.intervalMs}. */
export const DEFAULT_WAIT_INTERVAL_MS = 1_000;
/** The default of {@link RedfishPowerControllerOptions.cycleOffTimeoutMs}. */
export const DEFAULT_CYCLE_OFF_TIMEOUT_MS = 120_000;

const OPERATION = 'RedfishPowerController';

const OPTION_NAMES = [
  'host', 'port', 'scheme', 'username', 'password', 'passwordFile', 'passwordEnv', 'systemId', 'auth', 'tls',
  'requestTimeoutMs', 'wait', 'cycleOffTimeoutMs',
] as const satisfies readonly (keyof RedfishPowerControllerOptions)[];

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The host: a name or an address, bare. A `scheme://`, a path, credentials or a port are refused with what to do instead. */
function checkHost(value: unknown): string {
  const host = checkString(value, undefined, 'host', OPERATION);
  if (host === undefined) throw invalidArgType(`${OPERATION}: host must be a string; received undefined`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    throw invalidArgValue(`${OPERATION}: host must be a bare host name or address; give the scheme as scheme; received ${describeValue(host)}`);
  }
  const bracketed = /^\[(.*)\]$/.exec(host)?.[1];
  if (bracketed !== undefined) {
    if (isIP(bracketed) !== 6) throw invalidArgValue(`${OPERATION}: host in brackets must be an IPv6 address; received ${describeValue(host)}`);
    return bracketed;
  }
  if (isIP(host) !== 0) return host;
  if (host.includes(':')) throw invalidArgValue(`${OPERATION}: host must not carry a port; give the port as port; received ${describeValue(host)}`);
  if (!/^[A-Za-z0-9._-]+$/.test(host) || host.length > 253) {
    throw invalidArgValue(`${OPERATION}: host must be a host name (letters, digits, '.', '-', '_') or an IP address; received ${describeValue(host)}`);
  }
  return host;
}

/** The SHA-256 fingerprint, normalised to Node's `AB:CD:...` form. */
function checkFingerprint(value: unknown): string | undefined {
  const text = checkString(value, undefined, 'tls.fingerprint256', OPERATION);
  if (text === undefined) return undefined;
  const hex = text.replace(/^sha256 fingerprint=/i, '').replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw invalidArgValue(`${OPERATION}: tls.fingerprint256 must be a SHA-256 fingerprint, 32 bytes in hex ('AB:CD:...'); received ${describeValue(text)}`);
  }
  return hex.match(/../g)?.join(':') ?? hex;
}

/** A PEM value: a string, a Buffer, or an array of them. */
function checkCa(value: unknown): string | Buffer | (string | Buffer)[] | undefined {
  if (value === undefined) return undefined;
  const one = (item: unknown): string | Buffer => {
    if (typeof item === 'string' || Buffer.isBuffer(item)) {
      if (!item.toString().includes('-----BEGIN CERTIFICATE-----')) {
        throw invalidArgValue(`${OPERATION}: tls.ca must be PEM text ('-----BEGIN CERTIFICATE-----...'), not a file name; read the file first`);
      }
      return item;
    }
    throw invalidArgType(`${OPERATION}: tls.ca must be a string, a Buffer or an array of them; received ${describeValue(item)}`);
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

function checkTls(value: unknown, scheme: 'https' | 'http'): ResolvedRedfishTls {
  if (value === undefined) return { kind: 'verify', ca: undefined };
  const tls = optionsObject(value, ['ca', 'fingerprint256', 'insecure'], `${OPERATION}: tls`);
  if (scheme === 'http') throw invalidArgValue(`${OPERATION}: tls applies to scheme 'https' only`);
  const ca = checkCa(tls['ca']);
  const fingerprint256 = checkFingerprint(tls['fingerprint256']);
  const insecure = checkBoolean(tls['insecure'], false, 'tls.insecure', OPERATION);
  const given = [ca !== undefined, fingerprint256 !== undefined, insecure].filter(Boolean).length;
  if (given > 1) throw invalidArgValue(`${OPERATION}: give at most one of tls.ca, tls.fingerprint256 and tls.insecure`);
  if (insecure) return { kind: 'insecure' };
  if (fingerprint256 !== undefined) return { kind: 'fingerprint', fingerprint256 };
  return { kind: 'verify', ca };
}

function checkWait(value: unknown): ResolvedRedfishOptions['wait'] {
  if (value === false) return undefined;
  if (value === undefined) return { timeoutMs: DEFAULT_WAIT_TIMEOUT_MS, intervalMs: DEFAULT_WAIT_INTERVAL_MS };
  if (value === true) throw invalidArgValue(`${OPERATION}: wait must be false or an object { timeoutMs, intervalMs }; received boolean true`);
  const wait = optionsObject(value, ['timeoutMs', 'intervalMs'], `${OPERATION}: wait`);
  return {
    timeoutMs: checkTimeout(wait['timeoutMs'] ?? DEFAULT_WAIT_TIMEOUT_MS, 'wait.timeoutMs', OPERATION),
    intervalMs: checkTimeout(wait['intervalMs'] ?? DEFAULT_WAIT_INTERVAL_MS, 'wait.intervalMs', OPERATION, true),
  };
}

function checkPasswordSource(o: Record<string, unknown>): RedfishPasswordSource {
  const password = o['password'];
  if (password !== undefined) {
    if (typeof password !== 'string') throw invalidArgType(`${OPERATION}: password must be a string; received ${typeof password}`);
    if (password.includes('\0')) throw invalidArgValue(`${OPERATION}: password must not contain a NUL byte`);
  }
  const passwordFile = checkString(o['passwordFile'], undefined, 'passwordFile', OPERATION);
  const passwordEnv = checkString(o['passwordEnv'], undefined, 'passwordEnv', OPERATION);
  const sources = [password, passwordFile, passwordEnv].filter((source) => source !== undefined).length;
  if (sources !== 1) throw invalidArgValue(`${OPERATION}: give exactly one of password, passwordFile and passwordEnv; received ${sources}`);
  if (passwordEnv !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordEnv)) {
      throw invalidArgValue(`${OPERATION}: passwordEnv must be an environment variable name; received ${describeValue(passwordEnv)}`);
    }
    return { kind: 'env', variable: passwordEnv };
  }
  if (passwordFile !== undefined) return { kind: 'file', file: passwordFile };
  return { kind: 'value', password: typeof password === 'string' ? password : '' };
}

/** Validates `options` (throwing a TypeError) and applies the defaults. Sends nothing. */
export function resolveRedfishOptions(options: RedfishPowerControllerOptions): ResolvedRedfishOptions {
  if (options === undefined) throw invalidArgType(`${OPERATION}: options must be an object with host and username; received undefined`);
  const o = optionsObject(options, OPTION_NAMES, OPERATION);
  const host = checkHost(o['host']);
  const scheme = checkChoice(o['scheme'], ['https', 'http'], 'https', 'scheme', OPERATION);
  const port = checkInteger(o['port'], 1, 65535, 'port', OPERATION) ?? (scheme === 'https' ? 443 : 80);
  const username = checkString(o['username'], undefined, 'username', OPERATION);
  if (username === undefined) throw invalidArgType(`${OPERATION}: username must be a string; received undefined`);
  if (CONTROL.test(username)) throw invalidArgValue(`${OPERATION}: username must not contain control characters`);
  const password = checkPasswordSource(o);
  const systemId = checkString(o['systemId'], undefined, 'systemId', OPERATION);
  if (systemId !== undefined && (systemId.includes('/') || CONTROL.test(systemId))) {
    throw invalidArgValue(`${OPERATION}: systemId must be a system's Id, without '/'; received ${describeValue(systemId)}`);
  }
  const auth = checkChoice(o['auth'], ['auto', 'session', 'basic'], 'auto', 'auth', OPERATION);
  if (auth === 'basic' && username.includes(':')) {
    throw invalidArgValue(`${OPERATION}: username must not contain ':' with auth 'basic' (HTTP Basic cannot carry it, RFC 7617); use auth 'session'`);
  }
  const tls = checkTls(o['tls'], scheme);
  const requestTimeoutMs = checkTimeout(o['requestTimeoutMs'] ?? DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs', OPERATION);
  const wait = checkWait(o['wait']);
  const cycleOffTimeoutMs = checkTimeout(o['cycleOffTimeoutMs'] ?? DEFAULT_CYCLE_OFF_TIMEOUT_MS, 'cycleOffTimeoutMs', OPERATION);
  return {
    host,
    port,
    scheme,
    username,
    password,
    systemId,
    auth,
    tls,
    requestTimeoutMs,
    wait,
    settleTimeoutMs: wait?.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
    settleIntervalMs: wait?.intervalMs ?? DEFAULT_WAIT_INTERVAL_MS,
    cycleOffTimeoutMs,
  };
}

/** `https://bmc.example:443`, as messages name the BMC (an IPv6 address in brackets). */
export function redfishOrigin(options: Pick<ResolvedRedfishOptions, 'scheme' | 'host' | 'port'>): string {
  const host = isIP(options.host) === 6 ? `[${options.host}]` : options.host;
  return `${options.scheme}://${host}:${options.port}`;
}
