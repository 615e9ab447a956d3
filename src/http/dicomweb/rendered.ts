// WADO-RS /rendered and /thumbnail (PS3.18 10.4.1.1.3 and 10.4.1.1.5) as image/jpeg (default) or
// image/png, for native grayscale and RGB frames. Series and study thumbnails show the middle instance.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { AppError } from '../../core/errors.ts';
import { readPart10 } from '../../dicom/index.ts';
import { readIndex } from '../archive-scope.ts';
import { READ, type DicomwebDeps } from './dicomweb-deps.ts';
import { framesOf, parseFrameList } from './frames.ts';
import { mediaTypeParams, splitOutsideQuotes } from './multipart.ts';
import { renderFrame, type RenderedImage, type RenderOptions } from './render.ts';
import { resolveInstances } from './resolve-instances.ts';

type Params = { study: string; series?: string; instance?: string; frames?: string };
type Query = { window?: string; viewport?: string; quality?: string; accept?: string };

const THUMBNAIL = { width: 128, height: 128 };

export function pickImageType(accept: string | undefined, queryAccept: string | undefined): 'image/jpeg' | 'image/png' | undefined {
  const header = queryAccept ?? accept;
  if (header === undefined || header.trim() === '') return 'image/jpeg';
  for (const r of splitOutsideQuotes(header, ',')) {
    const { type } = mediaTypeParams(r);
    if (type === 'image/jpeg' || type === 'image/*' || type === '*/*') return 'image/jpeg';
    if (type === 'image/png') return 'image/png';
  }
  return undefined;
}

function parseOptions(q: Query, thumbnail: boolean): RenderOptions {
  const opts: RenderOptions = {};
  if (q.window !== undefined) {
    const [c, w] = q.window.split(',').map(Number);
    if (!Number.isFinite(c) || !Number.isFinite(w) || w < 1) throw new AppError('QUERY_INVALID', { detail: 'window=center,width[,function]' });
    opts.window = { center: c, width: w };
  }
  if (q.viewport !== undefined) {
    const [w, h] = q.viewport.split(',').map(Number);
    if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) throw new AppError('QUERY_INVALID', { detail: 'viewport=width,height' });
    opts.viewport = { width: w, height: h };
  } else if (thumbnail) opts.viewport = THUMBNAIL;
  return opts;
}

export function encodeImage(img: RenderedImage, type: 'image/jpeg' | 'image/png', quality: number): Buffer {
  if (type === 'image/png') return Buffer.from(encodePng({ width: img.width, height: img.height, data: img.data, channels: img.channels, depth: 8 }));
  const rgba = Buffer.alloc(img.width * img.height * 4);
  for (let i = 0; i < img.width * img.height; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = img.data[i * img.channels + (img.channels === 3 ? c : 0)];
    rgba[i * 4 + 3] = 255;
  }
  return jpeg.encode({ width: img.width, height: img.height, data: rgba }, quality).data;
}

export const renderedRoutes: FastifyPluginAsync<DicomwebDeps> = async (app, deps) => {
  const { blobs } = deps.archive;

  function handler(thumbnail: boolean) {
    return async (req: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply) => {
      const type = pickImageType(req.headers.accept, req.query.accept);
      if (type === undefined) return reply.code(406).send({ error: 'NOT_ACCEPTABLE', message: 'rendered media types: image/jpeg, image/png' });
      const opts = parseOptions(req.query, thumbnail);
      const quality = Math.min(100, Math.max(1, Number(req.query.quality ?? 90) || 90));
      const { study, series, instance } = req.params;
      const refs = await resolveInstances(readIndex(req, deps.archive.index), study, series, instance);
      const ref = refs[Math.floor(refs.length / 2)];
      const file = readPart10(await blobs.get(ref.record.file!.blobKey));
      const frames = framesOf(file.dataset, file.transferSyntaxUID);
      if (frames.mediaType !== 'application/octet-stream') throw new AppError('DICOM_UNSUPPORTED_TS', { detail: `rendering compressed pixel data (${file.transferSyntaxUID})` });
      const [frameNo] = req.params.frames !== undefined ? parseFrameList(req.params.frames, frames.count) : [Math.ceil(frames.count / 2)];
      const img = renderFrame(file.dataset, frames.frame(frameNo), opts);
      await deps.audit.record({ actor: req.principal?.user.username ?? null, action: 'download', resource: ref.sopUid, ip: req.ip, outcome: 'success', detail: { route: thumbnail ? 'dicom-web thumbnail' : 'dicom-web rendered' } });
      reply.header('Content-Type', type);
      return reply.send(encodeImage(img, type, quality));
    };
  }

  const opts = { config: { role: READ } };
  const base = '/studies/:study/series/:series/instances/:instance';
  app.get<{ Params: Params; Querystring: Query }>(`${base}/rendered`, opts, handler(false));
  app.get<{ Params: Params; Querystring: Query }>(`${base}/frames/:frames/rendered`, opts, handler(false));
  app.get<{ Params: Params; Querystring: Query }>(`${base}/thumbnail`, opts, handler(true));
  app.get<{ Params: Params; Querystring: Query }>(`${base}/frames/:frames/thumbnail`, opts, handler(true));
  app.get<{ Params: Params; Querystring: Query }>('/studies/:study/series/:series/thumbnail', opts, handler(true));
  app.get<{ Params: Params; Querystring: Query }>('/studies/:study/thumbnail', opts, handler(true));
};
