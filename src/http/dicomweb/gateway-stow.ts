// STOW-RS into a de-identification project: POST /projects/{project}/dicom-web/studies.
// Each part goes through the gateway service (de-identify, then ingest; quarantine what the
// project refuses), the same path as a C-STORE to an AE title bound to that project, so only
// de-identified data reaches the archive. The caller needs the uploader role AND the project in
// its access list. The answer names the objects by the UIDs the sender sent and carries no
// RetrieveURL: the sender's side must not learn the pseudonymous UIDs (that would link them).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { canAccessProject } from '../../auth/auth-service.ts';
import { AppError, ERRORS } from '../../core/errors.ts';
import { PIXEL_DATA, readPart10 } from '../../dicom/index.ts';
import type { JsonDataset } from '../../dicom/json.ts';
import type { GatewayProject, GatewayService } from '../../services/gateway.ts';
import { DICOM_JSON, UPLOAD, type DicomwebDeps } from './dicomweb-deps.ts';
import { mediaTypeParams, MultipartError, readMultipart } from './multipart.ts';

export interface GatewayStowDeps {
  gateway: GatewayService;
  /** The configured project of that name, or undefined. */
  projectFor(name: string): GatewayProject | undefined;
  /** Largest object accepted (de-identification needs it whole in memory). Default 2 GiB. */
  maxObjectBytes?: number;
}

const CANNOT_UNDERSTAND = 0xc000;
const OUT_OF_RESOURCES = 0xa700;

interface Outcome {
  sopClassUid?: string;
  sopInstanceUid?: string;
  failure?: number;
  quarantined?: boolean;
}

function ui(v: string | undefined) {
  return v === undefined ? { vr: 'UI' } : { vr: 'UI', Value: [v] };
}

export function gatewayStowRoutes(gw: GatewayStowDeps): FastifyPluginAsync<DicomwebDeps> {
  const max = gw.maxObjectBytes ?? 2 * 1024 ** 3;
  return async (app, deps) => {
    app.addContentTypeParser('multipart/related', (_req, payload, done) => done(null, payload));

    app.post<{ Params: { project: string } }>('/projects/:project/dicom-web/studies', { config: { role: UPLOAD } }, async (req: FastifyRequest<{ Params: { project: string } }>, reply: FastifyReply) => {
      const user = req.principal!.user;
      const target = gw.projectFor(req.params.project);
      // Unknown and forbidden projects answer alike, so project names cannot be probed.
      if (target === undefined || !canAccessProject(user, req.params.project)) throw new AppError('AUTH_FORBIDDEN', { detail: `project ${req.params.project}` });
      const { type, params } = mediaTypeParams(req.headers['content-type'] ?? '');
      if (type !== 'multipart/related' || (params.type ?? 'application/dicom').toLowerCase() !== 'application/dicom' || params.boundary === undefined) {
        return reply.code(415).send({ error: 'UNSUPPORTED_MEDIA_TYPE', message: 'send multipart/related; type="application/dicom"' });
      }
      const outcomes: Outcome[] = [];
      const source = { transport: 'stow' as const, remoteHost: req.ip };
      try {
        await readMultipart(req.body as AsyncIterable<Buffer>, params.boundary, async (headers) => {
          const o: Outcome = {};
          outcomes.push(o);
          const isDicom = mediaTypeParams(headers['content-type'] ?? 'application/dicom').type === 'application/dicom';
          if (!isDicom) o.failure = CANNOT_UNDERSTAND;
          const chunks: Buffer[] = [];
          let size = 0;
          return {
            write: async (c) => {
              size += c.length;
              if (isDicom && size <= max) chunks.push(Buffer.from(c));
            },
            end: async () => {
              if (!isDicom) return;
              if (size > max) {
                o.failure = OUT_OF_RESOURCES;
                return;
              }
              const data = Buffer.concat(chunks);
              chunks.length = 0;
              try {
                const h = readPart10(data, { untilTag: PIXEL_DATA }).dataset;
                o.sopClassUid = h.string(0x00080016);
                o.sopInstanceUid = h.string(0x00080018);
              } catch {
                o.failure = CANNOT_UNDERSTAND;
                return;
              }
              const r = await gw.gateway.process(data, target, source);
              if (r.status === 'rejected') o.failure = ERRORS[r.code]?.dimse ?? CANNOT_UNDERSTAND;
              if (r.status === 'quarantined') o.quarantined = true;
            },
          };
        });
      } catch (e) {
        if (e instanceof MultipartError) throw new AppError('IMPORT_UNREADABLE', { detail: e.message, cause: e });
        throw e;
      }
      for (const o of outcomes) {
        await deps.audit.record({
          actor: user.username,
          action: 'upload',
          // The sender's own UID: this record is about what the identifying side sent.
          resource: o.sopInstanceUid ?? null,
          ip: req.ip,
          outcome: o.failure === undefined ? 'success' : 'failure',
          detail: { via: 'stow-gateway', project: req.params.project, quarantined: o.quarantined === true },
        });
      }
      const ok = outcomes.filter((o) => o.failure === undefined);
      const failed = outcomes.filter((o) => o.failure !== undefined);
      const body: JsonDataset = {};
      if (failed.length > 0) {
        body['00081198'] = { vr: 'SQ', Value: failed.map((o) => ({ '00081150': ui(o.sopClassUid), '00081155': ui(o.sopInstanceUid), '00081197': { vr: 'US', Value: [o.failure!] } })) };
      }
      if (ok.length > 0) body['00081199'] = { vr: 'SQ', Value: ok.map((o) => ({ '00081150': ui(o.sopClassUid), '00081155': ui(o.sopInstanceUid) })) };
      reply.code(outcomes.length === 0 ? 400 : failed.length === 0 ? 200 : ok.length === 0 ? 409 : 202);
      reply.type(DICOM_JSON);
      return body;
    });
  };
}
