// Stable-study detection driven by a timer: touch() on each new instance, a tick that announces
// quiet studies and series, and a dispatcher that turns announcements into jobs. The dispatcher
// enqueues with a dedupe key (type:resource:version) before advancing its cursor, so a crash between
// the two re-enqueues nothing; together with the repo's one-transaction announcement every version
// of a stable study yields exactly one job, across restarts.
import type { EnqueueSpec } from './job.ts';
import type { JobRepo } from './job-repo.ts';
import type { StabilityRepo, StableEvent } from './stability-repo.ts';

export interface StableTrackerOptions {
  /** Quiet period with no new instance after which a study is stable (Orthanc StableAge, 60 s). */
  readonly quietMs?: number;
  /** How often due studies are looked for. */
  readonly tickMs?: number;
  readonly now?: () => number;
  /** Called with each batch of new events (e.g. /changes, notifications); must not throw. */
  readonly onEvents?: (events: readonly StableEvent[]) => void;
}

type Spec = Omit<EnqueueSpec, 'dedupeKey'>;
/**
 * What jobs, if any, an event starts. Return undefined (or []) to start none. With a list, each
 * job's dedupe key also carries its type, so one event can start one job per route.
 */
export type EventToJob = (e: StableEvent) => Spec | readonly Spec[] | undefined | Promise<Spec | readonly Spec[] | undefined>;

export const DEFAULT_QUIET_MS = 60_000;
const DISPATCH_CURSOR = 'stable-jobs';
/** Time (ms) of the last tick, so the next start-up knows how long nobody was watching. */
const ALIVE_CURSOR = 'stable-tracker-alive';

export class StableStudyTracker {
  readonly #repo: StabilityRepo;
  readonly #jobs: JobRepo | undefined;
  readonly #toJob: EventToJob | undefined;
  readonly #quietMs: number;
  readonly #tickMs: number;
  readonly #now: () => number;
  readonly #onEvents: (events: readonly StableEvent[]) => void;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();
  /** Set at the first tick: the outage before it (null: none known). */
  #previousLife: { aliveAt: number; startedAt: number } | null | undefined;
  readonly #bornAt: number;
  /** Called after jobs were enqueued (JobRunner.wake). */
  onEnqueued: () => void = () => undefined;

  constructor(repo: StabilityRepo, opts: StableTrackerOptions = {}, dispatch?: { jobs: JobRepo; toJob: EventToJob }) {
    this.#repo = repo;
    this.#jobs = dispatch?.jobs;
    this.#toJob = dispatch?.toJob;
    this.#quietMs = opts.quietMs ?? DEFAULT_QUIET_MS;
    this.#tickMs = opts.tickMs ?? 1_000;
    this.#now = opts.now ?? Date.now;
    this.#onEvents = opts.onEvents ?? (() => undefined);
    this.#bornAt = this.#now();
  }

  /** Records a new instance; call after the instance is durably stored. */
  touch(studyKey: string, seriesKey?: string, tags?: readonly string[]): Promise<void> {
    return this.#repo.touch(studyKey, seriesKey, this.#now(), tags);
  }

  /** Announces the study now instead of after the quiet period (POST /studies/{id}/complete). */
  async complete(studyKey: string): Promise<boolean> {
    const had = await this.#repo.markComplete(studyKey);
    if (had) await this.tick();
    return had;
  }

  /** One round: announce due rows, then dispatch every event not yet turned into a job. */
  tick(): Promise<void> {
    // Serialised: an explicit complete() and the timer must not dispatch the same batch twice.
    const run = this.#ticking.then(async () => {
      const now = this.#now();
      const downtime = await this.#downtime();
      const events = await this.#repo.fireDue(now - this.#quietMs, now, downtime);
      // Written after the announcement: a crash in between only makes the next start-up more patient.
      await this.#repo.setCursor(ALIVE_CURSOR, now);
      if (events.length > 0) this.#onEvents(events);
      await this.#dispatch();
    });
    this.#ticking = run.catch(() => undefined);
    return run;
  }

  /**
   * The outage before this tracker: from the last tick any tracker recorded on this database to
   * this tracker's creation. While dicomgate is down, senders cannot deliver (their associations are
   * refused and they retry later), so counting the outage as quiet would announce studies that are
   * still arriving: a premature version 1 and then a version 2, the "fires several times" of timer
   * based stable-study detection. (It was also the flaky PostgreSQL restart test: a restart slower
   * than the quiet period announced every study before its sender resumed.)
   */
  async #downtime(): Promise<{ aliveAt: number; startedAt: number } | undefined> {
    if (this.#previousLife === undefined) {
      const aliveAt = await this.#repo.cursor(ALIVE_CURSOR);
      // 0: no tracker ever ticked on this database; nothing to discount.
      this.#previousLife = aliveAt > 0 && aliveAt < this.#bornAt ? { aliveAt, startedAt: this.#bornAt } : null;
    }
    return this.#previousLife ?? undefined;
  }

  async #dispatch(): Promise<void> {
    if (!this.#jobs || !this.#toJob) return;
    let cursor = await this.#repo.cursor(DISPATCH_CURSOR);
    let enqueued = 0;
    for (;;) {
      const batch = await this.#repo.events(cursor, 200);
      if (batch.length === 0) break;
      for (const e of batch) {
        const spec = await this.#toJob(e);
        const key = `${e.type}:${e.resourceKey}:v${e.version}`;
        if (Array.isArray(spec)) {
          for (const s of spec as readonly Spec[]) {
            await this.#jobs.enqueue({ ...s, dedupeKey: `${key}:${s.type}` }, this.#now());
            enqueued++;
          }
        } else if (spec) {
          await this.#jobs.enqueue({ ...(spec as Spec), dedupeKey: key }, this.#now());
          enqueued++;
        }
        cursor = e.seq;
      }
      await this.#repo.setCursor(DISPATCH_CURSOR, cursor);
    }
    if (enqueued > 0) this.onEnqueued();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick().catch(() => undefined), this.#tickMs).unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
  }
}
