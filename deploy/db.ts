// The apply store: one SQLite file per data dir (`<JARVIS_DATA_DIR>/apply.db`) holding the journal, the audit trail,
// the apply lock and the freeze flag. WAL + synchronous=NORMAL survives a kill -9 of the process (not a power cut,
// which is acceptable for a homelab bot); busy_timeout lets a second process wait briefly instead of failing.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
  key TEXT PRIMARY KEY,              -- planHash:actionId
  plan_hash TEXT NOT NULL,
  action_id TEXT NOT NULL,
  plan_id TEXT NOT NULL,
  status TEXT NOT NULL,              -- running | done | waiting | failed | reverted | refused
  detail TEXT NOT NULL DEFAULT '',
  started_at TEXT NOT NULL,
  finished_at TEXT,
  post_fingerprint TEXT              -- the target's fingerprint right after the action, for stale checks on resume
);
CREATE INDEX IF NOT EXISTS actions_by_plan ON actions (plan_hash);
CREATE TABLE IF NOT EXISTS action_steps (
  key TEXT NOT NULL,                 -- planHash:actionId
  step TEXT NOT NULL,                -- request:0, revert:1, confirm, check…
  phase TEXT NOT NULL,               -- intent | upid | done | failed
  upid TEXT,
  detail TEXT NOT NULL DEFAULT '',
  updated_at TEXT NOT NULL,
  PRIMARY KEY (key, step)
);
CREATE TABLE IF NOT EXISTS snapshots (
  plan_hash TEXT NOT NULL,
  vmid INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,                -- snapshot | vzdump
  ref TEXT NOT NULL,                 -- snapshot name or vzdump UPID
  taken_at TEXT NOT NULL,
  PRIMARY KEY (plan_hash, vmid, name)
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  plan_id TEXT,
  plan_hash TEXT,
  actor TEXT,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS apply_lock (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  who TEXT NOT NULL,
  plan_id TEXT NOT NULL,
  since TEXT NOT NULL,
  proc_start TEXT                    -- /proc start time of pid, so a reused pid is not mistaken for the holder
);
CREATE TABLE IF NOT EXISTS freeze (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  who TEXT NOT NULL,
  why TEXT NOT NULL,
  since TEXT NOT NULL
);
`;

/** Opens (creating if needed) the apply store at `path`; `:memory:` for tests that need no file. */
export function openApplyDb(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  // The manual lock's reason lives beside its holder (whose id is compared exactly); stores made before get the column.
  const lockColumns = (db.prepare('PRAGMA table_info(apply_lock)').all() as Array<{ name: string }>).map((c) => c.name);
  if (!lockColumns.includes('reason')) db.exec('ALTER TABLE apply_lock ADD COLUMN reason TEXT');
  return db;
}

export const applyDbPath = (dataDir: string): string => join(dataDir, 'apply.db');
