// A lossless dataset tree. Each element remembers where its bytes are in the source buffer, values
// are decoded only when asked for, and edits mark the dataset (and its ancestors) modified so the
// writer re-encodes only what changed and copies everything else byte for byte.
import { AppError } from '../core/errors.ts';
import type { Tag } from './tag.ts';
import { formatTag } from './tag.ts';
import type { VR } from './vr.ts';
import { binarySize, isSingleValuedText, isStringVR, trimsLeading, usesCharset } from './vr.ts';
import { decodeText, encodeText, UTF8_CHARSET } from './charset.ts';
import { asciiBytes, encodeBinaryNumbers, formatDS, formatIS, latin1, padEven, readBinaryNumbers, trimValue } from './values.ts';
import { parseUnItems } from './parse.ts';
import { implicitVR } from './dictionary.ts';

export interface Element {
  readonly tag: Tag;
  /** Explicit VR as read, or the dictionary VR for implicit VR data (UN if unknown). */
  readonly vr: VR;
}

export const UNDEFINED_LENGTH = 0xffffffff;
const SPECIFIC_CHARACTER_SET = 0x00080005;

/** One element. Offsets point into the owning dataset's source buffer; `start` is -1 for elements
 *  created by an edit. Internal to src/dicom: other modules see only `Element`. */
export class Elem implements Element {
  items: Dataset[] | undefined = undefined;
  /** Encapsulated value: flat [start, end, start, end, ...] of item values (basic offset table first). */
  frags: number[] | undefined = undefined;
  /** Replacement value in the owning dataset's byte order (set by edits). */
  value: Uint8Array | undefined = undefined;
  dirty = false;
  /** A defined-length UN value was already probed for an implicit VR sequence. */
  unProbed = false;
  constructor(
    public tag: Tag,
    public vr: VR,
    public start: number,
    public vstart: number,
    public vlen: number,
    public end: number,
  ) {}
}

export interface DatasetOptions {
  littleEndian?: boolean;
  explicitVR?: boolean;
}

export class Dataset {
  readonly littleEndian: boolean;
  /** Encoding of this dataset's source bytes (and of values of new elements). */
  readonly explicitVR: boolean;
  /** @internal */ _parent: Dataset | undefined = undefined;
  /** @internal tag of the element holding this item in the parent. */ _parentTag = 0;
  /** @internal */ _els: Elem[] = [];
  /** @internal */ _sorted = true;
  /** @internal source buffer; undefined for datasets built in memory */ _src: Uint8Array | undefined = undefined;
  /** @internal span of this dataset's elements in _src (for items: without item header/delimiter) */ _start = 0;
  /** @internal */ _end = 0;
  /** @internal item header offset, -1 for a root dataset */ _itemStart = -1;
  /** @internal offset after the item including its delimiter */ _itemEnd = 0;
  /** @internal the item was encoded with undefined length */ _itemUndefined = false;
  /** @internal */ _dirty = false;
  /** @internal groups with added, removed or re-encoded elements (for group length recomputation) */
  _changedGroups: Set<number> | undefined = undefined;
  /** @internal bytes after the last element of a root dataset (zero padding), kept for the round trip */
  _trailing: Uint8Array | undefined = undefined;
  /** @internal parsing stopped early (untilTag): the dataset cannot be written */ _partial = false;
  /** @internal original deflated bytes, reused when nothing changed */ _deflated: Uint8Array | undefined = undefined;

  constructor(opts: DatasetOptions = {}) {
    this.littleEndian = opts.littleEndian ?? true;
    this.explicitVR = opts.explicitVR ?? true;
  }

  /** Enclosing item's dataset, for nested items. */
  get parent(): Dataset | undefined {
    return this._parent;
  }

  /** True when an edit was made here or below since reading. */
  get modified(): boolean {
    return this._dirty;
  }

  /** @internal */
  _find(t: Tag): Elem | undefined {
    const els = this._els;
    if (!this._sorted) {
      for (let i = 0; i < els.length; i++) if (els[i].tag === t) return els[i];
      return undefined;
    }
    let lo = 0;
    let hi = els.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const mt = els[mid].tag;
      if (mt === t) return els[mid];
      if (mt < t) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Ascending. */
  tags(): Tag[] {
    const out = this._els.map((e) => e.tag);
    return this._sorted ? out : out.sort((a, b) => a - b);
  }

  /** Elements in the order they will be written (source order). */
  elements(): readonly Element[] {
    return this._els;
  }

  has(t: Tag): boolean {
    return this._find(t) !== undefined;
  }

  element(t: Tag): Element | undefined {
    return this._find(t);
  }

  vr(t: Tag): VR | undefined {
    return this._find(t)?.vr;
  }

  /** @internal raw value bytes of a non-container element */
  _value(el: Elem): Uint8Array | undefined {
    if (el.value) return el.value;
    if (el.items || el.frags || el.vlen === UNDEFINED_LENGTH) return undefined;
    return this._src!.subarray(el.vstart, el.vstart + el.vlen);
  }

  /** Raw value bytes in the dataset's byte order; undefined for SQ and encapsulated values. */
  bytes(t: Tag): Uint8Array | undefined {
    const el = this._find(t);
    if (!el || el.vr === 'SQ') return undefined;
    return this._value(el);
  }

  /** The Specific Character Set in force here: this dataset's, else the nearest ancestor's (PS3.5 6.1.2.5.2). */
  charset(): string | undefined {
    for (let d: Dataset | undefined = this; d; d = d._parent) {
      const el = d._find(SPECIFIC_CHARACTER_SET);
      if (el) {
        const b = d._value(el);
        return b ? latin1(b).trim() : undefined;
      }
    }
    return undefined;
  }

  /** @internal the whole value decoded to text (charset applied for text VRs), untrimmed. */
  _text(el: Elem, vr: VR): string | undefined {
    const b = this._value(el);
    if (!b) return undefined;
    return usesCharset(vr) ? decodeText(this.charset(), b, vr) : latin1(b);
  }

  /** First value, charset-decoded, padding trimmed; undefined if absent. Binary numbers as decimal text. */
  string(t: Tag): string | undefined {
    const el = this._find(t);
    if (!el) return undefined;
    const vr = valueVR(el);
    if (isStringVR(vr) || vr === 'UN') {
      const s = this._text(el, vr);
      if (s === undefined) return undefined;
      if (isSingleValuedText(vr) || vr === 'UN') return trimValue(s, false);
      const cut = s.indexOf('\\');
      return trimValue(cut < 0 ? s : s.slice(0, cut), trimsLeading(vr));
    }
    if (binarySize(vr) > 0 && vr[0] !== 'O') {
      const n = this.numbers(t);
      return n.length > 0 ? String(n[0]) : undefined;
    }
    return undefined;
  }

  /** All values (split on '\'), each trimmed; [] if absent or empty. */
  strings(t: Tag): string[] {
    const el = this._find(t);
    if (!el) return [];
    const vr = valueVR(el);
    if (isStringVR(vr) || vr === 'UN') {
      const s = this._text(el, vr);
      if (s === undefined || s.length === 0) return [];
      if (isSingleValuedText(vr) || vr === 'UN') return [trimValue(s, false)];
      const lead = trimsLeading(vr);
      return s.split('\\').map((v) => trimValue(v, lead));
    }
    if (binarySize(vr) > 0) return this.numbers(t).map(String);
    return [];
  }

  number(t: Tag): number | undefined {
    const n = this.numbers(t);
    return n.length > 0 ? n[0] : undefined;
  }

  /** US SS UL SL FL FD SV UV AT (and OW/OL/OF/OD/OV as arrays), IS/DS parsed; empty values are skipped. */
  numbers(t: Tag): number[] {
    const el = this._find(t);
    if (!el) return [];
    const b = this._value(el);
    if (!b) return [];
    const vr = valueVR(el);
    if (vr === 'IS' || vr === 'DS') {
      const s = latin1(b);
      const out: number[] = [];
      for (const part of s.split('\\')) {
        const v = part.trim().replace(/\0+$/, '');
        if (v !== '') out.push(Number(v));
      }
      return out;
    }
    return readBinaryNumbers(vr, b, this.littleEndian);
  }

  /** Items of an SQ, or of a UN element holding an implicit VR little endian sequence (PS3.5 6.2.2). */
  items(t: Tag): Dataset[] | undefined {
    const el = this._find(t);
    if (!el) return undefined;
    if (!el.items && el.vr === 'UN' && !el.unProbed && !el.value) {
      el.unProbed = true;
      el.items = parseUnItems(this, el);
    }
    return el.items;
  }

  /** Encapsulated pixel data: [basic offset table, ...fragments] as views of the source. */
  fragments(t: Tag): Uint8Array[] | undefined {
    const el = this._find(t);
    if (!el?.frags) return undefined;
    const out: Uint8Array[] = [];
    for (let i = 0; i < el.frags.length; i += 2) out.push(this._src!.subarray(el.frags[i], el.frags[i + 1]));
    return out;
  }

  // ---- editing -------------------------------------------------------------------------------

  /** @internal marks this dataset and its ancestors modified, recording which groups changed. */
  _touch(t: Tag): void {
    let group = t >>> 16;
    for (let d: Dataset | undefined = this; d; d = d._parent) {
      d._dirty = true;
      (d._changedGroups ??= new Set()).add(group);
      group = d._parentTag >>> 16;
    }
  }

  /** @internal element for an edit, created in ascending position when absent. */
  _upsert(t: Tag, vr: VR): Elem {
    let el = this._find(t);
    if (el) {
      el.vr = vr;
    } else {
      if (!this._sorted) {
        this._els.sort((a, b) => a.tag - b.tag);
        this._sorted = true;
      }
      el = new Elem(t, vr, -1, -1, 0, -1);
      const els = this._els;
      let i = els.length;
      while (i > 0 && els[i - 1].tag > t) i--;
      els.splice(i, 0, el);
    }
    el.items = undefined;
    el.frags = undefined;
    el.unProbed = true;
    el.dirty = true;
    this._touch(t);
    return el;
  }

  /** Raw value in the dataset's byte order; padded to even length with the VR's padding byte. */
  setBytes(t: Tag, vr: VR, bytes: Uint8Array): void {
    if (vr === 'SQ') throw new AppError('DICOM_ENCODE', { detail: `setBytes on SQ ${formatTag(t)}` });
    this._upsert(t, vr).value = padEven(bytes, vr);
  }

  /** Encodes with the charset in force; when a character is not representable, the dataset that
   *  defines the charset (or the root) is converted to UTF-8 and gets ISO_IR 192 (PS3.5 6.1.2.3). */
  setString(t: Tag, vr: VR, value: string | string[]): void {
    const text = Array.isArray(value) ? value.join('\\') : value;
    if (!isStringVR(vr)) {
      if (vr === 'UN' || vr === 'OB') return this.setBytes(t, vr, asciiBytes(text));
      const parts = text === '' ? [] : text.split('\\').map(Number);
      return this.setNumbers(t, vr, parts);
    }
    let bytes: Uint8Array | undefined;
    if (usesCharset(vr)) {
      bytes = encodeText(this.charset(), text);
      if (!bytes) {
        convertToUtf8(this);
        bytes = Buffer.from(text, 'utf8');
      }
    } else {
      for (let i = 0; i < text.length; i++) {
        if (text.charCodeAt(i) > 0x7e) throw new AppError('DICOM_ENCODE', { detail: `non-ASCII character in ${vr} ${formatTag(t)}` });
      }
      bytes = asciiBytes(text);
    }
    this._upsert(t, vr).value = padEven(bytes, vr);
  }

  setNumbers(t: Tag, vr: VR, values: number[]): void {
    if (vr === 'IS' || vr === 'DS') {
      const text = values.map((v) => (vr === 'IS' ? formatIS(v) : formatDS(v))).join('\\');
      this._upsert(t, vr).value = padEven(asciiBytes(text), vr);
      return;
    }
    if (binarySize(vr) === 0) throw new AppError('DICOM_ENCODE', { detail: `setNumbers with VR ${vr} on ${formatTag(t)}` });
    this._upsert(t, vr).value = encodeBinaryNumbers(vr, values, this.littleEndian);
  }

  /** Items become children of this dataset; they are re-encoded in the target encoding on write. */
  setItems(t: Tag, items: Dataset[]): void {
    const el = this._upsert(t, 'SQ');
    el.vlen = UNDEFINED_LENGTH;
    for (const it of items) {
      it._parent = this;
      it._parentTag = t;
      it._dirty = true;
    }
    el.items = items;
  }

  /** Zero-length value, keeping the element's VR (or the one given). */
  setEmpty(t: Tag, vr?: VR): void {
    const v = vr ?? this._find(t)?.vr ?? 'UN';
    if (v === 'SQ') return this.setItems(t, []);
    this._upsert(t, v).value = new Uint8Array(0);
  }

  remove(t: Tag): boolean {
    const i = this._els.findIndex((e) => e.tag === t);
    if (i < 0) return false;
    this._els.splice(i, 1);
    this._touch(t);
    return true;
  }

  /** Every element at any depth, ascending per dataset, items after their sequence element;
   *  path like "(0008,1115)[0].(0020,000E)". Returning 'skip' does not descend into the element's items. */
  walk(visit: (ds: Dataset, t: Tag, path: string) => void | 'skip', prefix = ''): void {
    for (const t of this.tags()) {
      const path = prefix + formatTag(t);
      if (visit(this, t, path) === 'skip') continue;
      const items = this.items(t);
      if (items) items.forEach((it, i) => it.walk(visit, `${path}[${i}].`));
    }
  }
}

/** The VR to interpret a value with: a UN element of a known attribute (e.g. written by a tool that
 *  lost the VRs, as in pydicom's rtdose_rle*.dcm) is read with its dictionary VR; its bytes stay UN. */
function valueVR(el: Elem): VR {
  if (el.vr !== 'UN') return el.vr;
  const vr = implicitVR(el.tag);
  return vr === 'SQ' ? 'UN' : vr;
}

/** Re-encodes the text of `from`'s charset scope in UTF-8 and sets ISO_IR 192 there. The scope is
 *  the nearest dataset declaring a charset (or the root), minus items that declare their own. */
function convertToUtf8(from: Dataset): void {
  let scope: Dataset = from;
  for (let d: Dataset | undefined = from; d; d = d._parent) {
    scope = d;
    if (d.has(SPECIFIC_CHARACTER_SET)) break;
  }
  const old = scope.charset();
  const convert = (ds: Dataset): void => {
    for (const el of [...ds._els]) {
      if (el.items) {
        for (const it of el.items) if (!it.has(SPECIFIC_CHARACTER_SET)) convert(it);
        continue;
      }
      if (!usesCharset(el.vr)) continue;
      const b = ds._value(el);
      if (!b || b.every((x) => x < 0x80 && x !== 0x1b)) continue;
      const text = decodeText(old, b, el.vr);
      ds._upsert(el.tag, el.vr).value = padEven(Buffer.from(text, 'utf8'), el.vr);
    }
  };
  convert(scope);
  scope._upsert(SPECIFIC_CHARACTER_SET, 'CS').value = padEven(asciiBytes(UTF8_CHARSET), 'CS');
}
