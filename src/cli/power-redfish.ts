/**
 * The Redfish half of `durable-write power`: its options (`--protocol redfish` with `--scheme`,
 * `--system`, `--auth`, `--ca`, `--fingerprint`, `--insecure`, `--wait`, `--no-wait`,
 * `--cycle-off-wait`, and the shared `--host`, `--port`, `--user`, `--password-file`,
 * `--password-env`, `--timeout`) read into a `RedfishPowerController`, every combination that
 * cannot work a {@link UsageError}.
 *
 * @internal
 * @module
 */
import { readFile } from 'node:fs/promises';
import { errnoCode } from '../core/errors.js';
import { RedfishPowerController, type RedfishPowerControllerOptions } from '../power/redfish.js';
import { UsageError } from './errors.js';
import { passwordSource } from './power-password.js';
import { parseChoice, parseInteger } from './values.js';

/** The options that apply to `--protocol redfish` only. */
export const REDFISH_ONLY = ['scheme', 'system', 'auth', 'ca', 'fingerprint', 'insecure', 'wait', 'no-wait', 'cycle-off-wait'] as const;

/** The password variable read when no password source is named. */
const DEFAULT_PASSWORD_ENV = 'REDFISH_PASSWORD';

/** The parsed options this half reads. */
export interface RedfishValues {
  readonly host?: string | undefined;
  readonly port?: string | undefined;
  readonly user?: string | undefined;
  readonly 'password-file'?: string | undefined;
  readonly 'password-env'?: string | undefined;
  readonly timeout?: string | undefined;
  readonly scheme?: string | undefined;
  readonly system?: string | undefined;
  readonly auth?: string | undefined;
  readonly ca?: string | undefined;
  readonly fingerprint?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly wait?: string | undefined;
  readonly 'no-wait'?: boolean | undefined;
  readonly 'cycle-off-wait'?: string | undefined;
}

/** The Redfish controller the options describe (the `--ca` file is read here). */
export async function redfishControllerFor(values: RedfishValues): Promise<RedfishPowerController> {
  const { host, user } = values;
  if (host === undefined) throw new UsageError('--protocol redfish needs --host (Redfish has no in-band form here)');
  if (user === undefined) throw new UsageError('--protocol redfish needs --user');
  const password = passwordSource(values, DEFAULT_PASSWORD_ENV);
  const tlsGiven = [values.ca !== undefined, values.fingerprint !== undefined, values.insecure === true].filter(Boolean).length;
  if (tlsGiven > 1) throw new UsageError('give at most one of --ca, --fingerprint and --insecure');
  const scheme = values.scheme === undefined ? 'https' : parseChoice('scheme', values.scheme, ['https', 'http']);
  if (scheme === 'http' && tlsGiven > 0) throw new UsageError('--ca, --fingerprint and --insecure apply to --scheme https only');
  if (values.wait !== undefined && values['no-wait'] === true) throw new UsageError('give --wait or --no-wait, not both');
  let ca: Buffer | undefined;
  if (values.ca !== undefined) {
    try {
      ca = await readFile(values.ca);
    } catch (err) {
      throw new UsageError(`--ca ${values.ca} cannot be read: ${errnoCode(err) ?? String(err)}`);
    }
  }
  const seconds = (name: 'timeout' | 'wait' | 'cycle-off-wait'): number | undefined => {
    const text = values[name];
    return text === undefined ? undefined : parseInteger(`--${name}`, text, 1, 3600) * 1000;
  };
  const waitMs = seconds('wait');
  const options: RedfishPowerControllerOptions = {
    host,
    port: values.port === undefined ? undefined : parseInteger('--port', values.port, 1, 65535),
    scheme,
    username: user,
    ...password,
    systemId: values.system,
    auth: values.auth === undefined ? undefined : parseChoice('auth mode', values.auth, ['auto', 'session', 'basic']),
    tls:
      ca !== undefined ? { ca } : values.fingerprint !== undefined ? { fingerprint256: values.fingerprint } : values.insecure === true ? { insecure: true } : undefined,
    requestTimeoutMs: seconds('timeout'),
    wait: values['no-wait'] === true ? false : waitMs === undefined ? undefined : { timeoutMs: waitMs },
    cycleOffTimeoutMs: seconds('cycle-off-wait'),
  };
  // Its TypeErrors (a host with a scheme, a bad fingerprint, a CA file that is not PEM...) are usage errors: exit 2.
  return new RedfishPowerController(options);
}
