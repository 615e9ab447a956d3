// Dry run of a project's de-identification on stored instances, for the Projects page: per attribute,
// the value before and after, the action and the reason (the engine's `explain` account). Nothing is
// stored and no key is created: the pseudonymizer here only reads the key database, answering with
// the patient's real pseudonym and date shift when the patient is known and with placeholders otherwise.
import { readPart10 } from '../../dicom/index.ts';
import type { Dataset } from '../../dicom/dataset.ts';
import { lookup } from '../../dicom/dictionary.ts';
import { formatTag } from '../../dicom/tag.ts';
import { deidentify } from '../../deid/engine.ts';
import type { AttributeChange } from '../../deid/outcome.ts';
import type { Project } from '../../deid/project.ts';
import type { PseudonymMapping, PseudonymRequest, Pseudonymizer } from '../../deid/pseudonymizer.ts';
import type { PseudonymStore } from '../../pseudonyms/pseudonym-store.ts';

export const NEW_PSEUDONYM = '<new pseudonym>';
export const NEW_UID = '<new UID>';
export const NEW_SHIFT = '<shifted by the new patient offset>';
const MAX_VALUE_CHARS = 160;

/** Read-only: existing mappings from the key database, placeholders for what would be created. */
export class PreviewPseudonymizer implements Pseudonymizer {
  /** Whether the last resolved patient already had keys. */
  known = false;
  constructor(
    private readonly keys: PseudonymStore | undefined,
    private readonly project: string,
  ) {}

  async resolve(req: PseudonymRequest): Promise<PseudonymMapping> {
    const found = await this.keys?.findByOriginal(this.project, req.patient);
    this.known = found !== undefined;
    // UIDs: the port has no read-only forward lookup, and the replacement is opaque anyway.
    const uids = new Map(req.uids.map((u) => [u, NEW_UID]));
    if (found) return { patient: found.pseudonym, uids };
    return { patient: { patientId: NEW_PSEUDONYM, patientName: NEW_PSEUDONYM, dateShiftDays: 0 }, uids };
  }
}

export interface PreviewRow {
  path: string;
  tag: string;
  keyword: string;
  before: string | null;
  after: string | null;
  action: AttributeChange['action'];
  reason: string;
}

export type PreviewOutcome =
  | { sopInstanceUid: string; outcome: 'deidentified'; knownPatient: boolean; attributes: PreviewRow[] }
  | { sopInstanceUid: string; outcome: 'quarantined' | 'rejected'; reason: string; detail: string };

export type InstancePreview = PreviewOutcome & { instance: string };

/** Splits "(0008,1115)[0].(0020,000E)" into [[tag, item], ..., [tag]]. */
function parsePath(path: string): { tag: number; item?: number }[] {
  return path.split('.').map((part) => {
    const m = /^\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)(?:\[(\d+)\])?$/.exec(part);
    if (!m) return { tag: -1 };
    return { tag: ((parseInt(m[1], 16) << 16) | parseInt(m[2], 16)) >>> 0, ...(m[3] !== undefined ? { item: Number(m[3]) } : {}) };
  });
}

/** The value at a path as display text; null when absent. */
export function valueAt(ds: Dataset, path: string): string | null {
  let cur: Dataset | undefined = ds;
  const steps = parsePath(path);
  for (const [i, s] of steps.entries()) {
    if (cur === undefined || s.tag < 0 || !cur.has(s.tag)) return null;
    if (i < steps.length - 1) {
      cur = cur.items(s.tag)?.[s.item ?? 0];
      continue;
    }
    return display(cur, s.tag);
  }
  return null;
}

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

function display(ds: Dataset, t: number): string {
  const vr = ds.vr(t);
  const items = ds.items(t);
  if (vr === 'SQ' || (items !== undefined && vr === 'UN')) return `<${items?.length ?? 0} item(s)>`;
  if (vr !== undefined && BINARY_VRS.has(vr)) return `<${ds.bytes(t)?.length ?? ds.fragments(t)?.length ?? 0} bytes>`;
  let text: string;
  try {
    const nums = vr === 'US' || vr === 'SS' || vr === 'UL' || vr === 'SL' || vr === 'FL' || vr === 'FD' || vr === 'SV' || vr === 'UV' || vr === 'AT';
    text = nums ? ds.numbers(t).join('\\') : ds.strings(t).join('\\');
  } catch {
    text = `<${ds.bytes(t)?.length ?? 0} bytes>`;
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

function keywordOf(path: string): { tag: string; keyword: string } {
  const last = parsePath(path).at(-1)?.tag ?? -1;
  if (last < 0) return { tag: path, keyword: '' };
  return { tag: formatTag(last), keyword: (last >>> 16) % 2 === 1 ? '(private)' : (lookup(last)?.keyword ?? '') };
}

/** De-identifies a copy of the file in memory and compares it with the original, attribute by attribute. */
export async function previewInstance(bytes: Uint8Array, project: Project, pseudonymizer: PreviewPseudonymizer): Promise<PreviewOutcome> {
  const before = readPart10(bytes).dataset;
  const work = readPart10(bytes);
  const sopInstanceUid = before.string(0x00080018) ?? '';
  const out = await deidentify({ dataset: work.dataset, project, pseudonymizer, explain: true });
  if (out.kind !== 'deidentified') return { sopInstanceUid, outcome: out.kind, reason: out.reason, detail: out.detail };
  const known = pseudonymizer.known;
  const attributes = (out.changes ?? []).map((c): PreviewRow => {
    let after = c.action === 'removed' ? null : valueAt(out.dataset, c.path);
    // An unknown patient's shift is drawn when the first object arrives: the dry run cannot show it.
    if (c.action === 'shifted' && !known) after = NEW_SHIFT;
    return { path: c.path, ...keywordOf(c.path), before: c.action === 'added' ? null : valueAt(before, c.path), after, action: c.action, reason: c.because };
  });
  return { sopInstanceUid, outcome: 'deidentified', knownPatient: known, attributes };
}
