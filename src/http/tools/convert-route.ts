// POST /tools/convert: pictures and volumes (JPEG, PNG, BMP, TIFF, NIfTI) in, DICOM into the archive.
// multipart/form-data: one or more `file` parts, `attributes` (JSON: DICOM keyword -> value, e.g.
// PatientID, StudyInstanceUID to attach to an existing study), optional `modality` (CT|MR, NIfTI
// only), `burnedInAnnotation` (yes|no) and `project` (de-identify through that project first, as a
// gateway intake does). File parts are spooled to a private temp folder as they arrive (never held
// whole in memory) and converted one after another; a file that fails does not stop the others.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../auth/audit-log.ts';
import { AppError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { attributesFrom, convert, streamInput, type ConvertInput, type ConvertOptions } from '../../convert/index.ts';
import type { GatewayProject, GatewayService } from '../../services/gateway.ts';
import type { IngestService } from '../../services/ingest.ts';
import { canAccessProject } from '../../auth/auth-service.ts';
import { mediaTypeParams, MultipartError, readMultipart, type PartHeaders } from '../dicomweb/multipart.ts';
import { jsonErrorHandler } from '../error-handler.ts';
import { UPLOAD } from '../rest/rest-deps.ts';

export interface ConvertRouteDeps {
  ingest: IngestService;
  audit: AuditLog;
  logger: Logger;
  gateway?: { gateway: GatewayService; projectFor(name: string): GatewayProject | undefined };
  /** Largest total upload, in bytes. */
  uploadLimitBytes: number;
}

interface Answer {
  instances: { ID: string | null; Status: 'Success' | 'AlreadyStored' | 'Quarantined' | 'Failure'; Reason?: string }[];
  errors: { source: string; message: string }[];
}

const MAX_FIELD_BYTES = 64 * 1024;

export const convertRoute: FastifyPluginAsync<ConvertRouteDeps> = async (app, deps) => {
  app.setErrorHandler(jsonErrorHandler(deps.logger));
  // The body stays a stream: parts are spooled to disk as they arrive.
  app.addContentTypeParser('multipart/form-data', (_req, payload, done) => done(null, payload));

  app.post('/tools/convert', { config: { role: UPLOAD } }, async (req: FastifyRequest, reply: FastifyReply) => {
    const { type, params } = mediaTypeParams(req.headers['content-type'] ?? '');
    if (type !== 'multipart/form-data' || !params.boundary) {
      return reply.code(415).send({ error: 'UNSUPPORTED_MEDIA_TYPE', message: 'send multipart/form-data with one or more "file" parts' });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > deps.uploadLimitBytes) {
      // Refused before reading, and the connection closed, so the client stops sending at once.
      reply.header('connection', 'close');
      throw new AppError('UPLOAD_TOO_LARGE', { detail: `limit ${Math.round(deps.uploadLimitBytes / 1024 / 1024)} MiB (http.uploadLimitMiB)` });
    }
    const dir = await mkdtemp(join(tmpdir(), 'dg-convert-'));
    try {
      const { files, fields } = await spool(req.body as AsyncIterable<Buffer>, params.boundary, dir, deps.uploadLimitBytes).catch((e: unknown) => {
        // The rest of an oversized body is not read: close the connection so the client stops sending.
        if ((e as AppError).code === 'UPLOAD_TOO_LARGE') reply.header('connection', 'close');
        throw e;
      });
      if (files.length === 0) throw new AppError('CONVERT_INPUT_INVALID', { detail: 'no "file" part in the upload' });
      const options = convertOptions(fields);
      let target: GatewayProject | undefined;
      if (fields.project) {
        target = deps.gateway?.projectFor(fields.project);
        // Unknown and forbidden projects answer alike, so project names cannot be probed.
        if (!target || !canAccessProject(req.principal!.user, fields.project)) throw new AppError('AUTH_FORBIDDEN', { detail: `project ${fields.project}` });
      }
      const inputs: ConvertInput[] = files.map((f) => streamInput(f.name, createReadStream(f.path)));
      const answer: Answer = { instances: [], errors: [] };
      const source = { transport: 'rest' as const, remoteHost: req.ip };
      for await (const r of convert(inputs, options)) {
        if (r.kind === 'error') answer.errors.push({ source: r.source, message: r.error.message });
        if (r.kind !== 'instance') continue;
        const bytes = Buffer.concat(r.chunks);
        if (target && deps.gateway) {
          const g = await deps.gateway.gateway.process(bytes, target, source);
          if (g.status === 'quarantined') answer.instances.push({ ID: null, Status: 'Quarantined', Reason: g.reason });
          else if (g.status === 'rejected') answer.instances.push({ ID: null, Status: 'Failure', Reason: g.code });
          else answer.instances.push({ ID: g.ingest.ids.instance, Status: g.status === 'duplicate' ? 'AlreadyStored' : 'Success' });
        } else {
          const s = await deps.ingest.ingest(bytes, source);
          if (s.status === 'rejected') answer.instances.push({ ID: null, Status: 'Failure', Reason: s.code });
          else answer.instances.push({ ID: s.ids.instance, Status: s.status === 'duplicate' ? 'AlreadyStored' : 'Success' });
        }
      }
      await deps.audit.record({
        actor: req.principal?.user.username ?? null,
        action: 'upload',
        resource: null,
        ip: req.ip,
        outcome: answer.errors.length === 0 ? 'success' : 'failure',
        detail: { route: '/tools/convert', files: files.length, instances: answer.instances.length, errors: answer.errors.length, project: fields.project ?? null },
      });
      // As STOW-RS answers (PS3.18 10.5.3): 200 all stored, 202 some failed, 409 nothing stored.
      const stored = answer.instances.filter((i) => i.Status === 'Success' || i.Status === 'AlreadyStored').length;
      const failed = answer.errors.length + answer.instances.length - stored;
      if (stored === 0) {
        const reasons = [...answer.errors.map((e) => `${e.source}: ${e.message}`), ...answer.instances.map((i) => `${i.Status}${i.Reason ? ` (${i.Reason})` : ''}`)];
        return reply.code(409).send({ message: `The files could not be converted or stored: ${reasons.join('; ')}`, ...answer });
      }
      return reply.code(failed > 0 ? 202 : 200).send(answer);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
};

interface Spooled {
  files: { name: string; path: string }[];
  fields: Record<string, string>;
}

async function spool(body: AsyncIterable<Buffer>, boundary: string, dir: string, limit: number): Promise<Spooled> {
  const out: Spooled = { files: [], fields: {} };
  let total = 0;
  const count = (n: number) => {
    total += n;
    if (total > limit) throw new AppError('UPLOAD_TOO_LARGE', { detail: `limit ${Math.round(limit / 1024 / 1024)} MiB (http.uploadLimitMiB)` });
  };
  try {
    await readMultipart(body, boundary, async (headers: PartHeaders) => {
      const disposition = mediaTypeParams(headers['content-disposition'] ?? '').params;
      const name = disposition.name ?? '';
      if (disposition.filename !== undefined) {
        // Only the base name is kept: browsers may send paths, and paths are not ours to keep.
        const file = { name: basename(disposition.filename.replace(/\\/g, '/')) || 'upload', path: join(dir, `${out.files.length}`) };
        out.files.push(file);
        const ws = createWriteStream(file.path);
        return {
          write: async (chunk) => {
            count(chunk.length);
            if (!ws.write(chunk)) await new Promise<void>((r) => ws.once('drain', () => r()));
          },
          end: async () => {
            ws.end();
            await finished(ws);
          },
        };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      return {
        write: async (chunk) => {
          size += chunk.length;
          if (size > MAX_FIELD_BYTES) throw new AppError('CONVERT_METADATA_INVALID', { detail: `form field "${name.slice(0, 32)}" is too long` });
          chunks.push(chunk);
        },
        end: async () => {
          out.fields[name] = Buffer.concat(chunks).toString('utf8');
        },
      };
    });
  } catch (e) {
    if (e instanceof MultipartError) throw new AppError('IMPORT_UNREADABLE', { detail: e.message, cause: e });
    throw e;
  }
  return out;
}

function convertOptions(fields: Record<string, string>): ConvertOptions {
  const options: ConvertOptions = {};
  if (fields.attributes) {
    let values: unknown;
    try {
      values = JSON.parse(fields.attributes);
    } catch {
      throw new AppError('CONVERT_METADATA_INVALID', { detail: '"attributes" must be a JSON object of DICOM keyword -> value' });
    }
    if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new AppError('CONVERT_METADATA_INVALID', { detail: '"attributes" must be a JSON object' });
    options.attributes = attributesFrom(values as Record<string, string>, 'attributes');
  }
  if (fields.modality) {
    if (fields.modality !== 'CT' && fields.modality !== 'MR') throw new AppError('CONVERT_METADATA_INVALID', { detail: '"modality" must be CT or MR' });
    options.modality = fields.modality;
  }
  if (fields.burnedInAnnotation) options.burnedInAnnotation = fields.burnedInAnnotation !== 'no';
  return options;
}
