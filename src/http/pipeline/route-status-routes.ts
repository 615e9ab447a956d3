// Route destinations over HTTP (a dicomgate extension, not an Orthanc route): where routed data goes,
// how much waits for each destination, its dead letters (route jobs that used up their attempts,
// src/pipeline/route-queue.ts) retried by hand, and a connectivity test.
//   GET  /routes                                      status of every destination
//   GET  /routes/{name}                               one destination, with its queue (jobs)
//   GET  /routes/{name}/dead-letters[?limit=]          its dead letters (Orthanc job JSON, as /jobs)
//   POST /routes/{name}/dead-letters/{jobId}/retry    one dead letter back into its queue
//   POST /routes/{name}/dead-letters/retry-all        every dead letter of the destination
//   POST /routes/{name}/test                          C-ECHO / HTTP probe / folder writable
// Admin only, reading included: the list says which hosts, folders and URLs data is sent to.
// A test that reached its verdict answers 200 with { ok, detail }; a failed test is a finding about
// the destination, not a failure of this request (a 502 would read as "dicomgate is broken").
// Retries and tests are audited.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../../core/errors.ts';
import type { JobRecord } from '../../pipeline/job.ts';
import { toOrthancJob } from '../../pipeline/job-view.ts';
import { routeJobType, type RouteQueues } from '../../pipeline/route-queue.ts';
import type { RestDeps } from '../rest/rest-deps.ts';

/** What a destination is, as configured, without secrets (no passwords, tokens, URL credentials). */
export interface RouteDestinationInfo {
  readonly name: string;
  readonly kind: 'dicom' | 'dicomweb' | 'folder' | 'project';
  /** AET@host:port, the DICOMweb base URL (no credentials or query), or the folder. */
  readonly target: string;
  /** Where it is configured: `destinations` or a known DICOM peer (`dicom.peers`, named peer:<AET>). */
  readonly source: 'destinations' | 'dicom.peers';
}

export interface RouteStatusDeps {
  readonly destinations: readonly RouteDestinationInfo[];
  readonly queues: Pick<RouteQueues, 'deadLetters' | 'queued' | 'retryDeadLetter' | 'test' | 'has'>;
  /** A job by id (the runtime's job table), to check a dead letter belongs to the destination named. */
  getJob(id: string): Promise<JobRecord | undefined>;
}

/** Counting lists the jobs; past this many the count says "at least" (countsCapped). */
export const COUNT_LIMIT = 1000;
/** Jobs per answer by default (dead letters) and the queue shown by GET /routes/{name}. */
const PAGE = 100;
const DEAD_LETTER_MAX = 1000;

const TEST_PASSED: Record<RouteDestinationInfo['kind'], string> = {
  dicom: 'the peer answered C-ECHO',
  dicomweb: 'the server answered the QIDO-RS probe',
  folder: 'the folder is writable',
  project: 'the project accepts data',
};

export interface RouteStatus extends RouteDestinationInfo {
  /** Pending, Retry or Paused route jobs (each a study, series or instance to send). */
  waiting: number;
  /** Route jobs being sent now. */
  sending: number;
  deadLetters: number;
  /** A count reached COUNT_LIMIT: the numbers are lower bounds. */
  countsCapped: boolean;
  /** The latest error of a waiting (Retry) job or a dead letter: catalog code and detail, no patient data. */
  lastError: { code: string; detail: string | null; at: string; jobId: string } | null;
}

export function routeStatusRoutes(r: RouteStatusDeps): FastifyPluginAsync<RestDeps> {
  const byName = new Map(r.destinations.map((d) => [d.name, d]));
  const info = (name: string): RouteDestinationInfo => {
    const d = byName.get(name);
    if (!d || !r.queues.has(name)) throw new AppError('ROUTE_DESTINATION_UNKNOWN', { detail: `no destination ${name}` });
    return d;
  };

  async function status(d: RouteDestinationInfo): Promise<{ status: RouteStatus; queue: JobRecord[] }> {
    const [queue, dead] = await Promise.all([r.queues.queued(d.name, COUNT_LIMIT), r.queues.deadLetters(d.name, COUNT_LIMIT)]);
    let last: JobRecord | undefined;
    for (const j of [...queue, ...dead]) if (j.error && (!last || j.updatedAt > last.updatedAt)) last = j;
    return {
      queue,
      status: {
        ...d,
        waiting: queue.filter((j) => j.state !== 'Running').length,
        sending: queue.filter((j) => j.state === 'Running').length,
        deadLetters: dead.length,
        countsCapped: queue.length >= COUNT_LIMIT || dead.length >= COUNT_LIMIT,
        lastError: last?.error ? { code: last.error.code, detail: last.error.detail ?? null, at: new Date(last.updatedAt).toISOString(), jobId: last.id } : null,
      },
    };
  }

  return async (app, deps) => {
    const actor = (req: FastifyRequest) => req.principal?.user.username ?? null;
    const opts = { config: { role: 'admin' as const } };

    app.get('/routes', opts, async () => Promise.all(r.destinations.filter((d) => r.queues.has(d.name)).map(async (d) => (await status(d)).status)));

    app.get<{ Params: { name: string } }>('/routes/:name', opts, async (req) => {
      const s = await status(info(req.params.name));
      return { ...s.status, queue: s.queue.slice(0, PAGE).map(toOrthancJob) };
    });

    app.get<{ Params: { name: string }; Querystring: { limit?: string } }>('/routes/:name/dead-letters', opts, async (req) => {
      const d = info(req.params.name);
      const limit = req.query.limit === undefined ? PAGE : Number(req.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > DEAD_LETTER_MAX) throw new AppError('QUERY_INVALID', { detail: `limit: 1 to ${DEAD_LETTER_MAX}` });
      return (await r.queues.deadLetters(d.name, limit)).map(toOrthancJob);
    });

    app.post<{ Params: { name: string; jobId: string } }>('/routes/:name/dead-letters/:jobId/retry', opts, async (req) => {
      const d = info(req.params.name);
      const id = req.params.jobId;
      // Job ids are digits; a job of another destination is not this destination's dead letter.
      const job = /^\d{1,30}$/.test(id) ? await r.getJob(id) : undefined;
      if (!job || job.type !== routeJobType(d.name)) throw new AppError('JOB_NOT_FOUND', { detail: `no job ${id} for destination ${d.name}` });
      if (job.state !== 'Failure') throw new AppError('JOB_STATE', { detail: `job ${id} is ${job.state}, not a dead letter` });
      const again = await r.queues.retryDeadLetter(id);
      await deps.audit.record({ actor: actor(req), action: 'route.retry', resource: d.name, ip: req.ip, outcome: again ? 'success' : 'failure', detail: { jobs: id } });
      if (!again) throw new AppError('JOB_STATE', { detail: `job ${id} is no longer a dead letter` });
      return { ID: again.id, Path: `/jobs/${again.id}`, State: again.state };
    });

    app.post<{ Params: { name: string } }>('/routes/:name/dead-letters/retry-all', opts, async (req) => {
      const d = info(req.params.name);
      const retried: string[] = [];
      for (const j of await r.queues.deadLetters(d.name, DEAD_LETTER_MAX)) if (await r.queues.retryDeadLetter(j.id)) retried.push(j.id);
      await deps.audit.record({ actor: actor(req), action: 'route.retry', resource: d.name, ip: req.ip, outcome: 'success', detail: { jobs: retried.join(','), count: retried.length } });
      return { Retried: retried.length, Jobs: retried };
    });

    app.post<{ Params: { name: string } }>('/routes/:name/test', opts, async (req) => {
      const d = info(req.params.name);
      const t0 = Date.now();
      const verdict = await r.queues.test(d.name).then(
        () => ({ ok: true, detail: TEST_PASSED[d.kind], code: null }),
        (e: unknown) => ({ ok: false, ...failureOf(e) }),
      );
      const out = { name: d.name, kind: d.kind, ...verdict, ms: Date.now() - t0 };
      await deps.audit.record({ actor: actor(req), action: 'route.test', resource: d.name, ip: req.ip, outcome: out.ok ? 'success' : 'failure', detail: out.code ? { code: out.code } : {} });
      return out;
    });
  };
}

/** A test failure in words: our catalog code and detail, or for a raw error only its name / errno code (never its message, which may hold a URL). */
function failureOf(e: unknown): { code: string | null; detail: string } {
  if (isAppError(e)) return { code: e.code, detail: e.message };
  const err = e as { name?: string; code?: string; cause?: { code?: string } };
  const why = err.cause?.code ?? err.code ?? err.name ?? 'error';
  return { code: null, detail: `the test failed: ${why}` };
}
