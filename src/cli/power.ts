/**
 * `durable-write power VERB`: BMC power control through `IpmitoolPowerController` (`--protocol
 * ipmi`, the default) or `RedfishPowerController` (`--protocol redfish`). The hard verbs
 * (`reset`, `cycle`, `off`) first flush this machine's page cache with `syncAll()` and act only
 * once it succeeded, whatever the protocol, which turns the lossy `ipmitool chassis power reset`
 * (or a Redfish `ForceRestart`) into one safe command; `--no-sync` skips the flush. There is no
 * `--password`: the password comes from a file or an environment variable, never from a command
 * line, and it is never printed. The Redfish options are read into a controller in
 * `power-redfish.ts`.
 *
 * @internal
 * @module
 */
import { IpmitoolPowerController, type IpmitoolPowerControllerOptions } from '../power/ipmitool.js';
import type { PowerController } from '../power/power-controller.js';
import { defineCommand } from './command.js';
import { failureStatus, UsageError } from './errors.js';
import { formatDuration, roundMs } from './output.js';
import { passwordSource } from './power-password.js';
import { REDFISH_ONLY, redfishControllerFor } from './power-redfish.js';
import { timedFlush } from './sync.js';
import { parseChoice, parseInteger } from './values.js';

/** The verbs, by their command-line name, with the controller's method for each. */
const METHODS = { status: 'status', on: 'on', off: 'off', cycle: 'cycle', reset: 'reset', 'soft-off': 'softOff' } as const;
type Verb = keyof typeof METHODS;
const VERBS = Object.keys(METHODS).filter((word): word is Verb => Object.hasOwn(METHODS, word));

/** The hard cuts: whatever is still in the page cache is lost, so they flush first. */
const FLUSH_FIRST: ReadonlySet<Verb> = new Set(['off', 'cycle', 'reset']);

/** The password variable used with `--host` when no password source is named, as ipmitool's `-E` reads it. */
const DEFAULT_PASSWORD_ENV = 'IPMI_PASSWORD';

const OPTIONS = {
  protocol: { type: 'string', value: 'PROTO', help: "ipmi (through ipmitool; the default) or redfish (HTTPS to the BMC's Redfish service)" },
  host: { type: 'string', value: 'HOST', help: "the BMC's host name or address; ipmi without it: in-band through /dev/ipmi0 (root)" },
  port: { type: 'string', value: 'PORT', help: "the BMC's port, 1 to 65535 (default: UDP 623 for ipmi; TCP 443 for redfish, 80 with --scheme http)" },
  user: { type: 'string', value: 'USER', help: "the BMC user (ipmi's default: ipmitool's null user; required for redfish)" },
  'password-file': { type: 'string', value: 'FILE', help: 'a file whose first line is the password (ipmi: read by ipmitool as -f FILE); keep it mode 600' },
  'password-env': {
    type: 'string',
    value: 'VAR',
    help:
      `an environment variable holding the password (default, with --host and no --password-file: ${DEFAULT_PASSWORD_ENV} for ipmi, ` +
      'passed to ipmitool with -E; REDFISH_PASSWORD for redfish)',
  },
  interface: { type: 'string', value: 'IF', help: 'ipmi: open (in-band), lan or lanplus (default: lanplus with --host, else open)' },
  'cipher-suite': { type: 'string', value: 'N', help: 'ipmi: the RMCP+ cipher suite, 0 to 17, lanplus only (default 3)' },
  privilege: { type: 'string', value: 'LEVEL', help: 'ipmi: the session privilege: user, operator or administrator (ipmitool\'s default: administrator)' },
  timeout: { type: 'string', value: 'SECONDS', help: 'seconds to wait for each reply, 1 to 3600 (ipmi: ipmitool -N; redfish: each request, default 30)' },
  retries: { type: 'string', value: 'N', help: 'ipmi: retries per request, 0 to 100 (ipmitool -R)' },
  scheme: { type: 'string', value: 'SCHEME', help: 'redfish: https (the default) or http (password in clear text: test servers only)' },
  system: { type: 'string', value: 'ID', help: "redfish: the Id of the computer system to control, when the BMC has several (Dell: System.Embedded.1)" },
  auth: { type: 'string', value: 'MODE', help: 'redfish: auto (a session when the BMC offers one, else Basic; the default), session or basic' },
  ca: { type: 'string', value: 'FILE', help: "redfish: a PEM file with the CA that signed the BMC's certificate (the certificate itself when self-signed)" },
  fingerprint: { type: 'string', value: 'SHA256', help: "redfish: the SHA-256 fingerprint of the BMC's certificate (openssl x509 -noout -fingerprint -sha256)" },
  insecure: { type: 'boolean', help: 'redfish: accept any certificate (a lab only: whoever answers gets the password)' },
  wait: { type: 'string', value: 'SECONDS', help: 'redfish: how long on, off, reset and cycle wait for the power state, 1 to 3600 (default 120)' },
  'no-wait': { type: 'boolean', help: 'redfish: return once the BMC accepted the request, without waiting for the power state' },
  'cycle-off-wait': {
    type: 'string',
    value: 'SECONDS',
    help: 'redfish: how long cycle waits for off before it powers on where the BMC lacks PowerCycle, 1 to 3600 (default 120; --no-wait and --wait do not change it)',
  },
  'no-sync': { type: 'boolean', help: 'reset, cycle, off: do not flush first (unflushed data is lost)' },
} as const;

/** The options of a remote BMC, which make no sense in-band. */
const REMOTE_ONLY = ['port', 'user', 'password-file', 'password-env', 'cipher-suite', 'privilege', 'timeout', 'retries'] as const;

/** The options of ipmitool only. */
const IPMI_ONLY = ['interface', 'cipher-suite', 'privilege', 'retries'] as const;

export const powerCommand = defineCommand({
  name: 'power',
  arguments: 'VERB',
  summary: 'BMC power control over ipmitool or Redfish: status, on, off, cycle, reset, soft-off',
  description: [
    'VERB is status (prints on or off), on, off, cycle, reset or soft-off (an ACPI power-button press: the OS shuts down ' +
      'in order and flushes by itself).',
    'reset, cycle and off cut the power without a shutdown, so they first flush this machine with sync(2), printed with ' +
      'its time, and act only if it succeeded; a failed flush exits 1 without touching the power. --no-sync skips the ' +
      'flush. on, status and soft-off do not flush.',
    'The password is never on a command line: give --password-file FILE or --password-env VAR ' +
      `(default ${DEFAULT_PASSWORD_ENV} for ipmi, REDFISH_PASSWORD for redfish; for ipmi, set it to the empty string for an empty password). ` +
      'It is never printed.',
    '--protocol redfish speaks DMTF Redfish over HTTPS (Dell iDRAC, HPE iLO, Lenovo XCC, Supermicro, OpenBMC): it needs --host and --user, ' +
      "verifies the BMC's certificate (--ca FILE or --fingerprint SHA256 for a self-signed one), and waits for the power state " +
      '(--wait SECONDS, --no-wait). reset and cycle power on a machine that is off. Where the BMC lacks PowerCycle, cycle sends ForceOff, ' +
      'waits for off (--cycle-off-wait SECONDS, default 120, also with --no-wait), then On; if it fails between the two, the error says ' +
      'that On was not sent (the machine may be off) and, with --json, lists what was sent in "sent".',
  ],
  options: OPTIONS,
  refused: {
    password: 'a password on a command line is visible to every user (ps, /proc); use --password-file FILE or --password-env VAR',
    'ca-file': 'the option is --ca FILE',
  },
  arity: { min: 1, max: 1 },
  async run({ values, positionals: [word = ''] }, context) {
    const verb = parseChoice('power verb', word, VERBS);
    const controller = await controllerFor(values);
    const { out, signal } = context;
    const flush = FLUSH_FIRST.has(verb) && values['no-sync'] !== true ? await timedFlush('sync', undefined, context, 'power') : undefined;
    if (flush !== undefined && !flush.ok) {
      // Never a hard cut after a failed flush: the data it was to save may not be on disk.
      out.note(`durable-write power: ${verb} NOT sent, because the flush before it failed`);
      out.result({ command: 'power', verb, ok: false, flushed: flush });
      return failureStatus(undefined, signal);
    }
    const progress = out.progress(`power ${verb}:`);
    const started = performance.now();
    const state = await (verb === 'status' ? controller.status({ signal }) : controller[METHODS[verb]]({ signal })).finally(() => progress.done());
    const ms = performance.now() - started;
    if (state !== undefined) out.line(state);
    else if (verb === 'soft-off') out.line(`power soft-off: requested in ${formatDuration(ms)} (the OS shuts down if it honours the ACPI power button)`);
    else out.line(`power ${verb}: done in ${formatDuration(ms)}`);
    out.result({ command: 'power', verb, ok: true, ...(state === undefined ? {} : { state }), flushed: flush ?? null, ms: roundMs(ms) });
    return 0;
  },
});

/** The parsed options of `power`. */
type PowerValues = { readonly [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** The controller the options describe; a {@link UsageError} for a combination that cannot work. */
async function controllerFor(values: PowerValues): Promise<PowerController> {
  const protocol = values.protocol === undefined ? 'ipmi' : parseChoice('protocol', values.protocol, ['ipmi', 'redfish']);
  const foreign = (protocol === 'ipmi' ? REDFISH_ONLY : IPMI_ONLY).filter((name) => values[name] !== undefined).map((name) => `--${name}`);
  if (foreign.length > 0) throw new UsageError(`${foreign.join(', ')} ${foreign.length === 1 ? 'does' : 'do'} not apply to --protocol ${protocol}`);
  return protocol === 'redfish' ? redfishControllerFor(values) : ipmitoolControllerFor(values);
}

/** The ipmitool controller the options describe. */
function ipmitoolControllerFor(values: PowerValues): IpmitoolPowerController {
  const host = values.host;
  if (host === undefined) {
    const remote = REMOTE_ONLY.filter((name) => values[name] !== undefined).map((name) => `--${name}`);
    if (remote.length > 0) {
      throw new UsageError(`${remote.join(', ')} need --host (without --host, power control is in-band through /dev/ipmi0 and takes no credentials)`);
    }
  }
  const integer = (name: 'port' | 'cipher-suite' | 'timeout' | 'retries', min: number, max: number): number | undefined => {
    const text = values[name];
    return text === undefined ? undefined : parseInteger(`--${name}`, text, min, max);
  };
  const options: IpmitoolPowerControllerOptions = {
    host,
    port: integer('port', 1, 65535),
    username: values.user,
    interface: values.interface === undefined ? undefined : parseChoice('interface', values.interface, ['open', 'lan', 'lanplus']),
    cipherSuite: integer('cipher-suite', 0, 17),
    privilegeLevel: values.privilege === undefined ? undefined : parseChoice('privilege level', values.privilege, ['user', 'operator', 'administrator']),
    timeoutSeconds: integer('timeout', 1, 3600),
    retries: integer('retries', 0, 100),
  };
  // In-band takes no credentials (REMOTE_ONLY above refused them); a bad value above is reported first.
  const password = host === undefined ? {} : passwordSource(values, DEFAULT_PASSWORD_ENV);
  // Its TypeErrors (a host starting with '-', a user over 16 bytes...) are usage errors: exit 2.
  return new IpmitoolPowerController({ ...options, ...password });
}
