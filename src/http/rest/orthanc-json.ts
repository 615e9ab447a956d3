// Orthanc's JSON shapes for patients, studies, series and instances (OrthancRestResources.cpp,
// ServerContext::ExpandResource), built from our index records. Absent main tags are left out,
// as Orthanc does; empty ones are "".
import type { ArchiveIndex, Level, ResourceRecord } from '../../index/archive-index.ts';

/** Orthanc's StableAge default: a resource with no new instance for this long is "stable". */
export const STABLE_AGE_SECONDS = 60;

export const LEVEL_TYPE: Record<Level, string> = { patient: 'Patient', study: 'Study', series: 'Series', instance: 'Instance' };
export const LEVEL_PATH: Record<Level, string> = { patient: 'patients', study: 'studies', series: 'series', instance: 'instances' };
const CHILD_KEY: Partial<Record<Level, string>> = { patient: 'Studies', study: 'Series', series: 'Instances' };
const PARENT_KEY: Partial<Record<Level, string>> = { study: 'ParentPatient', series: 'ParentStudy', instance: 'ParentSeries' };

const PATIENT_TAGS = ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'OtherPatientIDs'];

/** Orthanc's timestamp format: "20240131T235959". */
export function orthancDate(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return d.toISOString().replace(/[-:]/g, '').slice(0, 15);
}

function mainTags(tags: Record<string, string | null>, exclude: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (v !== null && !exclude.includes(k)) out[k] = v;
  }
  return out;
}

export interface ExpandOptions {
  now?: () => Date;
}

/** The full JSON of one resource (GET /{level}/{id}). */
export async function expandResource(index: ArchiveIndex, r: ResourceRecord, opts: ExpandOptions = {}): Promise<Record<string, unknown>> {
  const now = (opts.now ?? (() => new Date()))();
  const out: Record<string, unknown> = { ID: r.id, Type: LEVEL_TYPE[r.level] };
  const parentKey = PARENT_KEY[r.level];
  if (parentKey !== undefined) out[parentKey] = r.parentId ?? null;

  if (r.level === 'instance') {
    out.MainDicomTags = mainTags(r.tags);
    out.FileSize = r.file?.fileSize ?? 0;
    out.FileUuid = r.file?.blobKey ?? null;
    const n = Number(r.tags.InstanceNumber ?? r.tags.ImageIndex ?? NaN);
    out.IndexInSeries = Number.isInteger(n) ? n : null;
    out.Labels = await index.labels(r.level, r.id);
    return out;
  }

  const children = await index.listChildren(r.level, r.id);
  out[CHILD_KEY[r.level]!] = children.map((c) => c.id);
  const instances = await index.listInstances(r.level, r.id);
  let last = 0;
  for (const i of instances) {
    const t = i.file ? Date.parse(i.file.receivedAt) : 0;
    if (t > last) last = t;
  }
  out.IsStable = last === 0 || now.getTime() - last >= STABLE_AGE_SECONDS * 1000;
  out.LastUpdate = orthancDate(new Date(last === 0 ? now.getTime() : last));
  out.Labels = await index.labels(r.level, r.id);
  if (r.level === 'study') {
    out.MainDicomTags = mainTags(r.tags, ['ModalitiesInStudy']);
    const patient = r.parentId ? await index.getResource('patient', r.parentId) : undefined;
    out.PatientMainDicomTags = patient ? mainTags(patient.tags) : {};
  } else if (r.level === 'series') {
    out.MainDicomTags = mainTags(r.tags);
    // Orthanc knows the expected count only from CardiacNumberOfImages / ImagesInAcquisition.
    out.ExpectedNumberOfInstances = null;
    out.Status = 'Unknown';
  } else {
    out.MainDicomTags = mainTags(r.tags);
  }
  return out;
}

export function pickPatientTags(tags: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of PATIENT_TAGS) if (tags[k] !== null && tags[k] !== undefined) out[k] = tags[k]!;
  return out;
}
