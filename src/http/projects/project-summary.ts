// A project as the Projects page and API show it: where it comes from, its profile options, overrides,
// pseudonym scheme and the other settings, as plain JSON. Never holds keys or patient data.
import { lookup } from '../../dicom/dictionary.ts';
import { formatTag } from '../../dicom/tag.ts';
import { BUILTIN_PROJECTS, compileProject, type Project } from '../../deid/project.ts';

export interface ProjectSummary {
  name: string;
  source: 'built-in' | 'configured';
  /** Set when the configured project does not compile; the other fields are then absent. */
  error?: string;
  extends?: string;
  /** Every Table E.1-1 option with its value. */
  options?: Record<string, boolean>;
  pseudonym?: { idPattern: string; namePattern: string; prefix: string; dateShiftDays: readonly [number, number]; uidRoot: string };
}

export interface ProjectDetail extends ProjectSummary {
  overrides?: { tag: string; keyword: string; action: string; value?: string }[];
  privateKeep?: string[];
  unlistedAttributes?: 'keep' | 'keep-list';
  keepList?: { tag: string; keyword: string }[];
  burnedIn?: { accept: boolean; regionRules: number };
}

export function projectNames(configured: Readonly<Record<string, unknown>>): string[] {
  return [...new Set([...Object.keys(BUILTIN_PROJECTS), ...Object.keys(configured)])].sort();
}

export function rawProject(name: string, configured: Readonly<Record<string, unknown>>): { raw: unknown; source: 'built-in' | 'configured' } | undefined {
  if (Object.hasOwn(configured, name)) return { raw: configured[name], source: 'configured' };
  if (Object.hasOwn(BUILTIN_PROJECTS, name)) return { raw: BUILTIN_PROJECTS[name], source: 'built-in' };
  return undefined;
}

const named = (t: number) => ({ tag: formatTag(t), keyword: lookup(t)?.keyword ?? '' });

function summarize(name: string, source: ProjectSummary['source'], raw: unknown, p: Project): ProjectSummary {
  const ext = (raw as { extends?: unknown } | null)?.extends;
  return {
    name,
    source,
    ...(typeof ext === 'string' ? { extends: ext } : {}),
    options: { ...p.options },
    pseudonym: { ...p.policy, uidRoot: p.policy.uidRoot ?? '2.25.<UUID>' },
  };
}

/** The project's summary or detail; a configured project that does not compile reports its error. */
export function describeProject(name: string, configured: Readonly<Record<string, unknown>>, detail: boolean): ProjectDetail | undefined {
  const found = rawProject(name, configured);
  if (found === undefined) return undefined;
  let p: Project;
  try {
    p = compileProject(name, found.raw);
  } catch (e) {
    return { name, source: found.source, error: e instanceof Error ? e.message : String(e) };
  }
  const base = summarize(name, found.source, found.raw, p);
  if (!detail) return base;
  return {
    ...base,
    overrides: [...p.overrides].map(([t, o]) => ({ ...named(t), action: o.kind, ...(o.kind === 'replace' ? { value: o.value } : {}) })),
    privateKeep: [...p.privateKeep],
    unlistedAttributes: p.unlistedAttributes,
    keepList: [...p.keepList].map(named),
    burnedIn: { accept: p.burnedIn.accept, regionRules: p.burnedIn.regions.length },
  };
}
