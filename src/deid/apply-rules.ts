// The first pass of de-identification: visits every element at every depth (sequences, items of
// UN-encoded sequences, kept private sequences) and applies Table E.1-1 with the project's options and
// overrides. Everything that needs the key database (UIDs, date shifts, the patient's pseudonym) is
// recorded as a slot and filled in by engine.ts after one batched Pseudonymizer call.
import { lookup } from '../dicom/dictionary.ts';
import { formatTag, isPrivateTag, T } from '../dicom/tag.ts';
import { isVR, type VR } from '../dicom/vr.ts';
import { attributeType, type IodFamily } from './attribute-types.ts';
import { cleanText } from './clean-text.ts';
import type { Dataset } from '../dicom/dataset.ts';
import { dummyValue, TEXT_VRS } from './dummy.ts';
import type { AttributeChange } from './outcome.ts';
import { decide, PRIVATE_ATTRIBUTES_ROW, tableRow, type Decision } from './profile.ts';
import type { Project } from './project.ts';
import { privateKeyString, SAFE_PRIVATE } from './safe-private.ts';
import { CLASS_UID_TAGS, isWellKnownUid } from './well-known-uids.ts';

const SAFE_PRIVATE_KEYS: ReadonlySet<string> = new Set(SAFE_PRIVATE.map(privateKeyString));

/** Set by engine.ts at the top level only; the walk leaves them for it. */
export const ENGINE_OWNED: ReadonlySet<number> = new Set([
  T.PatientID,
  T.PatientName,
  T.PatientIdentityRemoved,
  T.DeidentificationMethod,
  T.DeidentificationMethodCodeSequence,
  T.LongitudinalTemporalInformationModified,
]);

/**
 * Content mode inherited down a sequence: D on a sequence makes its free text dummy, C cleans it.
 * Code items inside (concept names of an SR) are vocabulary and stay, unless the D sequence is itself a
 * code sequence (Person Identification Code Sequence): then its codes are the identifier ('dummy-all').
 */
type Mode = 'normal' | 'dummy' | 'dummy-all' | 'clean';

export interface UidSlot {
  readonly ds: Dataset;
  readonly tag: number;
  readonly values: readonly string[];
}

export interface DateSlot {
  readonly ds: Dataset;
  readonly tag: number;
  readonly vr: 'DA' | 'DT';
  readonly values: readonly string[];
  readonly type: 1 | 2 | undefined;
}

export interface WalkResult {
  readonly uidSlots: UidSlot[];
  readonly dateSlots: DateSlot[];
}

const STRING_DATE_VRS = new Set<VR>(['DA', 'DT', 'TM']);

// Keep-list mode (CTP's remove.unspecifiedelements): an unlisted attribute survives when its VR cannot
// carry a name or free text (numbers, codes, pixel data, UIDs through the map, sequences walked), when
// the project lists it, or when it is one of these descriptive texts that image and RT data need.
const KEEP_LIST_SUSPECT_VRS = new Set<VR>(['AE', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT', 'UN', 'OB', 'OW']);
const SAFE_TEXT: ReadonlySet<number> = new Set([
  T.SpecificCharacterSet,
  T.PixelData,
  T.RescaleType,
  T.ROIName,
  T.StructureSetLabel,
  T.RTPlanLabel,
  T.BeamName,
  // Code items (PS3.3 8.8) are vocabulary; a code that identifies someone is listed in E.1-1 (D).
  T.CodeValue,
  T.CodingSchemeDesignator,
  T.CodingSchemeVersion,
  T.CodeMeaning,
  T.LongCodeValue,
  T.URNCodeValue,
]);

export class RuleWalker {
  readonly #project: Project;
  readonly #family: IodFamily;
  readonly #terms: readonly string[];
  readonly #changes: AttributeChange[] | undefined;
  readonly uidSlots: UidSlot[] = [];
  readonly dateSlots: DateSlot[] = [];

  constructor(project: Project, family: IodFamily, terms: readonly string[], changes: AttributeChange[] | undefined) {
    this.#project = project;
    this.#family = family;
    this.#terms = terms;
    this.#changes = changes;
  }

  walk(ds: Dataset, depth: number, mode: Mode, path: string): void {
    const keptBlocks = new Set<number>();
    const creators: number[] = [];
    for (const t of ds.tags()) {
      const p = this.#changes ? path + formatTag(t) : '';
      if ((t & 0xffff) === 0) {
        // Group lengths (retired outside 0002) would be wrong after any change.
        this.#remove(ds, t, p, 'group length');
        continue;
      }
      if (isPrivateTag(t)) {
        if ((t & 0xffff) >= 0x10 && (t & 0xffff) <= 0xff) creators.push(t);
        else if (this.#private(ds, t, depth, p)) keptBlocks.add(((t & 0xffff0000) | ((t & 0xff00) >>> 8)) >>> 0);
        continue;
      }
      if ((t >>> 16) < 0x0008) {
        // Groups 0000-0007 other than meta do not belong in a dataset (command or illegal odd groups).
        this.#remove(ds, t, p, 'not a dataset attribute');
        continue;
      }
      if (depth === 0 && ENGINE_OWNED.has(t)) continue;
      this.#standard(ds, t, depth, mode, p);
    }
    // A private creator survives only if an element of its block did (PS3.5 7.8.1).
    for (const c of creators) {
      if (keptBlocks.has(c)) this.#log(path + formatTag(c), 'kept', 'private creator of a kept block');
      else this.#remove(ds, c, this.#changes ? path + formatTag(c) : '', 'private creator');
    }
  }

  #vr(ds: Dataset, t: number): VR {
    const vr = ds.vr(t) ?? 'UN';
    if (vr !== 'UN') return vr;
    const d = lookup(t)?.vr;
    return d !== undefined && isVR(d) ? d : 'UN';
  }

  #isSequence(ds: Dataset, t: number, vr: VR): boolean {
    return vr === 'SQ' || (ds.vr(t) === 'UN' && ds.items(t) !== undefined);
  }

  #private(ds: Dataset, t: number, depth: number, p: string): boolean {
    const creatorTag = ((t & 0xffff0000) | ((t & 0xff00) >>> 8)) >>> 0;
    const creator = (t & 0xffff) >= 0x1000 ? ds.string(creatorTag) : undefined;
    if (creator !== undefined) {
      const key = privateKeyString({ creator, group: t >>> 16, element: t & 0xff });
      const safe = this.#project.options.retainSafePrivate && SAFE_PRIVATE_KEYS.has(key);
      if (safe || this.#project.privateKeep.has(key)) {
        this.#log(p, 'kept', safe ? 'Retain Safe Private Option' : 'project privateKeep');
        // Kept private content is still de-identified: sequences at any depth, UIDs through the map.
        const vr = ds.vr(t) ?? 'UN';
        if (this.#isSequence(ds, t, vr)) this.#items(ds, t, depth, 'normal', p);
        else if (vr === 'UI') this.#mapUid(ds, t, p, 'UID in a kept private attribute');
        else if ((vr === 'DA' || vr === 'DT') && !this.#project.options.retainLongitudinalFullDates) {
          // A kept private date follows the dates' policy: shifted with Modified Dates, else removed.
          if (this.#project.options.retainLongitudinalModifiedDates) this.#shift(ds, t, vr, p);
          else {
            this.#remove(ds, t, p, 'date in a kept private attribute');
            return false;
          }
        }
        return true;
      }
    }
    this.#remove(ds, t, p, `${PRIVATE_ATTRIBUTES_ROW.basic} (private attribute)`);
    return false;
  }

  #standard(ds: Dataset, t: number, depth: number, mode: Mode, p: string): void {
    const vr = this.#vr(ds, t);
    const override = this.#project.overrides.get(t);
    if (override) {
      if (override.kind === 'keep') this.#log(p, 'kept', 'project override');
      else if (override.kind === 'remove') this.#remove(ds, t, p, 'project override');
      else if (override.kind === 'empty') this.#empty(ds, t, vr, p, 'project override');
      else if (override.kind === 'replace') {
        ds.setString(t, vr, override.value);
        this.#log(p, 'replaced', 'project override');
      }
      return;
    }
    const row = tableRow(t);
    if (row) {
      this.#apply(ds, t, vr, decide(row, this.#project.options), depth, mode, p, `E.1-1 ${row.basic}`);
      return;
    }
    this.#unlisted(ds, t, vr, depth, mode, p);
  }

  // Attributes Table E.1-1 does not list: kept, as the standard presumes, except for values that are
  // identifying by their nature (dates, person names) and the content of sequences made dummy or clean.
  #unlisted(ds: Dataset, t: number, vr: VR, depth: number, mode: Mode, p: string): void {
    const g = t >>> 16;
    if ((g & 0xff00) === 0x6000 || (g & 0xff00) === 0x5000) {
      // Overlay and curve groups: policy for the attributes the table does not list (descriptions, labels).
      if (!this.#project.options.cleanGraphics || TEXT_VRS.has(vr)) this.#remove(ds, t, p, 'overlay/curve group');
      else this.#log(p, 'kept', 'Clean Graphics Option');
      return;
    }
    const o = this.#project.options;
    if (this.#isSequence(ds, t, vr)) {
      this.#items(ds, t, depth, mode, p);
      return;
    }
    if (vr === 'UI') {
      this.#mapUid(ds, t, p, 'UID');
      return;
    }
    if (vr === 'DA' || vr === 'DT') {
      if (o.retainLongitudinalFullDates) this.#log(p, 'kept', 'Full Dates Option');
      else if (o.retainLongitudinalModifiedDates) this.#shift(ds, t, vr, p);
      else this.#apply(ds, t, vr, 'X', depth, mode, p, 'policy: unlisted date');
      return;
    }
    if (vr === 'PN') {
      this.#apply(ds, t, vr, 'X', depth, mode, p, 'policy: unlisted person name');
      return;
    }
    if (mode !== 'normal' && TEXT_VRS.has(vr) && (mode === 'dummy-all' || !isCodeItem(ds))) {
      if (mode !== 'clean') this.#dummy(ds, t, vr, p, 'D on enclosing sequence');
      else this.#clean(ds, t, vr, p);
      return;
    }
    if (this.#project.unlistedAttributes === 'keep-list' && KEEP_LIST_SUSPECT_VRS.has(vr) && !this.#project.keepList.has(t) && !SAFE_TEXT.has(t)) {
      this.#apply(ds, t, vr, 'X', depth, mode, p, 'keep-list mode');
      return;
    }
    this.#log(p, 'kept', 'not in E.1-1');
  }

  #apply(ds: Dataset, t: number, vr: VR, d: Decision, depth: number, mode: Mode, p: string, because: string): void {
    const type = attributeType(this.#family, t);
    const seq = this.#isSequence(ds, t, vr);
    switch (d) {
      case 'K':
        if (seq) this.#items(ds, t, depth, mode, p);
        else if (vr === 'UI' && !this.#project.options.retainUIDs) this.#mapUid(ds, t, p, because);
        else this.#log(p, 'kept', because + ' (option K)');
        return;
      case 'C':
        return this.#cleanAction(ds, t, vr, seq, depth, p, because);
      case 'U':
        if (vr === 'UI') this.#mapUid(ds, t, p, because);
        else if (seq) this.#items(ds, t, depth, mode, p);
        else this.#remove(ds, t, p, because + ' (U on a non-UID)');
        return;
      case 'D':
        return this.#dummyAction(ds, t, vr, seq, depth, p, because);
      case 'Z':
      case 'Z/D':
        if (type === 1) return this.#dummyAction(ds, t, vr, seq, depth, p, because + ' (Type 1)');
        return this.#empty(ds, t, vr, p, because);
      case 'X/Z/U*':
        // Kept for referential integrity (RT references, source images); UIDs inside go through the map.
        if (seq) return this.#items(ds, t, depth, mode, p);
        return this.#remove(ds, t, p, because);
      case 'X':
      case 'X/Z':
      case 'X/D':
      case 'X/Z/D':
        if (type === 1) return this.#dummyAction(ds, t, vr, seq, depth, p, because + ' (Type 1)');
        if (type === 2) return this.#empty(ds, t, vr, p, because + ' (Type 2)');
        return this.#remove(ds, t, p, because);
    }
  }

  #cleanAction(ds: Dataset, t: number, vr: VR, seq: boolean, depth: number, p: string, because: string): void {
    const o = this.#project.options;
    if (seq) return this.#items(ds, t, depth, 'clean', p);
    if (vr === 'UI') return this.#mapUid(ds, t, p, because);
    if (vr === 'DA' || vr === 'DT') {
      if (o.retainLongitudinalModifiedDates) return this.#shift(ds, t, vr, p);
      return this.#apply(ds, t, vr, 'X', depth, 'normal', p, because);
    }
    if (STRING_DATE_VRS.has(vr)) return this.#log(p, 'kept', 'Modified Dates Option: times are not shifted');
    if (TEXT_VRS.has(vr)) return this.#clean(ds, t, vr, p);
    // Numbers, codes and bitmaps cannot be cleaned by a program: the only binary C is Clean Graphics on
    // overlays and curves, and a project enabling that option asserts its graphics carry no identity.
    this.#log(p, 'kept', because + ' (C)');
  }

  #dummyAction(ds: Dataset, t: number, vr: VR, seq: boolean, depth: number, p: string, because: string): void {
    if (seq) return this.#items(ds, t, depth, (ds.items(t) ?? []).some(isCodeItem) ? 'dummy-all' : 'dummy', p);
    if (vr === 'UI') return this.#mapUid(ds, t, p, because);
    this.#dummy(ds, t, vr, p, because);
  }

  #items(ds: Dataset, t: number, depth: number, mode: Mode, p: string): void {
    const items = ds.items(t) ?? [];
    items.forEach((item, i) => this.walk(item, depth + 1, mode, this.#changes ? `${p}[${i}].` : ''));
  }

  #mapUid(ds: Dataset, t: number, p: string, because: string): void {
    const values = ds.strings(t);
    if (this.#project.options.retainUIDs || CLASS_UID_TAGS.has(t) || values.every((v) => v === '' || isWellKnownUid(v))) {
      this.#log(p, 'kept', CLASS_UID_TAGS.has(t) ? 'class UID' : 'well-known UID or Retain UIDs');
      return;
    }
    this.uidSlots.push({ ds, tag: t, values });
    this.#log(p, 'uid-replaced', because);
  }

  #shift(ds: Dataset, t: number, vr: 'DA' | 'DT', p: string): void {
    this.dateSlots.push({ ds, tag: t, vr, values: ds.strings(t), type: attributeType(this.#family, t) });
    this.#log(p, 'shifted', 'Modified Dates Option');
  }

  #clean(ds: Dataset, t: number, vr: VR, p: string): void {
    const before = ds.strings(t);
    const after = before.map((v) => cleanText(v, this.#terms));
    if (after.some((v, i) => v !== before[i])) ds.setString(t, vr, after);
    this.#log(p, 'cleaned', 'C');
  }

  #dummy(ds: Dataset, t: number, vr: VR, p: string, because: string): void {
    const v = dummyValue(vr);
    if (v === undefined) return this.#empty(ds, t, vr, p, because + ' (no dummy for VR)');
    ds.setString(t, vr, v);
    this.#log(p, 'dummy', because);
  }

  #empty(ds: Dataset, t: number, vr: VR, p: string, because: string): void {
    if (vr === 'SQ') ds.setItems(t, []);
    else ds.setEmpty(t, vr);
    this.#log(p, 'emptied', because);
  }

  #remove(ds: Dataset, t: number, p: string, because: string): void {
    ds.remove(t);
    this.#log(p, 'removed', because);
  }

  #log(path: string, action: AttributeChange['action'], because: string): void {
    this.#changes?.push({ path, action, because });
  }
}

/** A code sequence item (PS3.3 8.8): its CodeValue/CodeMeaning are vocabulary, not free text. */
function isCodeItem(ds: Dataset): boolean {
  return ds.has(T.CodingSchemeDesignator);
}
