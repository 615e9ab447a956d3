// In-memory datasets and a deterministic pseudonymizer for engine unit tests.
import { Dataset } from '../../src/dicom/dataset.ts';
import { T } from '../../src/dicom/tag.ts';
import type { VR } from '../../src/dicom/vr.ts';
import type { PseudonymMapping, PseudonymRequest, Pseudonymizer } from '../../src/deid/pseudonymizer.ts';

export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const RTSTRUCT = '1.2.840.10008.5.1.4.1.1.481.3';
export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';

/** Replacement UIDs "9.<n>" in first-seen order; date shift -10 days; pseudonym P1, P2... */
export class FakePseudonymizer implements Pseudonymizer {
  readonly uids = new Map<string, string>();
  readonly patients = new Map<string, string>();
  readonly requests: PseudonymRequest[] = [];
  async resolve(req: PseudonymRequest): Promise<PseudonymMapping> {
    this.requests.push(req);
    const key = `${req.patient.patientId}|${req.patient.issuer}`;
    if (!this.patients.has(key)) this.patients.set(key, `P${this.patients.size + 1}`);
    for (const u of req.uids) if (!this.uids.has(u)) this.uids.set(u, `9.${this.uids.size + 1}`);
    const id = this.patients.get(key) as string;
    return { patient: { patientId: id, patientName: `${id}^`, dateShiftDays: -10 }, uids: new Map(req.uids.map((u) => [u, this.uids.get(u) as string])) };
  }
}

type Value = string | string[] | Dataset[];
/** Builds a dataset from [tag, vr, value] triples; SQ values are item arrays. */
export function ds(...els: [number, VR, Value][]): Dataset {
  const d = new Dataset();
  for (const [t, vr, v] of els) {
    if (vr === 'SQ') d.setItems(t, v as Dataset[]);
    else d.setString(t, vr, v as string | string[]);
  }
  return d;
}

/** A minimal object of SOP class `sopClass` with the UIDs the engine requires. */
export function object(sopClass: string, ...els: [number, VR, Value][]): Dataset {
  return ds(
    [T.SOPClassUID, 'UI', sopClass],
    [T.SOPInstanceUID, 'UI', '1.2.3.4.1'],
    [T.StudyInstanceUID, 'UI', '1.2.3.4.2'],
    [T.SeriesInstanceUID, 'UI', '1.2.3.4.3'],
    [T.PatientID, 'LO', 'MRN-77'],
    [T.PatientName, 'PN', 'Doe^Jane'],
    ...els,
  );
}
