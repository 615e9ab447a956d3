// The PS3.15 Annex E options as switches, and the CID 7050 codes that record them in
// DeidentificationMethodCodeSequence (PS3.16 CID 7050 "De-identification Method").
import type { TableOption } from './profiles/types.ts';

export interface DeidOptions extends Record<TableOption, boolean> {
  /** E.3.1 Clean Pixel Data: burned-in text is removed (by project pixel regions) instead of quarantining. */
  readonly cleanPixelData: boolean;
  /** E.3.2 Clean Recognizable Visual Features. dicomgate cannot remove faces; images that may show one are quarantined (visual-features.ts). */
  readonly cleanRecognizableVisualFeatures: boolean;
}

export const NO_OPTIONS: DeidOptions = Object.freeze({
  retainSafePrivate: false,
  retainUIDs: false,
  retainDeviceIdentity: false,
  retainInstitutionIdentity: false,
  retainPatientCharacteristics: false,
  retainLongitudinalFullDates: false,
  retainLongitudinalModifiedDates: false,
  cleanDescriptors: false,
  cleanStructuredContent: false,
  cleanGraphics: false,
  cleanPixelData: false,
  cleanRecognizableVisualFeatures: false,
});

export interface CodedOption {
  readonly value: string;
  readonly meaning: string;
}

/** CID 7050, scheme DCM. 113100 is the basic profile itself. */
export const BASIC_PROFILE_CODE: CodedOption = { value: '113100', meaning: 'Basic Application Confidentiality Profile' };

export const OPTION_CODES: Readonly<Record<keyof DeidOptions, CodedOption>> = {
  cleanPixelData: { value: '113101', meaning: 'Clean Pixel Data Option' },
  cleanRecognizableVisualFeatures: { value: '113102', meaning: 'Clean Recognizable Visual Features Option' },
  cleanGraphics: { value: '113103', meaning: 'Clean Graphics Option' },
  cleanStructuredContent: { value: '113104', meaning: 'Clean Structured Content Option' },
  cleanDescriptors: { value: '113105', meaning: 'Clean Descriptors Option' },
  retainLongitudinalFullDates: { value: '113106', meaning: 'Retain Longitudinal Temporal Information Full Dates Option' },
  retainLongitudinalModifiedDates: { value: '113107', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' },
  retainPatientCharacteristics: { value: '113108', meaning: 'Retain Patient Characteristics Option' },
  retainDeviceIdentity: { value: '113109', meaning: 'Retain Device Identity Option' },
  retainUIDs: { value: '113110', meaning: 'Retain UIDs Option' },
  retainSafePrivate: { value: '113111', meaning: 'Retain Safe Private Option' },
  retainInstitutionIdentity: { value: '113112', meaning: 'Retain Institution Identity Option' },
};
