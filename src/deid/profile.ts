// Table E.1-1 lookups and the decision for one attribute: which basic action, after the options.
import { PRIVATE_ATTRIBUTES_ROW, TABLE_E1_1 } from './profiles/table-e1-1.ts';
import type { BasicAction, TableOption, TableRow } from './profiles/types.ts';
import type { DeidOptions } from './options.ts';

const EXACT = new Map<number, TableRow>();
const WILDCARD: TableRow[] = [];
for (const row of TABLE_E1_1) {
  if (row.mask === 0xffffffff) EXACT.set(row.tag, row);
  else WILDCARD.push(row);
}

export function tableRow(t: number): TableRow | undefined {
  const exact = EXACT.get(t);
  if (exact) return exact;
  const g = t >>> 24;
  // Only the repeating groups 50xx (curves) and 60xx (overlays) carry wildcards.
  if (g !== 0x50 && g !== 0x60) return undefined;
  for (const r of WILDCARD) if (((t & r.mask) >>> 0) === r.tag) return r;
  return undefined;
}

export { PRIVATE_ATTRIBUTES_ROW };

/** What an option column turns the basic action into: K (keep) or C (clean). */
export type Decision = BasicAction | 'C';

// Option columns in the order they are consulted: a K from any enabled option wins over a C.
const OPTION_ORDER: readonly TableOption[] = [
  'retainUIDs',
  'retainDeviceIdentity',
  'retainInstitutionIdentity',
  'retainPatientCharacteristics',
  'retainLongitudinalFullDates',
  'retainSafePrivate',
  'retainLongitudinalModifiedDates',
  'cleanDescriptors',
  'cleanStructuredContent',
  'cleanGraphics',
];

export function decide(row: TableRow, options: DeidOptions): Decision {
  let clean = false;
  for (const opt of OPTION_ORDER) {
    if (!options[opt]) continue;
    const a = row.options[opt];
    if (a === 'K') return 'K';
    if (a === 'C') clean = true;
  }
  return clean ? 'C' : row.basic;
}
