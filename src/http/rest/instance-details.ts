// GET /instances/{id}/metadata[/{name}] (Orthanc's per-instance metadata: reception, origin,
// transfer syntax), /instances/{id}/content/{path} (raw values by tag path, "0008-1115/0/0020-000e"),
// and /{level}/{id}/shared-tags (tags equal in every instance below a resource).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { PIXEL_DATA, readPart10, type Dataset } from '../../dicom/index.ts';
import type { Level, ResourceRecord } from '../../index/archive-index.ts';
import { readIndex } from '../archive-scope.ts';
import { isResourceId } from '../../index/resource-ids.ts';
import { simplifyTags, toOrthancTags, type TagValue } from './dicom-tags-json.ts';
import { notFound } from './orthanc-errors.ts';
import { LEVEL_PATH, LEVEL_TYPE, orthancDate } from './orthanc-json.ts';
import { flag } from './resources.ts';
import { READ, type RestDeps } from './rest-deps.ts';

const ORIGIN: Record<string, string> = { dimse: 'DicomProtocol', rest: 'RestApi', stow: 'Plugins', import: 'Unknown' };

export function instanceMetadata(r: ResourceRecord): Record<string, string> {
  const f = r.file!;
  const out: Record<string, string> = {
    ReceptionDate: orthancDate(f.receivedAt),
    TransferSyntax: f.transferSyntaxUid,
    Origin: ORIGIN[f.source.transport] ?? 'Unknown',
  };
  if (r.tags.SOPClassUID) out.SopClassUid = r.tags.SOPClassUID;
  const n = Number(r.tags.InstanceNumber ?? NaN);
  if (Number.isInteger(n)) out.IndexInSeries = String(n);
  if (f.source.remoteAe !== undefined) out.RemoteAET = f.source.remoteAe;
  if (f.source.calledAe !== undefined) out.CalledAET = f.source.calledAe;
  if (f.source.remoteHost !== undefined) out.RemoteIP = f.source.remoteHost;
  return out;
}

function parseContentPath(path: string): number[] {
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s, i) => {
      if (i % 2 === 1) {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 0) throw new AppError('QUERY_INVALID', { detail: `item index "${s}"` });
        return n;
      }
      const m = /^([0-9a-fA-F]{4})-([0-9a-fA-F]{4})$/.exec(s);
      if (!m) throw new AppError('QUERY_INVALID', { detail: `tag "${s}" (write gggg-eeee)` });
      return parseInt(m[1] + m[2], 16) >>> 0;
    });
}

const tagName = (t: number) => {
  const h = t.toString(16).padStart(8, '0');
  return `${h.slice(0, 4)}-${h.slice(4)}`;
};

export const instanceDetailRoutes: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  const { blobs } = deps.archive;

  async function instance(req: FastifyRequest, id: string): Promise<ResourceRecord> {
    const r = isResourceId(id) ? await readIndex(req, deps.archive.index).getResource('instance', id) : undefined;
    if (!r?.file) throw notFound('Instance', id);
    return r;
  }

  app.get<{ Params: { id: string }; Querystring: { expand?: string } }>('/instances/:id/metadata', { config: { role: READ } }, async (req) => {
    const md = instanceMetadata(await instance(req, req.params.id));
    return flag(req.query.expand) ? md : Object.keys(md);
  });

  app.get<{ Params: { id: string; name: string } }>('/instances/:id/metadata/:name', { config: { role: READ } }, async (req, reply) => {
    const v = instanceMetadata(await instance(req, req.params.id))[req.params.name];
    if (v === undefined) throw new AppError('INDEX_NOT_FOUND', { detail: `metadata ${req.params.name}` });
    return reply.type('text/plain').send(v);
  });

  app.get<{ Params: { id: string; '*': string } }>('/instances/:id/content/*', { config: { role: READ } }, async (req, reply) => {
    const r = await instance(req, req.params.id);
    const steps = parseContentPath(req.params['*'] ?? '');
    let ds: Dataset = readPart10(await blobs.get(r.file!.blobKey)).dataset;
    for (let i = 0; i < steps.length; i += 2) {
      const t = steps[i];
      if (!ds.has(t)) throw new AppError('INDEX_NOT_FOUND', { detail: `tag ${tagName(t)}` });
      const items = ds.items(t);
      if (i + 1 >= steps.length) {
        if (items !== undefined) return items.map((_it, n) => String(n));
        const bytes = ds.bytes(t) ?? new Uint8Array(0);
        return reply.type('application/octet-stream').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      }
      const item = items?.[steps[i + 1]];
      if (!item) throw new AppError('INDEX_NOT_FOUND', { detail: `item ${steps[i + 1]} of ${tagName(t)}` });
      ds = item;
    }
    return ds.tags().map(tagName);
  });

  const levels: Level[] = ['patient', 'study', 'series'];
  for (const level of levels) {
    app.get<{ Params: { id: string }; Querystring: { simplify?: string } }>(`/${LEVEL_PATH[level]}/:id/shared-tags`, { config: { role: READ } }, async (req) => {
      const index = readIndex(req, deps.archive.index);
      const root = isResourceId(req.params.id) ? await index.getResource(level, req.params.id) : undefined;
      if (!root) throw notFound(LEVEL_TYPE[level], req.params.id);
      let shared: Record<string, TagValue> | undefined;
      for (const inst of await index.listInstances(level, root.id)) {
        if (!inst.file) continue;
        // Header only: pixel data is never shared meaningfully and would cost the most to read.
        const tags = toOrthancTags(readPart10(await blobs.get(inst.file.blobKey), { untilTag: PIXEL_DATA }).dataset);
        if (shared === undefined) shared = tags;
        else for (const k of Object.keys(shared)) if (JSON.stringify(shared[k]) !== JSON.stringify(tags[k])) delete shared[k];
      }
      return flag(req.query.simplify) ? simplifyTags(shared ?? {}) : (shared ?? {});
    });
  }
};
