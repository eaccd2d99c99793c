/**
 * A throwaway self-signed TLS certificate for 127.0.0.1 and localhost, made with the `openssl`
 * command at test time (no key material in the repository), for the HTTPS Redfish test server.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A key and certificate in PEM files and in memory. */
export interface Certificate {
  /** `<dir>/key.pem`, an unencrypted RSA 2048 key. */
  readonly keyPath: string;
  /** `<dir>/cert.pem`, self-signed, CN=localhost, SAN IP:127.0.0.1 and DNS:localhost, valid 2 days. */
  readonly certPath: string;
  readonly key: string;
  readonly cert: string;
  /** The SHA-256 fingerprint in Node's format (`AB:CD:...`), as `X509Certificate#fingerprint256`. */
  readonly fingerprint256: string;
}

/** Writes a fresh self-signed key and certificate into `dir` (which must exist) with `openssl req -x509`. */
export async function makeCertificate(dir: string): Promise<Certificate> {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  // prettier-ignore
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyPath, '-out', certPath,
  ], { timeout: 30_000 });
  const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')]);
  return { keyPath, certPath, key, cert, fingerprint256: new X509Certificate(cert).fingerprint256 };
}
