// Orthanc's job API over the persistent job table (routes, stable-study jobs) merged with the
// in-memory anonymize jobs (jobs.ts): GET /jobs[?expand], GET /jobs/{id},
// POST /jobs/{id}/cancel|pause|resume|resubmit; and POST /studies/{id}/complete, which ends a
// study's quiet period at once (its stable-study routes start now).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import type { JobRecord } from '../../pipeline/job.ts';
import type { JobRepo } from '../../pipeline/job-repo.ts';
import { toOrthancJob } from '../../pipeline/job-view.ts';
import { isResourceId } from '../../index/resource-ids.ts';
import { jobJson, type JobRegistry } from './jobs.ts';
import type { RestDeps } from './rest-deps.ts';

export interface PipelineJobsDeps {
  /** The persistent job table (src/pipeline). */
  repo: Pick<JobRepo, 'list' | 'get' | 'cancel' | 'pause' | 'resume' | 'resubmit'>;
  /** The anonymize jobs, shown alongside (anonymize.ts uses the same registry). */
  registry: JobRegistry;
  /** Job runners look for work now (after resume/resubmit). */
  wake(): void;
  /** Ends the quiet period of a study; false when nothing of it is waiting. */
  completeStudy(studyId: string): Promise<boolean>;
}

const ACTIONS = ['cancel', 'pause', 'resume', 'resubmit'] as const;
type Action = (typeof ACTIONS)[number];
const LIST_LIMIT = 1000;

export function pipelineJobRoutes(p: PipelineJobsDeps): FastifyPluginAsync<RestDeps> {
  return async (app) => {
    const isAdmin = (req: FastifyRequest) => req.principal?.user.roles.includes('admin') ?? false;
    const who = (req: FastifyRequest) => req.principal?.user.username ?? null;
    const mineInMemory = (req: FastifyRequest) => p.registry.list().filter((j) => isAdmin(req) || j.owner === who(req));

    app.get<{ Querystring: { expand?: string } }>('/jobs', { config: { role: 'authenticated' } }, async (req) => {
      // Persistent jobs carry archive ids and UIDs only, so every signed-in user may list them.
      const persistent = await p.repo.list({ limit: LIST_LIMIT });
      const memory = mineInMemory(req);
      if (req.query.expand !== undefined) return [...persistent.map(toOrthancJob), ...memory.map(jobJson)];
      return [...persistent.map((j) => j.id), ...memory.map((j) => j.id)];
    });

    app.get<{ Params: { id: string } }>('/jobs/:id', { config: { role: 'authenticated' } }, async (req) => {
      const m = p.registry.get(req.params.id);
      if (m && (isAdmin(req) || m.owner === who(req))) return jobJson(m);
      const j = await persistentJob(req.params.id);
      return toOrthancJob(j);
    });

    for (const action of ACTIONS) {
      app.post<{ Params: { id: string } }>(`/jobs/:id/${action}`, { config: { role: 'admin' } }, async (req) => {
        await persistentJob(req.params.id);
        const changed = await run(action, req.params.id);
        if (!changed) throw new AppError('JOB_STATE', { detail: `job ${req.params.id} cannot ${action} now` });
        if (action === 'resume' || action === 'resubmit') p.wake();
        return {};
      });
    }

    app.post<{ Params: { id: string } }>('/studies/:id/complete', { config: { role: 'uploader' } }, async (req) => {
      if (!isResourceId(req.params.id)) throw new AppError('INDEX_NOT_FOUND', { detail: `study ${req.params.id}` });
      const announced = await p.completeStudy(req.params.id);
      return { ID: req.params.id, Announced: announced };
    });

    async function persistentJob(id: string): Promise<JobRecord> {
      // Persistent ids are digits; anything else (e.g. another user's anonymize job) is simply unknown.
      const j = /^\d{1,30}$/.test(id) ? await p.repo.get(id) : undefined;
      if (!j) throw new AppError('JOB_NOT_FOUND', { detail: `job ${id}` });
      return j;
    }

    function run(action: Action, id: string): Promise<JobRecord | undefined> {
      const now = Date.now();
      if (action === 'cancel') return p.repo.cancel(id, now);
      if (action === 'pause') return p.repo.pause(id, now);
      if (action === 'resume') return p.repo.resume(id, now);
      return p.repo.resubmit(id, now);
    }
  };
}
