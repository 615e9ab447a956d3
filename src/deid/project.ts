// De-identification projects: a recipe (profile options, per-tag overrides, private keep-list,
// burned-in policy) plus a pseudonym namespace and policy in the key database. `basic` and
// `longitudinal` exist without configuration; config file entries (ResolvedConfig.projects) are
// validated here into a frozen Project. The lead's config schema can embed ProjectConfig as is.
import { AppError } from '../core/errors.ts';
import { parseTag } from '../dicom/tag.ts';
import type { PseudonymPolicy } from './pseudonymizer.ts';
import { NO_OPTIONS, type DeidOptions } from './options.ts';
import { parsePrivateTagKey, privateKeyString } from './safe-private.ts';

/** What to do with one attribute wherever it occurs, overriding the profile. */
export type TagOverride = 'keep' | 'remove' | 'empty' | { readonly replace: string };

/** Pixel region to blank for one kind of device (Clean Pixel Data option). */
export interface PixelRegionRule {
  readonly manufacturer: string;
  readonly model: string;
  readonly rows: number;
  readonly columns: number;
  /** [x, y, width, height] in pixels. */
  readonly regions: readonly (readonly [number, number, number, number])[];
}

/** A project as written in the configuration file (all keys optional). */
export interface ProjectConfig {
  /** Start from a built-in project ('basic' unless given). */
  readonly extends?: 'basic' | 'longitudinal';
  readonly options?: Partial<DeidOptions>;
  /** Keyed by tag "(0010,1010)" / "00101010" or keyword "PatientAge". */
  readonly overrides?: Readonly<Record<string, TagOverride>>;
  readonly pseudonym?: { readonly idPattern?: string; readonly namePattern?: string; readonly prefix?: string };
  /** Inclusive [min, max] days; 0 must not be inside unless both are 0. */
  readonly dateShiftDays?: readonly [number, number];
  /** Root for new UIDs; default 2.25.<UUID>. */
  readonly uidRoot?: string;
  /** Private attributes to keep, written `(0019,"SIEMENS MR HEADER",0C)`. */
  readonly privateKeep?: readonly string[];
  /** 'keep' (default, as PS3.15 presumes) or 'keep-list': unlisted standard attributes survive only if listed in keepList. */
  readonly unlistedAttributes?: 'keep' | 'keep-list';
  readonly keepList?: readonly string[];
  /** Burned-in annotation handling: accept objects anyway, or blank regions per device. */
  readonly burnedIn?: { readonly accept?: boolean; readonly regions?: readonly PixelRegionRule[] };
}

export type ResolvedOverride = { readonly kind: 'keep' | 'remove' | 'empty' } | { readonly kind: 'replace'; readonly value: string };

export interface Project {
  readonly name: string;
  readonly options: DeidOptions;
  readonly overrides: ReadonlyMap<number, ResolvedOverride>;
  readonly policy: PseudonymPolicy;
  /** privateKeyString() of private attributes kept besides the safe list. */
  readonly privateKeep: ReadonlySet<string>;
  readonly unlistedAttributes: 'keep' | 'keep-list';
  readonly keepList: ReadonlySet<number>;
  readonly burnedIn: { readonly accept: boolean; readonly regions: readonly PixelRegionRule[] };
}

const BASIC: ProjectConfig = {
  pseudonym: { idPattern: '{prefix}{seq:06}', namePattern: '{id}^', prefix: 'ANON' },
  dateShiftDays: [-1095, -30],
};

const LONGITUDINAL: ProjectConfig = {
  ...BASIC,
  options: { retainLongitudinalModifiedDates: true, retainPatientCharacteristics: true },
};

export const BUILTIN_PROJECTS: Readonly<Record<string, ProjectConfig>> = { basic: BASIC, longitudinal: LONGITUDINAL };

const UID_ROOT = /^[1-9]\d*(\.(0|[1-9]\d*))*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates one project; reports every problem at once. */
export function compileProject(name: string, raw: unknown): Project {
  const problems: string[] = [];
  if (!isObject(raw)) throw new AppError('DEID_PROJECT_INVALID', { detail: `project ${name}: not an object` });
  const cfg = raw as ProjectConfig;
  const base = cfg.extends === undefined ? BASIC : BUILTIN_PROJECTS[cfg.extends];
  if (!base) problems.push(`extends must be basic or longitudinal`);
  const merged: ProjectConfig = { ...base, ...cfg, pseudonym: { ...base?.pseudonym, ...cfg.pseudonym }, options: { ...base?.options, ...cfg.options } };

  const options = { ...NO_OPTIONS } as Record<string, boolean>;
  for (const [k, v] of Object.entries(merged.options ?? {})) {
    if (!(k in NO_OPTIONS)) problems.push(`unknown option ${k}`);
    else if (typeof v !== 'boolean') problems.push(`option ${k} must be true or false`);
    else options[k] = v;
  }
  if (options.retainLongitudinalFullDates && options.retainLongitudinalModifiedDates) {
    problems.push('retainLongitudinalFullDates and retainLongitudinalModifiedDates exclude each other');
  }

  const overrides = new Map<number, ResolvedOverride>();
  for (const [k, v] of Object.entries(merged.overrides ?? {})) {
    let t: number | undefined;
    try {
      t = parseTag(k);
    } catch {
      problems.push(`override key ${k} is not a tag or keyword`);
      continue;
    }
    if (v === 'keep' || v === 'remove' || v === 'empty') overrides.set(t, { kind: v });
    else if (isObject(v) && typeof v.replace === 'string') overrides.set(t, { kind: 'replace', value: v.replace });
    else problems.push(`override ${k} must be keep, remove, empty or { replace: "..." }`);
  }

  const p = merged.pseudonym ?? {};
  const idPattern = p.idPattern ?? '{prefix}{seq:06}';
  if (!/\{(seq|random)(:\d+)?\}/.test(idPattern)) problems.push('pseudonym.idPattern needs {seq} or {random}: a fixed ID would merge patients');
  const shift = merged.dateShiftDays ?? [-1095, -30];
  if (!Array.isArray(shift) || shift.length !== 2 || !shift.every(Number.isInteger) || shift[0] > shift[1]) {
    problems.push('dateShiftDays must be [min, max] integers with min <= max');
  } else if (shift[0] <= 0 && shift[1] >= 0 && !(shift[0] === 0 && shift[1] === 0)) {
    problems.push('dateShiftDays must not include 0: a zero shift keeps the real dates');
  }
  if (merged.uidRoot !== undefined && (!UID_ROOT.test(merged.uidRoot) || merged.uidRoot.length > 40)) {
    problems.push('uidRoot must be a valid UID root of at most 40 characters');
  }

  const privateKeep = new Set<string>();
  for (const s of merged.privateKeep ?? []) {
    const k = parsePrivateTagKey(s);
    if (k) privateKeep.add(privateKeyString(k));
    else problems.push(`privateKeep entry ${s} is not (gggg,"CREATOR",ee) with an odd group`);
  }
  const keepList = new Set<number>();
  for (const s of merged.keepList ?? []) {
    try {
      keepList.add(parseTag(s));
    } catch {
      problems.push(`keepList entry ${s} is not a tag or keyword`);
    }
  }
  const unlisted = merged.unlistedAttributes ?? 'keep';
  if (unlisted !== 'keep' && unlisted !== 'keep-list') problems.push('unlistedAttributes must be keep or keep-list');

  if (problems.length > 0) throw new AppError('DEID_PROJECT_INVALID', { detail: `project ${name}: ${problems.join('; ')}` });
  return Object.freeze({
    name,
    options: Object.freeze(options as unknown as DeidOptions),
    overrides,
    policy: Object.freeze({
      idPattern,
      namePattern: p.namePattern ?? '{id}^',
      prefix: p.prefix ?? 'ANON',
      dateShiftDays: [shift[0], shift[1]] as const,
      uidRoot: merged.uidRoot,
    }),
    privateKeep,
    unlistedAttributes: unlisted,
    keepList,
    burnedIn: { accept: merged.burnedIn?.accept ?? false, regions: merged.burnedIn?.regions ?? [] },
  });
}

/** The project `name` from the config's projects, or a built-in. */
export function resolveProject(name: string, configured: Readonly<Record<string, unknown>> = {}): Project {
  const raw = Object.hasOwn(configured, name) ? configured[name] : BUILTIN_PROJECTS[name];
  if (raw === undefined) {
    const known = [...new Set([...Object.keys(BUILTIN_PROJECTS), ...Object.keys(configured)])].sort().join(', ');
    throw new AppError('DEID_PROJECT_UNKNOWN', { detail: `no project "${name}" (known: ${known})` });
  }
  return compileProject(name, raw);
}
