/**
 * One HTTP exchange with a BMC, over `node:net`/`node:tls` and `node:http`: connect (and, for
 * https, verify the certificate or its pinned fingerprint *before* a byte of the request is
 * sent), send one request with `Connection: close`, read the whole answer (at most 4 MiB) and
 * parse it as JSON. Every outcome is a value, never a rejection, so that the caller maps each to
 * its own `PowerControlError`. One deadline (`timeoutMs`) covers the whole exchange; an
 * `AbortSignal` cuts it.
 *
 * Why not `fetch`: Node 20's `fetch` cannot accept a self-signed BMC certificate without an
 * undici dispatcher that Node does not export, and it cannot pin a fingerprint.
 *
 * @internal
 * @module
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { ResolvedRedfishTls } from './redfish-options.js';

/** Where and how to connect. */
export interface HttpEndpoint {
  readonly scheme: 'https' | 'http';
  readonly host: string;
  readonly port: number;
  readonly tls: ResolvedRedfishTls;
  readonly timeoutMs: number;
}

/** One request. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The path and query, starting with `/`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Sent as JSON. */
  readonly body?: unknown;
}

/** How an exchange ended. */
export type HttpOutcome =
  /** The BMC answered; `body` is the parsed JSON (undefined when empty or not JSON), `text` its first 2000 characters. */
  | { readonly kind: 'response'; readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: unknown; readonly text: string }
  /** No connection: refused, unknown host, no route, or no connection within the deadline (`error.code` `ETIMEDOUT`). */
  | { readonly kind: 'unreachable'; readonly error: NodeJS.ErrnoException }
  /** The BMC's certificate did not verify, or is not the pinned one (`error.code` `ERR_TLS_FINGERPRINT_MISMATCH`). */
  | { readonly kind: 'certificate'; readonly error: NodeJS.ErrnoException }
  /** Connected, but the answer did not come within the deadline. */
  | { readonly kind: 'timeout' }
  /** The connection broke, the TLS handshake failed for another reason, or the answer was not HTTP or too large. */
  | { readonly kind: 'broken'; readonly error: NodeJS.ErrnoException }
  /** The signal fired. */
  | { readonly kind: 'aborted'; readonly reason: unknown };

/** The largest answer read: BMC resources are a few KiB; anything larger is not a Redfish answer. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** OpenSSL's verification failures, and Node's host-name mismatch, as they arrive in `error.code`. */
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA', 'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_TLS_FINGERPRINT_MISMATCH',
]);

function errnoError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

function asErrno(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : errnoError(String(error), 'ERR_UNKNOWN');
}

/** Opens a TLS connection with the endpoint's certificate check (for a pinned fingerprint, made after the handshake). */
function openTls(endpoint: HttpEndpoint): TLSSocket {
  const tls = endpoint.tls;
  return tlsConnect({
    host: endpoint.host,
    port: endpoint.port,
    // SNI is for names only (RFC 6066); an address as servername is a Node warning.
    ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
    ...(tls.kind === 'verify' ? { rejectUnauthorized: true, ...(tls.ca === undefined ? {} : { ca: tls.ca }) } : { rejectUnauthorized: false }),
  });
}

/** The `Host` header: the port only when it is not the scheme's default. */
function hostHeader(endpoint: HttpEndpoint): string {
  const host = isIP(endpoint.host) === 6 ? `[${endpoint.host}]` : endpoint.host;
  const standard = endpoint.scheme === 'https' ? 443 : 80;
  return endpoint.port === standard ? host : `${host}:${endpoint.port}`;
}

/**
 * Runs one exchange. Resolves with its {@link HttpOutcome}; never rejects. The socket is
 * destroyed whatever happens, and the signal's listener and the timer are removed.
 */
export function exchange(endpoint: HttpEndpoint, request: HttpRequest, signal?: AbortSignal): Promise<HttpOutcome> {
  return new Promise<HttpOutcome>((resolve) => {
    if (signal?.aborted === true) {
      resolve({ kind: 'aborted', reason: signal.reason });
      return;
    }
    let settled = false;
    let connected = false;
    let secured = endpoint.scheme === 'http';
    const tlsSocket = endpoint.scheme === 'https' ? openTls(endpoint) : undefined;
    const socket: Socket = tlsSocket ?? netConnect({ host: endpoint.host, port: endpoint.port });
    const finish = (outcome: HttpOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ kind: 'aborted', reason: signal?.reason });
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      finish(
        connected
          ? { kind: 'timeout' }
          : { kind: 'unreachable', error: errnoError(`no connection within ${endpoint.timeoutMs} ms`, 'ETIMEDOUT') },
      );
    }, endpoint.timeoutMs);

    socket.once('connect', () => {
      connected = true;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected) finish({ kind: 'unreachable', error });
      else if (!secured) finish({ kind: CERTIFICATE_CODES.has(error.code ?? '') ? 'certificate' : 'broken', error });
      else finish({ kind: 'broken', error });
    });
    const send = (): void => {
      secured = true;
      const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
      const req = httpRequest({
        method: request.method,
        path: request.path,
        createConnection: () => socket,
        setHost: false,
        headers: {
          Host: hostHeader(endpoint),
          Accept: 'application/json',
          'OData-Version': '4.0',
          Connection: 'close',
          ...(payload === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(payload.length) }),
          ...request.headers,
        },
      });
      req.on('error', (error) => finish({ kind: 'broken', error: asErrno(error) }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            finish({ kind: 'broken', error: errnoError(`the answer is larger than ${MAX_BODY_BYTES} bytes`, 'ERR_RESPONSE_TOO_LARGE') });
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (error) => finish({ kind: 'broken', error: asErrno(error) }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text.trim() === '' ? undefined : JSON.parse(text);
          } catch {
            body = undefined;
          }
          finish({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body, text: text.slice(0, 2000) });
        });
      });
      req.end(payload);
    };
    if (tlsSocket === undefined) {
      socket.once('connect', send);
      return;
    }
    tlsSocket.once('secureConnect', () => {
      const tls = endpoint.tls;
      if (tls.kind === 'fingerprint') {
        // rejectUnauthorized is off for a pinned certificate: this comparison is the whole check,
        // made before the request (and its credentials) is written.
        const seen = tlsSocket.getPeerCertificate().fingerprint256;
        if (seen !== tls.fingerprint256) {
          finish({
            kind: 'certificate',
            error: errnoError(`the BMC's certificate has the SHA-256 fingerprint ${seen ?? '(none)'}, not the pinned ${tls.fingerprint256}`, 'ERR_TLS_FINGERPRINT_MISMATCH'),
          });
          return;
        }
      }
      send();
    });
  });
}
