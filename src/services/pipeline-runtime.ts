// The pipeline at run time inside `serve`: every durably stored instance (any transport) touches the
// stable-study tracker, tagged with the pipeline that received it; instance routes are queued at once;
// stable-series / stable-study events become route jobs for the pipelines that received the study.
// Jobs, stable-study state and the tags live in the index database (pipeline_* tables), so a restart
// during a quiet period neither loses nor repeats a forward (see docs/pipeline.md).
import { AppError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ArchiveIndex } from '../index/archive-index.ts';
import type { BackoffOptions } from '../pipeline/backoff.ts';
import type { EnqueueSpec } from '../pipeline/job.ts';
import type { JobEvent } from '../pipeline/job-runner.ts';
import type { IntakeSource, Pipeline, PipelineStage } from '../pipeline/pipeline-config.ts';
import { selectPipeline } from '../pipeline/pipeline-config.ts';
import { RouteQueues, type Destination, type DestinationOptions } from '../pipeline/route-queue.ts';
import type { SqlDb } from '../pipeline/sql-db.ts';
import { SqlJobRepo } from '../pipeline/sql-job-repo.ts';
import { StabilityRepo, type StableEvent } from '../pipeline/stability-repo.ts';
import { StableStudyTracker } from '../pipeline/stable-study-tracker.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { ItemLoader } from '../export/disk-destination.ts';
import type { InstanceSource, StoredNotice } from './ingest.ts';
import { PipelineNotifications, type NotificationOptions, type StudyContext } from './pipeline-notifications.ts';
import type { JobRecord } from '../pipeline/job.ts';

export interface PipelineRuntimeOptions {
  readonly db: SqlDb;
  readonly index: ArchiveIndex;
  readonly pipelines: readonly Pipeline[];
  readonly destinations: readonly Destination[];
  readonly stableAgeMs: number;
  readonly jobs: { readonly concurrency: number; readonly leaseMs: number; readonly maxAttempts: number; readonly backoff: BackoffOptions };
  readonly log: Logger;
  /** How often the tracker looks for quiet studies (default 1 s, at most a quarter of the quiet period). */
  readonly tickMs?: number;
  /** Stable events as they fire (/changes); must not throw. */
  readonly onStableEvents?: (events: readonly StableEvent[]) => void;
  /** Study-done / job-failed notifications (webhook, e-mail); none when absent. */
  readonly notifications?: NotificationOptions;
}

type RouteStage = Extract<PipelineStage, { kind: 'route' }>;

const SOURCE_OF: Record<InstanceSource['transport'], IntakeSource> = { dimse: 'dimse', stow: 'stow', rest: 'upload', import: 'folder' };

/** The Part-10 bytes of an archived instance (route items are Orthanc instance ids); see ItemLoader. */
export function archiveItemLoader(index: ArchiveIndex, blobs: BlobStore): ItemLoader {
  return async (item, into) => {
    const inst = await index.getResource('instance', item);
    // Deleted since it was queued: nothing to send, and retrying cannot help (dead letter).
    if (!inst?.file) throw new AppError('INDEX_NOT_FOUND', { detail: `instance ${item} is no longer in the archive` });
    // The recorded size spares the store a stat; the read still checks it.
    const { blobKey, fileSize } = inst.file;
    return into && blobs.readInto ? blobs.readInto(blobKey, into, fileSize) : blobs.get(blobKey, fileSize);
  };
}

export class PipelineRuntime {
  readonly jobs: SqlJobRepo;
  readonly stability: StabilityRepo;
  readonly tracker: StableStudyTracker;
  readonly routes: RouteQueues;
  readonly notifications: PipelineNotifications;
  readonly #index: ArchiveIndex;
  readonly #pipelines: ReadonlyMap<string, Pipeline>;
  readonly #all: readonly Pipeline[];
  readonly #log: Logger;
  readonly #db: SqlDb;
  /** onStored batches waiting for the next group commit (#recordWaiting). */
  #waiting: { stored: readonly StoredNotice[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #recording = false;
  /** Notification look-ups started from job events; stop() waits for them before closing the database. */
  readonly #pending = new Set<Promise<void>>();

  private constructor(o: PipelineRuntimeOptions) {
    this.#index = o.index;
    this.#db = o.db;
    this.#all = o.pipelines;
    this.#pipelines = new Map(o.pipelines.map((p) => [p.name, p]));
    this.#log = o.log;
    this.jobs = new SqlJobRepo(o.db);
    this.stability = new StabilityRepo(o.db);
    const destOpts: DestinationOptions = { concurrency: o.jobs.concurrency, maxAttempts: o.jobs.maxAttempts, backoff: o.jobs.backoff };
    this.routes = new RouteQueues(
      this.jobs,
      o.destinations.map((d) => ({
        name: d.name,
        send: (item: string, signal: AbortSignal) => d.send(item, signal),
        test: () => d.test?.() ?? Promise.resolve(),
        afterJob: (items: readonly string[]) => d.afterJob?.(items) ?? Promise.resolve(),
        close: () => d.close?.() ?? Promise.resolve(),
        options: destOpts,
      })),
      { leaseMs: o.jobs.leaseMs, onEvent: (e) => this.#onJobEvent(e) },
    );
    this.tracker = new StableStudyTracker(
      this.stability,
      { quietMs: o.stableAgeMs, tickMs: o.tickMs ?? Math.max(50, Math.min(1_000, Math.floor(o.stableAgeMs / 4))), ...(o.onStableEvents ? { onEvents: o.onStableEvents } : {}) },
      { jobs: this.jobs, toJob: (e) => this.#jobsFor(e) },
    );
    this.tracker.onEnqueued = () => this.routes.wake();
    this.notifications = new PipelineNotifications(
      this.jobs,
      o.index,
      (studyKey) => this.#studyContext(studyKey),
      o.notifications ?? { notifiers: [], maxAttempts: 1, backoff: o.jobs.backoff, leaseMs: o.jobs.leaseMs },
      o.log.child({ component: 'notify' }),
    );
  }

  /** Creates the pipeline tables if needed; start() begins the work. */
  static async open(o: PipelineRuntimeOptions): Promise<PipelineRuntime> {
    const rt = new PipelineRuntime(o);
    await rt.jobs.migrate();
    return rt;
  }

  start(): void {
    this.routes.start();
    this.notifications.start();
    this.tracker.start();
    // Announce what became due while we were down, and dispatch events a crash left undispatched.
    void this.tracker.tick().catch((err: unknown) => this.#log.error('stable-study tick failed', { err }));
  }

  async stop(): Promise<void> {
    await this.tracker.stop();
    await this.routes.stop();
    await Promise.allSettled([...this.#pending]);
    await this.notifications.stop();
    await this.jobs.close(); // closes the database (the stability repo shares it)
  }

  /** The pipeline an instance from this source belongs to (first match), if any. */
  pipelineFor(source: InstanceSource): Pipeline | undefined {
    return selectPipeline(this.#all, {
      ...(source.calledAe !== undefined ? { calledAe: source.calledAe } : {}),
      ...(source.remoteAe !== undefined ? { callingAe: source.remoteAe } : {}),
      ...(source.project !== undefined ? { project: source.project } : {}),
      source: SOURCE_OF[source.transport],
    });
  }

  /**
   * IngestOptions.onStored: awaited before the sender hears "stored", so the touch and the instance
   * route jobs are as durable as the instance. Group commit: one transaction records a batch's
   * touches and route jobs, and batches that arrive while it runs (other associations) share the next.
   */
  onStored(stored: readonly StoredNotice[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ stored, resolve, reject });
      if (!this.#recording) void this.#recordWaiting();
    });
  }

  async #recordWaiting(): Promise<void> {
    this.#recording = true;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0);
      try {
        await this.#record(batch.flatMap((b) => b.stored));
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.#recording = false;
  }

  async #record(stored: readonly StoredNotice[]): Promise<void> {
    const touches = new Map<string, { study: string; series: string; tags: Set<string> }>();
    const jobs: EnqueueSpec[] = [];
    const woken = new Set<string>();
    for (const s of stored) {
      const p = this.pipelineFor(s.source);
      const k = `${s.ids.study}/${s.ids.series}`;
      let t = touches.get(k);
      if (!t) touches.set(k, (t = { study: s.ids.study, series: s.ids.series, tags: new Set() }));
      if (p) t.tags.add(p.name);
      for (const r of routesOf(p)) {
        if (r.trigger !== 'instance') continue;
        jobs.push(this.routes.spec(r.destination, [s.ids.instance], { trigger: 'instance' }));
        woken.add(r.destination);
      }
    }
    const now = Date.now();
    await this.#db.tx(async (q) => {
      for (const t of touches.values()) await this.stability.touchIn(q, t.study, t.series, now, [...t.tags]);
      for (const j of jobs) await this.jobs.enqueueIn(q, j, now);
    });
    for (const d of woken) this.routes.wake(d);
  }

  /**
   * POST /studies/{id}/send (manual trigger): one route job per destination for every instance of
   * the study now, through the durable queues (retries, dead letters, study lock). The jobs share an
   * occurrence, so "study done" is notified once all of them delivered.
   */
  async send(studyId: string, destinations: readonly string[]): Promise<JobRecord[]> {
    for (const d of destinations) if (!this.routes.has(d)) throw new AppError('ROUTE_DESTINATION_UNKNOWN', { detail: `no destination ${d}` });
    const items = (await this.#index.listInstances('study', studyId)).map((i) => i.id);
    if (items.length === 0) throw new AppError('INDEX_NOT_FOUND', { detail: `study ${studyId}` });
    const occurrence = `Manual:${studyId}:${Date.now()}`;
    const jobs: JobRecord[] = [];
    for (const d of new Set(destinations)) jobs.push(await this.routes.enqueue(d, items, { trigger: 'manual', occurrence, studyKey: studyId }));
    return jobs;
  }

  /** POST /studies/{id}/complete: announce now. False when nothing is waiting for the quiet period. */
  complete(studyId: string): Promise<boolean> {
    return this.tracker.complete(studyId);
  }

  async #jobsFor(e: StableEvent): Promise<EnqueueSpec[]> {
    const trigger = e.type === 'StableStudy' ? 'stable-study' : 'stable-series';
    const destinations = new Set<string>();
    for (const tag of await this.stability.tags(e.studyKey)) {
      for (const r of routesOf(this.#pipelines.get(tag))) if (r.trigger === trigger && this.routes.has(r.destination)) destinations.add(r.destination);
    }
    const occurrence = `${e.type}:${e.resourceKey}:v${e.version}`;
    if (destinations.size === 0) {
      // Stable in a pipeline that routes nothing for it: stored is done (the dedupe key keeps a
      // re-dispatch after a crash from notifying twice).
      if (e.type === 'StableStudy' && (await this.stability.tags(e.studyKey)).length > 0) await this.notifications.studyStable(e.studyKey, occurrence);
      return [];
    }
    const level = e.type === 'StableStudy' ? 'study' : 'series';
    const items = (await this.#index.listInstances(level, e.resourceKey)).map((i) => i.id);
    if (items.length === 0) return [];
    return [...destinations].map((d) => this.routes.spec(d, items, { trigger, occurrence, studyKey: e.studyKey }));
  }

  async #studyContext(studyKey: string): Promise<StudyContext> {
    const pipelines = (await this.stability.tags(studyKey)).filter((t) => this.#pipelines.has(t));
    const deids = pipelines.map((n) => this.#pipelines.get(n)!.stages.find((s) => s.kind === 'deid'));
    const projects = [...new Set(deids.flatMap((d) => (d?.kind === 'deid' ? [d.project] : [])))];
    return { pipelines, projects, deidentified: pipelines.length > 0 && deids.every((d) => d !== undefined) };
  }

  #onJobEvent(e: JobEvent): void {
    const track = (p: Promise<void>) => {
      const t = p.catch((err: unknown) => this.#log.error('cannot queue notification', { jobId: 'jobId' in e ? e.jobId : undefined, err }));
      this.#pending.add(t);
      void t.finally(() => this.#pending.delete(t));
    };
    if (e.kind === 'failed') {
      this.#log.warn('route job failed (dead letter)', { jobId: e.jobId, type: e.type, code: e.error.code });
      track(this.notifications.routeJobFailed(e.jobId));
    } else if (e.kind === 'retrying') this.#log.info('route job will retry', { jobId: e.jobId, type: e.type, code: e.error.code, afterMs: e.afterMs });
    else if (e.kind === 'succeeded') track(this.notifications.routeJobSucceeded(e.jobId));
  }
}

function routesOf(p: Pipeline | undefined): RouteStage[] {
  return (p?.stages ?? []).filter((s): s is RouteStage => s.kind === 'route');
}
