// Value Representations (PS3.5 6.2) and the facts about them the codec needs.

export type VR = 'AE' | 'AS' | 'AT' | 'CS' | 'DA' | 'DS' | 'DT' | 'FD' | 'FL' | 'IS' | 'LO' | 'LT' | 'OB' | 'OD' | 'OF' | 'OL' | 'OV'
  | 'OW' | 'PN' | 'SH' | 'SL' | 'SQ' | 'SS' | 'ST' | 'SV' | 'TM' | 'UC' | 'UI' | 'UL' | 'UN' | 'UR' | 'US' | 'UT' | 'UV';

export const ALL_VRS: readonly VR[] = ['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV'];

/** VR code as uint16 (first char in the high byte) → VR; used to validate explicit VRs without building strings. */
const VR_BY_CODE = new Map<number, VR>(ALL_VRS.map((v) => [(v.charCodeAt(0) << 8) | v.charCodeAt(1), v]));

export function vrFromCode(c0: number, c1: number): VR | undefined {
  return VR_BY_CODE.get((c0 << 8) | c1);
}

export function isVR(s: string): s is VR {
  return s.length === 2 && VR_BY_CODE.has((s.charCodeAt(0) << 8) | s.charCodeAt(1));
}

/** Explicit VR encodings use a 2-byte reserved field + 4-byte length for these (PS3.5 7.1.2, Table 7.1-1). */
const LONG = new Set<VR>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
export function hasLongLength(vr: VR): boolean {
  return LONG.has(vr);
}

const STRING = new Set<VR>(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
export function isStringVR(vr: VR): boolean {
  return STRING.has(vr);
}

/** Text VRs affected by Specific Character Set (PS3.5 6.1.2.3). */
const CHARSET = new Set<VR>(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
export function usesCharset(vr: VR): boolean {
  return CHARSET.has(vr);
}

/** VRs whose value is a single string in which '\' is an ordinary character (PS3.5 6.4). */
const SINGLE_VALUED = new Set<VR>(['LT', 'ST', 'UT', 'UR']);
export function isSingleValuedText(vr: VR): boolean {
  return SINGLE_VALUED.has(vr);
}

/** Leading spaces are insignificant too for these (PS3.5 Table 6.2-1). */
const TRIM_LEADING = new Set<VR>(['AE', 'CS', 'DS', 'IS', 'DA', 'TM', 'DT', 'AS']);
export function trimsLeading(vr: VR): boolean {
  return TRIM_LEADING.has(vr);
}

/** Byte size of one binary value; 0 for non-binary VRs. AT is two uint16 (group, element). */
export function binarySize(vr: VR): number {
  switch (vr) {
    case 'US': case 'SS': case 'OW': return 2;
    case 'UL': case 'SL': case 'FL': case 'OF': case 'OL': case 'AT': return 4;
    case 'FD': case 'OD': case 'SV': case 'UV': case 'OV': return 8;
    default: return 0;
  }
}

/** Padding byte to reach even length (PS3.5 6.2): NUL for UI and binary, space for other strings. */
export function padByte(vr: VR): number {
  return isStringVR(vr) && vr !== 'UI' ? 0x20 : 0x00;
}
