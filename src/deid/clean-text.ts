// "Clean" (C) for free text: an automatic tool cannot understand text, so cleaning here means removing
// every identifying value this object itself carries (names and their components, IDs, accession
// number, birth date) wherever it appears in the text. Objects whose text names other people or places
// still need review; the Clean Descriptors option is off in the built-in projects for that reason.
import { T } from '../dicom/tag.ts';
import type { Dataset } from '../dicom/dataset.ts';

const REPLACEMENT = '***';
const MIN_TERM = 3; // shorter name parts ("Li") would blank ordinary words

const SOURCES: readonly number[] = [
  T.PatientName,
  T.PatientID,
  T.IssuerOfPatientID,
  T.OtherPatientNames,
  T.PatientBirthName,
  T.PatientMotherBirthName,
  T.PatientBirthDate,
  T.AccessionNumber,
  T.ReferringPhysicianName,
  T.PerformingPhysicianName,
  T.OperatorsName,
  T.InstitutionName,
  T.MedicalRecordLocator,
];

/** Identifying terms of a dataset, longest first, gathered before anything is changed. */
export function identifyingTerms(ds: Dataset): string[] {
  const terms = new Set<string>();
  for (const t of SOURCES) {
    for (const v of ds.strings(t)) {
      const value = v.trim();
      if (value.length >= MIN_TERM) terms.add(value);
      // PN components (family^given^middle^prefix^suffix) and their words.
      for (const part of value.split(/[\^=\s]+/)) if (part.length >= MIN_TERM) terms.add(part);
    }
  }
  return [...terms].sort((a, b) => b.length - a.length);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function cleanText(text: string, terms: readonly string[]): string {
  let out = text;
  for (const term of terms) out = out.replace(new RegExp(escapeRegExp(term), 'gi'), REPLACEMENT);
  return out;
}
