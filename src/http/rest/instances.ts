// Instance routes: GET /instances/{id}/file (audited download), /tags (?simplify),
// /simplified-tags, and POST /instances (raw DICOM or a ZIP of files) through the ingest service.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { readPart10 } from '../../dicom/index.ts';
import type { ResourceRecord } from '../../index/archive-index.ts';
import { readIndex } from '../archive-scope.ts';
import { isResourceId } from '../../index/resource-ids.ts';
import type { IngestResult } from '../../services/ingest.ts';
import { notFound } from './orthanc-errors.ts';
import { flag } from './resources.ts';
import { simplifyTags, toOrthancTags } from './dicom-tags-json.ts';
import { READ, UPLOAD, type RestDeps } from './rest-deps.ts';
import { isZip, zipEntries } from './zip-entries.ts';

const DEFAULT_UPLOAD_LIMIT = 1024 * 1024 * 1024;

/** Orthanc's answer for one stored (or refused) instance. */
export function uploadAnswer(r: IngestResult): Record<string, unknown> {
  if (r.status === 'rejected') return { Status: 'Failure', Code: r.code, Message: r.reason };
  return {
    ID: r.ids.instance,
    ParentPatient: r.ids.patient,
    ParentStudy: r.ids.study,
    ParentSeries: r.ids.series,
    Path: `/instances/${r.ids.instance}`,
    Status: r.status === 'duplicate' ? 'AlreadyStored' : 'Success',
  };
}

export const instanceRoutes: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  const { blobs, ingest } = deps.archive;
  const uploadLimit = deps.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT;

  async function instance(req: FastifyRequest, id: string): Promise<ResourceRecord> {
    const r = isResourceId(id) ? await readIndex(req, deps.archive.index).getResource('instance', id) : undefined;
    if (!r?.file) throw notFound('Instance', id);
    return r;
  }

  const who = (req: FastifyRequest) => req.principal?.user.username ?? null;

  app.get<{ Params: { id: string } }>('/instances/:id/file', { config: { role: READ } }, async (req, reply) => {
    const r = await instance(req, req.params.id);
    await deps.audit.record({ actor: who(req), action: 'download', resource: r.id, ip: req.ip, outcome: 'success', detail: { route: '/instances/:id/file' } });
    reply.header('Content-Type', 'application/dicom');
    reply.header('Content-Length', String(r.file!.fileSize));
    reply.header('Content-Disposition', `attachment; filename="${r.id}.dcm"`);
    return reply.send(blobs.createReadStream(r.file!.blobKey));
  });

  async function tags(req: FastifyRequest, id: string): Promise<ReturnType<typeof toOrthancTags>> {
    const r = await instance(req, id);
    const file = readPart10(await blobs.get(r.file!.blobKey));
    return toOrthancTags(file.dataset);
  }

  app.get<{ Params: { id: string }; Querystring: { simplify?: string; short?: string } }>('/instances/:id/tags', { config: { role: READ } }, async (req) => {
    const full = await tags(req, req.params.id);
    return flag(req.query.simplify) ? simplifyTags(full) : full;
  });

  app.get<{ Params: { id: string } }>('/instances/:id/simplified-tags', { config: { role: READ } }, async (req) => simplifyTags(await tags(req, req.params.id)));

  // Orthanc accepts any content type here (curl --data-binary sends form-urlencoded), so this
  // scope reads every non-JSON body as bytes.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: uploadLimit }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: uploadLimit }, (_req, body, done) => done(null, body));

  app.post('/instances', { config: { role: UPLOAD }, bodyLimit: uploadLimit }, async (req, reply) => {
    const body = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new AppError('IMPORT_UNREADABLE', { detail: 'empty body: send a DICOM file or a ZIP' });
    const source = { transport: 'rest' as const, remoteHost: req.ip };
    const record = (r: IngestResult) =>
      deps.audit.record({ actor: who(req), action: 'upload', resource: r.status === 'rejected' ? null : r.ids.instance, ip: req.ip, outcome: r.status === 'rejected' ? 'failure' : 'success', detail: { status: r.status } });
    if (!isZip(body)) {
      const r = await ingest.ingest(body, source);
      await record(r);
      if (r.status === 'rejected') {
        reply.code(r.retryable ? 503 : 400);
      }
      return uploadAnswer(r);
    }
    const answers: Record<string, unknown>[] = [];
    for await (const entry of zipEntries(body, uploadLimit)) {
      const r = await ingest.ingest(entry, source);
      await record(r);
      answers.push(uploadAnswer(r));
    }
    return answers;
  });
};
