// A persistent job as the job table holds it. States are Orthanc's (OrthancFramework JobStatus):
// Pending (waiting to be claimed), Running (claimed, leased by one worker), Success, Failure,
// Paused (held by an operator), Retry (failed with a retryable error, waiting for runAfter).
export type JobState = 'Pending' | 'Running' | 'Success' | 'Failure' | 'Paused' | 'Retry';

export const JOB_STATES: readonly JobState[] = ['Pending', 'Running', 'Success', 'Failure', 'Paused', 'Retry'];

/** Recorded on the job when a step fails; codes from core/errors.ts, never patient data. */
export interface JobError {
  readonly code: string;
  readonly detail?: string;
}

export interface JobRecord {
  readonly id: string;
  readonly type: string;
  readonly payload: unknown;
  /** Higher runs first (Orthanc's Priority). */
  readonly priority: number;
  /** Jobs with the same key never run at once (per-study lock); null: no lock. */
  readonly studyKey: string | null;
  /** Enqueueing twice with one dedupe key yields one job (event dispatch after a restart). */
  readonly dedupeKey: string | null;
  readonly state: JobState;
  /** 0..1 */
  readonly progress: number;
  /** Index of the next step to run: a resumed job continues where it stopped. */
  readonly step: number;
  /** Handler checkpoint saved with each `continue`, JSON. */
  readonly checkpoint: unknown;
  /** Runs so far that ended in retry or failure; a claim does not count. */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** Epoch ms before which the job is not claimed. */
  readonly runAfter: number;
  readonly lockedBy: string | null;
  readonly leaseUntil: number | null;
  /** Operator asked to cancel / pause a Running job; the runner acts between steps. */
  readonly request: 'cancel' | 'pause' | null;
  readonly error: JobError | null;
  readonly result: unknown;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly completedAt: number | null;
}

export interface EnqueueSpec {
  readonly type: string;
  readonly payload?: unknown;
  readonly priority?: number;
  readonly studyKey?: string | null;
  readonly dedupeKey?: string | null;
  readonly maxAttempts?: number;
  /** Epoch ms; default now. */
  readonly runAfter?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
