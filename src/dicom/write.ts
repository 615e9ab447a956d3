// Dataset encoder. Unmodified datasets, items and elements in the target encoding are copied from
// their source bytes; edited parts are re-encoded, defined lengths of the items and sequences that
// contain them recomputed, and group lengths (gggg,0000) of changed groups recomputed (PS3.5 7.2).
import { AppError } from '../core/errors.ts';
import { formatTag, ITEM, ITEM_DELIMITATION, SEQUENCE_DELIMITATION } from './tag.ts';
import type { VR } from './vr.ts';
import { hasLongLength } from './vr.ts';
import { swapBytes } from './values.ts';
import type { Dataset, Elem } from './dataset.ts';
import { UNDEFINED_LENGTH } from './dataset.ts';

export interface Encoding {
  littleEndian: boolean;
  explicitVR: boolean;
}

const IMPLICIT_LE: Encoding = { littleEndian: true, explicitVR: false };

function sameEncoding(ds: Dataset, enc: Encoding): boolean {
  return ds.littleEndian === enc.littleEndian && ds.explicitVR === enc.explicitVR;
}

/** Appends the encoded dataset (its elements only) to out; returns the byte count. */
export function encodeDataset(ds: Dataset, enc: Encoding, out: Uint8Array[]): number {
  if (ds._partial) throw new AppError('DICOM_ENCODE', { detail: 'dataset was read only up to a tag and cannot be written' });
  if (!ds._dirty && ds._src && sameEncoding(ds, enc)) {
    return pushSpan(out, ds._src, ds._start, ds._end) + pushTrailing(out, ds);
  }
  const parts: Part[] = [];
  const changed = new Set<number>(ds._changedGroups ?? []);
  for (const el of ds._els) {
    const p = encodeElement(ds, el, enc);
    if (!p.verbatim) changed.add(el.tag >>> 16);
    parts.push(p);
  }
  recomputeGroupLengths(parts, changed, enc);
  let size = 0;
  let run: { src: Uint8Array; start: number; end: number } | undefined;
  for (const p of parts) {
    // Coalesce consecutive verbatim elements that are contiguous in the source into one chunk.
    if (p.verbatim && ds._src && run && run.end === p.start) {
      run.end = p.end;
      continue;
    }
    if (run) size += pushSpan(out, run.src, run.start, run.end);
    run = undefined;
    if (p.verbatim && ds._src) {
      run = { src: ds._src, start: p.start, end: p.end };
      continue;
    }
    for (const c of p.chunks) out.push(c);
    size += p.size;
  }
  if (run) size += pushSpan(out, run.src, run.start, run.end);
  return size + pushTrailing(out, ds);
}

interface Part {
  tag: number;
  verbatim: boolean;
  start: number;
  end: number;
  chunks: Uint8Array[];
  size: number;
}

function pushSpan(out: Uint8Array[], src: Uint8Array, start: number, end: number): number {
  if (end > start) out.push(src.subarray(start, end));
  return end - start;
}

function pushTrailing(out: Uint8Array[], ds: Dataset): number {
  if (!ds._trailing) return 0;
  out.push(ds._trailing);
  return ds._trailing.length;
}

function itemsDirty(items: Dataset[] | undefined): boolean {
  if (!items) return false;
  for (const it of items) if (it._dirty) return true;
  return false;
}

function encodeElement(ds: Dataset, el: Elem, enc: Encoding): Part {
  if (!el.dirty && el.start >= 0 && sameEncoding(ds, enc) && !itemsDirty(el.items)) {
    return { tag: el.tag, verbatim: true, start: el.start, end: el.end, chunks: [], size: el.end - el.start };
  }
  const chunks: Uint8Array[] = [];
  let size: number;
  if (el.items) {
    const childEnc = el.vr === 'UN' ? IMPLICIT_LE : enc;
    const body: Uint8Array[] = [];
    let bodySize = 0;
    const undefinedLength = el.vlen === UNDEFINED_LENGTH || el.start < 0 || el.dirty;
    for (const it of el.items) bodySize += encodeItem(it, childEnc, body);
    if (undefinedLength) {
      chunks.push(header(el.tag, el.vr, UNDEFINED_LENGTH, enc));
      for (const c of body) chunks.push(c); // not push(...body): a spread of 100k+ chunks overflows the stack
      chunks.push(delimiter(SEQUENCE_DELIMITATION, enc.littleEndian));
      size = chunks[0].length + bodySize + 8;
    } else {
      chunks.push(header(el.tag, el.vr, bodySize, enc));
      for (const c of body) chunks.push(c); // not push(...body): a spread of 100k+ chunks overflows the stack
      size = chunks[0].length + bodySize;
    }
  } else if (el.frags) {
    // Encapsulated pixel data keeps its fragments byte for byte (PS3.5 A.4); always explicit VR LE.
    const src = ds._src!;
    chunks.push(header(el.tag, el.vr, UNDEFINED_LENGTH, enc));
    size = chunks[0].length;
    for (let i = 0; i < el.frags.length; i += 2) {
      const f = src.subarray(el.frags[i], el.frags[i + 1]);
      chunks.push(itemHeader(ITEM, f.length, enc.littleEndian), f);
      size += 8 + f.length;
    }
    chunks.push(delimiter(SEQUENCE_DELIMITATION, enc.littleEndian));
    size += 8;
  } else {
    let value = ds._value(el) ?? new Uint8Array(0);
    if (ds.littleEndian !== enc.littleEndian) value = swapBytes(el.vr, value);
    let vr = el.vr;
    // A value too long for a 16-bit length is written as UN (PS3.5 6.2.2).
    if (enc.explicitVR && !hasLongLength(vr) && value.length > 0xffff) vr = 'UN';
    chunks.push(header(el.tag, vr, value.length, enc), value);
    size = chunks[0].length + value.length;
  }
  return { tag: el.tag, verbatim: false, start: -1, end: -1, chunks, size };
}

function encodeItem(it: Dataset, enc: Encoding, out: Uint8Array[]): number {
  if (!it._dirty && it._src && it._itemStart >= 0 && sameEncoding(it, enc)) {
    return pushSpan(out, it._src, it._itemStart, it._itemEnd);
  }
  const body: Uint8Array[] = [];
  const size = encodeDataset(it, enc, body);
  const undefinedLength = it._itemUndefined || it._itemStart < 0;
  if (undefinedLength) {
    out.push(itemHeader(ITEM, UNDEFINED_LENGTH, enc.littleEndian), ...body, delimiter(ITEM_DELIMITATION, enc.littleEndian));
    return size + 16;
  }
  out.push(itemHeader(ITEM, size, enc.littleEndian), ...body);
  return size + 8;
}

function recomputeGroupLengths(parts: Part[], changed: Set<number>, enc: Encoding): void {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if ((p.tag & 0xffff) !== 0 || !changed.has(p.tag >>> 16)) continue;
    const group = p.tag >>> 16;
    let len = 0;
    for (const q of parts) if (q !== p && q.tag >>> 16 === group) len += q.size;
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, len, enc.littleEndian);
    const h = header(p.tag, 'UL', 4, enc);
    parts[i] = { tag: p.tag, verbatim: false, start: -1, end: -1, chunks: [h, value], size: h.length + 4 };
  }
}

function header(tag: number, vr: VR, length: number, enc: Encoding): Uint8Array {
  const le = enc.littleEndian;
  if (!enc.explicitVR) {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, tag >>> 16, le);
    dv.setUint16(2, tag & 0xffff, le);
    dv.setUint32(4, length, le);
    return b;
  }
  const long = hasLongLength(vr);
  if (!long && length > 0xffff) throw new AppError('DICOM_ENCODE', { detail: `value of ${formatTag(tag)} too long for VR ${vr}` });
  const b = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, tag >>> 16, le);
  dv.setUint16(2, tag & 0xffff, le);
  b[4] = vr.charCodeAt(0);
  b[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, length, le);
  else dv.setUint16(6, length, le);
  return b;
}

function itemHeader(tag: number, length: number, le: boolean): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, tag >>> 16, le);
  dv.setUint16(2, tag & 0xffff, le);
  dv.setUint32(4, length, le);
  return b;
}

function delimiter(tag: number, le: boolean): Uint8Array {
  return itemHeader(tag, 0, le);
}
