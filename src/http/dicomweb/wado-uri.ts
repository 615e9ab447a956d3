// WADO-URI (PS3.18 9): GET /wado?requestType=WADO&studyUID=&seriesUID=&objectUID=&contentType=
// Serves the stored object as application/dicom (what OHIF's "wadouri" image loader asks for), or a
// rendered image/jpeg (the default for images) / image/png of a native frame, with windowCenter,
// windowWidth, rows, columns and frameNumber as in PS3.18 9.1.2.
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { READ, type DicomwebDeps } from './dicomweb-deps.ts';
import { readPart10 } from '../../dicom/index.ts';
import { readIndex } from '../archive-scope.ts';
import { framesOf, parseFrameList } from './frames.ts';
import { encodeImage } from './rendered.ts';
import { renderFrame, type RenderOptions } from './render.ts';
import { resolveInstances } from './resolve-instances.ts';

interface WadoQuery {
  requestType?: string;
  studyUID?: string;
  seriesUID?: string;
  objectUID?: string;
  contentType?: string;
  transferSyntax?: string;
  windowCenter?: string;
  windowWidth?: string;
  rows?: string;
  columns?: string;
  frameNumber?: string;
  imageQuality?: string;
}

export const wadoUriRoutes: FastifyPluginAsync<DicomwebDeps> = async (app, deps) => {
  const { blobs } = deps.archive;
  app.get<{ Querystring: WadoQuery }>('/wado', { config: { role: READ } }, async (req, reply) => {
    const q = req.query;
    if (q.requestType !== 'WADO') throw new AppError('QUERY_INVALID', { detail: 'requestType must be WADO' });
    if (!q.studyUID || !q.seriesUID || !q.objectUID) throw new AppError('QUERY_INVALID', { detail: 'studyUID, seriesUID and objectUID are required' });
    // PS3.18 9.1.2.1.6: image/jpeg is the default for objects with pixel data.
    const types = (q.contentType ?? 'image/jpeg').split(',').map((s) => s.split(';')[0].trim().toLowerCase());
    const dicom = types.some((t) => t === 'application/dicom' || t === '*/*');
    const image = types.find((t) => t === 'image/jpeg' || t === 'image/png') as 'image/jpeg' | 'image/png' | undefined;
    if (!dicom && image === undefined) {
      return reply.code(406).send({ error: 'NOT_ACCEPTABLE', message: 'contentType: application/dicom, image/jpeg or image/png' });
    }
    const [ref] = await resolveInstances(readIndex(req, deps.archive.index), q.studyUID, q.seriesUID, q.objectUID);
    const file = ref.record.file!;
    if (!dicom && image !== undefined) {
      const parsed = readPart10(await blobs.get(file.blobKey));
      const frames = framesOf(parsed.dataset, parsed.transferSyntaxUID);
      if (frames.mediaType !== 'application/octet-stream') throw new AppError('DICOM_UNSUPPORTED_TS', { detail: `rendering compressed pixel data (${parsed.transferSyntaxUID})` });
      const [frameNo] = parseFrameList(q.frameNumber ?? '1', frames.count);
      const opts: RenderOptions = {};
      if (q.windowCenter !== undefined && q.windowWidth !== undefined) opts.window = { center: Number(q.windowCenter), width: Math.max(1, Number(q.windowWidth)) };
      if (q.rows !== undefined || q.columns !== undefined) opts.viewport = { width: Number(q.columns ?? 1e9) || 1e9, height: Number(q.rows ?? 1e9) || 1e9 };
      const img = renderFrame(parsed.dataset, frames.frame(frameNo), opts);
      await deps.audit.record({ actor: req.principal?.user.username ?? null, action: 'download', resource: q.objectUID, ip: req.ip, outcome: 'success', detail: { route: '/wado rendered' } });
      reply.header('Content-Type', image);
      return reply.send(encodeImage(img, image, Math.min(100, Math.max(1, Number(q.imageQuality ?? 90) || 90))));
    }
    if (q.transferSyntax !== undefined && q.transferSyntax !== '*' && q.transferSyntax !== file.transferSyntaxUid) {
      return reply.code(406).send({ error: 'NOT_ACCEPTABLE', message: `stored in ${file.transferSyntaxUid}; transcoding is not supported` });
    }
    await deps.audit.record({ actor: req.principal?.user.username ?? null, action: 'download', resource: q.objectUID, ip: req.ip, outcome: 'success', detail: { route: '/wado' } });
    reply.header('Content-Type', 'application/dicom');
    reply.header('Content-Length', String(file.fileSize));
    return reply.send(blobs.createReadStream(file.blobKey));
  });
};
