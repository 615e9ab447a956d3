// Shared by the media ZIP (http/rest/media.ts) and DICOMDIR-enabled folder exports (disk-dicomdir.ts).
// A DICOMDIR (PS3.10 8.6, Basic Directory IOD PS3.3 F.3) for the files of a media ZIP, written
// with the project's DICOM core. Records are written depth first (PATIENT, its STUDYs, each
// STUDY's SERIES, each SERIES' instance records); each record's offsets point at the next record of
// the same level and at its first child (PS3.3 F.3.2.2). Everything comes from the index: no file
// is read to build it, so the ZIP can start streaming at once.
import { randomUUID } from 'node:crypto';
import { Dataset, SOP, TS, newDicomFile, writeDataset, writePart10 } from '../dicom/index.ts';

export interface DicomdirInstance {
  /** ReferencedFileID components (PS3.10 8.2: at most 8 of A-Z 0-9 _, 8 characters each). */
  fileId: string[];
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  instanceNumber: string | null;
}
export interface DicomdirSeries { tags: Record<string, string | null>; instances: DicomdirInstance[] }
export interface DicomdirStudy { tags: Record<string, string | null>; series: DicomdirSeries[] }
export interface DicomdirPatient { tags: Record<string, string | null>; studies: DicomdirStudy[] }

const TAG = {
  SpecificCharacterSet: 0x00080005,
  FileSetID: 0x00041130,
  FirstRecord: 0x00041200,
  LastRecord: 0x00041202,
  FileSetConsistencyFlag: 0x00041212,
  DirectoryRecordSequence: 0x00041220,
  NextRecord: 0x00041400,
  RecordInUseFlag: 0x00041410,
  LowerLevel: 0x00041420,
  DirectoryRecordType: 0x00041430,
  ReferencedFileID: 0x00041500,
  ReferencedSOPClassUIDInFile: 0x00041510,
  ReferencedSOPInstanceUIDInFile: 0x00041511,
  ReferencedTransferSyntaxUIDInFile: 0x00041512,
} as const;

/** Record keys per level (PS3.3 F.5.1-F.5.3): keyword, tag, VR. Type 1 keys are written empty when unknown. */
const KEYS = {
  patient: [['PatientName', 0x00100010, 'PN'], ['PatientID', 0x00100020, 'LO']],
  study: [
    ['StudyDate', 0x00080020, 'DA'], ['StudyTime', 0x00080030, 'TM'], ['AccessionNumber', 0x00080050, 'SH'],
    ['StudyDescription', 0x00081030, 'LO'], ['StudyInstanceUID', 0x0020000d, 'UI'], ['StudyID', 0x00200010, 'SH'],
  ],
  series: [['Modality', 0x00080060, 'CS'], ['SeriesInstanceUID', 0x0020000e, 'UI'], ['SeriesNumber', 0x00200011, 'IS']],
} as const;

/** Directory Record Type by SOP class (PS3.3 F.5.24); image storage and anything unlisted: IMAGE. */
export function recordType(sopClassUid: string): string {
  if (sopClassUid === SOP.RTDoseStorage) return 'RT DOSE';
  if (sopClassUid === SOP.RTStructureSetStorage) return 'RT STRUCTURE SET';
  if (sopClassUid === SOP.RTPlanStorage || sopClassUid === SOP.RTIonPlanStorage) return 'RT PLAN';
  if (sopClassUid === SOP.RTBeamsTreatmentRecordStorage || sopClassUid === SOP.RTIonBeamsTreatmentRecordStorage) return 'RT TREAT RECORD';
  if (sopClassUid === SOP.KeyObjectSelectionDocumentStorage) return 'KEY OBJECT DOC';
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.88.')) return 'SR DOCUMENT';
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.11.')) return 'PRESENTATION';
  if (sopClassUid.startsWith('1.2.840.10008.5.1.4.1.1.104.')) return 'ENCAP DOC';
  if (sopClassUid === SOP.SpatialRegistrationStorage || sopClassUid === SOP.DeformableSpatialRegistrationStorage) return 'REGISTRATION';
  if (sopClassUid === SOP.SpatialFiducialsStorage) return 'FIDUCIAL';
  if (sopClassUid === SOP.RawDataStorage) return 'RAW DATA';
  return 'IMAGE';
}

/** One directory record in depth-first order: how to build it, and its links as record indexes (-1: none). */
interface Node {
  make: () => Dataset;
  next: number;
  lower: number;
}

function record(type: string, tags: Record<string, string | null>, keys: readonly (readonly [string, number, string])[]): Dataset {
  const ds = new Dataset();
  ds.setNumbers(TAG.NextRecord, 'UL', [0]);
  ds.setNumbers(TAG.RecordInUseFlag, 'US', [0xffff]);
  ds.setNumbers(TAG.LowerLevel, 'UL', [0]);
  ds.setString(TAG.DirectoryRecordType, 'CS', type);
  for (const [keyword, t, vr] of keys) ds.setString(t, vr as 'PN', tags[keyword] ?? '');
  return ds;
}

function instanceRecord(i: DicomdirInstance): Dataset {
  const ds = record(recordType(i.sopClassUid), { InstanceNumber: i.instanceNumber }, [['InstanceNumber', 0x00200013, 'IS']]);
  ds.setString(TAG.ReferencedFileID, 'CS', i.fileId);
  ds.setString(TAG.ReferencedSOPClassUIDInFile, 'UI', i.sopClassUid);
  ds.setString(TAG.ReferencedSOPInstanceUIDInFile, 'UI', i.sopInstanceUid);
  ds.setString(TAG.ReferencedTransferSyntaxUIDInFile, 'UI', i.transferSyntaxUid);
  return ds;
}

/** Records in file order (depth first), each built only when encoded: a Dataset per record is ~10 KB. */
function nodes(patients: DicomdirPatient[]): Node[] {
  const out: Node[] = [];
  const level = <T>(items: T[], make: (x: T) => Dataset, children: (x: T) => void) => {
    let prev = -1;
    for (const x of items) {
      const k = out.length;
      if (prev >= 0) out[prev].next = k;
      out.push({ make: () => make(x), next: -1, lower: -1 });
      children(x);
      if (out.length > k + 1) out[k].lower = k + 1;
      prev = k;
    }
  };
  level(patients, (p) => record('PATIENT', p.tags, KEYS.patient), (p) =>
    level(p.studies, (st) => record('STUDY', st.tags, KEYS.study), (st) =>
      level(st.series, (se) => record('SERIES', se.tags, KEYS.series), (se) =>
        level(se.instances, instanceRecord, () => undefined))));
  return out;
}

const byteLength = (chunks: Buffer[]) => chunks.reduce((n, c) => n + c.length, 0);
// PS3.5 7.5: an item of undefined length, and the delimiters closing it and its sequence.
const ITEM_START = Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
const ITEM_END = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
const SEQUENCE_END = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
const encode = (ds: Dataset) => writeDataset(ds, TS.ExplicitVRLittleEndian);
const YIELD_EVERY = 1000;

/**
 * The DICOMDIR file as chunks, produced as they are consumed. The core writes the meta, the root
 * dataset (with the record sequence empty: it is the last element, so it ends the file) and each
 * record; records are framed here as undefined-length items before the sequence delimiter. Two
 * passes over the records (sizes, then bytes with the offsets filled in), holding one record at a
 * time: 100,000 records as one in-memory sequence took ~1 GB and overflowed the encoder's stack.
 */
export async function* dicomdirChunks(patients: DicomdirPatient[]): AsyncGenerator<Buffer> {
  const all = nodes(patients);
  const root = new Dataset();
  root.setString(TAG.FileSetID, 'CS', 'DICOMGATE');
  root.setNumbers(TAG.FirstRecord, 'UL', [0]);
  root.setNumbers(TAG.LastRecord, 'UL', [0]);
  root.setNumbers(TAG.FileSetConsistencyFlag, 'US', [0]);
  root.setItems(TAG.DirectoryRecordSequence, []);
  const file = newDicomFile(root, TS.ExplicitVRLittleEndian);
  file.meta.setString(0x00020002, 'UI', SOP.MediaStorageDirectoryStorage);
  file.meta.setString(0x00020003, 'UI', `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`)}`);
  // PS3.10 7.1 / PS3.3 F.3.2.1: offsets count from the first byte of the file (the preamble). All
  // offsets are UL values of fixed size, so filling them in moves nothing: lay out, then fill in.
  const head = byteLength(writePart10(file)) - SEQUENCE_END.length;
  const offsets = new Float64Array(all.length);
  let at = head;
  for (const [k, n] of all.entries()) {
    offsets[k] = at;
    at += ITEM_START.length + byteLength(encode(n.make())) + ITEM_END.length;
    // ~30 µs a record: let other requests run during a large directory's first pass.
    if (k % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((r) => setImmediate(r));
  }
  if (all.length > 0) {
    // The last record of the root directory entity: the last patient.
    let last = 0;
    while (all[last].next >= 0) last = all[last].next;
    root.setNumbers(TAG.FirstRecord, 'UL', [offsets[0]]);
    root.setNumbers(TAG.LastRecord, 'UL', [offsets[last]]);
  }
  const prefix = Buffer.concat(writePart10(file));
  // The layout reasoning is checked, not trusted (a mismatch is a bug, not bad input).
  if (prefix.length !== head + SEQUENCE_END.length || !prefix.subarray(head).equals(SEQUENCE_END)) {
    throw new Error('bug: DICOMDIR record sequence is not the last element');
  }
  yield prefix.subarray(0, head);
  let written = head;
  for (const [k, n] of all.entries()) {
    const ds = n.make();
    if (n.next >= 0) ds.setNumbers(TAG.NextRecord, 'UL', [offsets[n.next]]);
    if (n.lower >= 0) ds.setNumbers(TAG.LowerLevel, 'UL', [offsets[n.lower]]);
    const body = encode(ds);
    if (offsets[k] !== written) throw new Error(`bug: DICOMDIR record at ${written}, offset says ${offsets[k]}`);
    written += ITEM_START.length + byteLength(body) + ITEM_END.length;
    yield Buffer.concat([ITEM_START, ...body, ITEM_END]);
  }
  yield SEQUENCE_END;
}

/** The whole DICOMDIR in one buffer (small directories, tests). */
export async function buildDicomdir(patients: DicomdirPatient[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of dicomdirChunks(patients)) chunks.push(c);
  return Buffer.concat(chunks);
}
