// Bytes in, bytes out: what an intake needs for gateway mode (C-STORE / STOW / upload -> de-identify
// -> archive) and what `dicomgate deid` does per file. Parsing and encoding are in memory; no files.
import { isAppError } from '../core/errors.ts';
import { readPart10, writePart10, type DicomFile } from '../dicom/part10.ts';
import { T } from '../dicom/tag.ts';
import { deidentify } from './engine.ts';
import type { AttributeChange, QuarantineReason, RejectReason } from './outcome.ts';
import type { Project } from './project.ts';
import type { Pseudonymizer } from './pseudonymizer.ts';

const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';

export type Part10Outcome =
  | {
      readonly kind: 'deidentified';
      /** The de-identified Part-10 file, as chunks for writev. */
      readonly chunks: Buffer[];
      /** The same file parsed (what the chunks encode), so ingest need not parse its header again. */
      readonly file: DicomFile;
      readonly pseudonymousPatientId: string;
      readonly studyInstanceUid: string;
      readonly seriesInstanceUid: string;
      readonly sopInstanceUid: string;
      readonly changes?: readonly AttributeChange[];
      /** From an early-answering pseudonymizer: write the output, publish it only once this settled. */
      readonly durable?: Promise<void>;
    }
  | { readonly kind: 'quarantined'; readonly reason: QuarantineReason; readonly detail: string }
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly detail: string };

export async function deidentifyPart10(
  bytes: Uint8Array,
  project: Project,
  pseudonymizer: Pseudonymizer,
  opts: { explain?: boolean } = {},
): Promise<Part10Outcome> {
  let file;
  try {
    file = readPart10(bytes);
  } catch (e) {
    if (isAppError(e)) return { kind: 'rejected', reason: 'parse-error', detail: e.message };
    throw e;
  }
  if ((file.meta.string(0x00020002) ?? file.dataset.string(T.SOPClassUID)) === MEDIA_STORAGE_DIRECTORY) {
    return { kind: 'rejected', reason: 'not-an-instance', detail: 'DICOMDIR (Media Storage Directory)' };
  }
  const outcome = await deidentify({ dataset: file.dataset, meta: file.meta, project, pseudonymizer, explain: opts.explain ?? false });
  if (outcome.kind !== 'deidentified') return outcome;
  let chunks: Buffer[];
  try {
    chunks = writePart10(file);
  } catch (e) {
    // A value cannot be encoded, or the input hides damage the reader tolerated: nothing leaves.
    if (isAppError(e)) return { kind: 'rejected', reason: 'parse-error', detail: e.message };
    throw e;
  }
  return {
    kind: 'deidentified',
    chunks,
    file,
    pseudonymousPatientId: outcome.dataset.string(T.PatientID) ?? '',
    studyInstanceUid: outcome.studyInstanceUid,
    seriesInstanceUid: outcome.seriesInstanceUid,
    sopInstanceUid: outcome.sopInstanceUid,
    ...(outcome.changes ? { changes: outcome.changes } : {}),
    ...(outcome.durable ? { durable: outcome.durable } : {}),
  };
}
