// Row <-> JobRecord mapping shared by the SQLite and PostgreSQL repos. Times are epoch ms in
// BIGINT columns (pg returns them as strings); payload, checkpoint, result and error are JSON text.
import type { JobError, JobRecord, JobState } from './job.ts';

export interface JobRow {
  id: number | string;
  type: string;
  payload: string | null;
  priority: number;
  study_key: string | null;
  dedupe_key: string | null;
  state: string;
  progress: number;
  step: number;
  checkpoint: string | null;
  attempts: number;
  max_attempts: number;
  run_after: number | string;
  locked_by: string | null;
  lease_until: number | string | null;
  request: string | null;
  error: string | null;
  result: string | null;
  created_at: number | string;
  updated_at: number | string;
  completed_at: number | string | null;
}

const json = (s: string | null): unknown => (s === null ? undefined : JSON.parse(s));
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toJobRecord(r: JobRow): JobRecord {
  return {
    id: String(r.id),
    type: r.type,
    payload: json(r.payload),
    priority: Number(r.priority),
    studyKey: r.study_key,
    dedupeKey: r.dedupe_key,
    state: r.state as JobState,
    progress: Number(r.progress),
    step: Number(r.step),
    checkpoint: json(r.checkpoint),
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    runAfter: Number(r.run_after),
    lockedBy: r.locked_by,
    leaseUntil: num(r.lease_until),
    request: (r.request as JobRecord['request']) ?? null,
    error: (json(r.error) as JobError | undefined) ?? null,
    result: json(r.result),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    completedAt: num(r.completed_at),
  };
}

/** JSON text for a column; undefined stays NULL. */
export function toJson(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

/** Valid job id text: the repos use integer ids, anything else is simply not found. */
export function parseJobId(id: string): number | undefined {
  return /^[1-9]\d{0,15}$/.test(id) ? Number(id) : undefined;
}
