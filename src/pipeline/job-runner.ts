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
  /**
   * Jobs a loop claims at once (default 1). With more, one transaction claims them, and the jobs
   * that finished in one run are completed together with the loop's next claim (a group commit;
   * when idle, at the next wake or poll, so at most `pollMs` later): many small jobs (a route job
   * per instance) then cost one commit per batch instead of two per job. The jobs of a batch run one after another, each with its own lease (renewed while it
   * waits); after a crash the batch's finished but not yet completed jobs run again (steps are
   * idempotent).
   */
  readonly batch?: number;
}

export type JobEvent =
  | { readonly kind: 'started'; readonly job: JobRecord }
  | { readonly kind: 'succeeded'; readonly jobId: string; readonly type: string }
  | { readonly kind: 'retrying'; readonly jobId: string; readonly type: string; readonly error: JobError; readonly afterMs: number }
  | { readonly kind: 'failed'; readonly jobId: string; readonly type: string; readonly error: JobError }
  | { readonly kind: 'paused'; readonly jobId: string; readonly type: string }
  | { readonly kind: 'lost'; readonly jobId: string; readonly type: string };

/** A job done in a batched run, waiting for its group completion. */
interface Finished {
  readonly id: string;
  readonly type: string;
  readonly result: unknown;
}

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
  readonly #batch: number;
  #loops: Promise<void>[] = [];
  #stopping = new AbortController();
  #wakers = new Set<() => void>();
  /** The idle loops among #wakers that hold finished jobs for their next claim. */
  #holding = new Set<() => void>();
  /** Counts wake() calls: a loop that saw none since its claim knows nothing new is due. */
  #wakes = 0;

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
    this.#batch = Math.max(1, Math.floor(opts.batch ?? 1));
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
    for (const w of [...this.#wakers]) w();
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  /**
   * New work arrived: one idle loop looks now instead of at the next poll (a loop whose claim comes
   * back full wakes the next). Waking every loop for each new job made all but one of them claim
   * nothing: an empty transaction per loop and job.
   */
  wake(): void {
    this.#wakes++;
    this.#wakeOne();
  }

  #wakeOne(): void {
    // A loop holding finished jobs completes them in the claim's transaction: no extra commit.
    const first = (this.#holding.size > 0 ? this.#holding : this.#wakers).values().next();
    if (!first.done) first.value();
  }

  async #loop(workerId: string): Promise<void> {
    const types = [...this.#handlers.keys()];
    let look = true;
    // Batched runners: jobs done in the last run, completed with the next claim (one commit).
    let finished: Finished[] = [];
    while (!this.#stopping.signal.aborted) {
      if (!look) {
        // Finished jobs wait for the next claim (a wake, at the latest the poll) to be completed
        // in its transaction: while forwarding keeps up with the intake, every claim finds one new
        // job, and completing apart from it would cost a third transaction per instance.
        await this.#idle(finished.length > 0);
        look = true;
        continue;
      }
      const wakes = this.#wakes;
      let jobs: JobRecord[];
      try {
        const claim = { workerId, now: this.#now(), leaseMs: this.#leaseMs, types };
        if (this.#batch > 1) {
          const r = await this.#repo.completeAndClaim(finished, { ...claim, limit: this.#batch });
          this.#succeeded(finished, r.completed);
          jobs = r.jobs;
        } else jobs = [await this.#repo.claim(claim)].filter((j) => j !== undefined);
      } catch {
        jobs = []; // database down: keep polling, the jobs are safe in the table
      }
      // Completed, or (database down) left Running: their lease expires and they run again.
      finished = [];
      if (jobs.length === 0) {
        look = false;
        continue;
      }
      // A full claim may have left more: another idle loop helps.
      if (jobs.length === this.#batch) this.#wakeOne();
      try {
        if (this.#batch > 1) finished = await this.#runBatch(jobs, workerId);
        else await this.#run(jobs[0]!, workerId);
      } catch {
        // The database failed while recording the outcome: the job stays Running until its lease
        // expires and then runs again from its saved step (steps are idempotent).
        look = false;
        continue;
      }
      // A claim that got fewer jobs than it asked for took every due job; unless new work was
      // announced since (wake), another claim now would find nothing: wait for a wake or the poll.
      look = jobs.length === this.#batch || this.#wakes !== wakes;
    }
    await this.#completeFinished(finished, workerId);
  }

  /** Group completion of the last batch's done jobs when no claim follows (the loop stops). */
  async #completeFinished(finished: readonly Finished[], workerId: string): Promise<void> {
    if (finished.length === 0) return;
    try {
      this.#succeeded(finished, await this.#repo.completeMany(finished, workerId, this.#now()));
    } catch {
      // Database down: they stay Running until their lease expires, then run again.
    }
  }

  #succeeded(finished: readonly Finished[], completed: readonly string[]): void {
    const ours = new Set(completed);
    for (const f of finished) if (ours.has(f.id)) this.#onEvent({ kind: 'succeeded', jobId: f.id, type: f.type });
  }

  /** Runs claimed jobs in order; returns those done in one run, for the loop's group completion. */
  async #runBatch(claimed: readonly JobRecord[], workerId: string): Promise<Finished[]> {
    // The first job runs here whatever it is; long ones behind it go back for another loop.
    const jobs = [claimed[0]!];
    const handBack: JobRecord[] = [];
    for (const j of claimed.slice(1)) (this.#handlers.get(j.type)?.batchable?.(j) ?? true ? jobs : handBack).push(j);
    for (const j of handBack) await this.#repo.release(j.id, workerId, this.#now());
    if (handBack.length > 0) this.wake();
    const finished: Finished[] = [];
    // Jobs still waiting for their turn keep their lease and report operator requests.
    const waiting = new Map<string, JobRecord['request'] | 'lost'>(jobs.map((j) => [j.id, null]));
    const beat = setInterval(() => {
      // Finished jobs too: their lease must outlive the rest of the batch until they are completed.
      for (const f of finished) this.#repo.heartbeat(f.id, workerId, this.#now() + this.#leaseMs).catch(() => undefined);
      for (const id of [...waiting.keys()]) {
        this.#repo
          .heartbeat(id, workerId, this.#now() + this.#leaseMs)
          .then((h) => {
            if (waiting.has(id)) waiting.set(id, h.owned ? h.request : 'lost');
          })
          .catch(() => undefined);
      }
    }, Math.max(10, Math.floor(this.#leaseMs / 3))).unref();
    try {
      for (const job of jobs) {
        const request = waiting.get(job.id);
        waiting.delete(job.id);
        const now = this.#now();
        if (request === 'lost') this.#onEvent({ kind: 'lost', jobId: job.id, type: job.type });
        else if (this.#stopping.signal.aborted) await this.#repo.release(job.id, workerId, now);
        else if (request === 'cancel') await this.#fail(job, workerId, { code: 'JOB_CANCELED' }, now);
        else if (request === 'pause') {
          if (await this.#repo.parkPaused(job.id, workerId, now)) this.#onEvent({ kind: 'paused', jobId: job.id, type: job.type });
        } else await this.#run(job, workerId, (result) => finished.push({ id: job.id, type: job.type, result }));
      }
    } finally {
      clearInterval(beat);
    }
    return finished;
  }

  /** `holding`: the loop keeps finished jobs for its next claim; wake() picks such a loop first. */
  #idle(holding = false): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        this.#holding.delete(done);
        resolve();
      };
      // unref: an idle runner alone does not keep the process alive (the servers do).
      const timer = setTimeout(done, this.#pollMs).unref();
      this.#wakers.add(done);
      if (holding) this.#holding.add(done);
    });
  }

  /** `deferDone`: a job done in its first run is handed over for a batch completion instead of completed here. */
  async #run(claimed: JobRecord, workerId: string, deferDone?: (result: unknown) => void): Promise<void> {
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
          // Batched: a job done in its first run (the many small ones) waits for the batch's group
          // commit; one that went through several steps has done its share of commits anyway.
          if (deferDone && step === claimed.step) deferDone(r.result);
          else if (await this.#repo.complete(claimed.id, workerId, r.result, now)) this.#onEvent({ kind: 'succeeded', jobId: claimed.id, type: claimed.type });
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
