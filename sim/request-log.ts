// Request records for tests and the --request-log file: method, path, parameters with secrets redacted, status.
import { appendFileSync } from 'node:fs';
import type { Params } from './http.ts';

export interface SimRequestRecord {
  time: string;
  method: string;
  path: string;
  params: Record<string, string | string[]>;
  status: number;
  template?: string;
  errors?: Record<string, string>;
}

const SECRET_NAME = /pass(word)?|secret|token|auth-?key|authkey|cipassword|sshkeys|input-data|ticket|key$/i;
const SECRET_VALUE = /(tskey-[A-Za-z0-9-]+|PVEAPIToken=\S+)/g;

const redactValue = (value: string): string => value.replace(SECRET_VALUE, '[redacted]').replace(/(--auth-?key[= ])\S+/gi, '$1[redacted]');

export function redactParams(params: Params): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(params)) {
    if (SECRET_NAME.test(key)) out[key] = '[redacted]';
    else out[key] = Array.isArray(value) ? value.map(redactValue) : redactValue(value);
  }
  return out;
}

export class RequestLog {
  constructor(private readonly file?: string) {}

  write(record: SimRequestRecord): void {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }
}
