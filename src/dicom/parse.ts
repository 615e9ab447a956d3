// Dataset parser (PS3.5 7.1 data elements, 7.5 nesting, A.4 encapsulation). It records offsets
// instead of copying values, so a header read allocates one small object per element.
import { AppError } from '../core/errors.ts';
import type { Tag } from './tag.ts';
import { formatTag, ITEM, ITEM_DELIMITATION, PIXEL_DATA, SEQUENCE_DELIMITATION } from './tag.ts';
import type { VR } from './vr.ts';
import { hasLongLength, vrFromCode } from './vr.ts';
import { implicitVR } from './dictionary.ts';
import { Dataset, Elem, UNDEFINED_LENGTH } from './dataset.ts';

/** Nesting beyond this is treated as garbage rather than risking the stack. */
const MAX_DEPTH = 500;

export function parseError(detail: string): AppError {
  return new AppError('DICOM_PARSE', { detail });
}

function dataView(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

const enum Mode {
  Root,
  Defined,
  UntilDelimiter,
}

interface Ctx {
  src: Uint8Array;
  dv: DataView;
}

/** Parses a top-level dataset spanning src[start, end). untilTag: stop before the first element
 *  with tag >= untilTag (the dataset is then marked partial). */
export function parseRootDataset(
  src: Uint8Array,
  start: number,
  end: number,
  opts: { littleEndian: boolean; explicitVR: boolean; untilTag?: Tag },
): Dataset {
  const ds = new Dataset({ littleEndian: opts.littleEndian, explicitVR: opts.explicitVR });
  ds._src = src;
  ds._start = start;
  const ctx: Ctx = { src, dv: dataView(src) };
  ds._end = parseElements(ctx, ds, start, end, Mode.Root, opts.untilTag ?? 0x100000000, 0);
  return ds;
}

/** Parses group 0002 elements from `start`; stops at the first element of another group. */
export function parseMetaGroup(src: Uint8Array, start: number, explicitVR: boolean): Dataset {
  const ds = new Dataset({ littleEndian: true, explicitVR });
  ds._src = src;
  ds._start = start;
  const ctx: Ctx = { src, dv: dataView(src) };
  let p = start;
  while (p + 8 <= src.length && ctx.dv.getUint16(p, true) === 0x0002) {
    p = parseElements(ctx, ds, p, src.length, Mode.Root, 0x00030000, 0, true);
  }
  ds._end = p;
  ds._partial = false;
  return ds;
}

function parseElements(ctx: Ctx, ds: Dataset, start: number, end: number, mode: Mode, untilTag: number, depth: number, one = false): number {
  const { src, dv } = ctx;
  const le = ds.littleEndian;
  const explicit = ds.explicitVR;
  const els = ds._els;
  let prev = els.length > 0 ? els[els.length - 1].tag : -1;
  let sorted = ds._sorted;
  let p = start;
  while (p < end) {
    if (p + 8 > end) {
      if (mode === Mode.Root && allZero(src, p, end)) {
        ds._trailing = src.subarray(p, end);
        break;
      }
      throw parseError(`truncated element header at offset ${p}`);
    }
    const g = dv.getUint16(p, le);
    const t = ((g << 16) | dv.getUint16(p + 2, le)) >>> 0;
    if (g === 0xfffe) {
      if (t === ITEM_DELIMITATION && mode === Mode.UntilDelimiter) {
        ds._sorted = sorted;
        return p;
      }
      throw parseError(`unexpected ${formatTag(t)} at offset ${p}`);
    }
    if (t >= untilTag) {
      ds._partial = true;
      break;
    }
    if (mode === Mode.Root && t === 0 && allZero(src, p, end)) {
      // Zero padding after the last element (seen after some writers' datasets): kept verbatim.
      ds._trailing = src.subarray(p, end);
      break;
    }
    let vr: VR | undefined;
    let vlen: number;
    let vstart: number;
    if (explicit) {
      vr = vrFromCode(src[p + 4], src[p + 5]);
      if (vr === undefined) throw parseError(`invalid VR in ${formatTag(t)} at offset ${p}`);
      if (hasLongLength(vr)) {
        if (p + 12 > end) throw parseError(`truncated element header ${formatTag(t)} at offset ${p}`);
        vlen = dv.getUint32(p + 8, le);
        vstart = p + 12;
      } else {
        vlen = dv.getUint16(p + 6, le);
        vstart = p + 8;
      }
    } else {
      vr = implicitVR(t);
      vlen = dv.getUint32(p + 4, le);
      vstart = p + 8;
    }
    const el = new Elem(t, vr, p, vstart, vlen, 0);
    if (vlen === UNDEFINED_LENGTH) {
      if (depth >= MAX_DEPTH) throw parseError(`nesting deeper than ${MAX_DEPTH} at offset ${p}`);
      if (t === PIXEL_DATA || (vr !== 'SQ' && vr !== 'UN' && explicit)) {
        el.end = parseFragments(ctx, el, le, end);
      } else {
        // UN with undefined length holds an implicit VR little endian sequence (PS3.5 6.2.2 Note).
        const itemLE = vr === 'UN' && explicit ? true : le;
        const itemExplicit = vr === 'UN' ? false : explicit;
        el.end = parseItems(ctx, ds, el, vstart, end, true, itemLE, itemExplicit, depth + 1);
      }
    } else {
      const vend = vstart + vlen;
      if (vend > end) throw parseError(`value of ${formatTag(t)} (length ${vlen}) runs past the end at offset ${p}`);
      el.end = vend;
      if (vr === 'SQ') {
        if (depth >= MAX_DEPTH) throw parseError(`nesting deeper than ${MAX_DEPTH} at offset ${p}`);
        parseItems(ctx, ds, el, vstart, vend, false, le, explicit, depth + 1);
      }
    }
    els.push(el);
    if (t <= prev) sorted = false;
    prev = t;
    p = el.end;
    if (one) break;
  }
  if (mode === Mode.UntilDelimiter) throw parseError(`item without delimiter, data ends at offset ${p}`);
  ds._sorted = sorted;
  return p;
}

/** Items from vstart; for undefined length up to and including the sequence delimiter. Returns the end offset. */
function parseItems(ctx: Ctx, parent: Dataset, el: Elem, start: number, end: number, undefinedLength: boolean,
  le: boolean, explicit: boolean, depth: number): number {
  const { src, dv } = ctx;
  const items: Dataset[] = [];
  el.items = items;
  let p = start;
  for (;;) {
    if (!undefinedLength && p === end) return p;
    if (p + 8 > end) throw parseError(`sequence ${formatTag(el.tag)} truncated at offset ${p}`);
    const t = ((dv.getUint16(p, le) << 16) | dv.getUint16(p + 2, le)) >>> 0;
    const len = dv.getUint32(p + 4, le);
    if (t === SEQUENCE_DELIMITATION) {
      if (undefinedLength) return p + 8;
      throw parseError(`sequence delimiter inside defined-length ${formatTag(el.tag)} at offset ${p}`);
    }
    if (t !== ITEM) throw parseError(`expected item in ${formatTag(el.tag)}, found ${formatTag(t)} at offset ${p}`);
    const item = new Dataset({ littleEndian: le, explicitVR: explicit });
    item._parent = parent;
    item._parentTag = el.tag;
    item._src = src;
    item._itemStart = p;
    item._start = p + 8;
    if (len === UNDEFINED_LENGTH) {
      const q = parseElements(ctx, item, p + 8, end, Mode.UntilDelimiter, 0x100000000, depth);
      item._end = q;
      item._itemUndefined = true;
      p = q + 8;
    } else {
      const iend = p + 8 + len;
      if (iend > end) throw parseError(`item of ${formatTag(el.tag)} (length ${len}) runs past the end at offset ${p}`);
      parseElements(ctx, item, p + 8, iend, Mode.Defined, 0x100000000, depth);
      item._end = iend;
      p = iend;
    }
    item._itemEnd = p;
    items.push(item);
  }
}

/** Encapsulated value (PS3.5 A.4): items with defined lengths up to the sequence delimiter. */
function parseFragments(ctx: Ctx, el: Elem, le: boolean, end: number): number {
  const { dv } = ctx;
  const frags: number[] = [];
  let p = el.vstart;
  for (;;) {
    if (p + 8 > end) throw parseError(`encapsulated ${formatTag(el.tag)} truncated at offset ${p}`);
    const t = ((dv.getUint16(p, le) << 16) | dv.getUint16(p + 2, le)) >>> 0;
    const len = dv.getUint32(p + 4, le);
    if (t === SEQUENCE_DELIMITATION) {
      el.frags = frags;
      return p + 8;
    }
    if (t !== ITEM || len === UNDEFINED_LENGTH) throw parseError(`bad fragment in ${formatTag(el.tag)} at offset ${p}`);
    if (p + 8 + len > end) throw parseError(`fragment of ${formatTag(el.tag)} (length ${len}) runs past the end at offset ${p}`);
    frags.push(p + 8, p + 8 + len);
    p += 8 + len;
  }
}

/** Items of a defined-length UN value that holds an implicit VR little endian sequence, or undefined
 *  when the value is not one (then it stays opaque bytes). */
export function parseUnItems(ds: Dataset, el: Elem): Dataset[] | undefined {
  const src = ds._src;
  if (!src || el.vlen === UNDEFINED_LENGTH || el.vlen < 8 || el.start < 0) return undefined;
  const p = el.vstart;
  // (FFFE,E000) little endian: FE FF 00 E0
  if (src[p] !== 0xfe || src[p + 1] !== 0xff || src[p + 2] !== 0x00 || src[p + 3] !== 0xe0) return undefined;
  const probe = new Elem(el.tag, 'UN', el.start, el.vstart, el.vlen, el.end);
  try {
    parseItems({ src, dv: dataView(src) }, ds, probe, p, p + el.vlen, false, true, false, 1);
    return probe.items;
  } catch {
    return undefined;
  }
}
