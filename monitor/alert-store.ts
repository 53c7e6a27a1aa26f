// Alert memory in SQLite (JARVIS_DATA_DIR/alerts.db, WAL): what was delivered or held per key, so one problem is one
// alert across runs, restarts, processes (a `jarvis watch --once` next to the bot) and the webhook and polling paths.
// Each admit() decides and records in one IMMEDIATE transaction, so two paths racing on one UPID deliver it once.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decide, type AlertRecord, type Decision, type Hygiene } from './alerts.ts';
import type { Alert, DriftSummary, Severity } from './types.ts';

interface Row {
  key: string;
  severity: Severity;
  fingerprint: string | null;
  delivered_at: number | null;
  snoozed_until: number | null;
  held_json: string | null;
}

export class AlertStore {
  readonly #db: Database.Database;

  private constructor(db: Database.Database) {
    this.#db = db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(`CREATE TABLE IF NOT EXISTS alerts (
      key TEXT PRIMARY KEY,
      severity TEXT NOT NULL,
      fingerprint TEXT,
      first_raised_at INTEGER NOT NULL,
      delivered_at INTEGER,
      snoozed_until INTEGER,
      held_json TEXT,
      times INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE IF NOT EXISTS last_drift (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      summary_json TEXT NOT NULL
    )`);
  }

  /** Opens (creating) `<dataDir>/alerts.db`. */
  static open(dataDir: string): AlertStore {
    mkdirSync(dataDir, { recursive: true });
    return new AlertStore(new Database(join(dataDir, 'alerts.db')));
  }

  /** Opens the store only if a watcher created it (status never creates files). */
  static openExisting(dataDir: string): AlertStore | undefined {
    const path = join(dataDir, 'alerts.db');
    return existsSync(path) ? new AlertStore(new Database(path)) : undefined;
  }

  /** The drift watch's last result, for the status snapshot. */
  saveDrift(summary: DriftSummary): void {
    this.#db.prepare('INSERT OR REPLACE INTO last_drift (id, summary_json) VALUES (1, ?)').run(JSON.stringify(summary));
  }

  lastDrift(): DriftSummary | undefined {
    const row = this.#db.prepare('SELECT summary_json FROM last_drift WHERE id = 1').get() as { summary_json: string } | undefined;
    return row && (JSON.parse(row.summary_json) as DriftSummary);
  }

  get(key: string): AlertRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM alerts WHERE key = ?').get(key) as Row | undefined;
    return row && toRecord(row);
  }

  /** Decides whether the alert is news and records the outcome: delivered now, or held for after quiet hours. */
  admit(alert: Alert, hygiene: Hygiene, now: number): Decision {
    return this.#db
      .transaction((): Decision => {
        const decision = decide(alert, this.get(alert.key), hygiene, now);
        if (decision === 'deliver') this.#upsert(alert, now, { delivered: true });
        if (decision === 'hold') this.#upsert(alert, now, { delivered: false });
        return decision;
      })
      .immediate();
  }

  /** Alerts held during quiet hours, now marked delivered (call when quiet hours are over). */
  releaseHeld(now: number): Alert[] {
    return this.#db
      .transaction((): Alert[] => {
        const rows = this.#db.prepare('SELECT held_json FROM alerts WHERE held_json IS NOT NULL ORDER BY first_raised_at').all() as Array<{ held_json: string }>;
        this.#db.prepare('UPDATE alerts SET held_json = NULL, delivered_at = ?, times = times + 1 WHERE held_json IS NOT NULL').run(now);
        return rows.map((r) => JSON.parse(r.held_json) as Alert);
      })
      .immediate();
  }

  /** Delivery failed after admit(): keep the alert held so the next run delivers it. */
  requeue(alert: Alert): void {
    this.#db.prepare('UPDATE alerts SET held_json = ? WHERE key = ?').run(JSON.stringify(alert), alert.key);
  }

  /** No alert for this key until `until` (Unix ms); after that, a condition that still holds is news again. */
  snooze(key: string, until: number, now: number): void {
    this.#db
      .prepare(
        `INSERT INTO alerts (key, severity, first_raised_at, snoozed_until) VALUES (?, 'info', ?, ?)
         ON CONFLICT(key) DO UPDATE SET snoozed_until = excluded.snoozed_until, held_json = NULL,
           fingerprint = NULL, delivered_at = NULL`,
      )
      .run(key, now, until);
  }

  /** The condition is gone: the next occurrence is news again (used for drift, which alerts on change only). */
  resolve(key: string): void {
    this.#db.prepare('UPDATE alerts SET fingerprint = NULL, held_json = NULL, delivered_at = NULL WHERE key = ?').run(key);
  }

  close(): void {
    this.#db.close();
  }

  #upsert(alert: Alert, now: number, { delivered }: { delivered: boolean }): void {
    this.#db
      .prepare(
        `INSERT INTO alerts (key, severity, fingerprint, first_raised_at, delivered_at, held_json, times)
         VALUES (@key, @severity, @fingerprint, @now, @deliveredAt, @held, @times)
         ON CONFLICT(key) DO UPDATE SET severity = excluded.severity, fingerprint = excluded.fingerprint,
           delivered_at = COALESCE(excluded.delivered_at, alerts.delivered_at), held_json = excluded.held_json,
           times = alerts.times + excluded.times`,
      )
      .run({
        key: alert.key,
        severity: alert.severity,
        fingerprint: alert.fingerprint ?? null,
        now,
        deliveredAt: delivered ? now : null,
        held: delivered ? null : JSON.stringify(alert),
        times: delivered ? 1 : 0,
      });
  }
}

function toRecord(row: Row): AlertRecord {
  return {
    key: row.key,
    severity: row.severity,
    fingerprint: row.fingerprint ?? undefined,
    deliveredAt: row.delivered_at ?? undefined,
    snoozedUntil: row.snoozed_until ?? undefined,
    held: row.held_json !== null,
  };
}
