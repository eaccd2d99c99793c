/**
 * Everything that turns a failed Redfish exchange into a `PowerControlError`, free of I/O: the
 * reason an HTTP answer means, the advice for each, and the one message shape
 * `Redfish <verb> (<origin>) failed: <reason>: <what> (<what to do>)` (the reason left out when it is
 * `failed`). Every text from the BMC
 * passes through `redact` first, so no password reaches a message.
 *
 * @internal
 * @module
 */
import { PowerControlError, type PowerControlReason, type PowerVerb } from './power-controller.js';
import { errorText, hasMessage, messageIds } from './redfish-protocol.js';
import { redact } from './redact.js';

/** Why an answer failed, when it is more particular than its reason. */
export type FailureKind = 'session-limit' | 'certificate' | 'conflict' | 'task' | 'system' | 'power-state' | 'connection' | 'general';

/** What a failure is made of. */
export interface RedfishFailure {
  readonly reason: PowerControlReason;
  /** What happened, in words (the request, the status, the BMC's message). Redacted by {@link redfishError}. */
  readonly detail: string;
  readonly kind?: FailureKind | undefined;
  /** Whether `detail` quotes words of the BMC's (an error body's message), which the advice may then point to. Default `false`. */
  readonly quotesBmc?: boolean | undefined;
  /** How far the verb's resets got when it failed; see {@link progressText}. Default: nothing accepted. */
  readonly progress?: ResetProgress | undefined;
  readonly httpStatus?: number | undefined;
  readonly code?: string | undefined;
  readonly cause?: unknown;
}

/**
 * How far a verb's resets got: the `ResetType`s the BMC accepted (a 200 or 204 answer, or a 202
 * whose task completed), the one sent and not confirmed (refused, unanswered, its task failed or
 * still running), and those the verb meant to send after them and never sent.
 */
export interface ResetProgress {
  readonly accepted: readonly string[];
  readonly unanswered: string | undefined;
  readonly unsent: readonly string[];
}

/** What the machine may be left in after the last accepted reset of a verb that stopped midway. */
const LEFT: Readonly<Record<string, string>> = { ForceOff: 'off', GracefulShutdown: 'off', On: 'on' };

/**
 * What a failed verb had the BMC do, for its message: `ForceOff was accepted; On was not sent:
 * the machine may be off`. `undefined` when the BMC accepted nothing.
 */
export function progressText(progress: ResetProgress): string | undefined {
  const { accepted, unanswered, unsent } = progress;
  const last = accepted.at(-1);
  if (last === undefined) return undefined;
  const list = (types: readonly string[]): string => `${types.join(', ')} ${types.length === 1 ? 'was' : 'were'}`;
  const parts = [`${list(accepted)} accepted`];
  if (unanswered !== undefined) parts.push(`${unanswered} was sent but not confirmed`);
  if (unsent.length > 0) parts.push(`${list(unsent)} not sent`);
  const left = LEFT[last];
  const stopped = unanswered !== undefined || unsent.length > 0;
  return `${parts.join('; ')}${stopped && left !== undefined ? `: the machine may be ${left}` : ''}`;
}

const ADVICE: Readonly<Record<PowerControlReason, string>> = {
  auth: 'check the username and password; a refused login is not retried',
  unreachable: 'check host, port and scheme, and that the BMC answers Redfish from this machine',
  privilege: 'use an account with the Operator or Administrator role; a ReadOnly account can only read the power state',
  unsupported: "this BMC does not offer that reset type or action (see the system's ResetType@Redfish.AllowableValues)",
  timeout: 'the BMC did not answer, or the power state did not change, in time; it may still act: read status() before trying again',
  aborted: 'the call was aborted; the BMC may or may not have acted: read status() before trying again',
  'not-installed': 'nothing to install: Redfish needs no program',
  failed: "see the BMC's message",
};

/** The advice of `'failed'` where the BMC said nothing (an answer without a message, a reply that is not Redfish). */
const FAILED_WITHOUT_WORDS = "the BMC gave no reason: read status() and the BMC's event log before trying again";

const KIND_ADVICE: Readonly<Record<Exclude<FailureKind, 'general'>, string>> = {
  'session-limit':
    'the BMC has reached its limit of open sessions, usually sessions leaked by clients that never log out: ' +
    "wait for them to expire (the SessionService's SessionTimeout) or delete them under /redfish/v1/SessionService/Sessions",
  certificate:
    "the BMC's TLS certificate did not verify: pass tls.ca (the CA that signed it, or the certificate itself when " +
    'self-signed) or tls.fingerprint256 (openssl s_client -connect HOST:443 </dev/null | openssl x509 -noout -fingerprint -sha256); ' +
    'on the command line, --ca FILE or --fingerprint SHA256',
  conflict: 'the BMC refused it in its present state (a job or another power request in progress): read status() and try again',
  task: "the BMC accepted the request but its task failed: read status() and the BMC's log",
  system: 'pass systemId, the Id of the computer system to control',
  'power-state':
    'the Redfish schema does not require PowerState, and without it the power state is unknown here: ' +
    'reset() and cycle() (where the BMC allows PowerCycle) work without it; read the state on the BMC itself',
  connection:
    'the connection broke before a complete answer (check scheme and port); if the request reached the BMC, ' +
    'it may or may not have acted: read status() before trying again',
};

/**
 * The reason of an HTTP answer that is not a success. `action` says whether the request was the
 * reset action itself (where 404 and 405 mean the BMC has no such action).
 */
export function classifyAnswer(status: number, body: unknown, action: boolean): { reason: PowerControlReason; kind: FailureKind } {
  const ids = messageIds(body);
  if (status === 401) return { reason: 'auth', kind: 'general' };
  if (status === 403) return { reason: 'privilege', kind: 'general' };
  if (status === 400 && ['ActionParameterNotSupported', 'ActionParameterUnknown', 'PropertyValueNotInList', 'ActionNotSupported', 'ActionParameterValueNotInList'].some((m) => hasMessage(ids, m))) {
    return { reason: 'unsupported', kind: 'general' };
  }
  if (action && (status === 404 || status === 405 || status === 501)) return { reason: 'unsupported', kind: 'general' };
  if (hasMessage(ids, 'SessionLimitExceeded')) return { reason: 'failed', kind: 'session-limit' };
  if (status === 409) return { reason: 'failed', kind: 'conflict' };
  return { reason: 'failed', kind: 'general' };
}

/** What an answer says, for a message: the status and the body's words (`said`: whether it had any). */
export function answerText(status: number, body: unknown, text: string): { readonly text: string; readonly said: boolean } {
  const said = errorText(body) ?? text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return { text: `HTTP ${status}${said === '' ? '' : `: ${said}`}`, said: said !== '' };
}

/** The error of a failure, its texts redacted; what the verb had the BMC do is appended to its detail and set as `sent`. */
export function redfishError(origin: string, verb: PowerVerb, failure: RedfishFailure, secrets: readonly string[]): PowerControlError {
  const kind = failure.kind ?? 'general';
  const advice =
    kind !== 'general' ? KIND_ADVICE[kind] : failure.reason === 'failed' && failure.quotesBmc !== true ? FAILED_WITHOUT_WORDS : ADVICE[failure.reason];
  const progress = failure.progress === undefined ? undefined : progressText(failure.progress);
  const detail = redact([failure.detail, progress].filter((part) => part !== undefined && part !== '').join('; '), secrets);
  // `failed: failed: ...` says nothing twice: the reason is named unless it is the catch-all.
  const head = failure.reason === 'failed' ? '' : `${failure.reason}${detail === '' ? '' : ': '}`;
  return new PowerControlError(`Redfish ${verb} (${origin}) failed: ${head}${detail} (${advice})`, {
    reason: failure.reason,
    verb,
    httpStatus: failure.httpStatus,
    code: failure.code,
    sent: failure.progress?.accepted,
    cause: failure.cause,
  });
}
