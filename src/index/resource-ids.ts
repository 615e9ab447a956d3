// Orthanc-compatible resource identifiers, so scripts that compute ids client-side agree with us.
// Orthanc (OrthancFramework DicomInstanceHasher + Toolbox::ComputeSHA1): SHA-1 over
//   patient:  PatientID
//   study:    PatientID|StudyInstanceUID
//   series:   PatientID|StudyInstanceUID|SeriesInstanceUID
//   instance: PatientID|StudyInstanceUID|SeriesInstanceUID|SOPInstanceUID
// printed as the digest's five big-endian 32-bit words, "%08x-%08x-%08x-%08x-%08x".
// A missing PatientID hashes as the empty string; the three UIDs are required.
import { createHash } from 'node:crypto';
import { AppError } from '../core/errors.ts';

export type Level = 'patient' | 'study' | 'series' | 'instance';
export const LEVELS: readonly Level[] = ['patient', 'study', 'series', 'instance'];

export interface ResourceIds {
  patient: string;
  study: string;
  series: string;
  instance: string;
}

export interface InstanceKeys {
  /** Values as read from the dataset, padding trimmed; undefined PatientID counts as ''. */
  patientId: string | undefined;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

/** SHA-1 of the UTF-8 bytes of `s`, formatted like Orthanc's Toolbox::ComputeSHA1. */
export function orthancHash(s: string): string {
  const h = createHash('sha1').update(s, 'utf8').digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 16)}-${h.slice(16, 24)}-${h.slice(24, 32)}-${h.slice(32, 40)}`;
}

// Instances arrive series by series: remembering the last parent hashes saves three of four SHA-1s.
const lastParents = { series: '', ids: { patient: '', study: '', series: '' } };

export function resourceIds(k: InstanceKeys): ResourceIds {
  for (const [name, v] of [
    ['StudyInstanceUID', k.studyInstanceUid],
    ['SeriesInstanceUID', k.seriesInstanceUid],
    ['SOPInstanceUID', k.sopInstanceUid],
  ] as const) {
    if (!v) throw new AppError('DICOM_MISSING_UID', { detail: name });
  }
  const p = k.patientId ?? '';
  const study = `${p}|${k.studyInstanceUid}`;
  const series = `${study}|${k.seriesInstanceUid}`;
  if (lastParents.series !== series) {
    lastParents.series = series;
    lastParents.ids = { patient: orthancHash(p), study: orthancHash(study), series: orthancHash(series) };
  }
  return { ...lastParents.ids, instance: orthancHash(`${series}|${k.sopInstanceUid}`) };
}

const ID_PATTERN = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/;

/** Whether `s` has the shape of an Orthanc id (Orthanc's Toolbox::IsSHA1, lowercase). */
export function isResourceId(s: string): boolean {
  return ID_PATTERN.test(s);
}
