/**
 * The pure half of `IpmitoolPowerController`: option validation, the ipmitool argv and child
 * environment for a verb, the classification of a failure from ipmitool's stderr, and password
 * redaction. Kept free of I/O so the in-band and remote argv are unit-tested exactly.
 *
 * @module
 * @internal
 */
import type { IpmitoolPowerControllerOptions } from './ipmitool.js';
import type { PowerControlReason } from './power-controller.js';
import type { PowerVerb } from './power-controller.js';

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

function fail(message: string): never {
  throw new TypeError(`IpmitoolPowerController: ${message}`);
}

function optionalString(options: IpmitoolPowerControllerOptions, key: keyof IpmitoolPowerControllerOptions & string): string | undefined {
  const value: unknown = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(`${key} must be a non-empty string`);
  if (value.includes('\0')) fail(`${key} must not contain NUL`);
  return value;
}

function optionalInteger(
  options: IpmitoolPowerControllerOptions,
  key: keyof IpmitoolPowerControllerOptions & string,
  min: number,
  max: number,
): number | undefined {
  const value: unknown = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${key} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** An argument ipmitool would read as an option, or one carrying spaces or control characters. */
function checkArgument(key: string, value: string): void {
  if (value.startsWith('-')) fail(`${key} must not start with '-' (it would be read as an ipmitool option): ${JSON.stringify(value)}`);
  if (CONTROL_OR_SPACE.test(value)) fail(`${key} must not contain spaces or control characters: ${JSON.stringify(value)}`);
}

/** Validates `options` (throwing a TypeError) and applies the defaults. Runs nothing. */
export function resolveIpmitoolOptions(options: IpmitoolPowerControllerOptions = {}): ResolvedIpmitoolOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  const known = new Set([
    'interface', 'host', 'port', 'username', 'password', 'passwordFile', 'passwordEnv', 'cipherSuite',
    'privilegeLevel', 'timeoutSeconds', 'retries', 'deadlineMs', 'ipmitoolPath',
  ]);
  for (const key of Object.keys(options)) if (!known.has(key)) fail(`unknown option ${JSON.stringify(key)}`);

  const host = optionalString(options, 'host');
  const iface = options.interface ?? (host === undefined ? 'open' : 'lanplus');
  if (iface !== 'open' && iface !== 'lan' && iface !== 'lanplus') {
    fail(`interface must be 'open', 'lan' or 'lanplus', got ${JSON.stringify(iface)}`);
  }
  const port = optionalInteger(options, 'port', 1, 65535);
  const username = optionalString(options, 'username');
  const password = options.password === undefined ? undefined : (() => {
    if (typeof options.password !== 'string') fail('password must be a string');
    if (options.password.includes('\0')) fail('password must not contain NUL');
    if (Buffer.byteLength(options.password) > 20) fail('password must be at most 20 bytes (the IPMI limit)');
    return options.password;
  })();
  const passwordFile = optionalString(options, 'passwordFile');
  const passwordEnv = optionalString(options, 'passwordEnv');
  const cipherSuite = optionalInteger(options, 'cipherSuite', 0, 17);
  const timeoutSeconds = optionalInteger(options, 'timeoutSeconds', 1, 3600);
  const retries = optionalInteger(options, 'retries', 0, 100);
  const privilegeLevel = options.privilegeLevel;
  if (privilegeLevel !== undefined && !Object.hasOwn(PRIVILEGE_LEVELS, privilegeLevel)) {
    fail(`privilegeLevel must be one of ${Object.keys(PRIVILEGE_LEVELS).join(', ')}, got ${JSON.stringify(privilegeLevel)}`);
  }
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs) || deadlineMs <= 0) {
    fail(`deadlineMs must be a positive number of milliseconds, got ${String(deadlineMs)}`);
  }
  const ipmitoolPath = optionalString(options, 'ipmitoolPath') ?? 'ipmitool';

  const sources = [password, passwordFile, passwordEnv].filter((s) => s !== undefined).length;
  if (sources > 1) fail('give at most one of password, passwordFile and passwordEnv');
  if (passwordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordEnv)) {
    fail(`passwordEnv must be an environment variable name, got ${JSON.stringify(passwordEnv)}`);
  }

  if (iface === 'open') {
    // In-band: ipmitool talks to the local BMC through /dev/ipmi0; nothing remote applies.
    const remoteOnly = { host, port, username, password, passwordFile, passwordEnv, cipherSuite, privilegeLevel, timeoutSeconds, retries };
    const given = Object.entries(remoteOnly).filter(([, v]) => v !== undefined).map(([k]) => k);
    if (given.length > 0) fail(`interface 'open' (in-band, /dev/ipmi0) takes no ${given.join(', ')}`);
  } else {
    if (host === undefined) fail(`interface '${iface}' needs a host`);
    checkArgument('host', host);
    if (host.length > 253) fail('host is longer than 253 characters');
    if (username !== undefined) {
      checkArgument('username', username);
      if (Buffer.byteLength(username) > 16) fail('username must be at most 16 bytes (the IPMI limit)');
    }
    if (passwordFile !== undefined) checkArgument('passwordFile', passwordFile);
    if (cipherSuite !== undefined && iface !== 'lanplus') fail("cipherSuite applies to interface 'lanplus' only");
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
 * The ipmitool command for `verb`. The password never appears in `args`: it travels as
 * `IPMI_PASSWORD` in the child's environment with `-E` (an inherited `IPMITOOL_PASSWORD`, which
 * ipmitool would prefer, is removed), or as `-f FILE`. In-band (`open`) is exactly
 * `ipmitool -I open chassis power <word>`.
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

/** Replaces every secret in `text` by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('***');
  return out;
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
