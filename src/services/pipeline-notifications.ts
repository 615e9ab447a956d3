// Notifications of the pipeline: "study done" (every route job of a stable-study event or manual
// send succeeded; or the study became stable in a pipeline with no route for it) and "job failed"
// (a route job was dead-lettered). Each message goes out as a durable job per channel
// (`notify:webhook`, `notify:email`) on the same job table, so a webhook that is down is retried
// with backoff and survives restarts; a dedupe key per (channel, occurrence) makes two sibling jobs
// finishing at once give one notification, not two. The enqueue follows the job's end (job event):
// a crash in between loses that one notification (the dead letter itself stays in /jobs).
import type { Logger } from '../core/log.ts';
import type { ArchiveIndex } from '../index/archive-index.ts';
import type { BackoffOptions } from '../pipeline/backoff.ts';
import type { JobRecord } from '../pipeline/job.ts';
import type { JobRepo } from '../pipeline/job-repo.ts';
import { JobRunner } from '../pipeline/job-runner.ts';
import type { RouteItemPayload } from '../pipeline/route-queue.ts';
import { done, type JobHandler } from '../pipeline/stage.ts';
import type { JobFailedMessage, NotifiedStudy, NotifyEvent, NotifyMessage, StudyDoneMessage } from '../notify/notification.ts';
import { notifyJobType, type Notifier } from '../notify/notifier.ts';

export interface NotificationOptions {
  readonly notifiers: readonly Notifier[];
  /** Which events are sent (default both). */
  readonly events?: readonly NotifyEvent[];
  readonly maxAttempts: number;
  readonly backoff: BackoffOptions;
  readonly leaseMs: number;
}

/** What the runtime knows about a study: the pipelines that received it. */
export interface StudyContext {
  readonly pipelines: readonly string[];
  readonly projects: readonly string[];
  /** Every receiving pipeline de-identifies: the archive's UIDs are pseudonymous. */
  readonly deidentified: boolean;
}

interface NotifyPayload {
  readonly message: NotifyMessage;
}

export class PipelineNotifications {
  readonly #jobs: JobRepo;
  readonly #index: ArchiveIndex;
  readonly #context: (studyKey: string) => Promise<StudyContext>;
  readonly #o: NotificationOptions;
  readonly #events: ReadonlySet<NotifyEvent>;
  readonly #runner: JobRunner;
  readonly #log: Logger;

  constructor(jobs: JobRepo, index: ArchiveIndex, context: (studyKey: string) => Promise<StudyContext>, o: NotificationOptions, log: Logger) {
    this.#jobs = jobs;
    this.#index = index;
    this.#context = context;
    this.#o = o;
    this.#events = new Set(o.events ?? ['study-done', 'job-failed']);
    this.#log = log;
    const handlers: JobHandler[] = o.notifiers.map((n) => ({
      type: notifyJobType(n.channel),
      async runStep(ctx) {
        await n.send((ctx.job.payload as NotifyPayload).message, ctx.signal);
        return done();
      },
    }));
    this.#runner = new JobRunner(jobs, handlers, {
      concurrency: 1,
      leaseMs: o.leaseMs,
      backoff: o.backoff,
      onEvent: (e) => {
        // A failing notification is logged, never notified about (that could loop).
        if (e.kind === 'failed') this.#log.warn('notification failed for good', { jobId: e.jobId, type: e.type, code: e.error.code });
        else if (e.kind === 'retrying') this.#log.info('notification will retry', { jobId: e.jobId, type: e.type, code: e.error.code, afterMs: e.afterMs });
      },
    });
  }

  get enabled(): boolean {
    return this.#o.notifiers.length > 0;
  }

  start(): void {
    if (this.enabled) this.#runner.start();
  }

  async stop(): Promise<void> {
    await this.#runner.stop();
    await Promise.all(this.#o.notifiers.map((n) => n.close?.()));
  }

  /** A route job went to the dead-letter list. */
  async routeJobFailed(jobId: string): Promise<void> {
    if (!this.enabled || !this.#events.has('job-failed')) return;
    const job = await this.#jobs.get(jobId);
    if (!job || job.state !== 'Failure') return;
    const p = job.payload as Partial<RouteItemPayload> | null;
    const ctx = job.studyKey ? await this.#context(job.studyKey) : { pipelines: [], projects: [], deidentified: false };
    const message: JobFailedMessage = {
      event: 'job-failed',
      at: new Date().toISOString(),
      status: 'Failure',
      job: {
        id: job.id,
        type: job.type,
        ...(p?.destination ? { destination: p.destination } : {}),
        ...(p?.trigger ? { trigger: p.trigger } : {}),
        attempts: job.attempts,
        ...(Array.isArray(p?.items) ? { items: p.items.length } : {}),
        code: job.error?.code ?? 'JOB_STEP_FAILED',
      },
      ...(job.studyKey ? { study: await this.#study(job.studyKey, ctx.deidentified) } : {}),
      pipelines: ctx.pipelines,
      projects: ctx.projects,
    };
    // completedAt tells this failure from a later one of the same job after a resubmit.
    await this.#enqueue(message, `failed:${job.id}:${job.completedAt ?? 0}`);
  }

  /** A route job succeeded: if it was the last of its occurrence, the study is done. */
  async routeJobSucceeded(jobId: string): Promise<void> {
    if (!this.enabled || !this.#events.has('study-done')) return;
    const job = await this.#jobs.get(jobId);
    const p = job?.payload as Partial<RouteItemPayload> | null | undefined;
    // Study-level occurrences only: a stable-series event finishing is not the study being done.
    if (!job?.studyKey || !p?.occurrence || (p.trigger !== 'stable-study' && p.trigger !== 'manual')) return;
    const siblings = (await this.#jobs.list({ studyKey: job.studyKey, limit: 10_000 })).filter((j) => (j.payload as Partial<RouteItemPayload> | null)?.occurrence === p.occurrence);
    if (!siblings.every((j) => j.state === 'Success')) return;
    await this.#studyDone(job.studyKey, 'Success', p.trigger ?? 'manual', siblings, p.occurrence);
  }

  /** A study became stable in pipelines that route nothing for it: stored is as done as it gets. */
  async studyStable(studyKey: string, occurrence: string): Promise<void> {
    if (!this.enabled || !this.#events.has('study-done')) return;
    await this.#studyDone(studyKey, 'Stored', 'stable-study', [], occurrence);
  }

  async #studyDone(studyKey: string, status: StudyDoneMessage['status'], trigger: string, routes: readonly JobRecord[], occurrence: string): Promise<void> {
    const ctx = await this.#context(studyKey);
    const message: StudyDoneMessage = {
      event: 'study-done',
      at: new Date().toISOString(),
      status,
      study: await this.#study(studyKey, ctx.deidentified),
      pipelines: ctx.pipelines,
      projects: ctx.projects,
      trigger,
      routes: routes.map((j) => ({ destination: (j.payload as RouteItemPayload).destination, jobId: j.id, state: j.state, items: (j.payload as RouteItemPayload).items.length })),
    };
    await this.#enqueue(message, `done:${occurrence}`);
  }

  async #study(studyKey: string, deidentified: boolean): Promise<NotifiedStudy> {
    const study = await this.#index.getResource('study', studyKey);
    if (!study) return { id: studyKey };
    const series = await this.#index.listChildren('study', studyKey);
    const instances = await this.#index.listInstances('study', studyKey);
    const uid = study.tags.StudyInstanceUID;
    return { id: studyKey, ...(deidentified && uid ? { studyInstanceUid: uid } : {}), series: series.length, instances: instances.length };
  }

  async #enqueue(message: NotifyMessage, key: string): Promise<void> {
    for (const n of this.#o.notifiers) {
      await this.#jobs.enqueue({ type: notifyJobType(n.channel), payload: { message } satisfies NotifyPayload, maxAttempts: this.#o.maxAttempts, dedupeKey: `notify:${n.channel}:${key}` }, Date.now());
    }
    this.#runner.wake();
  }
}
