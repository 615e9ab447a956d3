// Index matches as DICOM JSON (PS3.18 F.2) for QIDO-RS: each indexed attribute with its PS3.6 VR.
// Values of IS/DS/US become numbers, PN becomes {Alphabetic, Ideographic, Phonetic}, multi-valued
// attributes are split on '\'. Present-but-empty attributes are sent without "Value".
import type { JsonAttribute, JsonDataset, JsonPersonName } from '../../dicom/json.ts';
import { formatTagHex } from '../../dicom/index.ts';
import type { QueryMatch } from '../../index/archive-index.ts';
import { isDerived, resolveKey } from '../../index/main-tags.ts';

interface Column {
  keyword: string;
  hex: string;
  vr: string;
}

function columnOf(keyword: string): Column | undefined {
  const m = resolveKey(keyword);
  if (!m) return undefined;
  const vr = isDerived(m) ? (m.kind === 'modalities' ? 'CS' : 'IS') : m.vr;
  return { keyword, hex: formatTagHex(m.tag), vr };
}

/**
 * Every match of a query has the same keywords, so their tags, VRs and PS3.18 F.2 order (ascending
 * tag) are worked out once per keyword set, not once per row (a 500-study answer spent most of
 * its JSON time there).
 */
const layouts = new Map<string, Column[]>();
function layoutOf(keywords: string[]): Column[] {
  const sig = keywords.join(',');
  let cols = layouts.get(sig);
  if (!cols) {
    cols = keywords.map(columnOf).filter((c): c is Column => c !== undefined).sort((a, b) => (a.hex < b.hex ? -1 : 1));
    // Few distinct sets exist (one per level and returnKeys choice); keep the cache from growing anyway.
    if (layouts.size > 256) layouts.clear();
    layouts.set(sig, cols);
  }
  return cols;
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
  let urlDone = retrieveUrl === undefined;
  for (const c of layoutOf(Object.keys(m.tags))) {
    if (!urlDone && c.hex > '00081190') {
      out['00081190'] = { vr: 'UR', Value: [retrieveUrl!] };
      urlDone = true;
    }
    const value = m.tags[c.keyword];
    if (value === null || value === undefined) continue;
    out[c.hex] = attribute(c.vr, value);
  }
  if (!urlDone) out['00081190'] = { vr: 'UR', Value: [retrieveUrl!] };
  return out;
}
