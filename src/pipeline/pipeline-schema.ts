// Tables of the pipeline (jobs, study locks, stable-study state and events), per dialect.
// CREATE ... IF NOT EXISTS throughout: opening the same database twice, or after a restart, is a no-op.
import type { SqlDb } from './sql-db.ts';

export async function migratePipeline(db: SqlDb): Promise<void> {
  const t = (n: string) => db.table(n);
  const pg = db.dialect === 'postgres';
  const id = pg ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  const big = pg ? 'BIGINT' : 'INTEGER';
  const real = pg ? 'DOUBLE PRECISION' : 'REAL';
  const ix = (name: string) => (pg ? `"${name}"` : `"${name}"`);
  await db.exec(`
CREATE TABLE IF NOT EXISTS ${t('pipeline_jobs')} (
  id ${id},
  type TEXT NOT NULL,
  payload TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  study_key TEXT,
  dedupe_key TEXT UNIQUE,
  state TEXT NOT NULL,
  progress ${real} NOT NULL DEFAULT 0,
  step INTEGER NOT NULL DEFAULT 0,
  checkpoint TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  run_after ${big} NOT NULL,
  locked_by TEXT,
  lease_until ${big},
  request TEXT,
  error TEXT,
  result TEXT,
  created_at ${big} NOT NULL,
  updated_at ${big} NOT NULL,
  completed_at ${big}
);
CREATE INDEX IF NOT EXISTS ${ix('pipeline_jobs_due')} ON ${t('pipeline_jobs')} (state, priority DESC, id);
CREATE INDEX IF NOT EXISTS ${ix('pipeline_jobs_lease')} ON ${t('pipeline_jobs')} (state, lease_until);
-- One row per study a Running job holds: the primary key is the per-study lock.
CREATE TABLE IF NOT EXISTS ${t('pipeline_study_locks')} (
  study_key TEXT PRIMARY KEY,
  job_id ${big} NOT NULL
);
-- Quiet-period tracking per study and series. generation counts touches after the last firing,
-- fired_generation the generation that was last announced: announce when they differ and it is quiet.
CREATE TABLE IF NOT EXISTS ${t('pipeline_stability')} (
  level TEXT NOT NULL,
  resource_key TEXT NOT NULL,
  study_key TEXT NOT NULL,
  last_update ${big} NOT NULL,
  generation INTEGER NOT NULL,
  fired_generation INTEGER NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (level, resource_key)
);
CREATE INDEX IF NOT EXISTS ${ix('pipeline_stability_due')} ON ${t('pipeline_stability')} (last_update);
CREATE TABLE IF NOT EXISTS ${t('pipeline_stable_events')} (
  seq ${id},
  change_type TEXT NOT NULL,
  resource_key TEXT NOT NULL,
  study_key TEXT NOT NULL,
  version INTEGER NOT NULL,
  fired_at ${big} NOT NULL,
  UNIQUE (change_type, resource_key, version)
);
-- Which pipelines received instances of a study: their stable-series/study routes apply to it.
CREATE TABLE IF NOT EXISTS ${t('pipeline_study_tags')} (
  study_key TEXT NOT NULL,
  tag TEXT NOT NULL,
  PRIMARY KEY (study_key, tag)
);
-- Consumers of stable events remember how far they got (the dispatcher enqueues idempotently).
CREATE TABLE IF NOT EXISTS ${t('pipeline_cursors')} (
  name TEXT PRIMARY KEY,
  seq ${big} NOT NULL
);
`);
}
