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
export type FailureKind = 'session-limit' | 'certificate' | 'conflict' | 'task' | 'system' | 'general';

/** What a failure is made of. */
export interface RedfishFailure {
  readonly reason: PowerControlReason;
  /** What happened, in words (the request, the status, the BMC's message). Redacted by {@link redfishError}. */
  readonly detail: string;
  readonly kind?: FailureKind | undefined;
  readonly httpStatus?: number | undefined;
  readonly code?: string | undefined;
  readonly cause?: unknown;
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

/** `HTTP 403: Base.1.8.InsufficientPrivilege: ...`: the status and what the body says. */
export function answerText(status: number, body: unknown, text: string): string {
  const said = errorText(body) ?? text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return `HTTP ${status}${said === '' ? '' : `: ${said}`}`;
}

/** The error of a failure, its texts redacted. */
export function redfishError(origin: string, verb: PowerVerb, failure: RedfishFailure, secrets: readonly string[]): PowerControlError {
  const kind = failure.kind ?? 'general';
  const advice = kind === 'general' ? ADVICE[failure.reason] : KIND_ADVICE[kind];
  const detail = redact(failure.detail, secrets);
  // `failed: failed: ...` says nothing twice: the reason is named unless it is the catch-all.
  const head = failure.reason === 'failed' ? '' : `${failure.reason}${detail === '' ? '' : ': '}`;
  return new PowerControlError(`Redfish ${verb} (${origin}) failed: ${head}${detail} (${advice})`, {
    reason: failure.reason,
    verb,
    httpStatus: failure.httpStatus,
    code: failure.code,
    cause: failure.cause,
  });
}
