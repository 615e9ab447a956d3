// Upload into a de-identification project: POST /projects/{project}/instances (a DICOM file or a ZIP
// of them, like POST /instances). Each object goes through the gateway service with the project's
// upload-bound pipeline filters (a pipeline with `intake.sources: [upload]` and `deid: {project}`),
// then de-identification, store and the pipeline's routes: the same chain as a C-STORE to a
// pipeline's called AE and as the project's STOW route. Uploader role AND the project in the caller's
// access list. Answers carry no pseudonymous ids (they would link the sender's side to them).
import type { FastifyPluginAsync } from 'fastify';
import { canAccessProject } from '../../auth/auth-service.ts';
import { AppError } from '../../core/errors.ts';
import type { GatewayProject, GatewayResult, GatewayService } from '../../services/gateway.ts';
import type { RestDeps } from '../rest/rest-deps.ts';
import { isZip, zipEntries } from '../rest/zip-entries.ts';

export interface GatewayUploadDeps {
  gateway: GatewayService;
  /** The project of that name with its upload-bound filters, or undefined. */
  projectFor(name: string): GatewayProject | undefined;
  uploadLimitBytes: number;
}

/** Orthanc's upload answer vocabulary, plus what a gateway may do instead of storing. */
function answer(r: GatewayResult): { Status: string; Reason?: string } {
  if (r.status === 'stored' || r.status === 'replaced') return { Status: 'Success' };
  if (r.status === 'duplicate') return { Status: 'AlreadyStored' };
  // Reasons are filter expressions or de-identification reasons (configuration), never data.
  if (r.status === 'quarantined') return r.skipped ? { Status: 'Skipped', Reason: r.reason } : { Status: 'Quarantined', Reason: r.reason };
  return { Status: 'Rejected', Reason: r.status === 'rejected' ? r.code : 'unknown' };
}

export function gatewayUploadRoutes(g: GatewayUploadDeps): FastifyPluginAsync<RestDeps> {
  return async (app, deps) => {
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: g.uploadLimitBytes }, (_req, body, done) => done(null, body));
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: g.uploadLimitBytes }, (_req, body, done) => done(null, body));
    app.post<{ Params: { project: string } }>('/projects/:project/instances', { config: { role: 'uploader' }, bodyLimit: g.uploadLimitBytes }, async (req, reply) => {
      const user = req.principal!.user;
      const target = g.projectFor(req.params.project);
      // Unknown and forbidden projects answer alike, so project names cannot be probed.
      if (target === undefined || !canAccessProject(user, req.params.project)) throw new AppError('AUTH_FORBIDDEN', { detail: `project ${req.params.project}` });
      const body = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0) throw new AppError('IMPORT_UNREADABLE', { detail: 'empty body: send a DICOM file or a ZIP' });
      const source = { transport: 'rest' as const, remoteHost: req.ip };
      const one = async (data: Buffer) => {
        const r = await g.gateway.process(data, target, source);
        await deps.audit.record({
          actor: user.username,
          action: 'upload',
          resource: null,
          ip: req.ip,
          outcome: r.status === 'rejected' ? 'failure' : 'success',
          detail: { via: 'upload-gateway', project: req.params.project, status: r.status },
        });
        return r;
      };
      if (!isZip(body)) {
        const r = await one(body);
        if (r.status === 'rejected') reply.code(r.retryable ? 503 : 400);
        return answer(r);
      }
      const out: ReturnType<typeof answer>[] = [];
      for await (const entry of zipEntries(body, g.uploadLimitBytes)) out.push(answer(await one(entry)));
      return out;
    });
  };
}
