// Orthanc's two tag renderings of a dataset (DicomMap / FromDcmtkBridge::ToJson):
//  - full (/tags): { "0010,0010": { "Name": "PatientName", "Type": "String", "Value": "..." } }
//    Sequences: Type "Sequence", Value = array of full objects. Values over 256 bytes that are
//    binary: Type "TooLong", Value null (Orthanc's MaximumStringLength default is 256).
//  - simplified (/simplified-tags, /tags?simplify): { "PatientName": "...", "SomeSequence": [ {...} ] }
import { type Dataset, lookup, type Tag } from '../../dicom/index.ts';

const MAX_LENGTH = 256;
const NUMERIC = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);
const BINARY = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN']);

export interface TagValue {
  Name: string;
  Type: 'String' | 'Sequence' | 'TooLong' | 'Null' | 'Binary';
  Value: string | null | Record<string, TagValue>[];
}

export function tagKey(t: Tag): string {
  const h = t.toString(16).padStart(8, '0');
  return `${h.slice(0, 4)},${h.slice(4)}`;
}

function tagName(t: Tag): string {
  return lookup(t)?.keyword ?? (((t >>> 16) & 1) === 1 ? 'Unknown Tag & Data' : tagKey(t));
}

function render(ds: Dataset, t: Tag): TagValue {
  const name = tagName(t);
  const items = ds.items(t);
  if (items !== undefined && ds.vr(t) === 'SQ') return { Name: name, Type: 'Sequence', Value: items.map(toOrthancTags) };
  const vr = ds.vr(t) ?? 'UN';
  if (ds.fragments(t) !== undefined) return { Name: name, Type: 'TooLong', Value: null };
  if (NUMERIC.has(vr)) {
    const nums = ds.numbers(t);
    return { Name: name, Type: 'String', Value: nums.map(String).join('\\') };
  }
  if (vr === 'AT') {
    const b = ds.bytes(t);
    if (!b) return { Name: name, Type: 'Null', Value: null };
    const out: string[] = [];
    const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    for (let o = 0; o + 4 <= b.length; o += 4) {
      const g = ds.littleEndian ? view.readUInt16LE(o) : view.readUInt16BE(o);
      const e = ds.littleEndian ? view.readUInt16LE(o + 2) : view.readUInt16BE(o + 2);
      out.push(tagKey(((g << 16) | e) >>> 0));
    }
    return { Name: name, Type: 'String', Value: out.join('\\') };
  }
  if (BINARY.has(vr)) {
    const b = ds.bytes(t);
    if (!b || b.length === 0) return { Name: name, Type: 'Null', Value: null };
    return { Name: name, Type: 'TooLong', Value: null };
  }
  const values = ds.strings(t);
  const s = values.join('\\');
  if (Buffer.byteLength(s) > MAX_LENGTH && (vr === 'OB' || vr === 'UT' || vr === 'LT' || vr === 'UN')) return { Name: name, Type: 'TooLong', Value: null };
  return { Name: name, Type: 'String', Value: s };
}

export function toOrthancTags(ds: Dataset): Record<string, TagValue> {
  const out: Record<string, TagValue> = {};
  for (const t of ds.tags()) {
    if ((t & 0xffff) === 0 && ((t >>> 16) & 0xffff) !== 0) continue; // group lengths (retired)
    out[tagKey(t)] = render(ds, t);
  }
  return out;
}

type Simple = string | null | Simple[] | { [k: string]: Simple };

export function simplifyTags(full: Record<string, TagValue>): Record<string, Simple> {
  const out: Record<string, Simple> = {};
  for (const [key, v] of Object.entries(full)) {
    const name = v.Name === 'Unknown Tag & Data' ? key : v.Name;
    if (v.Type === 'Sequence') out[name] = (v.Value as Record<string, TagValue>[]).map((item) => simplifyTags(item));
    else out[name] = v.Type === 'String' ? (v.Value as string) : null;
  }
  return out;
}
