// Orthanc's DICOM network routes: GET /modalities (+ /{name}, /{name}/configuration),
// POST /modalities/{name}/echo, /store (C-STORE archived resources to the peer), /query (C-FIND at
// the peer, answers under /queries/{id}), /move and /queries/{id}/retrieve (C-MOVE, query-retrieve.ts),
// and GET /peers (other HTTP servers).
// Modalities are the configured DICOM peers (dicom.peers, named by AE title, and route destinations
// of kind "dicom", by name). Store is an export of archive data: readers only, within their project
// scope, audited. Query answers come from the peer as it holds them (possibly identifiable, e.g. a
// clinical PACS), so query and retrieve are for the honest broker (and admin). See
// docs/orthanc-compatibility.md.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { Dataset, lookup, tagForKeyword, type VR } from '../../dicom/index.ts';
import type { OutgoingInstance } from '../../dimse/handlers.ts';
import { parsePart10Meta } from '../../dimse/part10-source.ts';
import { associate } from '../../dimse/scu.ts';
import { sendInstances } from '../../dimse/send-instances.ts';
import { formatStatus } from '../../dimse/status.ts';
import { SOP, TS, type QueryModel } from '../../dimse/uids.ts';
import type { ResourceRecord } from '../../index/archive-index.ts';
import { isResourceId, LEVELS } from '../../index/resource-ids.ts';
import { readIndex } from '../archive-scope.ts';
import { simplifyTags, toOrthancTags } from './dicom-tags-json.ts';
import { notFound } from './orthanc-errors.ts';
import { QR_LEVEL, registerRetrieveRoutes, type StoredQuery } from './query-retrieve.ts';
import { READ, type RestDeps } from './rest-deps.ts';
import { flag } from './resources.ts';

export interface ModalityPeer {
  /** Orthanc's modality name (the key in GET /modalities). */
  name: string;
  aet: string;
  host: string;
  port: number;
}

export interface ModalityDeps {
  peers: readonly ModalityPeer[];
  /** Our calling AE title towards them (dicom.aet). */
  localAet: string;
  /** Names of other HTTP (DICOMweb) servers, for GET /peers. */
  httpPeers?: readonly string[];
  /** Association timeouts for echo/store/query (tests shorten them). */
  timeoutMs?: number;
}

/** Who may list and echo: anyone who may read or send. */
const NETWORK = ['researcher', 'broker', 'uploader'] as const;
/** Remote answers are not de-identified; what is retrieved from them neither. */
const QUERY = 'broker' as const;
const MAX_QUERIES = 100;

/**
 * The unique keys always asked for, per level: the level's own and (study root) those above it, as
 * Orthanc's FixFindQuery does, so each answer names what a later retrieve moves.
 */
const LEVEL_KEYS: Record<string, readonly string[]> = {
  patient: ['PatientID'],
  study: ['StudyInstanceUID'],
  series: ['StudyInstanceUID', 'SeriesInstanceUID'],
  instance: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID'],
};

/** The C-FIND identifier of an Orthanc {Level, Query}: the level's unique keys are always returned. */
export function findIdentifier(level: string, query: Record<string, string>): Dataset {
  const ds = new Dataset();
  ds.setString(0x00080052, 'CS', QR_LEVEL[level]);
  const keys = { ...Object.fromEntries(LEVEL_KEYS[level].map((k) => [k, ''])), ...query };
  for (const [k, v] of Object.entries(keys)) {
    const t = tagForKeyword(k) ?? (/^[0-9A-Fa-f]{8}$/.test(k) ? parseInt(k, 16) >>> 0 : undefined);
    const vr = t === undefined ? undefined : lookup(t)?.vr;
    if (t === undefined || vr === undefined || vr === 'SQ' || vr.length !== 2) throw new AppError('QUERY_INVALID', { detail: `unknown or unsupported query key ${k.slice(0, 64)}` });
    ds.setString(t, vr as VR, v);
  }
  return ds;
}

export function modalityRoutes(mod: ModalityDeps): FastifyPluginAsync<RestDeps> {
  return async (app, deps) => {
    const queries = new Map<string, StoredQuery>();
    const who = (req: FastifyRequest) => req.principal?.user.username ?? null;
    const timeouts = mod.timeoutMs !== undefined ? { timeouts: { artimMs: mod.timeoutMs, idleMs: mod.timeoutMs } } : {};

    // Orthanc takes JSON whatever the Content-Type, and /store also a bare resource id as text.
    const parse = (_req: unknown, body: string, done: (err: Error | null, value?: unknown) => void) => {
      const text = body.trim();
      if (text === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(null, text);
      }
    };
    app.addContentTypeParser('*', { parseAs: 'string' }, parse);
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parse);

    const peer = (name: string): ModalityPeer => {
      const p = mod.peers.find((x) => x.name === name);
      if (!p) throw new AppError('INDEX_NOT_FOUND', { detail: `modality ${name.slice(0, 64)}` });
      return p;
    };
    const config = (p: ModalityPeer) => ({ AET: p.aet, Host: p.host, Port: p.port, Manufacturer: 'Generic', AllowEcho: true, AllowFind: true, AllowStore: true, AllowMove: true, AllowGet: false, AllowTranscoding: false });

    app.get<{ Querystring: { expand?: string } }>('/modalities', { config: { role: NETWORK } }, async (req) => {
      if (!flag(req.query.expand)) return mod.peers.map((p) => p.name);
      return Object.fromEntries(mod.peers.map((p) => [p.name, config(p)]));
    });
    // Orthanc answers the list of operations below the modality.
    app.get<{ Params: { name: string } }>('/modalities/:name', { config: { role: NETWORK } }, async (req) => {
      peer(req.params.name);
      return ['configuration', 'echo', 'move', 'query', 'store'];
    });
    app.get<{ Params: { name: string } }>('/modalities/:name/configuration', { config: { role: NETWORK } }, async (req) => config(peer(req.params.name)));

    app.post<{ Params: { name: string } }>('/modalities/:name/echo', { config: { role: NETWORK } }, async (req) => {
      const p = peer(req.params.name);
      const a = await associate({ host: p.host, port: p.port, callingAe: mod.localAet, calledAe: p.aet, contexts: [{ abstractSyntax: SOP.Verification, transferSyntaxes: [TS.ImplicitVRLittleEndian] }], ...timeouts });
      try {
        const status = await a.echo();
        if (status !== 0) throw new AppError('DIMSE_PEER_FAILURE', { detail: `${p.name}: C-ECHO ${formatStatus(status)}` });
      } finally {
        await a.release().catch(() => a.abort());
      }
      return {};
    });

    app.post<{ Params: { name: string }; Body: unknown }>('/modalities/:name/store', { config: { role: READ } }, async (req) => {
      const p = peer(req.params.name);
      const ids = storeResources(req.body);
      const index = readIndex(req, deps.archive.index);
      const instances: ResourceRecord[] = [];
      const seen = new Set<string>();
      for (const id of ids) {
        const found = isResourceId(id) ? await findAnyLevel(index, id) : undefined;
        if (!found) throw notFound('Resource', id);
        for (const inst of await index.listInstances(found.level, found.id)) {
          if (inst.file && !seen.has(inst.id)) {
            seen.add(inst.id);
            instances.push(inst);
          }
        }
      }
      const outgoing: OutgoingInstance[] = instances.map((inst) => ({
        sopClassUid: inst.tags.SOPClassUID ?? '',
        sopInstanceUid: inst.tags.SOPInstanceUID ?? '',
        transferSyntaxUid: inst.file!.transferSyntaxUid,
        // One instance in memory at a time: opened when its C-STORE starts.
        open: async () => {
          const bytes = await deps.archive.blobs.get(inst.file!.blobKey);
          const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          return b.subarray(parsePart10Meta(b, 'stored blob').datasetOffset);
        },
      }));
      const results = await sendInstances({ host: p.host, port: p.port, callingAe: mod.localAet, calledAe: p.aet, ...timeouts }, outgoing);
      const failed = results.filter((r) => r.status === undefined || (r.status !== 0 && (r.status & 0xf000) !== 0xb000)).length;
      await deps.audit.record({
        actor: who(req), action: 'export', resource: ids.length === 1 ? ids[0] : null, ip: req.ip, outcome: failed === 0 ? 'success' : 'failure',
        detail: { route: '/modalities/:name/store', modality: p.name, resources: ids.length, instances: instances.length, failed },
      });
      if (failed > 0) throw new AppError('DIMSE_PEER_FAILURE', { detail: `${p.name}: ${failed} of ${instances.length} instances not stored` });
      return { Description: 'REST API', FailedInstancesCount: 0, InstancesCount: instances.length, LocalAet: mod.localAet, ParentResources: ids, RemoteAet: p.aet };
    });

    app.post<{ Params: { name: string }; Body: unknown }>('/modalities/:name/query', { config: { role: QUERY } }, async (req) => {
      const p = peer(req.params.name);
      const body = (req.body ?? {}) as { Level?: unknown; Query?: unknown };
      const level = typeof body.Level === 'string' ? body.Level.toLowerCase() : '';
      if (!(level in QR_LEVEL)) throw new AppError('QUERY_INVALID', { detail: 'Level must be Patient, Study, Series or Instance' });
      const query = body.Query ?? {};
      if (typeof query !== 'object' || query === null || Array.isArray(query) || Object.values(query).some((v) => typeof v !== 'string')) {
        throw new AppError('QUERY_INVALID', { detail: 'Query must map tags to strings' });
      }
      const identifier = findIdentifier(level, query as Record<string, string>);
      const model: QueryModel = level === 'patient' ? 'patient' : 'study';
      const a = await associate({ host: p.host, port: p.port, callingAe: mod.localAet, calledAe: p.aet, contexts: [{ abstractSyntax: model === 'patient' ? SOP.PatientRootFind : SOP.StudyRootFind, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] }], ...timeouts });
      const answers: Dataset[] = [];
      try {
        for await (const ds of a.find(model, identifier)) answers.push(ds);
      } finally {
        await a.release().catch(() => a.abort());
      }
      const q: StoredQuery = { id: randomUUID(), owner: who(req), modality: p.name, level, query: query as Record<string, string>, answers };
      queries.set(q.id, q);
      // In memory and bounded: the oldest query goes first.
      if (queries.size > MAX_QUERIES) queries.delete(queries.keys().next().value!);
      // The remote node's answers may be identifiable: record who asked, never what came back.
      await deps.audit.record({ actor: who(req), action: 'modality.query', resource: q.id, ip: req.ip, outcome: 'success', detail: { modality: p.name, level, answers: answers.length } });
      return { ID: q.id, Path: `/queries/${q.id}` };
    });

    const own = (req: FastifyRequest<{ Params: { id: string } }>): StoredQuery => {
      const q = queries.get(req.params.id);
      if (!q || !(req.principal?.user.roles.includes('admin') || q.owner === who(req))) throw new AppError('INDEX_NOT_FOUND', { detail: `query ${req.params.id.slice(0, 64)}` });
      return q;
    };
    const content = (ds: Dataset, simplify: boolean) => (simplify ? simplifyTags(toOrthancTags(ds)) : toOrthancTags(ds));

    app.get('/queries', { config: { role: QUERY } }, async (req) =>
      [...queries.values()].filter((q) => req.principal?.user.roles.includes('admin') || q.owner === who(req)).map((q) => q.id));
    app.get<{ Params: { id: string } }>('/queries/:id', { config: { role: QUERY } }, async (req) => {
      own(req);
      return ['answers', 'level', 'modality', 'query', 'retrieve'];
    });
    app.get<{ Params: { id: string } }>('/queries/:id/level', { config: { role: QUERY } }, async (req, reply) => reply.type('text/plain').send(QR_LEVEL[own(req).level]));
    app.get<{ Params: { id: string } }>('/queries/:id/modality', { config: { role: QUERY } }, async (req, reply) => reply.type('text/plain').send(own(req).modality));
    app.get<{ Params: { id: string } }>('/queries/:id/query', { config: { role: QUERY } }, async (req) => own(req).query);
    app.get<{ Params: { id: string }; Querystring: { expand?: string; simplify?: string } }>('/queries/:id/answers', { config: { role: QUERY } }, async (req) => {
      const q = own(req);
      if (!flag(req.query.expand)) return q.answers.map((_a, i) => String(i));
      return q.answers.map((a) => content(a, flag(req.query.simplify)));
    });
    app.get<{ Params: { id: string; n: string }; Querystring: { simplify?: string } }>('/queries/:id/answers/:n/content', { config: { role: QUERY } }, async (req) => {
      const q = own(req);
      const a = /^\d+$/.test(req.params.n) ? q.answers[Number(req.params.n)] : undefined;
      if (!a) throw new AppError('INDEX_NOT_FOUND', { detail: `answer ${req.params.n.slice(0, 20)}` });
      return content(a, flag(req.query.simplify));
    });
    app.delete<{ Params: { id: string } }>('/queries/:id', { config: { role: QUERY } }, async (req) => {
      queries.delete(own(req).id);
      return {};
    });
    registerRetrieveRoutes(app, deps, { localAet: mod.localAet, peer, ownQuery: own, timeouts, role: QUERY });

    // Orthanc peers are other Orthanc/DICOMweb HTTP servers; dicomgate lists its DICOMweb destinations.
    app.get('/peers', { config: { role: NETWORK } }, async () => [...(mod.httpPeers ?? [])]);
  };
}

/** Orthanc's /store body: a resource id as text, a JSON list of ids, or {"Resources": [...]}. */
function storeResources(body: unknown): string[] {
  let ids: unknown = body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const b = body as { Resources?: unknown; Asynchronous?: unknown };
    if (b.Asynchronous === true) throw new AppError('QUERY_INVALID', { detail: 'Asynchronous store is not supported; send synchronously' });
    ids = b.Resources;
  }
  if (typeof ids === 'string') ids = [ids];
  if (!Array.isArray(ids) || ids.length === 0 || ids.some((x) => typeof x !== 'string')) {
    throw new AppError('QUERY_INVALID', { detail: 'body must be a resource id, a list of ids or {"Resources": [...]}' });
  }
  return ids as string[];
}

async function findAnyLevel(index: ReturnType<typeof readIndex>, id: string): Promise<ResourceRecord | undefined> {
  for (const level of LEVELS) {
    const r = await index.getResource(level, id);
    if (r) return r;
  }
  return undefined;
}
