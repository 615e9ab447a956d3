// POST /tools/find (Orthanc's "find" over the index): { Level, Query, Expand, Limit, Since,
// RequestedTags, CaseSensitive, Labels, OrderBy }. OrderBy (Orthanc 1.12.5) sorts on indexed main tags
// of the level or its parents (Type DicomTag only; Metadata is refused). Matching goes through the shared engine (src/index/matching.ts).
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../core/errors.ts';
import type { Level } from '../../index/archive-index.ts';
import { expandResource } from './orthanc-json.ts';
import { acceptJsonWithAnyType } from './json-any-type.ts';
import { READ, type RestDeps } from './rest-deps.ts';
import { readIndex } from '../archive-scope.ts';
import { checkLabel } from './labels.ts';

const LEVEL_NAMES: Record<string, Level> = { patient: 'patient', study: 'study', series: 'series', instance: 'instance' };

interface FindBody {
  Level: string;
  Query?: Record<string, string>;
  Expand?: boolean;
  Limit?: number;
  Since?: number;
  RequestedTags?: string[];
  CaseSensitive?: boolean;
  Labels?: string[];
  LabelsConstraint?: 'All' | 'Any' | 'None';
  OrderBy?: { Type: string; Key: string; Direction: string }[];
}

/** Orthanc's OrderBy entries → the index's; only DicomTag sorting (the index has no metadata columns). */
function orderBy(entries: NonNullable<FindBody['OrderBy']>): { key: string; direction: 'asc' | 'desc' }[] {
  return entries.map((e) => {
    if (e.Type !== 'DicomTag') {
      throw new AppError('QUERY_INVALID', { detail: `OrderBy Type "${String(e.Type).slice(0, 20)}" is not supported: use "Type": "DicomTag" with an indexed main tag` });
    }
    const d = e.Direction.toUpperCase();
    if (d !== 'ASC' && d !== 'DESC') throw new AppError('QUERY_INVALID', { detail: `OrderBy ${String(e.Key).slice(0, 40)}: Direction must be "ASC" or "DESC"` });
    return { key: e.Key, direction: d === 'ASC' ? 'asc' : 'desc' };
  });
}

const schema = {
  body: {
    type: 'object',
    required: ['Level'],
    properties: {
      Level: { type: 'string' },
      Query: { type: 'object', additionalProperties: { type: 'string' } },
      Expand: { type: 'boolean' },
      Limit: { type: 'integer', minimum: 0 },
      Since: { type: 'integer', minimum: 0 },
      RequestedTags: { type: 'array', items: { type: 'string' } },
      CaseSensitive: { type: 'boolean' },
      Labels: { type: 'array', items: { type: 'string' } },
      LabelsConstraint: { type: 'string', enum: ['All', 'Any', 'None'] },
      OrderBy: {
        type: 'array',
        maxItems: 8,
        items: {
          type: 'object',
          required: ['Type', 'Key', 'Direction'],
          properties: { Type: { type: 'string' }, Key: { type: 'string' }, Direction: { type: 'string' } },
        },
      },
      Full: { type: 'boolean' },
      Short: { type: 'boolean' },
    },
  },
} as const;

export const findRoutes: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  acceptJsonWithAnyType(app);
  app.post<{ Body: FindBody }>('/tools/find', { config: { role: READ }, schema }, async (req) => {
    const index = readIndex(req, deps.archive.index);
    const b = req.body;
    const level = LEVEL_NAMES[b.Level.toLowerCase()];
    if (level === undefined) throw new AppError('QUERY_INVALID', { detail: `Level must be Patient, Study, Series or Instance` });
    const page = await index.query({
      level,
      keys: b.Query ?? {},
      // Orthanc: Limit 0 means no limit.
      ...(b.Limit !== undefined && b.Limit > 0 ? { limit: b.Limit } : {}),
      ...(b.Since !== undefined ? { offset: b.Since } : {}),
      caseInsensitivePN: b.CaseSensitive === false,
      ...(b.Labels !== undefined && b.Labels.length > 0 ? { labels: { labels: b.Labels.map(checkLabel), constraint: b.LabelsConstraint ?? 'All' } } : {}),
      ...(b.OrderBy !== undefined && b.OrderBy.length > 0 ? { orderBy: orderBy(b.OrderBy) } : {}),
    });
    if (page.ignoredKeys.length > 0) {
      // Orthanc would read the files to apply these; we refuse rather than return a superset.
      throw new AppError('QUERY_INVALID', { detail: `not indexed, cannot be matched: ${page.ignoredKeys.join(', ')}` });
    }
    if (b.Expand !== true) return page.matches.map((m) => m.id);
    const out = [];
    for (const m of page.matches) {
      const r = await index.getResource(level, m.id);
      if (!r) continue;
      const json = await expandResource(index, r, deps.now ? { now: deps.now } : {});
      if (b.RequestedTags !== undefined) {
        const requested: Record<string, string | null> = {};
        for (const k of b.RequestedTags) requested[k] = m.tags[k] ?? null;
        json.RequestedTags = requested;
      }
      out.push(json);
    }
    return out;
  });
};
