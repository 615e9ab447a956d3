// The DICOM attributes the index keeps at each level: Orthanc's "main DICOM tags" (its
// DicomMap::SetupMainDicomTags), plus a few that QIDO-RS (PS3.18 Table 10.6.1-5) and RT
// workflows match on. Tag numbers are written out (not imported from the dictionary) because
// they are fixed by PS3.6 and the index must not change when the dictionary is regenerated.
import type { Level } from './resource-ids.ts';

export interface MainTag {
  keyword: string;
  /** (group << 16 | element) >>> 0 */
  tag: number;
  level: Level;
  /** Column in the level's table. */
  column: string;
  /** PS3.6 VR; decides how values are matched (DA/TM/DT ranges, UI lists, PN case folding). */
  vr: 'AE' | 'CS' | 'DA' | 'DS' | 'DT' | 'IS' | 'LO' | 'LT' | 'PN' | 'SH' | 'TM' | 'UI' | 'US';
  /** Multi-valued: stored with values joined by '\' as in the dataset. */
  multi?: boolean;
}

const t = (group: number, element: number) => ((group << 16) | element) >>> 0;

export const MAIN_TAGS: readonly MainTag[] = [
  // Patient (Orthanc: PatientName, PatientID, PatientBirthDate, PatientSex, OtherPatientIDs)
  { keyword: 'PatientName', tag: t(0x0010, 0x0010), level: 'patient', column: 'patient_name', vr: 'PN' },
  { keyword: 'PatientID', tag: t(0x0010, 0x0020), level: 'patient', column: 'patient_id', vr: 'LO' },
  { keyword: 'PatientBirthDate', tag: t(0x0010, 0x0030), level: 'patient', column: 'patient_birth_date', vr: 'DA' },
  { keyword: 'PatientSex', tag: t(0x0010, 0x0040), level: 'patient', column: 'patient_sex', vr: 'CS' },
  { keyword: 'OtherPatientIDs', tag: t(0x0010, 0x1000), level: 'patient', column: 'other_patient_ids', vr: 'LO', multi: true },
  // Study
  { keyword: 'StudyDate', tag: t(0x0008, 0x0020), level: 'study', column: 'study_date', vr: 'DA' },
  { keyword: 'StudyTime', tag: t(0x0008, 0x0030), level: 'study', column: 'study_time', vr: 'TM' },
  { keyword: 'StudyID', tag: t(0x0020, 0x0010), level: 'study', column: 'study_id', vr: 'SH' },
  { keyword: 'StudyDescription', tag: t(0x0008, 0x1030), level: 'study', column: 'study_description', vr: 'LO' },
  { keyword: 'AccessionNumber', tag: t(0x0008, 0x0050), level: 'study', column: 'accession_number', vr: 'SH' },
  { keyword: 'StudyInstanceUID', tag: t(0x0020, 0x000d), level: 'study', column: 'study_instance_uid', vr: 'UI' },
  { keyword: 'ReferringPhysicianName', tag: t(0x0008, 0x0090), level: 'study', column: 'referring_physician_name', vr: 'PN' },
  { keyword: 'InstitutionName', tag: t(0x0008, 0x0080), level: 'study', column: 'institution_name', vr: 'LO' },
  { keyword: 'RequestedProcedureDescription', tag: t(0x0032, 0x1060), level: 'study', column: 'requested_procedure_description', vr: 'LO' },
  { keyword: 'RequestingPhysician', tag: t(0x0032, 0x1032), level: 'study', column: 'requesting_physician', vr: 'PN' },
  // Series
  { keyword: 'Modality', tag: t(0x0008, 0x0060), level: 'series', column: 'modality', vr: 'CS' },
  { keyword: 'SeriesNumber', tag: t(0x0020, 0x0011), level: 'series', column: 'series_number', vr: 'IS' },
  { keyword: 'SeriesDescription', tag: t(0x0008, 0x103e), level: 'series', column: 'series_description', vr: 'LO' },
  { keyword: 'SeriesDate', tag: t(0x0008, 0x0021), level: 'series', column: 'series_date', vr: 'DA' },
  { keyword: 'SeriesTime', tag: t(0x0008, 0x0031), level: 'series', column: 'series_time', vr: 'TM' },
  { keyword: 'BodyPartExamined', tag: t(0x0018, 0x0015), level: 'series', column: 'body_part_examined', vr: 'CS' },
  { keyword: 'ProtocolName', tag: t(0x0018, 0x1030), level: 'series', column: 'protocol_name', vr: 'LO' },
  { keyword: 'StationName', tag: t(0x0008, 0x1010), level: 'series', column: 'station_name', vr: 'SH' },
  { keyword: 'Manufacturer', tag: t(0x0008, 0x0070), level: 'series', column: 'manufacturer', vr: 'LO' },
  { keyword: 'OperatorsName', tag: t(0x0008, 0x1070), level: 'series', column: 'operators_name', vr: 'PN', multi: true },
  { keyword: 'SeriesInstanceUID', tag: t(0x0020, 0x000e), level: 'series', column: 'series_instance_uid', vr: 'UI' },
  { keyword: 'PerformedProcedureStepDescription', tag: t(0x0040, 0x0254), level: 'series', column: 'performed_procedure_step_description', vr: 'LO' },
  { keyword: 'FrameOfReferenceUID', tag: t(0x0020, 0x0052), level: 'series', column: 'frame_of_reference_uid', vr: 'UI' },
  { keyword: 'ImageOrientationPatient', tag: t(0x0020, 0x0037), level: 'series', column: 'image_orientation_patient', vr: 'DS', multi: true },
  // Instance
  { keyword: 'SOPInstanceUID', tag: t(0x0008, 0x0018), level: 'instance', column: 'sop_instance_uid', vr: 'UI' },
  { keyword: 'SOPClassUID', tag: t(0x0008, 0x0016), level: 'instance', column: 'sop_class_uid', vr: 'UI' },
  { keyword: 'InstanceNumber', tag: t(0x0020, 0x0013), level: 'instance', column: 'instance_number', vr: 'IS' },
  { keyword: 'ImagePositionPatient', tag: t(0x0020, 0x0032), level: 'instance', column: 'image_position_patient', vr: 'DS', multi: true },
  { keyword: 'NumberOfFrames', tag: t(0x0028, 0x0008), level: 'instance', column: 'number_of_frames', vr: 'IS' },
  { keyword: 'AcquisitionNumber', tag: t(0x0020, 0x0012), level: 'instance', column: 'acquisition_number', vr: 'IS' },
  { keyword: 'InstanceCreationDate', tag: t(0x0008, 0x0012), level: 'instance', column: 'instance_creation_date', vr: 'DA' },
  { keyword: 'InstanceCreationTime', tag: t(0x0008, 0x0013), level: 'instance', column: 'instance_creation_time', vr: 'TM' },
  { keyword: 'ContentDate', tag: t(0x0008, 0x0023), level: 'instance', column: 'content_date', vr: 'DA' },
  { keyword: 'ContentTime', tag: t(0x0008, 0x0033), level: 'instance', column: 'content_time', vr: 'TM' },
  { keyword: 'TemporalPositionIdentifier', tag: t(0x0020, 0x0100), level: 'instance', column: 'temporal_position_identifier', vr: 'IS' },
  { keyword: 'ImageIndex', tag: t(0x0054, 0x1330), level: 'instance', column: 'image_index', vr: 'US' },
  { keyword: 'Rows', tag: t(0x0028, 0x0010), level: 'instance', column: 'image_rows', vr: 'US' },
  { keyword: 'Columns', tag: t(0x0028, 0x0011), level: 'instance', column: 'image_columns', vr: 'US' },
];

/**
 * Attributes the index derives rather than copies (PS3.4 C.3.4 "additional query/retrieve
 * attributes"). ModalitiesInStudy is a stored column kept up to date; the counts are computed.
 */
export interface DerivedTag {
  keyword: string;
  tag: number;
  level: Level;
  kind: 'modalities' | 'count';
  /** For counts: the level being counted. */
  counts?: Level;
}

export const DERIVED_TAGS: readonly DerivedTag[] = [
  { keyword: 'ModalitiesInStudy', tag: t(0x0008, 0x0061), level: 'study', kind: 'modalities' },
  { keyword: 'NumberOfPatientRelatedStudies', tag: t(0x0020, 0x1200), level: 'patient', kind: 'count', counts: 'study' },
  { keyword: 'NumberOfPatientRelatedSeries', tag: t(0x0020, 0x1202), level: 'patient', kind: 'count', counts: 'series' },
  { keyword: 'NumberOfPatientRelatedInstances', tag: t(0x0020, 0x1204), level: 'patient', kind: 'count', counts: 'instance' },
  { keyword: 'NumberOfStudyRelatedSeries', tag: t(0x0020, 0x1206), level: 'study', kind: 'count', counts: 'series' },
  { keyword: 'NumberOfStudyRelatedInstances', tag: t(0x0020, 0x1208), level: 'study', kind: 'count', counts: 'instance' },
  { keyword: 'NumberOfSeriesRelatedInstances', tag: t(0x0020, 0x1209), level: 'series', kind: 'count', counts: 'instance' },
];

export const MODALITIES_COLUMN = 'modalities_in_study';

/** Case-folded shadow column of a PN attribute, for case-insensitive matching. */
export function foldedColumn(m: MainTag): string {
  return `${m.column}_ci`;
}

/**
 * Folding used for case-insensitive PN matching, applied to stored values and query patterns alike:
 * Unicode upper case with accents stripped (what Orthanc's CaseSensitivePN=false matching does),
 * done here rather than in SQL so SQLite and PostgreSQL agree beyond ASCII.
 */
export function foldCase(s: string): string {
  return s.normalize('NFD').replace(/\p{M}+/gu, '').toUpperCase();
}

export function mainTagsAt(level: Level): MainTag[] {
  return MAIN_TAGS.filter((m) => m.level === level);
}

const BY_KEYWORD = new Map<string, MainTag | DerivedTag>();
const BY_TAG = new Map<number, MainTag | DerivedTag>();
for (const m of [...MAIN_TAGS, ...DERIVED_TAGS]) {
  BY_KEYWORD.set(m.keyword, m);
  BY_TAG.set(m.tag, m);
}

export function isDerived(m: MainTag | DerivedTag): m is DerivedTag {
  return 'kind' in m;
}

/**
 * Resolves a query key: a keyword ("PatientName") or a tag as "00100010", "0010,0010" or
 * "(0010,0010)". Returns undefined for attributes the index does not keep.
 */
export function resolveKey(key: string): MainTag | DerivedTag | undefined {
  const byKeyword = BY_KEYWORD.get(key);
  if (byKeyword) return byKeyword;
  const m = /^\(?([0-9a-fA-F]{4}),?([0-9a-fA-F]{4})\)?$/.exec(key.trim());
  if (!m) return undefined;
  return BY_TAG.get(t(parseInt(m[1], 16), parseInt(m[2], 16)));
}
