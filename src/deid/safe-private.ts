// Private attributes that DICOM PS3.15 Table E.3.10-1 ("Safe Private Attributes") lists as safe from
// identity leakage, kept with the Retain Safe Private Option (E.3.10). Each entry is (private creator,
// group, element byte within the creator's block); the block itself (xx) is whatever the creator reserved
// in that file (PS3.5 7.8.1). Creators compare case-insensitively and trimmed (privateKeyString).
//
// Source: PS3.15 Table E.3.10-1, cross-checked against two public transcriptions of it (2026-11-22):
// - the PS3.15 text converted to reStructuredText (github.com/chsasank/dicom_standard,
//   source/part15/chapter_E.rst, an edition before the Philips MR additions): all of its rows are here;
// - GDCM's copy of the table (github.com/malaterre/GDCM, Source/MediaStorageAndFileFormat/
//   gdcmCleaner.cxx, `part15_table_E_1_1`), a later edition with the Philips Imaging DD 001/002/097/129
//   and Philips ST80i rows: this list equals it entry for entry.
// The table is "a sample list ... vendors do not guarantee them to be safe" (E.3.10 note 1). Rows added by
// editions after that copy are not here; a project adds them (or any other) with `privateKeep`.
// The earlier hand-written list also kept SIEMENS MR HEADER (0019,xx0A/xx0B) (images in mosaic, slice
// measurement duration); the table does not list them, so they are no longer kept by this option.

export interface PrivateTagKey {
  readonly creator: string;
  readonly group: number;
  /** Low byte of the element: (0019,xx0C) -> 0x0C. */
  readonly element: number;
}

/** [private creator, group, element bytes (hex; a-b is an inclusive range)], in table order by vendor. */
const TABLE_E_3_10_1: readonly (readonly [string, number, string])[] = [
  // Philips PET: SUV factor (xx00), activity concentration factor (xx09)
  ['Philips PET Private Group', 0x7053, '00 09'],
  // Elscint CT: DLP, acquisition duration, phantom type, acquisition type, table velocity, pitch, rotation time
  ['ELSCINT1', 0x00e1, '21 50'],
  ['ELSCINT1', 0x01e1, '26'],
  ['ELSCINT1', 0x01f1, '01 07 26 27'],
  // GE CT/MR: table speed, mid scan time, rotation speed, internal pulse sequence name
  ['GEMS_ACQU_01', 0x0019, '23 24 27 9E'],
  // GE: scan pitch ratio, slop_int (b value), scanner table entry + gradient coil selected
  ['GEMS_PARM_01', 0x0043, '27 39 6F'],
  ['GEMS_HELIOS_01', 0x0045, '01 02'], // number of macro rows in detector, macro width at iso centre
  ['GEMS_SERS_01', 0x0025, '07'], // images in series
  ['GEIIS PACS', 0x0903, '10 11 12'], // reject image, significant, confidential flags
  // Philips MR (2001 group): diffusion b-factor/direction and the acquisition parameters of the later rows
  ['Philips Imaging DD 001', 0x2001, '01-0C 0E-1F 21-51 53-5A 5D-6B 6D-6F 71-77 79-8C 90-94 9A 9B 9D 9F A1-A5 C0-C3 C5-C7 CA CB D0-DF E9 F1-F7 F9 FB-FD FF'],
  ['Philips Imaging DD 002', 0x2001, '01-40 50 52 53 57 58 5A 5C-5F 63-68 6B 71-75'],
  ['Philips Imaging DD 097', 0x2001, '01-08 0A 0B 0D-0F 12 17-1F 21-28 2A-32 36-3E 40-42 44-47 49-4C A1-A6 A8-AB'],
  ['Philips Imaging DD 129', 0x2001, '00-09'],
  ['Philips MR Imaging DD 001', 0x2005, '0D 0E'], // scale intercept, scale slope
  ['Philips ST80i', 0x0025, '01'],
  // Siemens MR: b value, diffusion directionality, diffusion gradient direction, b matrix
  ['SIEMENS MR HEADER', 0x0019, '0C 0D 0E 27'],
  // Hologic: codec version/content type, high/low resolution data sequences, codec content
  ['HOLOGIC, Inc.', 0x7e01, '01 02 10 11 12'],
  // NeuroQuant results: header and left/right volumes
  ['NQHeader', 0x0099, '01 02 04 05 10 20 21'],
  ['NQLeft', 0x0199, '01-16'],
  ['NQRight', 0x0299, '01-16'],
  // Siemens ultrasound raw data (acoustic meta information, volume payload)
  ['SIEMENS Ultrasound SC2000', 0x0119, '00-09 10-13 21'],
  ['SIEMENS Ultrasound SC2000', 0x0129, '00 02-09 10-12 20-22 29 30'],
  ['SIEMENS Ultrasound SC2000', 0x0139, '01'],
  ['SIEMENS Ultrasound SC2000', 0x0149, '01-03'],
  ['SIEMENS Ultrasound SC2000', 0x7fd1, '01 09 10 11'],
  ['SIEMENS SYNGO ULTRA-SOUND TOYON DATA STREAMING', 0x7fd1, '01 09 10 11'],
];

function expand(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(' ')) {
    const [a, b] = part.split('-').map((h) => parseInt(h, 16));
    for (let e = a; e <= (b ?? a); e++) out.push(e);
  }
  return out;
}

export const SAFE_PRIVATE: readonly PrivateTagKey[] = TABLE_E_3_10_1.flatMap(([creator, group, spec]) =>
  expand(spec).map((element) => ({ creator, group, element })),
);

export function privateKeyString(k: PrivateTagKey): string {
  return `${k.group.toString(16).padStart(4, '0')}|${k.creator.trim().toUpperCase()}|${k.element.toString(16).padStart(2, '0')}`;
}

/** Parses a keep-list entry written `(0019,"SIEMENS MR HEADER",0C)` or `0019,SIEMENS MR HEADER,0C`. */
export function parsePrivateTagKey(s: string): PrivateTagKey | undefined {
  const m = /^\(?\s*([0-9A-Fa-f]{4})\s*,\s*"?([^",]+?)"?\s*,\s*(?:xx)?([0-9A-Fa-f]{2})\s*\)?$/.exec(s.trim());
  if (!m) return undefined;
  const group = parseInt(m[1], 16);
  if ((group & 1) === 0) return undefined;
  return { creator: m[2], group, element: parseInt(m[3], 16) };
}
