// Errors of the Proxmox client. A PVE answer that is an error keeps its HTTP status, the message and the per-field
// `errors` map apart, so callers never parse message text (the `proxmox-api` package folds them into one string).
import { JarvisError } from '../../lib/errors.ts';

/**
 * An HTTP error answer from the Proxmox VE API (4xx/5xx, including PVE's 596 proxy timeout). `message` is the full
 * sentence for people (status, call, PVE's text, field errors); `pveMessage` is PVE's text alone.
 */
export class PveError extends JarvisError {
  constructor(
    readonly status: number,
    /** PVE's message: the body's `message`, else the HTTP reason phrase. */
    readonly pveMessage: string,
    /** Per-parameter messages from the body's `errors` map (400 parameter verification), empty otherwise. */
    readonly errors: Record<string, string>,
    /** `METHOD /path` as sent (below /api2/json), for the reader; never contains a secret. */
    readonly call: string,
  ) {
    super(`pve-${status}`, describe(status, pveMessage, errors, call));
    this.name = 'PveError';
  }
}

function describe(status: number, message: string, errors: Record<string, string>, call: string): string {
  const fields = Object.entries(errors).map(([key, why]) => `${key}: ${why.trim()}`);
  const detail = fields.length > 0 ? ` (${fields.join('; ')})` : '';
  return `Proxmox answered ${status} to ${call}: ${message.trim() || 'no message'}${detail}`;
}

/** The API answered 2xx, but with something Jarvis cannot use: not JSON, or a field missing or of the wrong type. */
export class PveResponseError extends JarvisError {
  constructor(
    readonly call: string,
    detail: string,
  ) {
    super('pve-bad-response', `Proxmox answered ${call} with an unexpected response: ${detail}`);
    this.name = 'PveResponseError';
  }
}
