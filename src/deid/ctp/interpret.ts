// Runs an imported CTP recipe on a Dataset, with CTP's semantics (DICOMAnonymizer.anonymize):
// first elements the script requires but the object lacks are inserted (@always), then every
// element of the dataset is removed, kept or replaced. Values are computed from the object as it
// arrived (CTP keeps an untouched copy for that); changes are applied after.
//
// Sequences: CTP only looks inside a sequence whose script carries @process(). dicomgate lists
// every sequence left that way and, unless `strictSequences`, applies the script to its items too.
import { Dataset } from '../../dicom/dataset.ts';
import { lookup as dictLookup } from '../../dicom/dictionary.ts';
import { formatTag, parseTag, type Tag } from '../../dicom/tag.ts';
import type { VR } from '../../dicom/vr.ts';
import { SAFE_PRIVATE, privateKeyString } from '../safe-private.ts';
import {
  caesar, ctpDaysSince, ctpHash, ctpHashDateIncrement, ctpHashName, ctpHashPtId, ctpHashUid, ctpIncrementDate,
  ctpInitials, ctpModifyDate, ctpRoundAge,
} from './ctp-functions.ts';
import type { CtpKeys } from './ctp-keys.ts';
import type { CtpRecipe } from './recipe.ts';
import { CTP_UNSUPPORTED, type Expr, type ExprPiece } from './script-expr.ts';

export interface CtpRunOptions {
  readonly keys?: CtpKeys;
  /** Reproduce CTP exactly: sequences without @process() are left as they are. */
  readonly strictSequences?: boolean;
  /** Group 0002, for scripts that read it. */
  readonly meta?: Dataset;
  /** For @date / @time. */
  readonly now?: Date;
}

export type CtpOutcome =
  | {
      readonly kind: 'deidentified';
      readonly dataset: Dataset;
      /** After the script (hashed UIDs): for the archive and file names. */
      readonly sopInstanceUid: string | undefined;
      readonly studyInstanceUid: string | undefined;
      readonly seriesInstanceUid: string | undefined;
      /** Paths of sequences the script has no @process() for (processed anyway unless strict). */
      readonly sequencesWithoutProcess: readonly string[];
      /** Elements whose new value could not be written (CTP's "exceptions"): tags, no values. */
      readonly exceptions: readonly string[];
    }
  | { readonly kind: 'quarantined'; readonly reason: 'ctp-quarantine' | 'ctp-unsupported'; readonly detail: string }
  | { readonly kind: 'skipped'; readonly detail: string };

class Signal extends Error {
  constructor(
    readonly kind: 'quarantine' | 'skip' | 'unsupported',
    readonly detail: string,
  ) {
    super(detail);
  }
}

const SAFE = new Set(SAFE_PRIVATE.map(privateKeyString));
const DEID_METHOD_CODE_SEQ = 0x00120064;
const ALWAYS_KEPT = new Set([0x00080016, 0x00080018, 0x0020000d]);
const CODE_MEANINGS: Record<string, string> = {
  '113100': 'Basic Application Confidentiality Profile',
  '113101': 'Clean Pixel Data Option',
  '113102': 'Clean Recognizable Visual Features Option',
  '113103': 'Clean Graphics Option',
  '113104': 'Clean Structured Content Option',
  '113105': 'Clean Descriptors Option',
  '113106': 'Retain Longitudinal Temporal Information Full Dates Option',
  '113107': 'Retain Longitudinal Temporal Information Modified Dates Option',
  '113108': 'Retain Patient Characteristics Option',
  '113109': 'Retain Device Identity Option',
  '113110': 'Retain UIDs Option',
  '113111': 'Retain Safe Private Option',
  '113112': 'Retain Institution Identity Option',
};

type Change = { tag: Tag; op: 'remove' } | { tag: Tag; op: 'set'; vr: VR; value: string } | { tag: Tag; op: 'codes'; codes: string[] };

interface Level {
  readonly ds: Dataset;
  readonly root: Dataset;
  readonly isRoot: boolean;
  readonly path: string;
}

export async function applyCtpRecipe(ds: Dataset, recipe: CtpRecipe, opts: CtpRunOptions = {}): Promise<CtpOutcome> {
  const run = new Run(recipe, opts, ds);
  try {
    const inserts = await run.planInserts(ds);
    const changes = await run.planLevel({ ds, root: ds, isRoot: true, path: '' });
    run.apply(ds, inserts);
    run.apply(ds, changes);
  } catch (e) {
    if (e instanceof Signal) {
      if (e.kind === 'skip') return { kind: 'skipped', detail: e.detail };
      return { kind: 'quarantined', reason: e.kind === 'unsupported' ? 'ctp-unsupported' : 'ctp-quarantine', detail: e.detail };
    }
    throw e;
  }
  const sop = ds.string(0x00080018);
  // CTP writes a new file meta from the dataset; keep MediaStorageSOPInstanceUID in step (PS3.10 7.1).
  if (opts.meta && sop !== undefined && opts.meta.has(0x00020003)) opts.meta.setString(0x00020003, 'UI', sop);
  return {
    kind: 'deidentified',
    dataset: ds,
    sopInstanceUid: sop,
    studyInstanceUid: ds.string(0x0020000d),
    seriesInstanceUid: ds.string(0x0020000e),
    sequencesWithoutProcess: run.unprocessed,
    exceptions: run.exceptions,
  };
}

class Run {
  readonly unprocessed: string[] = [];
  readonly exceptions: string[] = [];
  constructor(
    readonly recipe: CtpRecipe,
    readonly opts: CtpRunOptions,
    readonly rootDs: Dataset,
  ) {}

  // --- element tags and values (DICOMAnonymizerContext) ---

  param(name: string): string | undefined {
    const n = name.trim();
    if (n.startsWith('@') || n.startsWith('$')) return this.recipe.params.get(n.slice(1));
    return n;
  }

  tagOf(name: string, thisTag: Tag, ds: Dataset): Tag | undefined {
    let n = name.trim();
    if (n === '' || n === 'this') return thisTag;
    if ((n.startsWith('[') && n.endsWith(']')) || (n.startsWith('(') && n.endsWith(')'))) n = n.slice(1, -1).trim();
    try {
      return parseTag(n);
    } catch {
      /* not a keyword or hex tag */
    }
    const named = this.recipe.privateNames.get(n);
    if (named !== undefined) return named;
    // gggg[BLOCK]ee: element ee of the block the creator BLOCK reserved in group gggg
    const m = /^([0-9a-fA-F]{1,4}),?\[(.*)\]([0-9a-fA-F]{2})$/.exec(n);
    if (m) {
      const group = parseInt(m[1]!, 16);
      if ((group & 1) === 0) return undefined;
      for (let b = 0x10; b <= 0xff; b++) {
        const creator = ds.string(((group << 16) | b) >>> 0);
        if (creator !== undefined && creator.trim().toUpperCase() === m[2]!.trim().toUpperCase()) return ((group << 16) | (b << 8) | parseInt(m[3]!, 16)) >>> 0;
      }
    }
    return undefined;
  }

  /** CTP contentsNull: all values joined by '\', undefined when the element is absent. */
  contentsOf(t: Tag | undefined, ds: Dataset): string | undefined {
    if (t === undefined) return undefined;
    const src = t >>> 16 === 0x0002 ? this.opts.meta : ds;
    if (!src?.has(t)) return undefined;
    if (src.vr(t) === 'SQ') return '';
    return src.strings(t).join('\\');
  }

  contents(name: string, thisTag: Tag, ds: Dataset): string | undefined {
    return this.contentsOf(this.tagOf(name, thisTag, ds), ds);
  }

  // --- global rules (processElements) ---

  async planInserts(ds: Dataset): Promise<Change[]> {
    const out: Change[] = [];
    const level: Level = { ds, root: ds, isRoot: true, path: '' };
    for (const rule of this.recipe.elements.values()) {
      const t = rule.tag;
      if (ds.has(t)) continue;
      const vr = (dictLookup(t)?.vr as VR | undefined) ?? 'SH';
      const script = rule.source.trim();
      if (t === DEID_METHOD_CODE_SEQ) {
        if (script !== '' && script !== '@remove()' && script !== '@keep()') out.push({ tag: t, op: 'codes', codes: (await this.eval(rule.expr, level, t)).trim().split('/') });
      } else if (script.startsWith('@always()') && vr !== 'SQ') {
        const v = (await this.eval(rule.expr, level, t)).trim();
        if (v === '@keep()' || v === '@remove()') continue;
        out.push({ tag: t, op: 'set', vr: isPrivate(t) ? 'LO' : vr, value: v.startsWith('@blank(') || v === '@empty()' ? '' : v });
      } else if (script.startsWith('@always()@require()') && vr === 'SQ') {
        out.push({ tag: t, op: 'set', vr: 'SQ', value: '' });
      }
    }
    return out;
  }

  async planLevel(level: Level): Promise<Change[]> {
    const { ds } = level;
    const r = this.recipe;
    const out: Change[] = [];
    for (const t of ds.tags()) {
      const group = t >>> 16;
      const isOverlay = (group & 0xff00) === 0x6000;
      const isCurve = (group & 0xff00) === 0x5000;
      const priv = isPrivate(t);
      const isCreator = priv && (t & 0xff00) === 0;
      const isSafe = priv && !isCreator && this.safePrivate(ds, t);
      const rule = r.elements.get(t);
      const keep =
        r.keepGroups.has(group) ||
        (isCreator && r.keepSafePrivate) ||
        (isSafe && r.keepSafePrivate) ||
        ALWAYS_KEPT.has(t) ||
        group === 0x0002 ||
        group === 0x0028 ||
        group === 0x7fe0 ||
        (isOverlay && !r.removeOverlays && !(priv && r.removePrivateGroups)) ||
        (isCurve && !r.removeCurves && !(priv && r.removePrivateGroups));
      if (r.removePrivateGroups && priv && !rule && !keep) out.push({ tag: t, op: 'remove' });
      else if (r.removeUnspecified && !rule && !keep) out.push({ tag: t, op: 'remove' });
      else if (r.removeOverlays && isOverlay) out.push({ tag: t, op: 'remove' });
      // CTP's remove.curves only withdraws the implicit keep of 50xx; dicomgate removes them as the flag says.
      else if (r.removeCurves && isCurve && !rule) out.push({ tag: t, op: 'remove' });
      else if (rule) {
        if (t === DEID_METHOD_CODE_SEQ) {
          const s = rule.source.trim();
          if (s === '@remove()') out.push({ tag: t, op: 'remove' });
          else if (s !== '' && s !== '@keep()') out.push({ tag: t, op: 'codes', codes: (await this.eval(rule.expr, level, t)).trim().split('/') });
          continue;
        }
        const processed = { value: false };
        const v = (await this.eval(rule.expr, level, t, processed)).trim();
        if (v.includes('@remove()')) out.push({ tag: t, op: 'remove' });
        else if (v === '@keep()') {
          if (ds.vr(t) === 'SQ' && !processed.value) await this.unprocessedSequence(level, t);
        } else if (v.startsWith('@blank(')) {
          const n = Math.min(55, Number(`0${/^@blank\(([^)]*)\)/.exec(v)?.[1]?.replace(/\D/g, '') ?? ''}`));
          out.push({ tag: t, op: 'set', vr: this.vrFor(ds, t), value: ' '.repeat(n) });
        } else out.push({ tag: t, op: 'set', vr: this.vrFor(ds, t), value: v === '@empty()' ? '' : v });
      } else if (ds.vr(t) === 'SQ') await this.unprocessedSequence(level, t);
    }
    return out;
  }

  safePrivate(ds: Dataset, t: Tag): boolean {
    const group = t >>> 16;
    const creator = ds.string(((group << 16) | ((t >>> 8) & 0xff)) >>> 0);
    if (creator === undefined) return false;
    return SAFE.has(privateKeyString({ creator, group, element: t & 0xff }));
  }

  vrFor(ds: Dataset, t: Tag): VR {
    // CTP writes private elements as LO (DICOMAnonymizerContext.putXX).
    if (isPrivate(t)) return 'LO';
    return ds.vr(t) ?? ((dictLookup(t)?.vr as VR | undefined) ?? 'SH');
  }

  async unprocessedSequence(level: Level, t: Tag): Promise<void> {
    this.unprocessed.push(`${level.path}${formatTag(t)}`);
    if (!this.opts.strictSequences) await this.processItems(level, t);
  }

  async processItems(level: Level, t: Tag): Promise<void> {
    const items = level.ds.items(t) ?? [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const changes = await this.planLevel({ ds: item, root: level.root, isRoot: false, path: `${level.path}${formatTag(t)}[${i}].` });
      this.apply(item, changes);
    }
  }

  apply(ds: Dataset, changes: readonly Change[]): void {
    for (const c of changes) {
      try {
        if (c.op === 'remove') ds.remove(c.tag);
        else if (c.op === 'codes') ds.setItems(c.tag, codeItems(c.codes, ds.items(c.tag) ?? []));
        else if (c.vr === 'SQ') ds.setItems(c.tag, []);
        else if (c.value === '') ds.setEmpty(c.tag, c.vr);
        else ds.setString(c.tag, c.vr, c.value.split('\\'));
      } catch {
        // CTP logs the tag as an "exception" and goes on; we report it (no values: they may be PHI).
        this.exceptions.push(formatTag(c.tag));
      }
    }
  }

  // --- the script language (makeReplacement) ---

  async eval(expr: Expr, level: Level, t: Tag, processed?: { value: boolean }): Promise<string> {
    let out = '';
    for (const p of expr) {
      if (p.kind === 'text') out += p.text;
      else out += await this.call(p, level, t, processed);
    }
    return out;
  }

  async call(fn: Extract<ExprPiece, { kind: 'call' }>, level: Level, t: Tag, processed?: { value: boolean }): Promise<string> {
    const { ds } = level;
    const a = fn.args;
    const arg = (i: number) => unquote(a[i] ?? '');
    const intParam = (i: number, dflt: number) => {
      const n = Number.parseInt(this.param(a[i] ?? '') ?? '', 10);
      return Number.isNaN(n) ? dflt : n;
    };
    const contents = (i: number) => this.contents(a[i] ?? '', t, ds);
    switch (fn.name) {
      case 'keep':
      case 'remove':
      case 'empty':
      case 'blank':
        return `@${fn.name}(${a.join(',')})`;
      case 'always':
        return '';
      case 'contents': {
        const v = contents(0);
        if (v === undefined) return '';
        if (a.length === 2) return v.replace(javaRegex(arg(1)), '');
        if (a.length === 3) return v.replace(javaRegex(arg(1)), javaReplacement(arg(2)));
        return v;
      }
      case 'value': {
        const v = contents(0) ?? '';
        return v !== '' ? v : arg(1);
      }
      case 'truncate': {
        const v = contents(0) ?? '';
        const n = Number.parseInt(a[1] ?? '', 10);
        if (Number.isNaN(n)) return v;
        return n >= 0 ? v.slice(0, n) : v.trim().slice(Math.max(0, v.trim().length + n));
      }
      case 'lowercase':
        return (contents(0) ?? '').toLowerCase();
      case 'uppercase':
        return (contents(0) ?? '').toUpperCase();
      case 'param':
        return this.param(a[0] ?? '') ?? '';
      case 'pathelement': {
        const s = contents(0) ?? '';
        const parts = s.split('/');
        let idx = Number.parseInt(a[1] ?? '', 10);
        if (Number.isNaN(idx)) return s;
        if (idx < 0) idx += parts.length;
        return idx >= 0 && idx < parts.length ? parts[idx]! : s;
      }
      case 'date':
      case 'time':
        return nowText(fn.name, arg(0), this.opts.now ?? new Date());
      case 'require': {
        if (this.contentsOf(t, ds) !== undefined) return '@keep()';
        if (a.length === 0) return '';
        const other = this.contents(a[0]!, t, ds);
        const v = other ?? (a.length > 1 ? arg(1) : '');
        return v.trim() === '' ? `@blank(${v.length})` : v;
      }
      case 'hash': {
        const v = contents(0);
        if (v === undefined) return '@remove()';
        return ctpHash(v, intParam(1, Number.MAX_SAFE_INTEGER));
      }
      case 'hashname': {
        const v = contents(0) ?? '';
        return ctpHashName(v, intParam(1, 4), intParam(2, Number.MAX_SAFE_INTEGER));
      }
      case 'hashptid': {
        if (a.length < 2) return `(${a.join(',')})`;
        return ctpHashPtId(this.param(a[0]!) ?? '', this.contents(a[1]!, t, ds) ?? 'null', intParam(2, Number.MAX_SAFE_INTEGER));
      }
      case 'hashuid': {
        if (a.length < 2) return `(${a.join(',')})`;
        const prefix = a[0]!.trim().startsWith('@') ? this.param(a[0]!) ?? '' : contents(0) ?? '';
        let uid = contents(1);
        if (uid === undefined) return '@remove()';
        if (a.length > 2) {
          const other = this.tagOf(a[2]!, t, ds);
          const rule = other === undefined ? undefined : this.recipe.elements.get(other);
          if (rule && other !== undefined) uid += await this.eval(rule.expr, level, other);
        }
        return ctpHashUid(prefix, uid);
      }
      case 'hashdate': {
        const date = contents(0);
        if (date === undefined) return '@remove()';
        if (date.length < 8) return '@empty()';
        const unhashed = contents(1);
        if (unhashed === undefined) return '@remove()';
        return mapDates(date, (d) => ctpIncrementDate(d, ctpHashDateIncrement(unhashed))) ?? '@empty()';
      }
      case 'incrementdate': {
        const date = contents(0);
        if (date === undefined) return '@remove()';
        if (date.length < 8) return '@empty()';
        const inc = Number.parseInt(this.param(a[1] ?? '') ?? '', 10);
        if (Number.isNaN(inc)) return '@empty()';
        return mapDates(date, (d) => ctpIncrementDate(d, inc)) ?? '@empty()';
      }
      case 'modifydate': {
        const date = contents(0);
        if (date === undefined) return '@remove()';
        if (date.length < 8) return '@empty()';
        const f = (i: number) => {
          const n = Number.parseInt((this.param(a[i] ?? '') ?? '').trim(), 10);
          return Number.isNaN(n) ? -1 : n;
        };
        return mapDates(date, (d) => ctpModifyDate(d, f(1), f(2), f(3))) ?? '@empty()';
      }
      case 'round': {
        try {
          return ctpRoundAge(contents(0) ?? '', Number.parseInt(this.param(a[1] ?? '') ?? '', 10));
        } catch {
          return `(${a.join(',')})`;
        }
      }
      case 'initials': {
        const s = ctpInitials(contents(0) ?? '');
        return a.length > 1 ? caesar(s, intOr(a[1], 0)) : s;
      }
      case 'lookup':
        return this.lookupFn(fn, level, t);
      case 'integer': {
        const text = contents(0);
        if (text === undefined || !this.opts.keys) throw new Signal('quarantine', `@integer on ${formatTag(t)}: ${text === undefined ? 'element missing' : 'no key database'}`);
        return this.opts.keys.integer(a[1] ?? '', text, intOr(a[2], 0));
      }
      case 'dateinterval':
        return this.dateInterval(fn, level, t);
      case 'if':
        return (await this.condition(fn, ds, t)) ? this.eval(fn.then ?? [], level, t) : this.eval(fn.else ?? [], level, t);
      case 'select':
        return level.isRoot ? this.eval(fn.then ?? [], level, t) : this.eval(fn.else ?? [], level, t);
      case 'append': {
        const v = await this.eval(fn.then ?? [], level, t);
        const cur = this.contentsOf(t, ds);
        if (cur === undefined || ds.strings(t).length === 0) return v;
        return `${cur}\\${v}`;
      }
      case 'process':
        if (ds.vr(t) === 'SQ') {
          await this.processItems(level, t);
          if (processed) processed.value = true;
        }
        return '@keep()';
      case 'quarantine':
        throw new Signal('quarantine', `@quarantine() on ${formatTag(t)}`);
      case 'skip':
        throw new Signal('skip', `@skip() on ${formatTag(t)}`);
      default:
        if (CTP_UNSUPPORTED.has(fn.name)) throw new Signal('unsupported', `@${fn.name} on ${formatTag(t)}: ${CTP_UNSUPPORTED.get(fn.name)}`);
        // CTP writes an unknown call back as text; such text would end up in the object, so refuse it.
        throw new Signal('unsupported', `unknown function @${fn.name} on ${formatTag(t)}`);
    }
  }

  async condition(fn: Extract<ExprPiece, { kind: 'call' }>, ds: Dataset, t: Tag): Promise<boolean> {
    const a = fn.args;
    if (a.length < 2) return false;
    const tag = this.tagOf(unquote(a[0]!), t, ds);
    const element = this.contentsOf(tag, ds);
    const cmp = () => {
      const s = unquote(a[2] ?? '');
      return s.startsWith('@') ? this.param(s) ?? s : s;
    };
    switch (a[1]) {
      case 'isblank':
        return element === undefined || element.trim() === '';
      case 'contains':
        return element !== undefined && a.length >= 3 && element.toLowerCase().includes(cmp().toLowerCase());
      case 'equals':
        return element !== undefined && a.length >= 3 && element.toLowerCase() === cmp().toLowerCase();
      case 'matches':
        return element !== undefined && a.length >= 3 && new RegExp(`^(?:${cmp().trim()})$`).test(element);
      case 'exists':
        return tag !== undefined && ds.has(tag);
      case 'greaterthan': {
        if (element === undefined || a.length < 3) return false;
        const n = (s: string) => intOr(s.replace(/[^0-9]/g, ''), 0);
        return n(element) > n(cmp());
      }
      default:
        return false;
    }
  }

  async lookupKey(keyType: string, key: string): Promise<string> {
    if (!this.opts.keys) throw new Error('missing lookup table');
    let v = await this.opts.keys.lookup(keyType, key);
    if (v === undefined) throw new Error('missing key');
    // "@keyType/key" values point at another entry (CTP follows up to 10 indirections).
    for (let n = 0; v.startsWith('@') && v.includes('/'); n++) {
      if (n >= 10) throw new Error('too many indirections');
      const ref: string = v.slice(1).trim();
      const slash = ref.indexOf('/');
      const next: string | undefined = await this.opts.keys.lookup(ref.slice(0, slash), ref.slice(slash + 1));
      if (next === undefined) throw new Error('missing key');
      v = next;
    }
    return v.trim();
  }

  async lookupFn(fn: Extract<ExprPiece, { kind: 'call' }>, level: Level, t: Tag): Promise<string> {
    const a = fn.args;
    let key = '';
    try {
      key = (a[0] ?? '')
        .split('|')
        .map((n) => this.contents(n.trim(), t, level.ds) ?? '')
        .join('|')
        .replace(/\\/g, '');
      return await this.lookupKey(a[1] ?? '', key);
    } catch {
      if (a.length > 2) {
        const action = unquote(a[2]!).trim();
        if (action === 'keep') return '@keep()';
        if (action === 'remove') return '@remove()';
        if (action === 'empty') return '@empty()';
        if (a.length > 3) {
          if (action === 'default') return unquote(a[3]!).trim();
          if (action === 'ignore' && new RegExp(`^(?:${unquote(a[3]!)})$`).test(key)) return key;
        }
      }
      throw new Signal('quarantine', `@lookup on ${formatTag(t)}: no entry for the key`);
    }
  }

  async dateInterval(fn: Extract<ExprPiece, { kind: 'call' }>, level: Level, t: Tag): Promise<string> {
    const a = fn.args;
    try {
      if (a.length > 2) {
        let date = this.contents(a[0]!, t, level.ds) ?? '';
        // The key element is read from the root dataset, also inside sequence items.
        const key = this.contents(a[2]!, t, level.root);
        if (key === undefined) throw new Error('key missing');
        const base = await this.lookupKey(a[1]!, key);
        if (date.length > 8) date = date.slice(0, 8);
        const days = ctpDaysSince(date, base);
        if (a.length === 3) return String(days);
        return ctpIncrementDate(this.param(a[3]!) ?? '', days);
      }
    } catch {
      /* quarantined below, as CTP does */
    }
    throw new Signal('quarantine', `@dateinterval on ${formatTag(t)} failed`);
  }
}

function isPrivate(t: Tag): boolean {
  return ((t >>> 16) & 1) === 1;
}

/** Integer text, or the default when it does not parse (Java's parseInt failing over to a default). */
function intOr(s: string | undefined, dflt: number): number {
  const n = Number.parseInt(s ?? '', 10);
  return Number.isNaN(n) ? dflt : n;
}

function unquote(s: string): string {
  const v = s.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function mapDates(value: string, f: (d: string) => string): string | undefined {
  try {
    return value.split('\\').map(f).join('\\');
  } catch {
    return undefined;
  }
}

function nowText(kind: 'date' | 'time', sep: string, now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return kind === 'date'
    ? [p(now.getFullYear(), 4), p(now.getMonth() + 1), p(now.getDate())].join(sep)
    : [p(now.getHours()), p(now.getMinutes()), p(now.getSeconds())].join(sep);
}

// Java's replaceAll: a regex, every match; '$n' group references work the same in JS.
function javaRegex(re: string): RegExp {
  return new RegExp(re, 'g');
}

function javaReplacement(s: string): string {
  return s.replace(/\\\$/g, '$$$$');
}

function codeItems(codes: readonly string[], existing: Dataset[]): Dataset[] {
  let items = [...existing];
  for (const raw of codes) {
    const code = raw.trim();
    if (code === '') continue;
    if (code.toLowerCase() === 'reset') {
      items = [];
      continue;
    }
    const meaning = CODE_MEANINGS[code];
    const item = new Dataset();
    item.setString(0x00080102, 'SH', meaning ? 'DCM' : 'UNKNOWN');
    item.setString(0x00080100, 'SH', code);
    item.setString(0x00080104, 'LO', meaning ?? 'UNKNOWN');
    items.push(item);
  }
  return items;
}
