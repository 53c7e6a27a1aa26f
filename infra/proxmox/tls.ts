// TLS for the Proxmox API: the node's certificate is self-signed or signed by the cluster's private CA, and its
// names rarely include the LAN or Tailscale address Jarvis dials. So trust comes from a SHA-256 pin of the
// certificate or from the cluster CA file, checked on every new connection; never from a global TLS switch-off.
import type { TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';
import { InputError } from '../../lib/errors.ts';

export interface TlsTrust {
  /** SHA-256 of the node certificate, colon hex as `openssl x509 -fingerprint -sha256` and PVE's GUI show it. */
  fingerprint?: string;
  /** PEM of the CA that signed the node certificate (`/etc/pve/pve-root-ca.pem`) or of the certificate itself. */
  caPem?: string;
  connectTimeoutMs: number;
}

/** The certificate the server presented is not the pinned one. */
export class PinMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly seen: string,
  ) {
    super(`TLS certificate fingerprint mismatch: expected SHA-256 ${expected}, the server presented ${seen}`);
    this.name = 'PinMismatchError';
  }
}

/** Normalises a fingerprint to upper-case colon hex; accepts `AB:CD…`, `abcd…` and a `sha256:`/`SHA256 ` prefix. */
export function normalizeFingerprint(value: string): string {
  const hex = value
    .trim()
    .replace(/^sha-?256[:= ]\s*/i, '')
    .replace(/:/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new InputError(
      `Invalid TLS fingerprint ${JSON.stringify(value)}: expected a SHA-256 fingerprint, 32 bytes as colon-separated hex`,
    );
  }
  return hex.match(/../g)!.join(':');
}

/**
 * An undici connector that checks the trust settings on each new TLS connection before any request is written.
 * - pin (with or without CA): the peer certificate's SHA-256 must equal the pin; when a CA is given the chain must
 *   also verify against that CA alone;
 * - CA only: the chain must verify against the cluster CA; host names are not checked because that CA is private
 *   to the cluster and the certificate lacks the names Jarvis dials;
 * - neither: Node's default verification (public roots and host name), e.g. for an ACME certificate.
 */
export function trustedConnector(trust: TlsTrust): buildConnector.connector {
  const expected = trust.fingerprint === undefined ? undefined : normalizeFingerprint(trust.fingerprint);
  const custom = expected !== undefined || trust.caPem !== undefined;
  const connect = buildConnector({
    timeout: trust.connectTimeoutMs,
    // A resumed session skips the certificate exchange; each connection must show its certificate to be pinned.
    maxCachedSessions: 0,
    ...(trust.caPem !== undefined ? { ca: trust.caPem } : {}),
    ...(custom ? { checkServerIdentity: () => undefined } : {}),
    // With a pin and no CA file the chain cannot be verified (self-signed); the pin check below replaces it.
    rejectUnauthorized: !(expected !== undefined && trust.caPem === undefined),
  });
  if (expected === undefined) return connect;
  return (options, callback) => {
    connect(options, (...args) => {
      const [error, socket] = args;
      if (error !== null) return callback(error, null);
      const seen = (socket as TLSSocket).getPeerCertificate().fingerprint256 ?? '(no certificate)';
      if (seen !== expected) {
        socket.destroy();
        return callback(new PinMismatchError(expected, seen), null);
      }
      callback(null, socket);
    });
  };
}
