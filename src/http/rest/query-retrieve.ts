// Orthanc's retrieve routes over C-MOVE (PS3.4 C.4.2): POST /queries/{id}/retrieve and
// /queries/{id}/answers/{n}/retrieve (the answers of an earlier /modalities/{name}/query) and
// POST /modalities/{name}/move (identifiers given in the body). The peer sends the instances to the
// target AE title, by default our own: they then arrive at dicomgate's DIMSE server as C-STOREs and go
// through its normal intake (ingest, or a de-identifying intake bound to that AE title), so nothing
// here writes to the archive. Registered by modalities.ts, which owns the query store and peers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { Dataset } from '../../dicom/index.ts';
import { associate } from '../../dimse/scu.ts';
import { formatStatus, STATUS, statusCategory } from '../../dimse/status.ts';
import { QR_SOP, TS, type QueryModel } from '../../dimse/uids.ts';
import { simplifyTags, toOrthancTags } from './dicom-tags-json.ts';
import type { JobRegistry } from './jobs.ts';
import type { RestDeps } from './rest-deps.ts';

export interface StoredQuery {
  id: string;
  owner: string | null;
  modality: string;
  /** patient | study | series | instance */
  level: string;
  query: Record<string, string>;
  answers: Dataset[];
}

export interface RetrievePeer {
  name: string;
  aet: string;
  host: string;
  port: number;
}

export interface RetrieveRouteDeps {
  localAet: string;
  peer(name: string): RetrievePeer;
  /** The caller's query (404 for unknown ids and other users' queries). */
  ownQuery(req: FastifyRequest<{ Params: { id: string } }>): StoredQuery;
  timeouts: { timeouts?: { artimMs: number; idleMs: number } };
  /** The role allowed to retrieve (the same as to query: the peer's data may be identifiable). */
  role: 'broker';
}

export const QR_LEVEL: Record<string, string> = { patient: 'PATIENT', study: 'STUDY', series: 'SERIES', instance: 'IMAGE' };

const PATIENT_ID = 0x00100020;
const STUDY_UID = 0x0020000d;
const SERIES_UID = 0x0020000e;
const SOP_UID = 0x00080018;
/** Orthanc's DicomControlUserConnection::Move: the keys copied from an answer, per level (study root below patient). */
const MOVE_KEYS: Record<string, readonly [number, string][]> = {
  patient: [[PATIENT_ID, 'PatientID']],
  study: [[STUDY_UID, 'StudyInstanceUID']],
  series: [[STUDY_UID, 'StudyInstanceUID'], [SERIES_UID, 'SeriesInstanceUID']],
  instance: [[STUDY_UID, 'StudyInstanceUID'], [SERIES_UID, 'SeriesInstanceUID'], [SOP_UID, 'SOPInstanceUID']],
};
const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

/** The C-MOVE identifier for one resource at a level: only its unique keys, each required and single-valued. */
export function moveIdentifier(level: string, value: (tag: number, keyword: string) => string | undefined): Dataset {
  const ds = new Dataset();
  ds.setString(0x00080052, 'CS', QR_LEVEL[level]);
  for (const [tag, keyword] of MOVE_KEYS[level]) {
    const v = value(tag, keyword)?.trim();
    if (!v || v.includes('\\') || v.includes('*') || v.includes('?')) throw new AppError('QUERY_INVALID', { detail: `${keyword} is needed (one value, no wildcard) to retrieve at ${level} level` });
    ds.setString(tag, tag === PATIENT_ID ? 'LO' : 'UI', v);
  }
  return ds;
}

interface RetrieveOptions {
  targetAet: string;
  asynchronous: boolean;
  format: 'short' | 'simplify' | 'full';
}

/** Orthanc's retrieve body: a bare target AE title as text, or JSON {TargetAet, Synchronous|Asynchronous, Full, Simplify, Short, RetrieveMethod}. */
export function retrieveOptions(body: unknown, localAet: string): RetrieveOptions {
  let b: Record<string, unknown> = {};
  if (typeof body === 'string') b = { TargetAet: body };
  else if (typeof body === 'object' && body !== null && !Array.isArray(body)) b = body as Record<string, unknown>;
  else if (body !== undefined) throw new AppError('QUERY_INVALID', { detail: 'body must be a target AE title or a JSON object' });
  const target = b.TargetAet ?? localAet;
  if (typeof target !== 'string' || !AE_TITLE.test(target.trim())) throw new AppError('QUERY_INVALID', { detail: 'TargetAet must be an AE title (1-16 characters, no backslash)' });
  // Orthanc 1.12.6 added C-GET as RetrieveMethod; dicomgate retrieves by C-MOVE only over REST.
  if (b.RetrieveMethod !== undefined && b.RetrieveMethod !== 'C-MOVE') throw new AppError('QUERY_INVALID', { detail: 'RetrieveMethod must be C-MOVE (C-GET is not served over REST)' });
  for (const k of ['Synchronous', 'Asynchronous', 'Full', 'Simplify', 'Short'] as const) {
    if (b[k] !== undefined && typeof b[k] !== 'boolean') throw new AppError('QUERY_INVALID', { detail: `${k} must be true or false` });
  }
  // Orthanc: "Synchronous" wins over "Asynchronous"; retrieves are synchronous by default.
  const asynchronous = b.Synchronous !== undefined ? b.Synchronous === false : b.Asynchronous === true;
  const format = b.Full === true ? 'full' : b.Simplify === true ? 'simplify' : 'short';
  return { targetAet: target.trim(), asynchronous, format };
}

/** Orthanc's job content renders each C-MOVE identifier in the requested DicomToJsonFormat. */
function renderQuery(ds: Dataset, format: RetrieveOptions['format']): Record<string, unknown> {
  const full = toOrthancTags(ds);
  if (format === 'full') return full;
  if (format === 'simplify') return simplifyTags(full);
  return Object.fromEntries(Object.entries(full).map(([k, v]) => [k, v.Value]));
}

interface MoveOutcome {
  status: number;
  completed: number;
  failed: number;
  warning: number;
}

/** One association, one C-MOVE per identifier (as Orthanc's DicomMoveScuJob); stops at the first failure. */
async function moveAll(p: RetrievePeer, localAet: string, targetAet: string, model: QueryModel, identifiers: readonly Dataset[], timeouts: RetrieveRouteDeps['timeouts']): Promise<MoveOutcome> {
  const total: MoveOutcome = { status: STATUS.Success, completed: 0, failed: 0, warning: 0 };
  const a = await associate({ host: p.host, port: p.port, callingAe: localAet, calledAe: p.aet, contexts: [{ abstractSyntax: QR_SOP[model].move, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] }], ...timeouts });
  try {
    for (const id of identifiers) {
      const r = await a.move(model, targetAet, id);
      total.completed += r.completed;
      total.failed += r.failed;
      total.warning += r.warning;
      if (r.status !== STATUS.Success) {
        total.status = r.status;
        break;
      }
    }
  } finally {
    await a.release().catch(() => a.abort());
  }
  return total;
}

function failureText(p: RetrievePeer, targetAet: string, o: MoveOutcome): string {
  const why = o.status === STATUS.MoveDestinationUnknown ? `: the peer does not know the destination AE "${targetAet}" (add it to the peer's configuration)` : '';
  return `${p.name}: C-MOVE to ${targetAet} answered ${formatStatus(o.status)} (${statusCategory(o.status)})${why}; completed ${o.completed}, failed ${o.failed}, warning ${o.warning}`;
}

export function registerRetrieveRoutes(app: FastifyInstance, deps: RestDeps, r: RetrieveRouteDeps): void {
  const who = (req: FastifyRequest) => req.principal?.user.username ?? null;
  // The same registry as /jobs (jobs-routes.ts) and the anonymize jobs; without it /jobs is not served.
  const jobs: JobRegistry | undefined = deps.pipeline?.registry;

  /** Runs (or queues) the C-MOVEs and answers Orthanc's job content, or {ID, Path} of the job. */
  async function retrieve(req: FastifyRequest, route: string, p: RetrievePeer, level: string, identifiers: Dataset[], o: RetrieveOptions, resource: string | null) {
    const model: QueryModel = level === 'patient' ? 'patient' : 'study';
    const actor = who(req);
    const run = async () => {
      let outcome: MoveOutcome | undefined;
      try {
        outcome = await moveAll(p, r.localAet, o.targetAet, model, identifiers, r.timeouts);
      } finally {
        // Who pulled how much from where and to which AE; never the UIDs or answers (they may identify a patient).
        await deps.audit.record({
          actor, action: 'modality.retrieve', resource, ip: req.ip, outcome: outcome?.status === STATUS.Success ? 'success' : 'failure',
          detail: { route, modality: p.name, target: o.targetAet, level, resources: identifiers.length, ...(outcome ? { status: formatStatus(outcome.status), completed: outcome.completed, failed: outcome.failed, warning: outcome.warning } : { error: 'association' }) },
        });
      }
      if (outcome.status !== STATUS.Success) throw new AppError('DIMSE_PEER_FAILURE', { detail: failureText(p, o.targetAet, outcome) });
      return {
        Description: 'REST API',
        LocalAet: r.localAet,
        RemoteAet: p.aet,
        TargetAet: o.targetAet,
        Query: identifiers.map((ds) => renderQuery(ds, o.format)),
        // Not in Orthanc's DicomMoveScuJob content: the peer's final sub-operation counts.
        InstancesCount: outcome.completed + outcome.warning,
        FailedInstancesCount: outcome.failed,
      };
    };
    if (!o.asynchronous) return run();
    if (!jobs) throw new AppError('QUERY_INVALID', { detail: 'Asynchronous retrieve needs the job table (/jobs), which this server does not serve; retrieve synchronously' });
    const job = jobs.start('DicomMoveScu', actor, async (progress) => {
      const out = await run();
      progress(100);
      return out;
    });
    return { ID: job.id, Path: `/jobs/${job.id}` };
  }

  const fromAnswer = (level: string, ds: Dataset) => moveIdentifier(level, (tag) => ds.string(tag));

  app.post<{ Params: { id: string }; Body: unknown }>('/queries/:id/retrieve', { config: { role: r.role } }, async (req) => {
    const q = r.ownQuery(req);
    const o = retrieveOptions(req.body, r.localAet);
    const p = r.peer(q.modality);
    return retrieve(req, '/queries/:id/retrieve', p, q.level, q.answers.map((a) => fromAnswer(q.level, a)), o, q.id);
  });

  app.post<{ Params: { id: string; n: string }; Body: unknown }>('/queries/:id/answers/:n/retrieve', { config: { role: r.role } }, async (req) => {
    const q = r.ownQuery(req);
    const a = /^\d+$/.test(req.params.n) ? q.answers[Number(req.params.n)] : undefined;
    if (!a) throw new AppError('INDEX_NOT_FOUND', { detail: `answer ${req.params.n.slice(0, 20)}` });
    const o = retrieveOptions(req.body, r.localAet);
    return retrieve(req, '/queries/:id/answers/:n/retrieve', r.peer(q.modality), q.level, [fromAnswer(q.level, a)], o, q.id);
  });

  app.post<{ Params: { name: string }; Body: unknown }>('/modalities/:name/move', { config: { role: r.role } }, async (req) => {
    const p = r.peer(req.params.name);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError('QUERY_INVALID', { detail: 'body must be {"Level": ..., "Resources": [...]}' });
    const b = body as { Level?: unknown; Resources?: unknown };
    const level = typeof b.Level === 'string' ? b.Level.toLowerCase() : '';
    if (!(level in QR_LEVEL)) throw new AppError('QUERY_INVALID', { detail: 'Level must be Patient, Study, Series or Instance' });
    if (!Array.isArray(b.Resources) || b.Resources.length === 0 || b.Resources.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) {
      throw new AppError('QUERY_INVALID', { detail: 'Resources must be a non-empty list of objects such as {"StudyInstanceUID": "..."}' });
    }
    const identifiers = (b.Resources as Record<string, unknown>[]).map((res) =>
      moveIdentifier(level, (tag, keyword) => {
        // Orthanc accepts the keys by keyword or as "gggg,eeee".
        const hex = tag.toString(16).padStart(8, '0');
        const v = res[keyword] ?? res[`${hex.slice(0, 4)},${hex.slice(4)}`] ?? res[`${hex.slice(0, 4).toUpperCase()},${hex.slice(4).toUpperCase()}`];
        return typeof v === 'string' ? v : undefined;
      }),
    );
    return retrieve(req, '/modalities/:name/move', p, level, identifiers, retrieveOptions(b, r.localAet), null);
  });
}
