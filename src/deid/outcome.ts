// The engine's result as a value (CTP's OK / QUARANTINE / SKIP, typed), never null or a thrown string.
import type { Dataset } from '../dicom/dataset.ts';

export type QuarantineReason =
  | 'burned-in-annotation' // BurnedInAnnotation = YES and no project rule
  | 'burned-in-modality' // SC / US / OT objects: burned-in text is likely and unmarked
  | 'pixel-cleaning-unsupported' // a region rule matched but the pixel data cannot be edited (compressed)
  | 'recognizable-visual-features'; // Clean Recognizable Visual Features requested and the image may show a face

export type RejectReason =
  | 'missing-uid' // SOP Class/Instance, Study or Series Instance UID absent
  | 'parse-error' // the input is not well-formed DICOM (set by callers that parse)
  | 'not-an-instance'; // e.g. a DICOMDIR or a file with no dataset

/** One attribute's fate, for --dry-run. Never holds values: they are the identifiers. */
export interface AttributeChange {
  /** "(0008,1115)[0].(0020,000E)" */
  readonly path: string;
  readonly action: 'removed' | 'emptied' | 'dummy' | 'replaced' | 'shifted' | 'uid-replaced' | 'cleaned' | 'kept' | 'added';
  /** Table E.1-1 action, option or policy that decided it. */
  readonly because: string;
}

export type DeidOutcome =
  | {
      readonly kind: 'deidentified';
      readonly dataset: Dataset;
      readonly project: string;
      /** The new SOP Instance UID (for the file name and the archive). */
      readonly sopInstanceUid: string;
      readonly studyInstanceUid: string;
      readonly seriesInstanceUid: string;
      readonly changes?: readonly AttributeChange[];
      /** From an early-answering pseudonymizer: publish the result only once this settled. */
      readonly durable?: Promise<void>;
    }
  | { readonly kind: 'quarantined'; readonly reason: QuarantineReason; readonly detail: string }
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly detail: string };
