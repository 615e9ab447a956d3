// De-identification projects over HTTP: GET /projects, GET /projects/{project} (settings, pseudonym
// scheme; read by researcher, broker, admin) and POST /projects/{project}/preview, the dry run of the
// project on a stored study (broker or admin: it shows the original values). Nothing here writes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../auth/audit-log.ts';
import { canAccessProject } from '../../auth/auth-service.ts';
import { AppError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { resolveProject } from '../../deid/project.ts';
import type { ArchiveIndex } from '../../index/archive-index.ts';
import { readIndex } from '../archive-scope.ts';
import { isResourceId } from '../../index/resource-ids.ts';
import type { PseudonymStore } from '../../pseudonyms/pseudonym-store.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { jsonErrorHandler } from '../error-handler.ts';
import { PreviewPseudonymizer, previewInstance, type InstancePreview } from './preview.ts';
import { describeProject, projectNames } from './project-summary.ts';

export interface ProjectsDeps {
  /** config.projects (the built-ins need no entry). */
  projects: Readonly<Record<string, unknown>>;
  archive: { index: ArchiveIndex; blobs: BlobStore };
  /** Key database, read only here (existing pseudonyms in the preview); absent: placeholders only. */
  keys?: PseudonymStore;
  audit: AuditLog;
  logger: Logger;
}

export const PROJECT_READERS = ['researcher', 'broker'] as const;
/** The preview shows original values: the honest broker (and admin, who may run any project). */
export const PREVIEW = 'broker' as const;

const DEFAULT_PREVIEW = 5;
const MAX_PREVIEW = 50;

type ProjectParams = { Params: { project: string } };

const previewSchema = {
  body: {
    type: 'object',
    required: ['study'],
    additionalProperties: false,
    properties: { study: { type: 'string', minLength: 1, maxLength: 64 }, limit: { type: 'integer', minimum: 1 } },
  },
} as const;

function mayUse(req: FastifyRequest, project: string): boolean {
  const p = req.principal;
  return p !== null && (p.via === 'dev' || canAccessProject(p.user, project));
}

export async function projectsPlugin(app: FastifyInstance, deps: ProjectsDeps): Promise<void> {
  app.setErrorHandler(jsonErrorHandler(deps.logger));
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Cache-Control', 'no-store');
  });
  const actor = (req: FastifyRequest) => req.principal?.user.username ?? null;
  // Unknown and not-yours answer alike, so project names cannot be probed.
  const visible = (req: FastifyRequest<ProjectParams>): string => {
    const name = req.params.project;
    if (!projectNames(deps.projects).includes(name) || !mayUse(req, name)) throw new AppError('DEID_PROJECT_UNKNOWN', { detail: name });
    return name;
  };

  app.get('/projects', { config: { role: PROJECT_READERS } }, async (req) => {
    const projects = projectNames(deps.projects)
      .filter((n) => mayUse(req, n))
      .map((n) => describeProject(n, deps.projects, false)!);
    await deps.audit.record({ actor: actor(req), action: 'projects.list', resource: null, ip: req.ip, outcome: 'success', detail: { count: projects.length } });
    return { projects };
  });

  app.get<ProjectParams>('/projects/:project', { config: { role: PROJECT_READERS } }, async (req) => {
    const name = visible(req);
    await deps.audit.record({ actor: actor(req), action: 'projects.read', resource: name, ip: req.ip, outcome: 'success' });
    return describeProject(name, deps.projects, true);
  });

  app.post<ProjectParams & { Body: { study: string; limit?: number } }>('/projects/:project/preview', { config: { role: PREVIEW }, schema: previewSchema }, async (req) => {
    const name = visible(req);
    const project = resolveProject(name, deps.projects);
    const { study, limit } = req.body;
    // Only data the caller may read (per-project access lists).
    const index = readIndex(req, deps.archive.index);
    const root = isResourceId(study) ? await index.getResource('study', study) : undefined;
    if (!root) throw new AppError('INDEX_NOT_FOUND', { detail: `study ${study}` });
    const all = await index.listInstances('study', root.id);
    const chosen = all.slice(0, Math.min(limit ?? DEFAULT_PREVIEW, MAX_PREVIEW));
    const pseudonymizer = new PreviewPseudonymizer(deps.keys, name);
    const instances: InstancePreview[] = [];
    for (const inst of chosen) {
      if (!inst.file) continue;
      const r = await previewInstance(await deps.archive.blobs.get(inst.file.blobKey), project, pseudonymizer);
      instances.push({ instance: inst.id, ...r });
    }
    await deps.audit.record({ actor: actor(req), action: 'projects.preview', resource: root.id, ip: req.ip, outcome: 'success', detail: { project: name, instances: instances.length } });
    return { project: name, study: root.id, totalInstances: all.length, instances };
  });
}
