// Identifiers for C-FIND / C-MOVE / C-GET built from `-k Tag=value` flags (findscu's syntax): a
// tag is a PS3.6 keyword or gggg,eeee; `Tag=value` is a matching key, a bare `Tag` a return key
// (universal matching, PS3.4 C.2.2.2.3). Each level gets the usual return keys unless given.
import { Dataset, isVR, keywordOf, lookup, parseTag, formatTag, type Tag, type VR } from '../../dicom/index.ts';
import { UsageError } from '../command.ts';

export const LEVELS = ['patient', 'study', 'series', 'image'] as const;
export type QueryLevel = (typeof LEVELS)[number];

/** Return keys asked for when the user gives none of their own at that level. */
const DEFAULT_KEYS: Record<QueryLevel, readonly string[]> = {
  patient: ['PatientID', 'PatientName', 'PatientBirthDate', 'NumberOfPatientRelatedStudies'],
  study: ['StudyInstanceUID', 'StudyDate', 'StudyDescription', 'AccessionNumber', 'PatientID', 'PatientName', 'ModalitiesInStudy', 'NumberOfStudyRelatedInstances'],
  series: ['StudyInstanceUID', 'SeriesInstanceUID', 'Modality', 'SeriesNumber', 'SeriesDescription', 'NumberOfSeriesRelatedInstances'],
  image: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID', 'InstanceNumber'],
};

const QUERY_RETRIEVE_LEVEL: Tag = 0x00080052;

export interface ParsedKey {
  readonly tag: Tag;
  readonly vr: VR;
  /** undefined: a return key (zero length). */
  readonly value: string | undefined;
}

function vrOf(t: Tag): VR {
  const e = lookup(t);
  if (!e) return 'UN';
  if (isVR(e.vr)) return e.vr;
  // PS3.6 choices ("US or SS", "OB or OW"): the first is what query keys use.
  const first = e.vr.split(' or ')[0];
  return isVR(first) ? first : 'UN';
}

export function parseKey(spec: string): ParsedKey {
  const eq = spec.indexOf('=');
  const name = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  let tag: Tag;
  try {
    tag = parseTag(name);
  } catch {
    throw new UsageError(`-k ${name}: not a DICOM keyword or gggg,eeee tag (e.g. -k StudyDate=20240101-20241231, -k 0010,0020=ABC*)`);
  }
  const vr = vrOf(tag);
  if (vr === 'SQ' && eq >= 0) throw new UsageError(`-k ${name}: sequences can only be asked for as return keys (no "=value")`);
  return { tag, vr, value: eq < 0 ? undefined : spec.slice(eq + 1) };
}

/** The identifier for a level from the -k flags, plus the default return keys for the level. */
export function buildIdentifier(level: QueryLevel, specs: readonly string[], opts: { defaults?: boolean } = {}): { identifier: Dataset; keys: Tag[] } {
  const ds = new Dataset({ explicitVR: true });
  ds.setString(QUERY_RETRIEVE_LEVEL, 'CS', level.toUpperCase());
  const keys: Tag[] = [];
  const add = (k: ParsedKey): void => {
    if (k.tag === QUERY_RETRIEVE_LEVEL) throw new UsageError('set the level with --level, not -k QueryRetrieveLevel');
    if (k.value === undefined || k.value === '') ds.setEmpty(k.tag, k.vr);
    else ds.setString(k.tag, k.vr, k.value);
    if (!keys.includes(k.tag)) keys.push(k.tag);
  };
  const given = specs.map(parseKey);
  // Columns follow the level's usual keys (a -k for one of them fills its place), then the others.
  if (opts.defaults ?? true) for (const kw of DEFAULT_KEYS[level]) add(given.find((g) => g.tag === parseTag(kw)) ?? parseKey(kw));
  for (const g of given) add(g);
  return { identifier: ds, keys };
}

export function keyName(t: Tag): string {
  return keywordOf(t) ?? formatTag(t);
}

/** A response value as text: strings as they are, binary numbers joined by "\", sequences as a count. */
export function valueText(ds: Dataset, t: Tag): string {
  const vr = ds.vr(t);
  if (vr === undefined) return '';
  if (vr === 'SQ') return `${ds.items(t)?.length ?? 0} items`;
  if (['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV', 'AT'].includes(vr)) return ds.numbers(t).join('\\');
  if (['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN'].includes(vr)) return `<${ds.bytes(t)?.length ?? 0} bytes>`;
  return ds.string(t) ?? '';
}

export function parseLevel(v: unknown, fallback: QueryLevel): QueryLevel {
  if (v === undefined) return fallback;
  const s = String(v).toLowerCase();
  const level = s === 'instance' ? 'image' : s;
  if (!(LEVELS as readonly string[]).includes(level)) throw new UsageError(`--level must be one of ${LEVELS.join(', ')}, got "${String(v)}"`);
  return level as QueryLevel;
}
