// Reads the index's main tags out of a parsed dataset (the root level of a header-only read).
import type { Dataset } from '../dicom/index.ts';
import { MAIN_TAGS } from './main-tags.ts';

/**
 * Keyword → value for every MAIN_TAGS attribute present: '' when present but empty, absent keys
 * when the attribute is missing. Multi-valued attributes keep all values joined by '\'.
 */
export function extractMainTags(ds: Dataset): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const m of MAIN_TAGS) {
    if (!ds.has(m.tag)) continue;
    out[m.keyword] = m.multi ? ds.strings(m.tag).join('\\') : (ds.string(m.tag) ?? '');
  }
  return out;
}
