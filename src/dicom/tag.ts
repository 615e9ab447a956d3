// DICOM attribute tags as one uint32 (group << 16 | element), the form every other module uses.
import { AppError } from '../core/errors.ts';
import { tagForKeyword } from './dictionary.ts';

export type Tag = number;

export { T } from './dictionary-data.ts';

export function tag(group: number, element: number): Tag {
  return ((group << 16) | (element & 0xffff)) >>> 0;
}

export function tagGroup(t: Tag): number {
  return t >>> 16;
}

export function tagElement(t: Tag): number {
  return t & 0xffff;
}

const HEX = '0123456789ABCDEF';
function hex4(n: number): string {
  return HEX[(n >> 12) & 15] + HEX[(n >> 8) & 15] + HEX[(n >> 4) & 15] + HEX[n & 15];
}

/** "(0010,0010)" */
export function formatTag(t: Tag): string {
  return `(${hex4(t >>> 16)},${hex4(t & 0xffff)})`;
}

/** "00100010" (the DICOM JSON key form, PS3.18 F.2.1.1). */
export function formatTagHex(t: Tag): string {
  return hex4(t >>> 16) + hex4(t & 0xffff);
}

/** Accepts "00100010", "(0010,0010)", "0010,0010" or a dictionary keyword ("PatientName"). */
export function parseTag(s: string): Tag {
  const text = s.trim();
  const m = /^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$/.exec(text);
  if (m) return tag(parseInt(m[1], 16), parseInt(m[2], 16));
  const t = tagForKeyword(text);
  if (t === undefined) throw new AppError('DICOM_TAG_UNKNOWN', { detail: `cannot parse tag "${text.slice(0, 64)}"` });
  return t;
}

/** Private data elements live in odd groups (PS3.5 7.8.1); groups 0001-0007 and FFFF are not private. */
export function isPrivateTag(t: Tag): boolean {
  const g = t >>> 16;
  return (g & 1) === 1 && g > 0x0007 && g !== 0xffff;
}

/** (gggg,0010-00FF) in a private group: reserves element block xx00-xxFF (PS3.5 7.8.1). */
export function isPrivateCreator(t: Tag): boolean {
  const e = t & 0xffff;
  return isPrivateTag(t) && e >= 0x0010 && e <= 0x00ff;
}

/** The tag of the private creator that owns private element t, e.g. (0009,1001) → (0009,0010). */
export function privateCreatorTag(t: Tag): Tag | undefined {
  const e = t & 0xffff;
  if (!isPrivateTag(t) || e < 0x1000) return undefined;
  return ((t & 0xffff0000) | (e >>> 8)) >>> 0;
}

export function isGroupLength(t: Tag): boolean {
  return (t & 0xffff) === 0;
}

export const ITEM = 0xfffee000;
export const ITEM_DELIMITATION = 0xfffee00d;
export const SEQUENCE_DELIMITATION = 0xfffee0dd;
export const PIXEL_DATA = 0x7fe00010;
