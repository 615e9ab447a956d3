// POST /{patients|studies|series|instances}/{id}/anonymize runs a dicomgate project's
// de-identification (src/deid) on every instance below the resource. As Orthanc: for patients,
// studies and series the results are stored as new resources and the answer names the new one;
// for an instance the de-identified file is returned and not stored. Body keys Replace, Keep,
// Remove and KeepPrivateTags are honoured as overrides of the project; "Project" (our addition)
// picks the project; "Asynchronous": true returns a job (GET /jobs/{id}).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { canAccessProject } from '../../auth/auth-service.ts';
import { AppError } from '../../core/errors.ts';
import { readPart10, writePart10 } from '../../dicom/index.ts';
import { deidentify } from '../../deid/engine.ts';
import { BUILTIN_PROJECTS, compileProject, type Project, type ProjectConfig, type TagOverride } from '../../deid/project.ts';
import type { Pseudonymizer } from '../../deid/pseudonymizer.ts';
import type { Level, ResourceIds } from '../../index/archive-index.ts';
import { readIndex } from '../archive-scope.ts';
import { isResourceId } from '../../index/resource-ids.ts';
import { JobRegistry, jobJson } from './jobs.ts';
import { acceptJsonWithAnyType } from './json-any-type.ts';
import { notFound } from './orthanc-errors.ts';
import { LEVEL_PATH, LEVEL_TYPE } from './orthanc-json.ts';
import type { RestDeps } from './rest-deps.ts';

export interface AnonymizeDeps {
  /** config.projects (validated by the deid module). */
  projects: Readonly<Record<string, unknown>>;
  /** Project used when the body names none. */
  defaultProject: string;
  /** The key database adapter for a project (main.ts builds it from src/pseudonyms). */
  pseudonymizerFor(project: Project): Pseudonymizer;
}

interface AnonymizeBody {
  Project?: string;
  Replace?: Record<string, string>;
  Keep?: string[];
  Remove?: string[];
  KeepPrivateTags?: boolean;
  Asynchronous?: boolean;
  Force?: boolean;
  DicomVersion?: string;
  Permissive?: boolean;
  Priority?: number;
  KeepSource?: boolean;
}

const schema = {
  body: {
    type: 'object',
    properties: {
      Project: { type: 'string' },
      Replace: { type: 'object', additionalProperties: { type: 'string' } },
      Keep: { type: 'array', items: { type: 'string' } },
      Remove: { type: 'array', items: { type: 'string' } },
      KeepPrivateTags: { type: 'boolean' },
      Asynchronous: { type: 'boolean' },
    },
  },
} as const;

/** The project with the request's overrides laid over its configured ones. */
export function projectWithOverrides(name: string, configured: Readonly<Record<string, unknown>>, b: AnonymizeBody): Project {
  const base = (Object.hasOwn(configured, name) ? configured[name] : BUILTIN_PROJECTS[name]) as ProjectConfig | undefined;
  if (base === undefined) throw new AppError('DEID_PROJECT_UNKNOWN', { detail: name });
  const overrides: Record<string, TagOverride> = { ...(base.overrides ?? {}) };
  for (const k of b.Keep ?? []) overrides[k] = 'keep';
  for (const k of b.Remove ?? []) overrides[k] = 'remove';
  for (const [k, v] of Object.entries(b.Replace ?? {})) overrides[k] = { replace: v };
  const options = b.KeepPrivateTags === true ? { ...(base.options ?? {}), retainSafePrivate: true } : base.options;
  return compileProject(name, { ...base, overrides, ...(options ? { options } : {}) });
}

export function anonymizeRoutes(anon: AnonymizeDeps): FastifyPluginAsync<RestDeps> {
  return async (app, deps) => {
    const { blobs, ingest } = deps.archive;
    // With the persistent job table, /jobs is served by jobs-routes.ts from the same registry.
    const jobs = deps.pipeline?.registry ?? new JobRegistry();
    acceptJsonWithAnyType(app);
    const who = (req: FastifyRequest) => req.principal?.user.username ?? null;
    // The output is stored under (and keyed in) the target project: only its members may create it.
    // Outside the caller's list it answers as an unknown project, as /projects does.
    const allowedProject = (req: FastifyRequest, body: AnonymizeBody): string => {
      const name = body.Project ?? anon.defaultProject;
      const user = req.principal?.user;
      if (!user || !canAccessProject(user, name)) throw new AppError('DEID_PROJECT_UNKNOWN', { detail: name });
      return name;
    };

    async function deidFile(key: string, project: Project, pseudonymizer: Pseudonymizer): Promise<Buffer | { quarantined: string }> {
      const file = readPart10(await blobs.get(key));
      const out = await deidentify({ dataset: file.dataset, meta: file.meta, project, pseudonymizer });
      if (out.kind !== 'deidentified') return { quarantined: `${out.kind}: ${out.reason}` };
      const bytes = Buffer.concat(writePart10({ ...file, dataset: out.dataset }));
      // An early-answering pseudonymizer: the mappings must be durable before the copy is stored.
      if (out.durable) await out.durable;
      return bytes;
    }

    const levels: Level[] = ['patient', 'study', 'series'];
    for (const level of levels) {
      app.post<{ Params: { id: string }; Body: AnonymizeBody | undefined }>(`/${LEVEL_PATH[level]}/:id/anonymize`, { config: { role: 'broker' }, schema }, async (req, reply) => {
        const index = readIndex(req, deps.archive.index);
        const body = req.body ?? {};
        const root = isResourceId(req.params.id) ? await index.getResource(level, req.params.id) : undefined;
        if (!root) throw notFound(LEVEL_TYPE[level], req.params.id);
        const project = projectWithOverrides(allowedProject(req, body), anon.projects, body);
        const pseudonymizer = anon.pseudonymizerFor(project);
        const actor = who(req);
        const run = async (progress: (p: number) => void) => {
          const instances = await index.listInstances(level, root.id);
          let ids: ResourceIds | undefined;
          let quarantined = 0;
          let failed = 0;
          for (const [n, inst] of instances.entries()) {
            const out = await deidFile(inst.file!.blobKey, project, pseudonymizer);
            if (!Buffer.isBuffer(out)) quarantined++;
            else {
              const r = await ingest.ingest(out, { transport: 'rest', remoteHost: req.ip, project: project.name });
              if (r.status === 'rejected') failed++;
              else ids ??= r.ids;
            }
            progress(((n + 1) * 100) / Math.max(1, instances.length));
          }
          await deps.audit.record({ actor, action: 'anonymize', resource: root.id, ip: req.ip, outcome: failed + quarantined === 0 ? 'success' : 'failure', detail: { project: project.name, instances: instances.length, quarantined, failed } });
          if (ids === undefined) throw new AppError('DEID_PROJECT_INVALID', { detail: `no instance could be de-identified (${quarantined} quarantined, ${failed} failed)` });
          const newId = ids[level === 'patient' ? 'patient' : level === 'study' ? 'study' : 'series'];
          return { ID: newId, Path: `/${LEVEL_PATH[level]}/${newId}`, Type: LEVEL_TYPE[level], PatientID: ids.patient, Quarantined: quarantined, Failed: failed };
        };
        if (body.Asynchronous === true) {
          const job = jobs.start('Anonymization', actor, run);
          return { ID: job.id, Path: `/jobs/${job.id}` };
        }
        const result = await run(() => {});
        reply.code(200);
        return result;
      });
    }

    app.post<{ Params: { id: string }; Body: AnonymizeBody | undefined }>('/instances/:id/anonymize', { config: { role: 'broker' }, schema }, async (req, reply) => {
      const body = req.body ?? {};
      const inst = isResourceId(req.params.id) ? await readIndex(req, deps.archive.index).getResource('instance', req.params.id) : undefined;
      if (!inst?.file) throw notFound('Instance', req.params.id);
      const project = projectWithOverrides(allowedProject(req, body), anon.projects, body);
      const out = await deidFile(inst.file.blobKey, project, anon.pseudonymizerFor(project));
      await deps.audit.record({ actor: who(req), action: 'anonymize', resource: inst.id, ip: req.ip, outcome: Buffer.isBuffer(out) ? 'success' : 'failure', detail: { project: project.name } });
      if (!Buffer.isBuffer(out)) return reply.code(422).send({ error: 'QUARANTINED', message: out.quarantined });
      reply.header('Content-Type', 'application/dicom');
      return reply.send(out);
    });

    if (!deps.pipeline) {
      app.get<{ Querystring: { expand?: string } }>('/jobs', { config: { role: 'authenticated' } }, async (req) => {
        const mine = jobs.list().filter((j) => req.principal?.user.roles.includes('admin') || j.owner === who(req));
        return req.query.expand !== undefined ? mine.map(jobJson) : mine.map((j) => j.id);
      });

      app.get<{ Params: { id: string } }>('/jobs/:id', { config: { role: 'authenticated' } }, async (req) => {
        const j = jobs.get(req.params.id);
        if (!j || !(req.principal?.user.roles.includes('admin') || j.owner === who(req))) throw new AppError('INDEX_NOT_FOUND', { detail: `job ${req.params.id}` });
        return jobJson(j);
      });
    }
  };
}
