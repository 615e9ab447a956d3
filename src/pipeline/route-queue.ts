// Durable per-destination queues on the job table. Each destination has its own job type
// (`route:<name>`) and runner, so a slow or dead destination holds up no other. An item list is sent
// one item per step: a retry resumes after the last item delivered. Retryable failures back off
// exponentially; after maxAttempts the job is Failure, which is the dead-letter list (listed per
// destination, retried by hand with resubmit). With the defaults (1 s doubling to 5 min, 40
// attempts) a destination can be down for about three hours before anything is dead-lettered.
import { AppError } from '../core/errors.ts';
import type { BackoffOptions } from './backoff.ts';
import type { EnqueueSpec, JobRecord } from './job.ts';
import type { JobRepo } from './job-repo.ts';
import { JobRunner, type JobEvent } from './job-runner.ts';
import { done, next, type JobHandler } from './stage.ts';

/** Where routed items go: a DICOM peer, a DICOMweb server, a folder, another project. */
export interface Destination {
  readonly name: string;
  /** Delivers one item (an archive reference: blob key, instance id); idempotent. */
  send(item: string, signal: AbortSignal): Promise<void>;
  /** Connectivity check for `routes test` (C-ECHO, HTTP probe, folder writable). */
  test?(): Promise<void>;
  /**
   * After the last item of a job (a whole study or series) was delivered, e.g. a folder's
   * DICOMDIR. A throw retries the job's last step (its item is sent again: sends are idempotent).
   */
  afterJob?(items: readonly string[]): Promise<void>;
  close?(): Promise<void>;
}

export interface RouteItemPayload {
  readonly destination: string;
  readonly items: readonly string[];
  /** Why it was queued: 'instance', 'stable-series', 'stable-study', 'manual'. */
  readonly trigger?: string;
  /**
   * The occurrence this job belongs to with its sibling jobs (one per destination), e.g.
   * `StableStudy:<study>:v2`: the study is done when every job of the occurrence succeeded.
   */
  readonly occurrence?: string;
}

export interface DestinationOptions {
  /** Items in flight to this destination at once. */
  readonly concurrency?: number;
  readonly maxAttempts?: number;
  readonly backoff?: BackoffOptions;
  /** Jobs a runner loop claims (and completes) per transaction; see RunnerOptions.batch. */
  readonly batch?: number;
}

export const DEFAULT_ROUTE_ATTEMPTS = 40;
/**
 * A backlog of instance routes (one job each) is claimed and completed 16 at a time: two commits
 * per 16 forwards instead of per forward. A crash re-sends at most the batch (sends are idempotent).
 */
export const DEFAULT_ROUTE_BATCH = 16;
export const DEFAULT_ROUTE_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 1_000, maxMs: 300_000, jitter: 0.2 });

export const routeJobType = (destination: string): string => `route:${destination}`;

/** Route destination name under which a known DICOM peer (`dicom.peers`) is queued: manual sends. */
export const peerDestination = (aet: string): string => `peer:${aet}`;

export class RouteQueues {
  readonly #repo: JobRepo;
  readonly #destinations = new Map<string, { dest: Destination; opts: DestinationOptions; runner: JobRunner }>();

  constructor(
    repo: JobRepo,
    destinations: readonly (Destination & { readonly options?: DestinationOptions })[],
    runnerOpts: { workerId?: string; leaseMs?: number; pollMs?: number; now?: () => number; onEvent?: (e: JobEvent) => void } = {},
  ) {
    this.#repo = repo;
    for (const d of destinations) {
      const opts = d.options ?? {};
      const handler: JobHandler = {
        type: routeJobType(d.name),
        async runStep(ctx) {
          const p = ctx.job.payload as RouteItemPayload;
          const item = p.items[ctx.step];
          if (item !== undefined) await d.send(item, ctx.signal);
          const sent = ctx.step + 1;
          if (sent < p.items.length) return next(undefined, sent / p.items.length);
          await d.afterJob?.(p.items);
          return done({ sent: p.items.length });
        },
        // One item left (an instance route): it may wait in a batch; a study's send may not.
        batchable: (job) => (job.payload as RouteItemPayload).items.length - job.step <= 1,
      };
      const runner = new JobRunner(repo, [handler], {
        ...runnerOpts,
        workerId: runnerOpts.workerId ? `${runnerOpts.workerId}/${d.name}` : undefined,
        concurrency: opts.concurrency ?? 2,
        backoff: opts.backoff ?? DEFAULT_ROUTE_BACKOFF,
        batch: opts.batch ?? DEFAULT_ROUTE_BATCH,
      });
      this.#destinations.set(d.name, { dest: d, opts, runner });
    }
  }

  #get(name: string) {
    const d = this.#destinations.get(name);
    if (!d) throw new AppError('ROUTE_DESTINATION_UNKNOWN', { detail: `no destination ${name}` });
    return d;
  }

  /**
   * Queues items for a destination. `dedupeKey` makes a trigger idempotent (e.g. the stable-study
   * event version); `studyKey` keeps the send from overlapping other jobs of the study.
   */
  async enqueue(destination: string, items: readonly string[], opts: { trigger?: string; occurrence?: string; dedupeKey?: string; studyKey?: string; priority?: number } = {}): Promise<JobRecord> {
    const d = this.#get(destination);
    const job = await this.#repo.enqueue({ ...this.spec(destination, items, opts), dedupeKey: opts.dedupeKey ?? null }, Date.now());
    d.runner.wake();
    return job;
  }

  /** The job `enqueue` would create, for callers that enqueue themselves (the stable-study dispatcher). */
  spec(destination: string, items: readonly string[], opts: { trigger?: string; occurrence?: string; studyKey?: string; priority?: number } = {}): EnqueueSpec {
    const d = this.#get(destination);
    const payload: RouteItemPayload = { destination, items, ...(opts.trigger ? { trigger: opts.trigger } : {}), ...(opts.occurrence ? { occurrence: opts.occurrence } : {}) };
    return {
      type: routeJobType(destination),
      payload,
      maxAttempts: d.opts.maxAttempts ?? DEFAULT_ROUTE_ATTEMPTS,
      studyKey: opts.studyKey ?? null,
      priority: opts.priority ?? 0,
    };
  }

  /** Jobs were enqueued behind our back (dispatcher, runtime): idle runners (of one destination) look now. */
  wake(destination?: string): void {
    if (destination !== undefined) this.#destinations.get(destination)?.runner.wake();
    else for (const d of this.#destinations.values()) d.runner.wake();
  }

  has(destination: string): boolean {
    return this.#destinations.has(destination);
  }

  /** Jobs that exhausted their attempts (or failed permanently) for a destination. */
  deadLetters(destination: string, limit = 100): Promise<JobRecord[]> {
    this.#get(destination);
    return this.#repo.list({ types: [routeJobType(destination)], states: ['Failure'], limit });
  }

  /** Pending and retrying items of a destination (the queue). */
  queued(destination: string, limit = 100): Promise<JobRecord[]> {
    this.#get(destination);
    return this.#repo.list({ types: [routeJobType(destination)], states: ['Pending', 'Retry', 'Running', 'Paused'], limit });
  }

  /** Puts a dead letter back in its queue; it is sent again from its first item (sends are idempotent). */
  async retryDeadLetter(jobId: string): Promise<JobRecord | undefined> {
    const j = await this.#repo.resubmit(jobId, Date.now());
    if (j) this.#destinations.get((j.payload as RouteItemPayload).destination)?.runner.wake();
    return j;
  }

  test(destination: string): Promise<void> {
    return this.#get(destination).dest.test?.() ?? Promise.resolve();
  }

  start(): void {
    for (const d of this.#destinations.values()) d.runner.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#destinations.values()].map((d) => d.runner.stop()));
    await Promise.all([...this.#destinations.values()].map((d) => d.dest.close?.()));
  }
}
