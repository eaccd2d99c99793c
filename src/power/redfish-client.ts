/**
 * One logged-in conversation with a BMC's Redfish service, for the length of one power verb:
 * the unauthenticated service root, the login (a session or Basic), authenticated requests whose
 * failures become `PowerControlError`s, and the logout that deletes the session.
 *
 * It also remembers what it had the BMC do: the resets the verb planned, those the BMC accepted
 * and the one in flight, so that every failure says what was sent and what was not
 * (`PowerControlError.sent`), which matters for a verb of several steps that fails midway.
 *
 * The session is the caller's to delete: `RedfishPowerController` calls {@link RedfishClient.logout}
 * in a `finally`, after an error or an abort too, because a BMC answers 503 to every login once
 * enough leaked sessions pile up. The logout runs without the caller's signal (an aborted call
 * still logs out) and never throws.
 *
 * @internal
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { PowerControlError, PowerVerb } from './power-controller.js';
import { answerText, classifyAnswer, redfishError, type RedfishFailure, type ResetProgress } from './redfish-failure.js';
import { exchange, type HttpEndpoint, type HttpOutcome, type HttpRequest } from './redfish-http.js';
import { redfishOrigin, type ResolvedRedfishOptions } from './redfish-options.js';
import { link, memberId, pathOf } from './redfish-protocol.js';

/** A successful answer. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/** How requests are authenticated. */
type Credentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly header: string }
  | { readonly kind: 'session'; readonly token: string; readonly path: string | undefined };

/** The longest a logout waits: it runs after an abort too, where the caller wants the call to end. */
const LOGOUT_TIMEOUT_MS = 5_000;

/** The service root's path: the one path every Redfish service has (DSP0266). */
export const SERVICE_ROOT = '/redfish/v1/';

/** What a request is, for its failure's message: `POST /redfish/v1/...`. */
function describeRequest(request: HttpRequest): string {
  return `${request.method} ${request.path}`;
}

export class RedfishClient {
  readonly #options: ResolvedRedfishOptions;
  readonly #verb: PowerVerb;
  readonly #username: string;
  readonly #password: string;
  readonly #signal: AbortSignal | undefined;
  readonly #endpoint: HttpEndpoint;
  readonly #origin: string;
  #credentials: Credentials = { kind: 'none' };
  /** The resets the verb still means to post, in order (see {@link plan}). */
  #planned: readonly string[] = [];
  /** The resets the BMC accepted, in order. */
  readonly #accepted: string[] = [];
  /** The reset sent and not yet confirmed. */
  #sending: string | undefined;

  constructor(options: ResolvedRedfishOptions, verb: PowerVerb, password: string, signal: AbortSignal | undefined) {
    this.#options = options;
    this.#verb = verb;
    this.#username = options.username;
    this.#password = password;
    this.#signal = signal;
    this.#endpoint = { scheme: options.scheme, host: options.host, port: options.port, tls: options.tls, timeoutMs: options.requestTimeoutMs };
    this.#origin = redfishOrigin(options);
  }

  /**
   * The error of a failure of this verb, with the password and any session token redacted, and
   * what the verb had the BMC do so far (its `sent`, and words in its message).
   */
  fail(failure: RedfishFailure): PowerControlError {
    const secrets = [this.#password];
    if (this.#credentials.kind === 'session') secrets.push(this.#credentials.token);
    if (this.#credentials.kind === 'basic') secrets.push(this.#credentials.header);
    return redfishError(this.#origin, this.#verb, { ...failure, progress: this.#progress() }, secrets);
  }

  /**
   * Declares the resets the verb is about to post, in order (`ForceOff`, then `On`), so that a
   * failure before the last one names those not sent.
   */
  plan(types: readonly string[]): void {
    this.#planned = [...types];
  }

  /**
   * Runs `send`, which posts the reset `type` and follows it to its end; once it resolves, the
   * BMC accepted `type`. A failure meanwhile names `type` as sent but not confirmed.
   */
  async track(type: string, send: () => Promise<void>): Promise<void> {
    if (this.#planned[0] === type) this.#planned = this.#planned.slice(1);
    this.#sending = type;
    try {
      await send();
      this.#accepted.push(type);
    } finally {
      this.#sending = undefined;
    }
  }

  #progress(): ResetProgress {
    return { accepted: [...this.#accepted], unanswered: this.#sending, unsent: this.#planned };
  }

  /**
   * `GET /redfish/v1/`, which needs no credentials (DSP0266); sent with Basic when `auth` is
   * `'basic'`, since some BMCs protect it anyway.
   */
  async serviceRoot(): Promise<unknown> {
    if (this.#options.auth === 'basic') this.#useBasic();
    return (await this.request({ method: 'GET', path: SERVICE_ROOT })).body;
  }

  /**
   * Logs in as `auth` says: a session when the root lists one (`Links.Sessions`, else the
   * `SessionService`'s standard `Sessions`), else Basic; `'session'` without a session service
   * is `unsupported`. A refused login rejects with `'auth'` and is never retried.
   */
  async login(root: unknown): Promise<void> {
    if (this.#options.auth === 'basic') return;
    const service = link(root, 'SessionService');
    const sessions = link(root, 'Links', 'Sessions') ?? (service === undefined ? undefined : `${service.replace(/\/+$/, '')}/Sessions`);
    if (sessions === undefined) {
      if (this.#options.auth === 'session') {
        throw this.fail({ reason: 'unsupported', detail: "the service root lists no session service (no Links.Sessions); use auth 'basic' or 'auto'" });
      }
      this.#useBasic();
      return;
    }
    const answer = await this.request(
      { method: 'POST', path: sessions, body: { UserName: this.#username, Password: this.#password } },
      { login: true },
    );
    const token = answer.headers['x-auth-token'];
    if (typeof token !== 'string' || token === '') {
      throw this.fail({ reason: 'failed', detail: `POST ${sessions}: HTTP ${answer.status} created a session but sent no X-Auth-Token`, httpStatus: answer.status });
    }
    // Where to DELETE it: the Location header; else the session's own @odata.id; else its Id under the collection.
    const id = memberId(answer.body);
    const location = answer.headers.location ?? link(answer.body) ?? (id === undefined ? undefined : `${sessions.replace(/\/+$/, '')}/${encodeURIComponent(id)}`);
    this.#credentials = { kind: 'session', token, path: location === undefined ? undefined : pathOf(location) };
  }

  /**
   * Deletes the session, if one was made, waiting at most 5 s (or `requestTimeoutMs` when
   * shorter). Never throws: a session it cannot delete expires after the BMC's SessionTimeout.
   */
  async logout(): Promise<void> {
    const credentials = this.#credentials;
    if (credentials.kind !== 'session' || credentials.path === undefined) return;
    this.#credentials = { kind: 'none' };
    const endpoint = { ...this.#endpoint, timeoutMs: Math.min(this.#endpoint.timeoutMs, LOGOUT_TIMEOUT_MS) };
    await exchange(endpoint, { method: 'DELETE', path: credentials.path, headers: { 'X-Auth-Token': credentials.token } });
  }

  /** An authenticated GET's body. */
  async get(path: string): Promise<unknown> {
    return (await this.request({ method: 'GET', path })).body;
  }

  /**
   * Sends one request with the credentials, and resolves with a 2xx answer; anything else
   * rejects with the `PowerControlError` it means. `action` marks the reset action's POST.
   */
  async request(request: HttpRequest, mark: { readonly action?: boolean; readonly login?: boolean } = {}): Promise<Answer> {
    const outcome = await exchange(this.#endpoint, { ...request, headers: { ...this.#authHeaders(), ...request.headers } }, this.#signal);
    if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
      return { status: outcome.status, headers: outcome.headers, body: outcome.body };
    }
    throw this.fail(this.#failure(request, outcome, mark));
  }

  #useBasic(): void {
    if (this.#username.includes(':')) {
      throw this.fail({ reason: 'unsupported', detail: "the BMC offers no session service, and HTTP Basic cannot carry a user name with ':' (RFC 7617)" });
    }
    const header = `Basic ${Buffer.from(`${this.#username}:${this.#password}`).toString('base64')}`;
    this.#credentials = { kind: 'basic', header };
  }

  #authHeaders(): Record<string, string> {
    const credentials = this.#credentials;
    if (credentials.kind === 'basic') return { Authorization: credentials.header };
    if (credentials.kind === 'session') return { 'X-Auth-Token': credentials.token };
    return {};
  }

  #failure(request: HttpRequest, outcome: HttpOutcome, mark: { readonly action?: boolean; readonly login?: boolean }): RedfishFailure {
    const what = describeRequest(request);
    switch (outcome.kind) {
      case 'response': {
        const { reason, kind } = classifyAnswer(outcome.status, outcome.body, mark.action === true);
        const limit = mark.login === true && outcome.status === 503 ? 'session-limit' : kind;
        const prefix = limit === 'session-limit' ? 'session limit reached: ' : '';
        const answer = answerText(outcome.status, outcome.body, outcome.text);
        return { reason, kind: limit, quotesBmc: answer.said, httpStatus: outcome.status, detail: `${prefix}${what}: ${answer.text}` };
      }
      case 'unreachable':
        return { reason: 'unreachable', code: outcome.error.code, cause: outcome.error, detail: `${what}: ${outcome.error.code ?? ''} ${outcome.error.message}`.replace(/\s+/g, ' ') };
      case 'certificate':
        return { reason: 'failed', kind: 'certificate', code: outcome.error.code, cause: outcome.error, detail: `${what}: ${outcome.error.message}` };
      case 'timeout':
        return { reason: 'timeout', code: 'ETIMEDOUT', detail: `${what}: no answer within ${this.#options.requestTimeoutMs} ms (requestTimeoutMs)` };
      case 'broken':
        return { reason: 'failed', kind: 'connection', code: outcome.error.code, cause: outcome.error, detail: `${what}: ${outcome.error.message}` };
      case 'aborted':
        return { reason: 'aborted', code: 'ABORT_ERR', cause: outcome.reason, detail: `${what} cut short` };
    }
  }
}
