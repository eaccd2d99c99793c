/**
 * The pure half of `IpmitoolPowerController`, free of I/O so that every part is unit-tested
 * exactly: the options and their validation, the ipmitool argv and child environment for a verb,
 * and everything that turns a failed run into words: the classification of ipmitool's stderr
 * into a {@link PowerControlReason}, the advice for each reason, the noise filter and summary of
 * its stderr, password redaction, and the error message.
 *
 * @internal
 * @module
 */
import {
  checkChoice,
  checkInteger,
  checkString,
  checkTimeout,
  invalidArgType,
  invalidArgValue,
  optionsObject,
} from '../core/arguments.js';
import type { PowerControlReason, PowerVerb } from './power-controller.js';

/** Options of `IpmitoolPowerController`. Validated by its constructor (TypeError) before anything runs. */
export interface IpmitoolPowerControllerOptions {
  /**
   * ipmitool's `-I`: `'lanplus'` (IPMI 2.0 RMCP+, encrypted), `'lan'` (IPMI 1.5) or `'open'`
   * (in-band through /dev/ipmi0 on this machine; needs root). Default: `'lanplus'` when `host` is
   * given, else `'open'`.
   */
  readonly interface?: 'open' | 'lan' | 'lanplus' | undefined;
  /** The BMC's host name or address (`-H`); required for `lan`/`lanplus`. Must not start with `-`. */
  readonly host?: string | undefined;
  /** The BMC's UDP port (`-p`), 1 to 65535. Default: ipmitool's, 623. */
  readonly port?: number | undefined;
  /** The BMC user (`-U`), at most 16 bytes, not starting with `-`. Default: ipmitool's (the null user). */
  readonly username?: string | undefined;
  /**
   * The password, at most 20 bytes. Default: none. At most one of `password`, `passwordFile` and
   * `passwordEnv` may be given.
   *
   * How a password reaches ipmitool (this is the one place it is explained): never on its
   * command line, where any user could read it in `/proc/PID/cmdline` or `ps`. A `password`, or
   * the value of `passwordEnv`, goes into the child's environment as `IPMI_PASSWORD` with `-E`;
   * an inherited `IPMITOOL_PASSWORD` (which ipmitool would prefer) and `IPMI_PASSWORD` are removed
   * first, so only the configured password can be used. A `passwordFile` is passed as `-f FILE`
   * and ipmitool reads it. Every error and its `stderr` has the password replaced by `***`.
   */
  readonly password?: string | undefined;
  /**
   * A file whose first line is the password, passed as `-f FILE` (ipmitool reads it; this
   * process never opens it). Before each run the call checks that this process can read it
   * (`access(2)` with `R_OK`); when it cannot (`ENOENT`, `EACCES`...), the call rejects with a
   * `PowerControlError` of reason `'auth'` whose `code` is the errno name and whose `cause` is the
   * fs error, and ipmitool is not run. Default: none.
   */
  readonly passwordFile?: string | undefined;
  /**
   * The name of an environment variable of this process holding the password, read at each
   * call (see {@link IpmitoolPowerControllerOptions.password} for how it is passed). When the
   * variable is not set at the call, the call rejects with a `PowerControlError` of reason
   * `'auth'` naming it, and ipmitool is not run. A variable set to the empty string is an empty
   * password (IPMI allows one) and is passed on. Default: none.
   */
  readonly passwordEnv?: string | undefined;
  /** The RMCP+ cipher suite (`-C`, 0 to 17), `lanplus` only. Default `3` (without it ipmitool probes for about 10 s). */
  readonly cipherSuite?: number | undefined;
  /** The session privilege level (`-L`). Default: ipmitool's, `'administrator'`. */
  readonly privilegeLevel?: 'callback' | 'user' | 'operator' | 'administrator' | undefined;
  /** Seconds ipmitool waits for each reply (`-N`), 1 to 3600. Default: ipmitool's (1 s for lanplus, 2 s for lan). */
  readonly timeoutSeconds?: number | undefined;
  /** How many times ipmitool retries a request (`-R`), 0 to 100. Default: ipmitool's (4). */
  readonly retries?: number | undefined;
  /**
   * Overall deadline of one ipmitool run in milliseconds, above 0 and at most 2147483647 (2^31-1,
   * Node's timer limit, about 24.8 days; a larger value is a TypeError, as a Node timer would
   * fire after 1 ms); when it passes, ipmitool is killed (SIGKILL) and the call rejects with
   * reason `'timeout'`. Default `60000`.
   */
  readonly deadlineMs?: number | undefined;
  /** The ipmitool program, a name looked up on PATH or a path. Default `'ipmitool'`. */
  readonly ipmitoolPath?: string | undefined;
}

/** ipmitool's `-L` names for `privilegeLevel`. */
const PRIVILEGE_LEVELS = {
  callback: 'CALLBACK',
  user: 'USER',
  operator: 'OPERATOR',
  administrator: 'ADMINISTRATOR',
} as const;

/** ipmitool's `chassis power` word for each verb. */
const CHASSIS_POWER_WORD: Readonly<Record<PowerVerb, string>> = {
  status: 'status',
  on: 'on',
  off: 'off',
  cycle: 'cycle',
  reset: 'reset',
  softOff: 'soft',
};

/** Validated options with their defaults applied. */
export interface ResolvedIpmitoolOptions {
  readonly interface: 'open' | 'lan' | 'lanplus';
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly passwordFile: string | undefined;
  readonly passwordEnv: string | undefined;
  readonly cipherSuite: number | undefined;
  readonly privilegeLevel: keyof typeof PRIVILEGE_LEVELS | undefined;
  readonly timeoutSeconds: number | undefined;
  readonly retries: number | undefined;
  readonly deadlineMs: number;
  readonly ipmitoolPath: string;
}

/** The default overall deadline of one ipmitool run. */
export const DEFAULT_DEADLINE_MS = 60_000;

// eslint-disable-next-line no-control-regex
const CONTROL_OR_SPACE = /[\s\u0000-\u001f\u007f]/;

const OPERATION = 'IpmitoolPowerController';

const OPTION_NAMES = [
  'interface', 'host', 'port', 'username', 'password', 'passwordFile', 'passwordEnv', 'cipherSuite',
  'privilegeLevel', 'timeoutSeconds', 'retries', 'deadlineMs', 'ipmitoolPath',
] as const satisfies readonly (keyof IpmitoolPowerControllerOptions)[];

/** A string option, checked for what ipmitool would misread: a leading `-` (an option), spaces or control characters. */
function checkArgument(name: string, value: string): void {
  if (value.startsWith('-')) {
    throw invalidArgValue(`${OPERATION}: ${name} must not start with '-' (ipmitool would read it as an option); received ${JSON.stringify(value)}`);
  }
  if (CONTROL_OR_SPACE.test(value)) {
    throw invalidArgValue(`${OPERATION}: ${name} must not contain spaces or control characters; received ${JSON.stringify(value)}`);
  }
}

/** The password: a string without NUL of at most 20 bytes; never shown in a message. */
function checkPassword(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidArgType(`${OPERATION}: password must be a string; received ${typeof value}`);
  if (value.includes('\0')) throw invalidArgValue(`${OPERATION}: password must not contain a NUL byte`);
  if (Buffer.byteLength(value) > 20) throw invalidArgValue(`${OPERATION}: password must be at most 20 bytes (the IPMI limit)`);
  return value;
}

/** Validates `options` (throwing a TypeError) and applies the defaults. Runs nothing. */
export function resolveIpmitoolOptions(options: IpmitoolPowerControllerOptions = {}): ResolvedIpmitoolOptions {
  const o = optionsObject(options, OPTION_NAMES, OPERATION);
  const host = checkString(o['host'], undefined, 'host', OPERATION);
  const iface = checkChoice(o['interface'], ['open', 'lan', 'lanplus'], host === undefined ? 'open' : 'lanplus', 'interface', OPERATION);
  const port = checkInteger(o['port'], 1, 65535, 'port', OPERATION);
  const username = checkString(o['username'], undefined, 'username', OPERATION);
  const password = checkPassword(o['password']);
  const passwordFile = checkString(o['passwordFile'], undefined, 'passwordFile', OPERATION);
  const passwordEnv = checkString(o['passwordEnv'], undefined, 'passwordEnv', OPERATION);
  const cipherSuite = checkInteger(o['cipherSuite'], 0, 17, 'cipherSuite', OPERATION);
  const timeoutSeconds = checkInteger(o['timeoutSeconds'], 1, 3600, 'timeoutSeconds', OPERATION);
  const retries = checkInteger(o['retries'], 0, 100, 'retries', OPERATION);
  const privilegeLevel = checkChoice(o['privilegeLevel'], ['callback', 'user', 'operator', 'administrator'], undefined, 'privilegeLevel', OPERATION);
  const deadlineMs = checkTimeout(o['deadlineMs'] ?? DEFAULT_DEADLINE_MS, 'deadlineMs', OPERATION);
  const ipmitoolPath = checkString(o['ipmitoolPath'], 'ipmitool', 'ipmitoolPath', OPERATION);

  const sources = [password, passwordFile, passwordEnv].filter((source) => source !== undefined).length;
  if (sources > 1) throw invalidArgValue(`${OPERATION}: give at most one of password, passwordFile and passwordEnv`);
  if (passwordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordEnv)) {
    throw invalidArgValue(`${OPERATION}: passwordEnv must be an environment variable name; received ${JSON.stringify(passwordEnv)}`);
  }

  if (iface === 'open') {
    // In-band: ipmitool talks to the local BMC through /dev/ipmi0; nothing remote applies.
    const remoteOnly = { host, port, username, password, passwordFile, passwordEnv, cipherSuite, privilegeLevel, timeoutSeconds, retries };
    const given = Object.entries(remoteOnly).filter(([, value]) => value !== undefined).map(([name]) => name);
    if (given.length > 0) throw invalidArgValue(`${OPERATION}: interface 'open' (in-band, /dev/ipmi0) takes no ${given.join(', ')}`);
  } else {
    if (host === undefined) throw invalidArgValue(`${OPERATION}: interface '${iface}' needs a host`);
    checkArgument('host', host);
    if (host.length > 253) throw invalidArgValue(`${OPERATION}: host must be at most 253 characters`);
    if (username !== undefined) {
      checkArgument('username', username);
      if (Buffer.byteLength(username) > 16) throw invalidArgValue(`${OPERATION}: username must be at most 16 bytes (the IPMI limit)`);
    }
    if (passwordFile !== undefined) checkArgument('passwordFile', passwordFile);
    if (cipherSuite !== undefined && iface !== 'lanplus') throw invalidArgValue(`${OPERATION}: cipherSuite applies to interface 'lanplus' only`);
  }

  return {
    interface: iface,
    host,
    port,
    username,
    password,
    passwordFile,
    passwordEnv,
    cipherSuite: iface === 'lanplus' ? (cipherSuite ?? 3) : undefined,
    privilegeLevel,
    timeoutSeconds,
    retries,
    deadlineMs,
    ipmitoolPath,
  };
}

/** The program, argv and environment of one ipmitool run, plus the strings to redact. */
export interface IpmitoolInvocation {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Passwords to replace by `***` in anything shown to the caller. */
  readonly secrets: readonly string[];
}

/**
 * The ipmitool command for `verb`. The password travels as
 * {@link IpmitoolPowerControllerOptions.password} explains, never in `args`. In-band (`open`) is
 * exactly `ipmitool -I open chassis power <word>`.
 */
export function buildIpmitoolInvocation(
  options: ResolvedIpmitoolOptions,
  verb: PowerVerb,
  parentEnv: NodeJS.ProcessEnv = process.env,
): IpmitoolInvocation {
  const env: NodeJS.ProcessEnv = { ...parentEnv };
  delete env['IPMITOOL_PASSWORD'];
  delete env['IPMI_PASSWORD'];
  const command = ['chassis', 'power', CHASSIS_POWER_WORD[verb]];
  if (options.interface === 'open') {
    return { file: options.ipmitoolPath, args: ['-I', 'open', ...command], env, secrets: [] };
  }
  const args = ['-I', options.interface, '-H', options.host ?? ''];
  if (options.port !== undefined) args.push('-p', String(options.port));
  if (options.username !== undefined) args.push('-U', options.username);
  if (options.cipherSuite !== undefined) args.push('-C', String(options.cipherSuite));
  if (options.privilegeLevel !== undefined) args.push('-L', PRIVILEGE_LEVELS[options.privilegeLevel]);
  if (options.timeoutSeconds !== undefined) args.push('-N', String(options.timeoutSeconds));
  if (options.retries !== undefined) args.push('-R', String(options.retries));
  const secrets: string[] = [];
  const password =
    options.password ?? (options.passwordEnv === undefined ? undefined : parentEnv[options.passwordEnv]);
  if (options.passwordFile !== undefined) {
    args.push('-f', options.passwordFile);
  } else if (password !== undefined) {
    env['IPMI_PASSWORD'] = password;
    args.push('-E');
    if (password !== '') secrets.push(password);
  }
  // -v: ipmitool tells an auth failure from an unreachable BMC on stderr only when verbose.
  args.push('-v', ...command);
  return { file: options.ipmitoolPath, args, env, secrets };
}

const AUTH = [
  /RAKP \d+ HMAC is invalid/i,
  /unauthorized name/i,
  /invalid (user ?name|password)/i,
  /password is invalid/i,
  /Activate Session (command failed|error)/i,
  /RAKP \d+ message indicates an error : (invalid|unauthorized|no matching)/i,
];
const PRIVILEGE = [
  /insufficient privilege/i,
  /privilege level exceeds/i,
  /requested privilege level|privilege level (not available|is not permitted)/i,
  /Set Session Privilege Level to \S+ failed/i,
  /\/dev\/ipmi.*(Permission denied|Operation not permitted)/i,
];
const UNREACHABLE = [
  /Get Auth Capabilities (error|command failed)/i,
  /No response from remote controller/i,
  /Could not open device at \/dev\/ipmi/i,
  /Address lookup for .* failed/i,
  /(Connection refused|Network is unreachable|No route to host|Name or service not known)/i,
  /Unable to establish (IPMI v2 \/ RMCP\+|IPMI v1\.5 \/ RMCP|LAN) session/i,
];
const UNSUPPORTED = [
  /failed: (Invalid command|Command not supported in present state|Invalid data field in request|Parameter out of range|Command illegal|Destination unavailable|Request parameter\(s\) not supported in present state)/i,
  /not supported/i,
];

/** Why ipmitool failed, judged from its (verbose) stderr. */
export function classifyIpmitoolFailure(stderr: string): PowerControlReason {
  const matches = (patterns: readonly RegExp[]): boolean => patterns.some((p) => p.test(stderr));
  if (matches(AUTH)) return 'auth';
  if (matches(PRIVILEGE)) return 'privilege';
  if (matches(UNREACHABLE)) return 'unreachable';
  if (matches(UNSUPPORTED)) return 'unsupported';
  return 'failed';
}

/** What to do about each failure reason, appended to error messages. */
const ADVICE: Readonly<Record<PowerControlReason, string>> = {
  auth: 'check the username and password',
  unreachable: 'check host, port and that the BMC answers IPMI over LAN (in-band: load ipmi_devintf and ipmi_si)',
  privilege: 'use a user with the administrator or operator privilege (in-band: run as root)',
  unsupported: 'the BMC refuses this verb, or refuses it in the present power state',
  timeout: 'the deadline passed and ipmitool was killed; the BMC may or may not have acted',
  aborted: 'the call was aborted and ipmitool was killed; the BMC may or may not have acted',
  'not-installed': 'install the ipmitool package or set ipmitoolPath',
  failed: 'see stderr',
};

/** ipmitool's verbose chatter that says nothing about a failure. */
const NOISE = /^(Loading IANA PEN Registry|Running Get VSO Capabilities|Invalid completion code received: Invalid command|Discovered IPMB address|Get HPM\.x Capabilities request failed)/;

/** The lines of ipmitool's stderr that say what failed, joined. */
function summary(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !NOISE.test(l))
    .slice(-4)
    .join(' / ');
}

/** What the message of a failed run is made of. */
export interface IpmitoolFailure {
  readonly verb: PowerVerb;
  readonly reason: PowerControlReason;
  /** ipmitool's stderr, already redacted. */
  readonly stderr: string;
  /** What to say instead of the stderr summary (a spawn error, a deadline); already redacted. */
  readonly detail?: string | undefined;
}

/** Where a run went: `in-band (/dev/ipmi0)` or `lanplus HOST:PORT`. */
function target(options: ResolvedIpmitoolOptions): string {
  if (options.interface === 'open') return 'in-band (/dev/ipmi0)';
  return `${options.interface} ${options.host ?? ''}${options.port === undefined ? '' : `:${options.port}`}`;
}

/** `ipmitool chassis power reset (lanplus bmc:623) failed: auth: <summary> (<advice>)`. */
export function failureMessage(options: ResolvedIpmitoolOptions, failure: IpmitoolFailure): string {
  const detail = failure.detail ?? summary(failure.stderr);
  return (
    `ipmitool chassis power ${CHASSIS_POWER_WORD[failure.verb]} (${target(options)}) failed: ${failure.reason}` +
    (detail === '' ? '' : `: ${detail}`) +
    ` (${ADVICE[failure.reason]})`
  );
}

/** Why the configured password cannot be used, found before ipmitool runs. */
export type PasswordSourceProblem =
  /** `passwordEnv` names a variable that is not set in this process's environment. */
  | { readonly kind: 'env-unset'; readonly variable: string }
  /** This process cannot read `passwordFile`; `code` is the errno name of the failed `access(2)`. */
  | { readonly kind: 'file-unreadable'; readonly file: string; readonly code: string | undefined };

/**
 * `ipmitool chassis power reset (lanplus bmc:623) not run: auth: passwordEnv names BMC_PW, which
 * is not set in this process's environment (<what to do>)`. Never holds a password: there is
 * none to show (the variable is unset, the file is not read).
 */
export function passwordSourceMessage(options: ResolvedIpmitoolOptions, verb: PowerVerb, problem: PasswordSourceProblem): string {
  const what =
    problem.kind === 'env-unset'
      ? `passwordEnv names ${problem.variable}, which is not set in this process's environment ` +
        `(set ${problem.variable} before the call, to the empty string for an empty password, or give password or passwordFile instead)`
      : `passwordFile ${JSON.stringify(problem.file)} cannot be read by this process: ${problem.code ?? 'unknown error'} ` +
        `(create it with the password on its first line, readable by the user this process runs as, mode 0600)`;
  return `ipmitool chassis power ${CHASSIS_POWER_WORD[verb]} (${target(options)}) not run: auth: ${what}`;
}
