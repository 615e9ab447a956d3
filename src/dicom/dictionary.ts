// PS3.6 data dictionary lookups over the generated tables in dictionary-data.ts.
import type { Tag } from './tag.ts';
import type { VR } from './vr.ts';
import { isVR } from './vr.ts';
import { DICT_RANGES, dictExact, T } from './dictionary-data.ts';

export interface DictEntry {
  tag: Tag;
  keyword: string;
  name: string;
  /** A VR, or a PS3.6 choice such as "OB or OW"; "" for item delimiters. */
  vr: VR | string;
  vm: string;
  retired: boolean;
}

let exactIndex: Map<number, number> | undefined;
const cache = new Map<number, DictEntry>();

function exact(): Map<number, number> {
  if (!exactIndex) {
    exactIndex = new Map();
    const rows = dictExact();
    for (let i = 0; i < rows.length; i++) exactIndex.set(rows[i][0], i);
  }
  return exactIndex;
}

/** "SOPInstanceUID" → "SOP Instance UID" (DCMTK's dictionary carries keywords only). */
function nameFromKeyword(kw: string): string {
  return kw.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z])([A-Z][a-z])/g, '$1 $2');
}

function inRange(v: number, lo: number, hi: number, parity: number): boolean {
  return v >= lo && v <= hi && (parity === 2 || (v & 1) === parity);
}

function entry(t: Tag, vr: string, keyword: string, vm: string, retired: boolean): DictEntry {
  return { tag: t, keyword, name: nameFromKeyword(keyword), vr, vm, retired };
}

/** Dictionary entry for t, including repeating groups (50xx, 60xx, 7Fxx, (0020,31xx)) and the
 *  group-length / private-creator rules of PS3.5 7.2 and 7.8.1. */
export function lookup(t: Tag): DictEntry | undefined {
  const cached = cache.get(t);
  if (cached) return cached;
  let e: DictEntry | undefined;
  const i = exact().get(t);
  if (i !== undefined) {
    const r = dictExact()[i];
    e = entry(r[0], r[1], r[2], r[3], r[4] === 1);
  } else {
    const g = t >>> 16;
    const el = t & 0xffff;
    for (const r of DICT_RANGES) {
      if (inRange(g, r[0], r[1], r[2]) && inRange(el, r[3], r[4], r[5])) {
        e = entry(t, r[6], r[7], r[8], r[9] === 1);
        break;
      }
    }
    if (!e && (g & 1) === 1 && g > 7 && g !== 0xffff) {
      if (el === 0) e = entry(t, 'UL', 'PrivateGroupLength', '1', false);
      else if (el >= 0x10 && el <= 0xff) e = entry(t, 'LO', 'PrivateCreator', '1', false);
    }
    if (!e && el === 0) e = entry(t, 'UL', 'GenericGroupLength', '1', false);
  }
  if (e) {
    e.name = e.keyword === 'PrivateCreator' ? 'Private Creator' : e.name;
    if (cache.size < 20000) cache.set(t, e);
  }
  return e;
}

/** The keyword's first tag (T, generated with that rule: single tags first, then repeating groups). */
export function tagForKeyword(keyword: string): Tag | undefined {
  return Object.hasOwn(T, keyword) ? (T as unknown as Record<string, Tag>)[keyword] : undefined;
}

export function keywordOf(t: Tag): string | undefined {
  return lookup(t)?.keyword;
}

const implicitCache = new Map<number, VR>();

/** The VR to assume for t in implicit VR encoding: the dictionary VR, resolving PS3.6 choices the
 *  way PS3.5 Annex A.1 does for implicit little endian (pixel-like data is OW, US-or-SS is US);
 *  UN when the tag is unknown (e.g. private elements). */
export function implicitVR(t: Tag): VR {
  const c = implicitCache.get(t);
  if (c) return c;
  const e = lookup(t);
  let vr: VR = 'UN';
  if (e) {
    if (isVR(e.vr)) vr = e.vr;
    else if (e.vr === 'US or SS') vr = 'US';
    else if (e.vr === 'OB or OW' || e.vr === 'US or SS or OW') vr = 'OW';
  }
  if (implicitCache.size < 20000) implicitCache.set(t, vr);
  return vr;
}
