// Private attributes that PS3.15 Table E.3.10-1 lists as safe (Retain Safe Private Option).
// A hand-written subset of the table: the dose, diffusion and acquisition entries common in CT/MR
// research. Each entry is (private creator, group, element byte within the creator's block); the
// block itself (xx) is whatever the creator reserved in that file (PS3.5 7.8.1).
// Extend per project with `privateKeep`; verify additions against the current edition of E.3.10-1.

export interface PrivateTagKey {
  readonly creator: string;
  readonly group: number;
  /** Low byte of the element: (0019,xx0C) -> 0x0C. */
  readonly element: number;
}

export const SAFE_PRIVATE: readonly PrivateTagKey[] = [
  // GE CT acquisition
  { creator: 'GEMS_ACQU_01', group: 0x0019, element: 0x23 }, // Table Speed
  { creator: 'GEMS_ACQU_01', group: 0x0019, element: 0x24 }, // Mid Scan Time
  { creator: 'GEMS_ACQU_01', group: 0x0019, element: 0x27 }, // Rotation Speed
  { creator: 'GEMS_PARM_01', group: 0x0043, element: 0x27 }, // Scan Pitch Ratio
  { creator: 'GEMS_PARM_01', group: 0x0043, element: 0x39 }, // Slop_int_6...9 (b-value)
  // Siemens MR diffusion and mosaic
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0a }, // Number Of Images In Mosaic
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0b }, // Slice Measurement Duration
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0c }, // B Value
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0d }, // Diffusion Directionality
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0e }, // Diffusion Gradient Direction
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x27 }, // B Matrix
  // Philips MR diffusion
  { creator: 'Philips Imaging DD 001', group: 0x2001, element: 0x03 }, // Diffusion B-Factor
  { creator: 'Philips Imaging DD 001', group: 0x2001, element: 0x04 }, // Diffusion Direction
];

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
