// Turns a C-FIND/C-MOVE/C-GET identifier (PS3.4 C.4.1.1.3) into the matching engine's query, and a
// match back into a response identifier holding exactly the keys that were asked for.
import { AppError } from '../core/errors.ts';
import { Dataset } from '../dicom/index.ts';
import { keywordOf, lookup } from '../dicom/dictionary.ts';
import type { Tag } from '../dicom/tag.ts';
import type { VR } from '../dicom/vr.ts';
import type { Level, MatchQuery, QueryMatch } from '../index/archive-index.ts';

const QUERY_RETRIEVE_LEVEL: Tag = 0x00080052;
const SPECIFIC_CHARACTER_SET: Tag = 0x00080005;

const LEVELS: Readonly<Record<string, Level>> = { PATIENT: 'patient', STUDY: 'study', SERIES: 'series', IMAGE: 'instance' };

export interface IdentifierQuery {
  readonly level: Level;
  /** The C-FIND-RSP level name (PATIENT, STUDY, SERIES, IMAGE). */
  readonly levelName: string;
  readonly query: MatchQuery;
  /** Requested attributes in identifier order, with the VR to answer in. */
  readonly returnKeys: readonly { tag: Tag; keyword: string; vr: VR }[];
}

export function identifierQuery(identifier: Dataset): IdentifierQuery {
  const levelName = (identifier.string(QUERY_RETRIEVE_LEVEL) ?? '').toUpperCase();
  const level = LEVELS[levelName];
  if (!level) throw new AppError('QUERY_INVALID', { detail: `QueryRetrieveLevel "${levelName.slice(0, 16)}"` });
  const keys: Record<string, string> = {};
  const returnKeys: { tag: Tag; keyword: string; vr: VR }[] = [];
  for (const t of identifier.tags()) {
    if (t === QUERY_RETRIEVE_LEVEL || t === SPECIFIC_CHARACTER_SET || t >>> 16 === 0x0000 || t >>> 16 === 0x0002) continue;
    const vr = identifier.vr(t) ?? 'UN';
    if (vr === 'SQ') continue; // sequence matching is not supported by the index: not returned
    const keyword = keywordOf(t);
    if (!keyword) continue;
    // Multi-valued keys are UID lists (PS3.4 C.2.2.2.2): keep the backslashes.
    keys[keyword] = identifier.strings(t).join('\\');
    returnKeys.push({ tag: t, keyword, vr: vr === 'UN' ? ((lookup(t)?.vr as VR | undefined) ?? 'UN') : vr });
  }
  return { level, levelName, query: { level, keys, returnKeys: returnKeys.map((k) => k.keyword) }, returnKeys };
}

const NUMERIC = new Set<VR>(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV']);

/** The response identifier for one match: the level plus every requested key (empty when unknown). */
export function responseIdentifier(q: IdentifierQuery, match: QueryMatch): Dataset {
  const ds = new Dataset({ explicitVR: true });
  ds.setString(QUERY_RETRIEVE_LEVEL, 'CS', q.levelName);
  for (const k of q.returnKeys) {
    const v = match.tags[k.keyword];
    if (v === null || v === undefined || v === '') ds.setEmpty(k.tag, k.vr);
    else if (NUMERIC.has(k.vr)) ds.setNumbers(k.tag, k.vr, v.split('\\').map(Number));
    else ds.setString(k.tag, k.vr, v.includes('\\') ? v.split('\\') : v);
  }
  return ds;
}
