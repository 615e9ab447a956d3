// DICOM JSON Model (PS3.18 F.2): what DICOMweb (QIDO/WADO metadata) and the REST API serve.
import { AppError } from '../core/errors.ts';
import type { Tag } from './tag.ts';
import { formatTag, formatTagHex } from './tag.ts';
import type { VR } from './vr.ts';
import { binarySize, isStringVR, isVR } from './vr.ts';
import { Dataset } from './dataset.ts';
import { formatDS, formatIS } from './values.ts';

export interface JsonPersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export type JsonValue = string | number | null | JsonPersonName | JsonDataset;

export interface JsonAttribute {
  vr: string;
  Value?: JsonValue[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

export type JsonDataset = Record<string, JsonAttribute>;

export interface ToJsonOptions {
  /** Called for binary values (OB OD OF OL OV OW UN, encapsulated pixel data) longer than
   *  bulkThreshold; a returned URI becomes BulkDataURI (PS3.18 F.2.6), undefined inlines the value. */
  bulkDataUri?: (path: string, t: Tag) => string | undefined;
  /** Bytes; default 1024. */
  bulkThreshold?: number;
}

const BULK_VRS = new Set<VR>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const PN_GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;

export function toDicomJson(ds: Dataset, opts: ToJsonOptions = {}): JsonDataset {
  return datasetToJson(ds, opts, '');
}

function datasetToJson(ds: Dataset, opts: ToJsonOptions, prefix: string): JsonDataset {
  const out: JsonDataset = {};
  for (const t of ds.tags()) {
    // Group lengths describe a binary encoding and are left out, as DCMTK's dcm2json does.
    if ((t & 0xffff) === 0) continue;
    const path = prefix + formatTag(t);
    out[formatTagHex(t)] = attributeToJson(ds, t, opts, path);
  }
  return out;
}

function attributeToJson(ds: Dataset, t: Tag, opts: ToJsonOptions, path: string): JsonAttribute {
  const vr = ds.vr(t)!;
  const items = vr === 'SQ' || vr === 'UN' ? ds.items(t) : undefined;
  if (items) {
    // A UN holding an implicit VR sequence is a sequence in all but name (PS3.5 6.2.2).
    return { vr: 'SQ', ...(items.length > 0 ? { Value: items.map((it, i) => datasetToJson(it, opts, `${path}[${i}].`)) } : {}) };
  }
  const threshold = opts.bulkThreshold ?? 1024;
  const frags = ds.fragments(t);
  if (frags) {
    const uri = opts.bulkDataUri?.(path, t);
    // Encapsulated pixel data has no inline JSON form: without a URI it is listed without a value.
    return uri !== undefined ? { vr, BulkDataURI: uri } : { vr };
  }
  if (BULK_VRS.has(vr)) {
    const b = ds.bytes(t) ?? new Uint8Array(0);
    if (b.length === 0) return { vr };
    if (b.length > threshold) {
      const uri = opts.bulkDataUri?.(path, t);
      if (uri !== undefined) return { vr, BulkDataURI: uri };
    }
    return { vr, InlineBinary: Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64') };
  }
  if (vr === 'PN') {
    const values = ds.strings(t);
    if (values.length === 0) return { vr };
    return { vr, Value: values.map(personNameToJson) };
  }
  if (vr === 'AT') {
    const v = ds.numbers(t);
    return v.length > 0 ? { vr, Value: v.map((n) => formatTagHex(n)) } : { vr };
  }
  if (vr === 'IS' || vr === 'DS') {
    const values = ds.strings(t);
    if (values.length === 0) return { vr };
    // Numbers per F.2.3.1; a malformed number stays a string rather than being invented.
    return { vr, Value: values.map((s) => (s === '' ? null : Number.isFinite(Number(s)) ? Number(s) : s)) };
  }
  if (binarySize(vr) > 0) {
    const v = ds.numbers(t);
    return v.length > 0 ? { vr, Value: v } : { vr };
  }
  if (isStringVR(vr)) {
    const values = ds.strings(t);
    return values.length > 0 ? { vr, Value: values.map((s) => (s === '' ? null : s)) } : { vr };
  }
  return { vr };
}

function personNameToJson(value: string): JsonPersonName | null {
  if (value === '') return null;
  const groups = value.split('=');
  const pn: JsonPersonName = {};
  groups.forEach((g, i) => {
    if (i < 3 && g !== '') pn[PN_GROUPS[i]] = g;
  });
  return pn;
}

export interface FromJsonOptions {
  /** Resolves a BulkDataURI to its bytes; without it such values are left empty. */
  bulkData?: (uri: string, t: Tag) => Uint8Array | undefined;
}

/** Builds an explicit VR little endian dataset. Text is encoded in the JSON's own Specific Character
 *  Set when it can be, else the dataset switches to UTF-8 (ISO_IR 192). */
export function fromDicomJson(json: object, opts: FromJsonOptions = {}): Dataset {
  const ds = new Dataset();
  fill(ds, json, opts);
  return ds;
}

/** Items are attached before they are filled so their text sees the inherited charset. */
function fill(ds: Dataset, json: object, opts: FromJsonOptions): void {
  const entries = Object.entries(json as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, raw] of entries) {
    if (!/^[0-9A-Fa-f]{8}$/.test(key)) throw new AppError('DICOM_PARSE', { detail: `DICOM JSON key "${key.slice(0, 16)}" is not a tag` });
    const t = parseInt(key, 16) >>> 0;
    const attr = raw as JsonAttribute;
    if (typeof attr !== 'object' || attr === null || typeof attr.vr !== 'string' || !isVR(attr.vr)) {
      throw new AppError('DICOM_PARSE', { detail: `DICOM JSON attribute ${formatTag(t)} has no valid vr` });
    }
    setFromJson(ds, t, attr.vr, attr, opts);
  }
}

function setFromJson(ds: Dataset, t: Tag, vr: VR, attr: JsonAttribute, opts: FromJsonOptions): void {
  if (attr.InlineBinary !== undefined) return ds.setBytes(t, vr, Buffer.from(attr.InlineBinary, 'base64'));
  if (attr.BulkDataURI !== undefined) {
    const b = opts.bulkData?.(attr.BulkDataURI, t);
    return b ? ds.setBytes(t, vr, b) : ds.setEmpty(t, vr);
  }
  const values = attr.Value ?? [];
  if (vr === 'SQ') {
    const items = values.map(() => new Dataset());
    ds.setItems(t, items);
    values.forEach((v, i) => fill(items[i], (v ?? {}) as object, opts));
    return;
  }
  if (values.length === 0) return ds.setEmpty(t, vr);
  if (vr === 'PN') {
    const text = values.map((v) => {
      if (v === null) return '';
      if (typeof v === 'string') return v;
      const pn = v as JsonPersonName;
      return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
    });
    return ds.setString(t, vr, text);
  }
  if (vr === 'AT') return ds.setNumbers(t, vr, values.map((v) => parseInt(String(v), 16) >>> 0));
  if (vr === 'IS' || vr === 'DS') {
    const fmt = (n: number) => (vr === 'IS' ? formatIS(n) : formatDS(n));
    return ds.setString(t, vr, values.map((v) => (v === null ? '' : typeof v === 'number' ? fmt(v) : String(v))));
  }
  if (binarySize(vr) > 0) return ds.setNumbers(t, vr, values.map((v) => Number(v)));
  return ds.setString(t, vr, values.map((v) => (v === null ? '' : String(v))));
}
