// POST /{patients|studies|series|instances}/{id}/modify with Orthanc's semantics
// (OrthancRestModification.cpp / DicomModification): Replace, Remove, Keep, RemovePrivateTags,
// Force, KeepSource.
// - patient/study/series: every instance below is modified and stored through ingest as a NEW
//   instance set. New StudyInstanceUID / SeriesInstanceUID / SOPInstanceUID are generated at the
//   modified level and below (one new UID per old UID, so the hierarchy holds), unless Keep names
//   them. The answer is {ID, Path, PatientID, Type} of the new resource. KeepSource=false then
//   deletes the originals (admin only: deletion is an admin right here).
// - instance: the modified file is returned, nothing is stored (a download; audited as one).
// Like Orthanc, changing or keeping a UID and changing PatientID below the patient level need
// Force; a patient modification must replace PatientID. The new instances keep their source's
// project, so access lists keep applying. Transcoding is not supported (406 elsewhere too).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { newUid } from '../../convert/uid.ts';
import { AppError } from '../../core/errors.ts';
import { lookup, readPart10, tagForKeyword, writePart10, type DicomFile, type Tag, type VR } from '../../dicom/index.ts';
import type { Level, ResourceIds } from '../../index/archive-index.ts';
import { isResourceId, LEVELS } from '../../index/resource-ids.ts';
import { readIndex } from '../archive-scope.ts';
import { acceptJsonWithAnyType } from './json-any-type.ts';
import { notFound } from './orthanc-errors.ts';
import { LEVEL_PATH, LEVEL_TYPE } from './orthanc-json.ts';
import { READ, type RestDeps } from './rest-deps.ts';

export interface ModifyBody {
  Replace?: Record<string, string>;
  Remove?: string[];
  Keep?: string[];
  RemovePrivateTags?: boolean;
  Force?: boolean;
  KeepSource?: boolean;
  Transcode?: string;
  Asynchronous?: boolean;
}

const schema = {
  body: {
    type: 'object',
    properties: {
      Replace: { type: 'object', additionalProperties: { type: 'string' } },
      Remove: { type: 'array', items: { type: 'string' } },
      Keep: { type: 'array', items: { type: 'string' } },
      RemovePrivateTags: { type: 'boolean' },
      Force: { type: 'boolean' },
      KeepSource: { type: 'boolean' },
      Transcode: { type: 'string' },
      Asynchronous: { type: 'boolean' },
      Permissive: { type: 'boolean' },
      Priority: { type: 'integer' },
    },
  },
} as const;

/** Writes new data: uploaders (and admin), within their project scope. */
const MODIFY = 'uploader' as const;

const PATIENT_ID = 0x00100020;
const STUDY_UID = 0x0020000d;
const SERIES_UID = 0x0020000e;
const SOP_UID = 0x00080018;
const MEDIA_SOP_UID = 0x00020003;
/** The UIDs that identify each level, top to bottom (the patient level has none). */
const LEVEL_UID: Partial<Record<Level, Tag>> = { study: STUDY_UID, series: SERIES_UID, instance: SOP_UID };

function tagOf(key: string): Tag {
  const t = tagForKeyword(key) ?? (/^[0-9A-Fa-f]{8}$/.test(key) ? parseInt(key, 16) >>> 0 : /^[0-9A-Fa-f]{4},[0-9A-Fa-f]{4}$/.test(key) ? parseInt(key.replace(',', ''), 16) >>> 0 : undefined);
  if (t === undefined) throw new AppError('QUERY_INVALID', { detail: `unknown tag ${key.slice(0, 64)}` });
  if (t >>> 16 === 0x0002) throw new AppError('QUERY_INVALID', { detail: 'file meta information (group 0002) cannot be modified' });
  return t;
}

export interface ModifyPlan {
  replace: [Tag, string][];
  remove: Tag[];
  removePrivate: boolean;
  /** UID tags that get a new value (one per distinct old value). */
  regenerate: Tag[];
}

/** Checks the request against Orthanc's rules for a modification at `level`. */
export function planModification(level: Level, b: ModifyBody): ModifyPlan {
  if (b.Transcode !== undefined) throw new AppError('QUERY_INVALID', { detail: 'Transcode is not supported' });
  if (b.Asynchronous === true) throw new AppError('QUERY_INVALID', { detail: 'Asynchronous modification is not supported' });
  const replace = Object.entries(b.Replace ?? {}).map(([k, v]) => [tagOf(k), v] as [Tag, string]);
  const remove = (b.Remove ?? []).map(tagOf);
  const keep = new Set((b.Keep ?? []).map(tagOf));
  const force = b.Force === true;
  const uidTags = [STUDY_UID, SERIES_UID, SOP_UID];
  const touched = new Set([...replace.map(([t]) => t), ...remove]);
  for (const t of uidTags) {
    if ((touched.has(t) || keep.has(t)) && !force) throw new AppError('QUERY_INVALID', { detail: `modifying or keeping ${lookup(t)?.keyword} needs "Force": true` });
  }
  if (remove.some((t) => uidTags.includes(t) || t === PATIENT_ID)) throw new AppError('QUERY_INVALID', { detail: 'PatientID and the instance UIDs cannot be removed' });
  if (level === 'patient' && !replace.some(([t]) => t === PATIENT_ID)) throw new AppError('QUERY_INVALID', { detail: 'modifying a patient needs a new PatientID in "Replace"' });
  if (level !== 'patient' && touched.has(PATIENT_ID) && !force) throw new AppError('QUERY_INVALID', { detail: `changing PatientID of a ${level} needs "Force": true` });
  const regenerate: Tag[] = [];
  for (const l of LEVELS.slice(LEVELS.indexOf(level))) {
    const t = LEVEL_UID[l];
    if (t !== undefined && !keep.has(t) && !touched.has(t)) regenerate.push(t);
  }
  return { replace, remove, removePrivate: b.RemovePrivateTags === true, regenerate };
}

/** Applies the plan to one file; `uidMap` (old → new UID) is shared across the modified set. */
export function applyModification(file: DicomFile, plan: ModifyPlan, uidMap: Map<string, string>): void {
  const ds = file.dataset;
  for (const t of plan.remove) ds.remove(t);
  if (plan.removePrivate) for (const t of ds.tags()) if ((t >>> 16) % 2 === 1) ds.remove(t);
  for (const [t, v] of plan.replace) {
    const vr = ds.vr(t) ?? lookup(t)?.vr;
    if (vr === undefined || vr === 'SQ' || vr.length !== 2) throw new AppError('QUERY_INVALID', { detail: `cannot replace ${lookup(t)?.keyword ?? t.toString(16)} with text` });
    ds.setString(t, vr as VR, v);
  }
  for (const t of plan.regenerate) {
    const old = ds.string(t);
    if (old === undefined) continue;
    let uid = uidMap.get(old);
    if (uid === undefined) uidMap.set(old, (uid = newUid()));
    ds.setString(t, 'UI', uid);
  }
  const sop = ds.string(SOP_UID);
  if (sop !== undefined && file.meta.string(MEDIA_SOP_UID) !== sop) file.meta.setString(MEDIA_SOP_UID, 'UI', sop);
}

export const modifyRoutes: FastifyPluginAsync<RestDeps> = async (app, deps) => {
  acceptJsonWithAnyType(app);
  const { blobs, ingest } = deps.archive;
  const who = (req: FastifyRequest) => req.principal?.user.username ?? null;

  for (const level of ['patient', 'study', 'series'] as const) {
    app.post<{ Params: { id: string }; Body: ModifyBody | undefined }>(`/${LEVEL_PATH[level]}/:id/modify`, { config: { role: MODIFY }, schema }, async (req) => {
      const body = req.body ?? {};
      const plan = planModification(level, body);
      if (body.KeepSource === false && !req.principal?.user.roles.includes('admin')) {
        throw new AppError('AUTH_FORBIDDEN', { detail: '"KeepSource": false deletes the original, which only admin may do' });
      }
      const index = readIndex(req, deps.archive.index);
      const root = isResourceId(req.params.id) ? await index.getResource(level, req.params.id) : undefined;
      if (!root) throw notFound(LEVEL_TYPE[level], req.params.id);
      const instances = await index.listInstances(level, root.id);
      const uidMap = new Map<string, string>();
      let ids: ResourceIds | undefined;
      let failed = 0;
      for (const inst of instances) {
        if (!inst.file) continue;
        const file = readPart10(await blobs.get(inst.file.blobKey));
        applyModification(file, plan, uidMap);
        const project = inst.file.source.project;
        const r = await ingest.ingest(Buffer.concat(writePart10(file)), { transport: 'rest', remoteHost: req.ip, ...(project !== undefined ? { project } : {}) });
        if (r.status === 'rejected') failed++;
        else ids ??= r.ids;
      }
      await deps.audit.record({ actor: who(req), action: 'modify', resource: root.id, ip: req.ip, outcome: failed === 0 ? 'success' : 'failure', detail: { level, instances: instances.length, failed } });
      if (ids === undefined || failed > 0) throw new AppError('INDEX_UNAVAILABLE', { detail: `${failed} of ${instances.length} modified instances not stored` });
      if (body.KeepSource === false && ids[level] !== root.id) {
        const removed = await deps.archive.index.deleteResource(level, root.id);
        for (const k of removed?.blobKeys ?? []) await blobs.delete(k).catch((err: unknown) => deps.logger.warn('blob not deleted', { blobKey: k, err }));
        await deps.audit.record({ actor: who(req), action: 'delete', resource: root.id, ip: req.ip, outcome: 'success', detail: { level, reason: 'modify KeepSource=false' } });
      }
      const newId = ids[level];
      return { ID: newId, Path: `/${LEVEL_PATH[level]}/${newId}`, PatientID: ids.patient, Type: LEVEL_TYPE[level] };
    });
  }

  // Returns the file (a download of archive data): readers, within their scope.
  app.post<{ Params: { id: string }; Body: ModifyBody | undefined }>('/instances/:id/modify', { config: { role: READ }, schema }, async (req, reply: FastifyReply) => {
    const plan = planModification('instance', req.body ?? {});
    const inst = isResourceId(req.params.id) ? await readIndex(req, deps.archive.index).getResource('instance', req.params.id) : undefined;
    if (!inst?.file) throw notFound('Instance', req.params.id);
    const file = readPart10(await blobs.get(inst.file.blobKey));
    applyModification(file, plan, new Map());
    await deps.audit.record({ actor: who(req), action: 'download', resource: inst.id, ip: req.ip, outcome: 'success', detail: { route: '/instances/:id/modify' } });
    reply.header('Content-Type', 'application/dicom');
    return reply.send(Buffer.concat(writePart10(file)));
  });
};
