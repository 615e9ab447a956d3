// Finds the stored instances a WADO-RS URL names by UIDs (study, study+series, or all three).
// A UID can appear under two PatientIDs (two Orthanc resources); both are returned, as a QIDO
// search by that UID would.
import { AppError } from '../../core/errors.ts';
import type { ArchiveIndex, ResourceRecord } from '../../index/archive-index.ts';

export interface InstanceRef {
  record: ResourceRecord;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
}

async function uidOf(index: ArchiveIndex, level: 'study' | 'series', id: string | undefined): Promise<string | undefined> {
  if (id === undefined) return undefined;
  const r = await index.getResource(level, id);
  return r?.tags[level === 'study' ? 'StudyInstanceUID' : 'SeriesInstanceUID'] ?? undefined;
}

export async function resolveInstances(index: ArchiveIndex, studyUid: string, seriesUid?: string, sopUid?: string): Promise<InstanceRef[]> {
  const out: InstanceRef[] = [];
  if (sopUid !== undefined) {
    for (const inst of await index.findByUid('instance', sopUid)) {
      const seriesRec = inst.parentId ? await index.getResource('series', inst.parentId) : undefined;
      const se = seriesRec?.tags.SeriesInstanceUID ?? undefined;
      const st = await uidOf(index, 'study', seriesRec?.parentId);
      if (se === seriesUid && st === studyUid) out.push({ record: inst, studyUid, seriesUid: se!, sopUid });
    }
  } else if (seriesUid !== undefined) {
    for (const s of await index.findByUid('series', seriesUid)) {
      if ((await uidOf(index, 'study', s.parentId)) !== studyUid) continue;
      for (const inst of await index.listInstances('series', s.id)) out.push({ record: inst, studyUid, seriesUid, sopUid: inst.tags.SOPInstanceUID ?? '' });
    }
  } else {
    for (const st of await index.findByUid('study', studyUid)) {
      const seriesList = await index.listChildren('study', st.id);
      for (const s of seriesList) {
        const se = s.tags.SeriesInstanceUID ?? '';
        for (const inst of await index.listInstances('series', s.id)) out.push({ record: inst, studyUid, seriesUid: se, sopUid: inst.tags.SOPInstanceUID ?? '' });
      }
    }
  }
  if (out.length === 0) throw new AppError('INDEX_NOT_FOUND', { detail: [studyUid, seriesUid, sopUid].filter((x) => x !== undefined).join('/') });
  return out.filter((r) => r.record.file !== undefined);
}
