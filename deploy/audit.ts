// The audit trail: append-only, hash-chained rows in the apply store. Each row stores
// sha256(prev_hash + canonical JSON of the row), and the newest (seq, hash) is kept apart as the head, so editing,
// deleting or re-ordering rows — or cutting the tail — shows up in verifyAuditChain().
import { createHash } from 'node:crypto';
import type { Db } from './db.ts';
import { safeJson, safeText } from './redact.ts';

export type AuditKind =
  | 'plan.saved'
  | 'approval'
  | 'apply.refused'
  | 'apply.started'
  | 'action.result'
  | 'snapshot.taken'
  | 'validation'
  | 'apply.finished'
  | 'lock.recovered'
  | 'freeze.on'
  | 'freeze.off'
  | 'lock.on'
  | 'lock.off'
  | 'alert.snoozed';

export interface AuditInput {
  kind: AuditKind;
  planId?: string;
  planHash?: string;
  actor?: string;
  data: unknown;
}

export interface AuditEntry {
  seq: number;
  at: string;
  kind: AuditKind;
  planId: string | null;
  planHash: string | null;
  actor: string | null;
  /** JSON text, already redacted. */
  data: string;
  prevHash: string;
  hash: string;
}

export type ChainCheck = { ok: true; entries: number } | { ok: false; entries: number; brokenAt: number; reason: string };

const GENESIS = '0'.repeat(64);

/** JSON with object keys sorted at every level, so the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function rowHash(prevHash: string, row: Omit<AuditEntry, 'prevHash' | 'hash'>): string {
  const body = canonicalJson({
    seq: row.seq,
    at: row.at,
    kind: row.kind,
    planId: row.planId,
    planHash: row.planHash,
    actor: row.actor,
    data: row.data,
  });
  return createHash('sha256').update(prevHash + body).digest('hex');
}

interface AuditRow {
  seq: number;
  at: string;
  kind: AuditKind;
  plan_id: string | null;
  plan_hash: string | null;
  actor: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

const toEntry = (row: AuditRow): AuditEntry => ({
  seq: row.seq,
  at: row.at,
  kind: row.kind,
  planId: row.plan_id,
  planHash: row.plan_hash,
  actor: row.actor,
  data: row.data,
  prevHash: row.prev_hash,
  hash: row.hash,
});

export function appendAudit(db: Db, at: Date, input: AuditInput): AuditEntry {
  const append = db.transaction((): AuditEntry => {
    const last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as
      | { seq: number; hash: string }
      | undefined;
    const prevHash = last?.hash ?? GENESIS;
    const row = {
      seq: (last?.seq ?? 0) + 1,
      at: at.toISOString(),
      kind: input.kind,
      planId: input.planId ?? null,
      planHash: input.planHash ?? null,
      actor: input.actor === undefined ? null : safeText(input.actor),
      data: safeJson(input.data),
    };
    const hash = rowHash(prevHash, row);
    db.prepare(
      'INSERT INTO audit (seq, at, kind, plan_id, plan_hash, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(row.seq, row.at, row.kind, row.planId, row.planHash, row.actor, row.data, prevHash, hash);
    db.prepare("INSERT INTO meta (key, value) VALUES ('audit_head', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
      `${row.seq}:${hash}`,
    );
    return { ...row, prevHash, hash };
  });
  return append.immediate();
}

export function listAudit(db: Db, filter: { planId?: string } = {}): AuditEntry[] {
  const rows = (
    filter.planId === undefined
      ? db.prepare('SELECT * FROM audit ORDER BY seq').all()
      : db.prepare('SELECT * FROM audit WHERE plan_id = ? ORDER BY seq').all(filter.planId)
  ) as AuditRow[];
  return rows.map(toEntry);
}

/** Recomputes every link of the chain and compares the end with the recorded head. */
export function verifyAuditChain(db: Db): ChainCheck {
  const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as AuditRow[];
  let prevHash = GENESIS;
  let expectedSeq = 1;
  for (const row of rows) {
    const entry = toEntry(row);
    if (entry.seq !== expectedSeq) {
      return { ok: false, entries: rows.length, brokenAt: entry.seq, reason: `entry ${expectedSeq} is missing` };
    }
    if (entry.prevHash !== prevHash) {
      return { ok: false, entries: rows.length, brokenAt: entry.seq, reason: `entry ${entry.seq} does not link to entry ${entry.seq - 1}` };
    }
    if (rowHash(prevHash, entry) !== entry.hash) {
      return { ok: false, entries: rows.length, brokenAt: entry.seq, reason: `entry ${entry.seq} was modified after it was written` };
    }
    prevHash = entry.hash;
    expectedSeq += 1;
  }
  const head = db.prepare("SELECT value FROM meta WHERE key = 'audit_head'").get() as { value: string } | undefined;
  const last = rows.at(-1);
  const headNow = last ? `${last.seq}:${last.hash}` : undefined;
  if (head?.value !== headNow) {
    const brokenAt = last ? last.seq + 1 : 1;
    return { ok: false, entries: rows.length, brokenAt, reason: `the chain ends at entry ${last?.seq ?? 0} but the recorded head is ${head?.value.split(':')[0] ?? 'missing'}` };
  }
  return { ok: true, entries: rows.length };
}
