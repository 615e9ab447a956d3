// GET /patients|studies|series|instances (?expand, ?since, ?limit), GET /{level}/{id},
// child and parent routes (/patients/{id}/studies, /series/{id}/study, ...), DELETE /{level}/{id}.
import type { FastifyPluginAsync } from 'fastify';
import type { ArchiveIndex, Level, ResourceRecord } from '../../index/archive-index.ts';
import { readIndex } from '../archive-scope.ts';
import { isResourceId, LEVELS } from '../../index/resource-ids.ts';
import { notFound } from './orthanc-errors.ts';
import { expandResource, LEVEL_PATH, LEVEL_TYPE } from './orthanc-json.ts';
import { READ, REMOVE, type RestDeps } from './rest-deps.ts';

interface ListQuery {
  expand?: string;
  since?: string;
  limit?: string;
}

function intParam(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    const e = new Error(`"${name}" must be a non-negative integer`) as Error & { statusCode: number };
    e.statusCode = 400;
    throw e;
  }
  return n;
}

/** Orthanc treats "?expand" (no value) and "?expand=true" alike. */
export function flag(v: string | undefined): boolean {
  return v !== undefined && v !== 'false' && v !== '0';
}

export const resourceRoutes: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  const { blobs } = deps.archive;
  const expand = (index: ArchiveIndex, r: ResourceRecord) => expandResource(index, r, deps.now ? { now: deps.now } : {});

  async function get(index: ArchiveIndex, level: Level, id: string): Promise<ResourceRecord> {
    const r = isResourceId(id) ? await index.getResource(level, id) : undefined;
    if (!r) throw notFound(LEVEL_TYPE[level], id);
    return r;
  }

  for (const level of LEVELS) {
    const path = LEVEL_PATH[level];

    app.get<{ Querystring: ListQuery }>(`/${path}`, { config: { role: READ } }, async (req) => {
      const index = readIndex(req, deps.archive.index);
      const limit = intParam(req.query.limit, 'limit');
      const offset = intParam(req.query.since, 'since');
      const page = await index.query({ level, ...(limit !== undefined ? { limit } : {}), ...(offset !== undefined ? { offset } : {}) });
      if (!flag(req.query.expand)) return page.matches.map((m) => m.id);
      const out = [];
      for (const m of page.matches) {
        const r = await index.getResource(level, m.id);
        if (r) out.push(await expand(index, r));
      }
      return out;
    });

    app.get<{ Params: { id: string } }>(`/${path}/:id`, { config: { role: READ } }, async (req) => {
      const index = readIndex(req, deps.archive.index);
      return expand(index, await get(index, level, req.params.id));
    });

    app.delete<{ Params: { id: string } }>(`/${path}/:id`, { config: { role: REMOVE } }, async (req) => {
      const index = readIndex(req, deps.archive.index);
      await get(index, level, req.params.id);
      const result = await index.deleteResource(level, req.params.id);
      if (!result) throw notFound(LEVEL_TYPE[level], req.params.id);
      // Index first (committed), then the bytes: a crash in between leaves orphans, never dangling rows.
      await Promise.all(result.blobKeys.map((k) => blobs.delete(k).catch((err: unknown) => deps.logger.warn('blob not deleted', { blobKey: k, err }))));
      await deps.audit.record({ actor: req.principal?.user.username ?? null, action: 'delete', resource: req.params.id, ip: req.ip, outcome: 'success', detail: { level, instances: result.blobKeys.length } });
      const a = result.remainingAncestor;
      return { RemainingAncestor: a ? { ID: a.id, Path: `/${LEVEL_PATH[a.level]}/${a.id}`, Type: LEVEL_TYPE[a.level] } : null };
    });

    // Descendants at any depth below this level: /patients/{id}/studies|series|instances, ...
    for (const below of LEVELS.slice(LEVELS.indexOf(level) + 1)) {
      app.get<{ Params: { id: string }; Querystring: ListQuery }>(`/${path}/:id/${LEVEL_PATH[below]}`, { config: { role: READ } }, async (req) => {
        const index = readIndex(req, deps.archive.index);
        await get(index, level, req.params.id);
        const page = await index.query({ level: below, within: { level, id: req.params.id } });
        const out = [];
        for (const m of page.matches) {
          const r = await index.getResource(below, m.id);
          if (r) out.push(flag(req.query.expand) || req.query.expand === undefined ? await expand(index, r) : r.id);
        }
        return out;
      });
    }

    // Ancestors: /studies/{id}/patient, /series/{id}/study, /instances/{id}/series, ...
    for (const above of LEVELS.slice(0, LEVELS.indexOf(level))) {
      app.get<{ Params: { id: string } }>(`/${path}/:id/${above}`, { config: { role: READ } }, async (req) => {
        const index = readIndex(req, deps.archive.index);
        let r = await get(index, level, req.params.id);
        while (r.level !== above) {
          const parentLevel = LEVELS[LEVELS.indexOf(r.level) - 1];
          r = await get(index, parentLevel, r.parentId ?? '');
        }
        return expand(index, r);
      });
    }
  }
};
