// Alert memory in SQLite (JARVIS_DATA_DIR/alerts.db, WAL): what was delivered or held per key, so one problem is one
// alert across runs, restarts, processes (a `jarvis watch --once` next to the bot) and the webhook and polling paths.
// Each admit() decides and records in one IMMEDIATE transaction, so two paths racing on one UPID deliver it once.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decide, type AlertRecord, type Decision, type Hygiene } from './alerts.ts';
import type { Alert, DriftSummary, Severity, WatcherSummary } from './types.ts';

/** A watcher loop's heartbeat (Unix ms). */
export interface WatcherBeat {
  name: string;
  everyMs: number;
  since: number;
  lastRoundAt?: number;
}

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
    );
    CREATE TABLE IF NOT EXISTS watchers (
      name TEXT PRIMARY KEY,
      every_ms INTEGER NOT NULL,
      since INTEGER NOT NULL,
      last_round_at INTEGER
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

  /** A watcher loop starts: status reports it, and reports it stalled if no round completes in twice `everyMs`. */
  startWatcher(name: string, everyMs: number, now: number): void {
    this.#db.prepare('INSERT OR REPLACE INTO watchers (name, every_ms, since, last_round_at) VALUES (?, ?, ?, NULL)').run(name, everyMs, now);
  }

  /** The heartbeat: a round of the watcher completed. */
  watcherRound(name: string, now: number): void {
    this.#db.prepare('UPDATE watchers SET last_round_at = ? WHERE name = ?').run(now, name);
  }

  /** A watcher loop stopped on purpose: it is no longer expected to beat. */
  stopWatcher(name: string): void {
    this.#db.prepare('DELETE FROM watchers WHERE name = ?').run(name);
  }

  watchers(): WatcherBeat[] {
    const rows = this.#db.prepare('SELECT name, every_ms, since, last_round_at FROM watchers ORDER BY name').all() as Array<{ name: string; every_ms: number; since: number; last_round_at: number | null }>;
    return rows.map((r) => ({ name: r.name, everyMs: r.every_ms, since: r.since, ...(r.last_round_at !== null ? { lastRoundAt: r.last_round_at } : {}) }));
  }

  /**
   * A condition is over. If its alert was delivered, forget it (the next occurrence is news again) and return when
   * it was first raised, so the caller announces the recovery exactly once, even with two watchers racing; an alert
   * only held for after quiet hours is dropped unsent. Undefined when there is nothing to announce.
   */
  recover(key: string): number | undefined {
    return this.#db
      .transaction((): number | undefined => {
        const row = this.#db.prepare('SELECT first_raised_at, delivered_at FROM alerts WHERE key = ?').get(key) as { first_raised_at: number; delivered_at: number | null } | undefined;
        if (!row) return undefined;
        this.#db.prepare('UPDATE alerts SET fingerprint = NULL, held_json = NULL, delivered_at = NULL WHERE key = ?').run(key);
        return row.delivered_at !== null ? row.first_raised_at : undefined;
      })
      .immediate();
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
           first_raised_at = CASE WHEN alerts.delivered_at IS NULL AND alerts.held_json IS NULL THEN excluded.first_raised_at ELSE alerts.first_raised_at END,
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

/** Heartbeats as status shows them: a loop with no completed round in twice its interval is stalled. */
export function watcherSummaries(beats: readonly WatcherBeat[], now: number): WatcherSummary[] {
  return beats.map((b) => ({
    name: b.name,
    everySeconds: Math.round(b.everyMs / 1000),
    since: new Date(b.since).toISOString(),
    ...(b.lastRoundAt !== undefined ? { lastRoundAt: new Date(b.lastRoundAt).toISOString() } : {}),
    level: now - (b.lastRoundAt ?? b.since) > 2 * b.everyMs ? 'critical' : 'ok',
  }));
}

/** What status shows from the watchers' store, without creating it: the drift watch's last result, the heartbeats. */
export function readWatchState(dataDir: string, now: number): { drift?: DriftSummary; watchers?: WatcherSummary[] } {
  const store = AlertStore.openExisting(dataDir);
  if (!store) return {};
  try {
    const drift = store.lastDrift();
    const watchers = watcherSummaries(store.watchers(), now);
    return { ...(drift ? { drift } : {}), ...(watchers.length > 0 ? { watchers } : {}) };
  } finally {
    store.close();
  }
}
