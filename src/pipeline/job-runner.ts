// Runs jobs from a JobRepo: `concurrency` loops per process, each claiming one job at a time, running
// its steps, keeping its lease alive and recording the outcome. Several processes (nodes) may run
// against one PostgreSQL database; the repo's claim and per-study lock keep them from colliding.
import { randomUUID } from 'node:crypto';
import { AppError, isAppError } from '../core/errors.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import type { JobError, JobRecord } from './job.ts';
import type { JobRepo } from './job-repo.ts';
import type { JobHandler, StepResult } from './stage.ts';

export interface RunnerOptions {
  /** Identifies this process in locked_by; default a random UUID. */
  readonly workerId?: string;
  /** Jobs run at once by this runner (the concurrency limit). */
  readonly concurrency?: number;
  /** A job whose lease is not renewed for this long is taken back (dead node). */
  readonly leaseMs?: number;
  /** Idle loops look for work this often (wake() short-cuts it). */
  readonly pollMs?: number;
  readonly backoff?: BackoffOptions;
  readonly now?: () => number;
  /** Job lifecycle notifications (notifications, /changes); must not throw. */
  readonly onEvent?: (e: JobEvent) => void;
}

export type JobEvent =
  | { readonly kind: 'started'; readonly job: JobRecord }
  | { readonly kind: 'succeeded'; readonly jobId: string; readonly type: string }
  | { readonly kind: 'retrying'; readonly jobId: string; readonly type: string; readonly error: JobError; readonly afterMs: number }
  | { readonly kind: 'failed'; readonly jobId: string; readonly type: string; readonly error: JobError }
  | { readonly kind: 'paused'; readonly jobId: string; readonly type: string }
  | { readonly kind: 'lost'; readonly jobId: string; readonly type: string };

export class JobRunner {
  readonly #repo: JobRepo;
  readonly #handlers: ReadonlyMap<string, JobHandler>;
  readonly #workerId: string;
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #backoff: BackoffOptions;
  readonly #now: () => number;
  readonly #onEvent: (e: JobEvent) => void;
  #loops: Promise<void>[] = [];
  #stopping = new AbortController();
  #wakers = new Set<() => void>();

  constructor(repo: JobRepo, handlers: readonly JobHandler[], opts: RunnerOptions = {}) {
    this.#repo = repo;
    this.#handlers = new Map(handlers.map((h) => [h.type, h]));
    this.#workerId = opts.workerId ?? randomUUID();
    this.#concurrency = opts.concurrency ?? 4;
    this.#leaseMs = opts.leaseMs ?? 30_000;
    this.#pollMs = opts.pollMs ?? 250;
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.#now = opts.now ?? Date.now;
    this.#onEvent = opts.onEvent ?? (() => undefined);
  }

  get workerId(): string {
    return this.#workerId;
  }

  start(): void {
    if (this.#loops.length > 0) return;
    this.#stopping = new AbortController();
    // One lock owner per loop: the (id, locked_by) fence must also hold between loops of one
    // process (a loop whose lease expired while a sibling re-claimed the job must not complete it).
    for (let i = 0; i < this.#concurrency; i++) this.#loops.push(this.#loop(`${this.#workerId}#${i}`));
  }

  /** Stops claiming; running steps finish, and their jobs go back to Pending at the next step. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.wake();
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  /** New work arrived: idle loops look now instead of at the next poll. */
  wake(): void {
    for (const w of [...this.#wakers]) w();
  }

  async #loop(workerId: string): Promise<void> {
    const types = [...this.#handlers.keys()];
    while (!this.#stopping.signal.aborted) {
      let job: JobRecord | undefined;
      try {
        job = await this.#repo.claim({ workerId, now: this.#now(), leaseMs: this.#leaseMs, types });
      } catch {
        job = undefined; // database down: keep polling, the jobs are safe in the table
      }
      if (!job) {
        await this.#idle();
        continue;
      }
      try {
        await this.#run(job, workerId);
      } catch {
        // The database failed while recording the outcome: the job stays Running until its lease
        // expires and then runs again from its saved step (steps are idempotent).
        await this.#idle();
      }
    }
  }

  #idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      // unref: an idle runner alone does not keep the process alive (the servers do).
      const timer = setTimeout(done, this.#pollMs).unref();
      this.#wakers.add(done);
    });
  }

  async #run(claimed: JobRecord, workerId: string): Promise<void> {
    const handler = this.#handlers.get(claimed.type) as JobHandler;
    const lost = new AbortController();
    let request: JobRecord['request'] = null;
    let progress = claimed.progress;
    this.#onEvent({ kind: 'started', job: claimed });
    const beat = setInterval(() => {
      this.#repo
        .heartbeat(claimed.id, workerId, this.#now() + this.#leaseMs, progress)
        .then((h) => {
          if (!h.owned) lost.abort();
          request = h.request;
          if (h.request === 'cancel') lost.abort();
        })
        .catch(() => undefined);
    }, Math.max(10, Math.floor(this.#leaseMs / 3))).unref();
    try {
      let step = claimed.step;
      let checkpoint = claimed.checkpoint;
      for (;;) {
        const r = await this.#step(handler, { ...claimed, step, checkpoint }, lost.signal, (p) => (progress = p));
        const now = this.#now();
        if (lost.signal.aborted && request !== 'cancel') {
          this.#onEvent({ kind: 'lost', jobId: claimed.id, type: claimed.type });
          return;
        }
        if (r.kind === 'done') {
          if (await this.#repo.complete(claimed.id, workerId, r.result, now)) this.#onEvent({ kind: 'succeeded', jobId: claimed.id, type: claimed.type });
          return;
        }
        if (r.kind === 'fail') return await this.#fail(claimed, workerId, toJobError(r.error), now);
        if (r.kind === 'retry') return await this.#retry(claimed, workerId, r, now);
        step += 1;
        checkpoint = r.checkpoint;
        if (r.progress !== undefined) progress = r.progress;
        if (!(await this.#repo.checkpoint(claimed.id, workerId, step, checkpoint, progress, now))) return;
        // Shutting down: hand the job back now rather than after its lease expires.
        if (this.#stopping.signal.aborted) {
          await this.#repo.release(claimed.id, workerId, now);
          return;
        }
        const h = await this.#repo.heartbeat(claimed.id, workerId, now + this.#leaseMs, progress);
        if (!h.owned) return;
        if (h.request === 'cancel') return await this.#fail(claimed, workerId, { code: 'JOB_CANCELED' }, now);
        if (h.request === 'pause') {
          if (await this.#repo.parkPaused(claimed.id, workerId, now)) this.#onEvent({ kind: 'paused', jobId: claimed.id, type: claimed.type });
          return;
        }
      }
    } finally {
      clearInterval(beat);
    }
  }

  async #step(handler: JobHandler, job: JobRecord, signal: AbortSignal, setProgress: (p: number) => void): Promise<StepResult> {
    try {
      return await handler.runStep({ job, step: job.step, checkpoint: job.checkpoint, signal, setProgress });
    } catch (e) {
      // A throw is a bug or an unexpected boundary failure: retryable coded errors retry, the rest fail.
      if (isAppError(e)) return e.spec.retryable ? { kind: 'retry', error: e } : { kind: 'fail', error: e };
      return { kind: 'retry', error: new AppError('JOB_STEP_FAILED', { detail: `job ${job.id} step ${job.step}`, cause: e }) };
    }
  }

  async #retry(job: JobRecord, workerId: string, r: Extract<StepResult, { kind: 'retry' }>, now: number): Promise<void> {
    const error: JobError = r.error ? toJobError(r.error) : { code: 'JOB_STEP_FAILED', detail: 'step asked to retry' };
    const attempt = job.attempts + 1;
    if (attempt >= job.maxAttempts) return this.#fail(job, workerId, error, now);
    const afterMs = r.afterMs ?? backoffDelay(attempt, this.#backoff);
    if (await this.#repo.retry(job.id, workerId, now + afterMs, error, now)) {
      this.#onEvent({ kind: 'retrying', jobId: job.id, type: job.type, error, afterMs });
    }
  }

  async #fail(job: JobRecord, workerId: string, error: JobError, now: number): Promise<void> {
    if (await this.#repo.fail(job.id, workerId, error, now)) this.#onEvent({ kind: 'failed', jobId: job.id, type: job.type, error });
  }
}

// Only the code and our own detail (UIDs, ids) are recorded: a cause's message may hold patient data.
function toJobError(e: AppError): JobError {
  return e.detail === undefined ? { code: e.code } : { code: e.code, detail: e.detail };
}
