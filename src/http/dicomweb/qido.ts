// QIDO-RS (PS3.18 10.6): /studies, /series, /instances, /studies/{study}/series,
// /studies/{study}/instances, /studies/{study}/series/{series}/instances. Matching goes through the
// shared engine; includefield (or "all") selects the computed attributes (counts, ModalitiesInStudy).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import type { Level } from '../../index/archive-index.ts';
import { readIndex } from '../archive-scope.ts';
import { DERIVED_TAGS, resolveKey } from '../../index/main-tags.ts';
import { baseUrl, DICOM_JSON, READ, type DicomwebDeps } from './dicomweb-deps.ts';
import { matchToDicomJson } from './qido-json.ts';

const RESERVED = new Set(['limit', 'offset', 'includefield', 'fuzzymatching']);
const MAX_LIMIT = 10_000;

type Query = Record<string, string | string[] | undefined>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function intParam(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new AppError('QUERY_INVALID', { detail: `${name} must be a non-negative integer` });
  return n;
}

/** Which computed attributes to return at `level`: PS3.18 Table 10.6.3-3..5 defaults plus includefield. */
function returnKeys(level: Level, include: string[]): string[] {
  const derived = DERIVED_TAGS.filter((d) => d.level === level).map((d) => d.keyword);
  const wanted = new Set<string>();
  if (level === 'study') ['ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'].forEach((k) => wanted.add(k));
  if (level === 'series') wanted.add('NumberOfSeriesRelatedInstances');
  for (const f of include) {
    if (f === 'all') derived.forEach((k) => wanted.add(k));
    const m = resolveKey(f);
    if (m && derived.includes(m.keyword)) wanted.add(m.keyword);
  }
  return [...wanted];
}

export const qidoRoutes: FastifyPluginAsync<DicomwebDeps> = async (app, deps) => {

  async function search(req: FastifyRequest<{ Querystring: Query; Params: Record<string, string> }>, reply: FastifyReply, level: Level, fixed: Record<string, string>) {
    const q = req.query;
    const keys: Record<string, string> = {};
    const include: string[] = [];
    for (const [k, raw] of Object.entries(q)) {
      const values = Array.isArray(raw) ? raw : [raw ?? ''];
      if (k === 'includefield') {
        for (const v of values) include.push(...v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
        continue;
      }
      if (RESERVED.has(k)) continue;
      keys[k] = values[values.length - 1];
    }
    Object.assign(keys, fixed);
    const limit = Math.min(intParam(first(q.limit), 'limit') ?? MAX_LIMIT, MAX_LIMIT);
    const offset = intParam(first(q.offset), 'offset');
    const page = await readIndex(req, deps.archive.index).query({
      level,
      keys,
      returnKeys: returnKeys(level, include),
      limit,
      ...(offset !== undefined ? { offset } : {}),
      fuzzy: first(q.fuzzymatching) === 'true',
    });
    const warnings: string[] = [];
    if (page.ignoredKeys.length > 0) warnings.push(`299 dicomgate "attributes not indexed, not matched: ${page.ignoredKeys.join(' ')}"`);
    const notIndexed = include.filter((f) => f !== 'all' && resolveKey(f) === undefined);
    if (notIndexed.length > 0) warnings.push(`299 dicomgate "includefield not available: ${notIndexed.join(' ')}"`);
    if (page.hasMore) warnings.push(`299 dicomgate "The number of results exceeded the maximum supported by the server. Additional results can be requested."`);
    if (warnings.length > 0) reply.header('Warning', warnings.join(', '));
    const base = baseUrl(req);
    reply.type(DICOM_JSON);
    return page.matches.map((m) => {
      const st = m.tags.StudyInstanceUID;
      const se = m.tags.SeriesInstanceUID;
      const sop = m.tags.SOPInstanceUID;
      const url =
        level === 'study' ? `${base}/studies/${st}` : level === 'series' ? `${base}/studies/${st}/series/${se}` : level === 'instance' ? `${base}/studies/${st}/series/${se}/instances/${sop}` : undefined;
      return matchToDicomJson(m, url);
    });
  }

  type R = { Querystring: Query; Params: Record<string, string> };
  const opts = { config: { role: READ } };
  app.get<R>('/studies', opts, (req, reply) => search(req, reply, 'study', {}));
  app.get<R>('/series', opts, (req, reply) => search(req, reply, 'series', {}));
  app.get<R>('/instances', opts, (req, reply) => search(req, reply, 'instance', {}));
  app.get<R>('/studies/:study/series', opts, (req, reply) => search(req, reply, 'series', { StudyInstanceUID: req.params.study }));
  app.get<R>('/studies/:study/instances', opts, (req, reply) => search(req, reply, 'instance', { StudyInstanceUID: req.params.study }));
  app.get<R>('/studies/:study/series/:series/instances', opts, (req, reply) =>
    search(req, reply, 'instance', { StudyInstanceUID: req.params.study, SeriesInstanceUID: req.params.series }),
  );
};
