// Index matches as DICOM JSON (PS3.18 F.2) for QIDO-RS: each indexed attribute with its PS3.6 VR.
// Values of IS/DS/US become numbers, PN becomes {Alphabetic, Ideographic, Phonetic}, multi-valued
// attributes are split on '\'. Present-but-empty attributes are sent without "Value".
import type { JsonAttribute, JsonDataset, JsonPersonName } from '../../dicom/json.ts';
import { formatTagHex } from '../../dicom/index.ts';
import type { QueryMatch } from '../../index/archive-index.ts';
import { isDerived, resolveKey } from '../../index/main-tags.ts';

function vrOf(keyword: string): { tag: number; vr: string } | undefined {
  const m = resolveKey(keyword);
  if (!m) return undefined;
  if (isDerived(m)) return { tag: m.tag, vr: m.kind === 'modalities' ? 'CS' : 'IS' };
  return { tag: m.tag, vr: m.vr };
}

function pn(v: string): JsonPersonName {
  const [a, i, p] = v.split('=');
  const out: JsonPersonName = {};
  if (a) out.Alphabetic = a;
  if (i) out.Ideographic = i;
  if (p) out.Phonetic = p;
  return out;
}

export function attribute(vr: string, value: string): JsonAttribute {
  if (value === '') return { vr };
  const parts = value.split('\\');
  if (vr === 'PN') return { vr, Value: parts.map(pn) };
  if (vr === 'IS' || vr === 'DS' || vr === 'US') return { vr, Value: parts.map((p) => (p.trim() === '' ? null : Number(p))) };
  return { vr, Value: parts };
}

export function matchToDicomJson(m: QueryMatch, retrieveUrl: string | undefined): JsonDataset {
  const out: JsonDataset = {};
  for (const [keyword, value] of Object.entries(m.tags)) {
    if (value === null) continue;
    const meta = vrOf(keyword);
    if (!meta) continue;
    out[formatTagHex(meta.tag)] = attribute(meta.vr, value);
  }
  if (retrieveUrl !== undefined) out['00081190'] = { vr: 'UR', Value: [retrieveUrl] };
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
