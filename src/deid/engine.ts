// De-identification of one object: pure (no SQL, files or HTTP). Three steps, so the key database is
// asked once per object however many UIDs it holds:
//   1. one walk applies Table E.1-1 + options + overrides and collects the UID and date slots;
//   2. one Pseudonymizer.resolve() call for the patient key and every UID;
//   3. the slots, the patient's pseudonym and the de-identification attributes are written.
import { AppError } from '../core/errors.ts';
import { T } from '../dicom/tag.ts';
import { RuleWalker } from './apply-rules.ts';
import { attributeType, iodFamily } from './attribute-types.ts';
import { blankRegions, burnedInVerdict } from './burned-in.ts';
import { identifyingTerms } from './clean-text.ts';
import { Dataset } from '../dicom/dataset.ts';
import { shiftDA, shiftDT } from './dates.ts';
import { dummyValue } from './dummy.ts';
import { BASIC_PROFILE_CODE, OPTION_CODES, type DeidOptions } from './options.ts';
import type { AttributeChange, DeidOutcome } from './outcome.ts';
import { TABLE_E1_1_EDITION } from './profiles/table-e1-1.ts';
import { visualFeaturesVerdict } from './visual-features.ts';
import type { Project } from './project.ts';
import type { PseudonymMapping, Pseudonymizer } from './pseudonymizer.ts';

export interface DeidRequest {
  /** Edited in place (keep the original bytes if the original must be kept, e.g. in a quarantine spool). */
  readonly dataset: Dataset;
  /** Group 0002 of a Part-10 file, updated to match (MediaStorageSOPInstanceUID) and stripped of AE titles. */
  readonly meta?: Dataset;
  readonly project: Project;
  readonly pseudonymizer: Pseudonymizer;
  /** Collect a per-attribute account of what happened (--dry-run). */
  readonly explain?: boolean;
}

const REQUIRED_UIDS: readonly [number, string][] = [
  [T.SOPClassUID, 'SOPClassUID'],
  [T.SOPInstanceUID, 'SOPInstanceUID'],
  [T.StudyInstanceUID, 'StudyInstanceUID'],
  [T.SeriesInstanceUID, 'SeriesInstanceUID'],
];

// File meta attributes naming the sending system (PS3.10 7.1); project policy removes them.
const META_IDENTIFYING: readonly number[] = [0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102];

export async function deidentify(req: DeidRequest): Promise<DeidOutcome> {
  const { dataset: ds, project } = req;
  for (const [t, name] of REQUIRED_UIDS) {
    if (!ds.string(t)) return { kind: 'rejected', reason: 'missing-uid', detail: `${name} missing` };
  }
  const faces = visualFeaturesVerdict(ds, project);
  if (faces.kind === 'quarantine') return { kind: 'quarantined', reason: 'recognizable-visual-features', detail: faces.detail };
  const verdict = burnedInVerdict(ds, project);
  if (verdict.kind === 'quarantine') return { kind: 'quarantined', reason: verdict.reason, detail: verdict.detail };
  if (verdict.kind === 'blank' && !blankRegions(ds, verdict.rule)) {
    return { kind: 'quarantined', reason: 'pixel-cleaning-unsupported', detail: 'pixel region rule matched but pixel data is not native' };
  }

  const patient = { patientId: ds.string(T.PatientID) ?? '', issuer: ds.string(T.IssuerOfPatientID) ?? '' };
  const family = iodFamily(ds.string(T.SOPClassUID));
  const changes: AttributeChange[] | undefined = req.explain ? [] : undefined;
  const walker = new RuleWalker(project, family, project.options.cleanDescriptors || project.options.cleanStructuredContent ? identifyingTerms(ds) : [], changes);
  walker.walk(ds, 0, 'normal', '');

  const uids = new Set<string>();
  for (const s of walker.uidSlots) for (const v of s.values) if (v !== '') uids.add(v);
  const mediaSop = req.meta?.string(0x00020003);
  if (mediaSop && !project.options.retainUIDs) uids.add(mediaSop);
  const mapping = await req.pseudonymizer.resolve({ patient, uids: [...uids] });

  const mapUid = (v: string): string => {
    if (v === '') return v;
    const r = mapping.uids.get(v);
    // The store answers every UID asked; a missing one is a bug in the adapter, not bad input.
    if (r === undefined) throw new AppError('KEYS_UNAVAILABLE', { detail: 'pseudonymizer returned no replacement for a UID' });
    return r;
  };
  for (const s of walker.uidSlots) s.ds.setString(s.tag, 'UI', s.values.map(mapUid));
  applyDates(walker.dateSlots, mapping.patient.dateShiftDays);
  setPatient(ds, mapping, changes);
  setMethod(ds, project, changes);
  if (req.meta) fixMeta(req.meta, project.options.retainUIDs ? (v) => v : mapUid);

  return {
    kind: 'deidentified',
    dataset: ds,
    project: project.name,
    sopInstanceUid: ds.string(T.SOPInstanceUID) as string,
    studyInstanceUid: ds.string(T.StudyInstanceUID) as string,
    seriesInstanceUid: ds.string(T.SeriesInstanceUID) as string,
    ...(changes ? { changes } : {}),
    ...(mapping.durable ? { durable: mapping.durable } : {}),
  };
}

function applyDates(slots: RuleWalker['dateSlots'], days: number): void {
  for (const s of slots) {
    const shifted = s.values.map((v) => (s.vr === 'DA' ? shiftDA(v, days) : shiftDT(v, days)));
    if (shifted.every((v): v is string => v !== undefined)) {
      s.ds.setString(s.tag, s.vr, shifted);
      continue;
    }
    // Unparsable dates cannot be shifted and would keep the real date: Type decides dummy/empty/remove.
    if (s.type === 1) s.ds.setString(s.tag, s.vr, dummyValue(s.vr) as string);
    else if (s.type === 2) s.ds.setEmpty(s.tag, s.vr);
    else s.ds.remove(s.tag);
  }
}

function setPatient(ds: Dataset, m: PseudonymMapping, changes: AttributeChange[] | undefined): void {
  // PS3.15 E.1.1 allows a dummy consistent value for Patient ID (Z/D) and Name (Z): the pseudonym.
  ds.setString(T.PatientID, 'LO', m.patient.patientId);
  ds.setString(T.PatientName, 'PN', m.patient.patientName);
  changes?.push({ path: '(0010,0020)', action: 'replaced', because: 'pseudonym' }, { path: '(0010,0010)', action: 'replaced', because: 'pseudonym' });
}

function longitudinalValue(o: DeidOptions): string {
  if (o.retainLongitudinalFullDates) return 'UNMODIFIED';
  return o.retainLongitudinalModifiedDates ? 'MODIFIED' : 'REMOVED';
}

interface MethodValues {
  readonly codes: readonly { readonly value: string; readonly meaning: string }[];
  readonly method: string;
  readonly longitudinal: string;
}

// Projects are frozen: what they record is worked out once per project, not once per object.
const METHOD_VALUES = new WeakMap<Project, MethodValues>();

function methodValues(project: Project): MethodValues {
  let v = METHOD_VALUES.get(project);
  if (!v) {
    const codes = [BASIC_PROFILE_CODE];
    for (const [opt, code] of Object.entries(OPTION_CODES) as [keyof DeidOptions, (typeof OPTION_CODES)[keyof DeidOptions]][]) {
      if (project.options[opt]) codes.push(code);
    }
    v = { codes, method: `dicomgate ${project.name} PS3.15-${TABLE_E1_1_EDITION}`.slice(0, 64), longitudinal: longitudinalValue(project.options) };
    METHOD_VALUES.set(project, v);
  }
  return v;
}

// PS3.15 E.1.1 (6): the de-identifier records what it did (PS3.3 C.7.1.1 De-identification Method).
function setMethod(ds: Dataset, project: Project, changes: AttributeChange[] | undefined): void {
  const v = methodValues(project);
  ds.setString(T.PatientIdentityRemoved, 'CS', 'YES');
  ds.setString(T.DeidentificationMethod, 'LO', v.method);
  ds.setItems(
    T.DeidentificationMethodCodeSequence,
    // New items per object: datasets are mutable and each object owns its own.
    v.codes.map((c) => {
      const item = new Dataset();
      item.setString(T.CodeValue, 'SH', c.value);
      item.setString(T.CodingSchemeDesignator, 'SH', 'DCM');
      item.setString(T.CodeMeaning, 'LO', c.meaning);
      return item;
    }),
  );
  ds.setString(T.LongitudinalTemporalInformationModified, 'CS', v.longitudinal);
  for (const t of ['(0012,0062)', '(0012,0063)', '(0012,0064)', '(0028,0303)']) changes?.push({ path: t, action: 'added', because: 'PS3.15 E.1.1' });
}

function fixMeta(meta: Dataset, mapUid: (v: string) => string): void {
  for (const t of META_IDENTIFYING) meta.remove(t);
  const mediaSop = meta.string(0x00020003);
  if (mediaSop !== undefined) meta.setString(0x00020003, 'UI', mapUid(mediaSop));
}

/** Type of an attribute in the object's IOD; exported for the dry-run printer. */
export { attributeType };
