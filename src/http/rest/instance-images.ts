// Orthanc's image routes for one instance: /instances/{id}/frames (frame numbers, 0-based as in
// Orthanc), /frames/{n}/raw, and /preview, /rendered (whole instance = frame 0, or /frames/{n}/...)
// as PNG (preview) or JPEG/PNG by Accept (rendered), for native grayscale and RGB pixel data.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { readPart10 } from '../../dicom/index.ts';
import { framesOf, type Frames } from '../dicomweb/frames.ts';
import { encodeImage, pickImageType } from '../dicomweb/rendered.ts';
import { renderFrame } from '../dicomweb/render.ts';
import type { Dataset } from '../../dicom/index.ts';
import { readIndex } from '../archive-scope.ts';
import { isResourceId } from '../../index/resource-ids.ts';
import { notFound } from './orthanc-errors.ts';
import { READ, type RestDeps } from './rest-deps.ts';

type P = { id: string; frame?: string };

export const instanceImageRoutes: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  const { blobs } = deps.archive;

  async function load(req: FastifyRequest, id: string): Promise<{ ds: Dataset; frames: Frames; resourceId: string }> {
    const r = isResourceId(id) ? await readIndex(req, deps.archive.index).getResource('instance', id) : undefined;
    if (!r?.file) throw notFound('Instance', id);
    const file = readPart10(await blobs.get(r.file.blobKey));
    return { ds: file.dataset, frames: framesOf(file.dataset, file.transferSyntaxUID), resourceId: r.id };
  }

  function frameIndex(p: P, count: number): number {
    const n = p.frame === undefined ? 0 : Number(p.frame);
    if (!Number.isInteger(n) || n < 0 || n >= count) throw new AppError('INDEX_NOT_FOUND', { detail: `frame ${p.frame ?? 0} of ${count}` });
    return n + 1;
  }

  const image = (kind: 'preview' | 'rendered') => async (req: FastifyRequest<{ Params: P }>, reply: FastifyReply) => {
    const { ds, frames, resourceId } = await load(req, req.params.id);
    if (frames.mediaType !== 'application/octet-stream') throw new AppError('DICOM_UNSUPPORTED_TS', { detail: 'rendering compressed pixel data' });
    const type = kind === 'preview' ? 'image/png' : pickImageType(req.headers.accept, undefined);
    if (type === undefined) return reply.code(406).send({ error: 'NOT_ACCEPTABLE', message: 'image/jpeg or image/png' });
    const img = renderFrame(ds, frames.frame(frameIndex(req.params, frames.count)));
    await deps.audit.record({ actor: req.principal?.user.username ?? null, action: 'download', resource: resourceId, ip: req.ip, outcome: 'success', detail: { route: `/instances/:id/${kind}` } });
    reply.header('Content-Type', type);
    return reply.send(encodeImage(img, type, 90));
  };

  const opts = { config: { role: READ } };
  app.get<{ Params: P }>('/instances/:id/frames', opts, async (req) => {
    const { frames } = await load(req, req.params.id);
    return Array.from({ length: frames.count }, (_, i) => i);
  });
  app.get<{ Params: P }>('/instances/:id/frames/:frame/raw', opts, async (req, reply) => {
    const { frames, resourceId } = await load(req, req.params.id);
    const bytes = frames.frame(frameIndex(req.params, frames.count));
    await deps.audit.record({ actor: req.principal?.user.username ?? null, action: 'download', resource: resourceId, ip: req.ip, outcome: 'success', detail: { route: '/instances/:id/frames/:frame/raw' } });
    return reply.type(frames.mediaType).send(bytes);
  });
  app.get<{ Params: P }>('/instances/:id/preview', opts, image('preview'));
  app.get<{ Params: P }>('/instances/:id/rendered', opts, image('rendered'));
  app.get<{ Params: P }>('/instances/:id/frames/:frame/preview', opts, image('preview'));
  app.get<{ Params: P }>('/instances/:id/frames/:frame/rendered', opts, image('rendered'));
};
