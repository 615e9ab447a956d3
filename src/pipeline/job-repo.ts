// The job table port. SQLite (sqlite-job-repo.ts) and PostgreSQL (pg-job-repo.ts) implement it and
// pass one contract suite (test/pipeline/job-repo-contract.ts). Every mutation of a Running job is
// fenced by (id, lockedBy): a worker whose lease expired and was taken over cannot complete the job.
import type { EnqueueSpec, JobError, JobRecord, JobState } from './job.ts';

export interface ClaimOptions {
  readonly workerId: string;
  readonly now: number;
  readonly leaseMs: number;
  /** Only these job types (the runner's registered handlers). */
  readonly types: readonly string[];
}

export interface ListOptions {
  readonly states?: readonly JobState[];
  readonly types?: readonly string[];
  /** Jobs of this study (per-study lock key). */
  readonly studyKey?: string;
  readonly limit?: number;
  /** Jobs with id after this one (ids are zero-padded and sort by creation). */
  readonly after?: string;
}

export interface JobRepo {
  /** Creates the tables if needed. */
  migrate(): Promise<void>;
  /** With a dedupeKey already present, returns the existing job unchanged. */
  enqueue(spec: EnqueueSpec, now: number): Promise<JobRecord>;
  /**
   * Takes the highest-priority due job (Pending, or Retry past runAfter) whose study is not locked,
   * locks its study, sets it Running with a lease. Jobs whose lease expired go back to Pending first.
   */
  claim(opts: ClaimOptions): Promise<JobRecord | undefined>;
  /**
   * claim() of up to `limit` jobs in one transaction, in claim order; at most one per study (the
   * per-study lock). Each is Running with its own lease, fenced by `workerId` like a single claim.
   */
  claimMany(opts: ClaimOptions & { readonly limit: number }): Promise<JobRecord[]>;
  /** Extends the lease; false when the job is no longer ours (taken over, cancelled). Returns the pending operator request. */
  heartbeat(id: string, workerId: string, leaseUntil: number, progress?: number): Promise<{ owned: boolean; request: JobRecord['request'] }>;
  /** After a `continue` step: saves the next step index and checkpoint. */
  checkpoint(id: string, workerId: string, step: number, checkpoint: unknown, progress: number, now: number): Promise<boolean>;
  complete(id: string, workerId: string, result: unknown, now: number): Promise<boolean>;
  /** complete() of several jobs in one transaction (a group commit); returns the ids that were still ours. */
  completeMany(done: readonly { readonly id: string; readonly result: unknown }[], workerId: string, now: number): Promise<string[]>;
  /**
   * completeMany() (as `opts.workerId`, at `opts.now`) and then claimMany() in one transaction: a
   * runner loop that finished jobs and looks for more pays one commit, not two.
   */
  completeAndClaim(done: readonly { readonly id: string; readonly result: unknown }[], opts: ClaimOptions & { readonly limit: number }): Promise<{ completed: string[]; jobs: JobRecord[] }>;
  /** Retry after runAfter (state Retry), attempts + 1, study unlocked. */
  retry(id: string, workerId: string, runAfter: number, error: JobError, now: number): Promise<boolean>;
  /** Permanent failure, attempts + 1, study unlocked. */
  fail(id: string, workerId: string, error: JobError, now: number): Promise<boolean>;
  /** Graceful shutdown between steps: Running -> Pending at its saved step, study unlocked, no attempt counted. */
  release(id: string, workerId: string, now: number): Promise<boolean>;
  /** The runner honours a pause request: Running -> Paused, study unlocked. */
  parkPaused(id: string, workerId: string, now: number): Promise<boolean>;

  // Operator actions (REST /jobs/{id}/..., CLI). Return the job after the change, undefined if none.
  /** Pending/Retry/Paused -> Failure (error JOB_CANCELED); Running: a request the runner honours between steps. */
  cancel(id: string, now: number): Promise<JobRecord | undefined>;
  /** Pending/Retry -> Paused; Running: a request. */
  pause(id: string, now: number): Promise<JobRecord | undefined>;
  /** Paused -> Pending. */
  resume(id: string, now: number): Promise<JobRecord | undefined>;
  /** Failure -> Pending with attempts, step and error reset (Orthanc resubmit). */
  resubmit(id: string, now: number): Promise<JobRecord | undefined>;

  get(id: string): Promise<JobRecord | undefined>;
  list(opts?: ListOptions): Promise<JobRecord[]>;
  counts(): Promise<Record<JobState, number>>;
  /** Deletes Success jobs completed before `before` (Orthanc's JobsHistorySize, by age); returns how many. */
  purgeSucceeded(before: number): Promise<number>;
  close(): Promise<void>;
}
