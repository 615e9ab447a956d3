// The `pipelines` block of the configuration, validated into typed pipelines (every problem is
// reported at once). One block says, e.g., "everything arriving at AE RESEARCH_IN is de-identified
// with project X, stored, and forwarded to PACS Y when the study is stable":
//
//   pipelines:
//     research:
//       intake: { calledAe: RESEARCH_IN }
//       stages:
//         - filter: "Modality in [CT, RTSTRUCT, RTPLAN, RTDOSE]"
//         - deid: { project: X }
//         - store: true
//         - route: { destination: PACS_Y, trigger: stable-study }
import { AppError } from '../core/errors.ts';
import { compileFilter, type FilterContext, type FilterPredicate } from './filter-expr.ts';

export type IntakeSource = 'dimse' | 'stow' | 'upload' | 'folder';
export type RouteTrigger = 'instance' | 'stable-series' | 'stable-study' | 'manual';

export interface IntakeMatch {
  readonly calledAe?: string;
  readonly callingAe?: string;
  readonly sources?: readonly IntakeSource[];
}

export type PipelineStage =
  | { readonly kind: 'filter'; readonly expression: string; readonly predicate: FilterPredicate; readonly onMismatch: 'skip' | 'reject' | 'quarantine' }
  | { readonly kind: 'deid'; readonly project: string }
  | { readonly kind: 'store' }
  | { readonly kind: 'route'; readonly destination: string; readonly trigger: RouteTrigger };

export interface Pipeline {
  readonly name: string;
  readonly intake: IntakeMatch;
  readonly stages: readonly PipelineStage[];
}

const SOURCES: readonly IntakeSource[] = ['dimse', 'stow', 'upload', 'folder'];
const TRIGGERS: readonly RouteTrigger[] = ['instance', 'stable-series', 'stable-study', 'manual'];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `known` lets the validator check names against the configured projects and destinations. */
export function compilePipelines(raw: unknown, known: { projects?: readonly string[]; destinations?: readonly string[] } = {}): Pipeline[] {
  const problems: string[] = [];
  const out: Pipeline[] = [];
  if (raw === undefined) return out;
  if (!isObj(raw)) throw new AppError('PIPELINE_CONFIG_INVALID', { detail: 'pipelines must be an object keyed by pipeline name' });
  for (const [name, p] of Object.entries(raw)) {
    const at = (s: string) => problems.push(`pipelines.${name}: ${s}`);
    if (!isObj(p)) {
      at('must be an object with intake and stages');
      continue;
    }
    const intake: { calledAe?: string; callingAe?: string; sources?: IntakeSource[] } = {};
    const i = p.intake ?? {};
    if (!isObj(i)) at('intake must be an object');
    else {
      for (const k of Object.keys(i)) if (!['calledAe', 'callingAe', 'sources'].includes(k)) at(`intake.${k} is not a setting (calledAe, callingAe, sources)`);
      if (i.calledAe !== undefined) typeof i.calledAe === 'string' ? (intake.calledAe = i.calledAe) : at('intake.calledAe must be text');
      if (i.callingAe !== undefined) typeof i.callingAe === 'string' ? (intake.callingAe = i.callingAe) : at('intake.callingAe must be text');
      if (i.sources !== undefined) {
        if (!Array.isArray(i.sources) || !i.sources.every((s) => SOURCES.includes(s as IntakeSource))) at(`intake.sources must list ${SOURCES.join(', ')}`);
        else intake.sources = i.sources as IntakeSource[];
      }
    }
    const stages: PipelineStage[] = [];
    if (!Array.isArray(p.stages) || p.stages.length === 0) at('stages must be a non-empty list');
    else
      p.stages.forEach((s: unknown, n: number) => {
        const st = (m: string) => at(`stages[${n}]: ${m}`);
        if (!isObj(s) || Object.keys(s).length === 0) return st('must be one of filter, deid, store, route');
        const keys = Object.keys(s).filter((k) => k !== 'onMismatch');
        if (keys.length !== 1) return st(`exactly one of filter, deid, store, route (got ${keys.join(', ')})`);
        const kind = keys[0]!;
        const v = s[kind];
        if (kind === 'filter') {
          if (typeof v !== 'string') return st('filter must be an expression string');
          const onMismatch = (s.onMismatch ?? 'skip') as string;
          if (!['skip', 'reject', 'quarantine'].includes(onMismatch)) return st('onMismatch must be skip, reject or quarantine');
          try {
            stages.push({ kind: 'filter', expression: v, predicate: compileFilter(v), onMismatch: onMismatch as 'skip' });
          } catch (e) {
            st((e as AppError).detail ?? 'bad filter');
          }
        } else if (kind === 'deid') {
          const project = isObj(v) ? v.project : undefined;
          if (typeof project !== 'string') return st('deid needs { project: <name> }');
          if (known.projects && !known.projects.includes(project)) return st(`unknown project ${project}`);
          stages.push({ kind: 'deid', project });
        } else if (kind === 'store') {
          if (v !== true && !isObj(v)) return st('store takes true or {}');
          stages.push({ kind: 'store' });
        } else if (kind === 'route') {
          const destination = isObj(v) ? v.destination : undefined;
          const trigger = (isObj(v) ? v.trigger : undefined) ?? 'instance';
          if (typeof destination !== 'string') return st('route needs { destination: <name> }');
          if (known.destinations && !known.destinations.includes(destination)) return st(`unknown destination ${destination}`);
          if (!TRIGGERS.includes(trigger as RouteTrigger)) return st(`trigger must be ${TRIGGERS.join(', ')}`);
          stages.push({ kind: 'route', destination, trigger: trigger as RouteTrigger });
        } else st(`unknown stage ${kind}`);
      });
    const storeAt = stages.findIndex((s) => s.kind === 'store');
    const deidAt = stages.findIndex((s) => s.kind === 'deid');
    if (storeAt >= 0 && deidAt > storeAt) at('deid after store would archive the identified object');
    if (stages.some((s) => s.kind === 'route' && s.trigger !== 'instance') && storeAt < 0) at('stable-series/stable-study/manual routes send from the archive: add a store stage');
    out.push({ name, intake: Object.freeze(intake), stages });
  }
  if (problems.length > 0) throw new AppError('PIPELINE_CONFIG_INVALID', { detail: problems.join('; ') });
  return out;
}

/**
 * The first pipeline whose intake matches; undefined: the default behaviour (plain archive).
 * `project`: the de-identification project the instance went through (gateway intakes). A pipeline
 * with a deid stage only takes instances de-identified with its project, so its routes can never
 * forward an identified object from a plain intake.
 */
export function selectPipeline(pipelines: readonly Pipeline[], ctx: FilterContext & { readonly project?: string }): Pipeline | undefined {
  return pipelines.find((p) => {
    const i = p.intake;
    const deid = deidProject(p);
    if (deid !== undefined && deid !== ctx.project) return false;
    if (i.calledAe !== undefined && i.calledAe !== ctx.calledAe) return false;
    if (i.callingAe !== undefined && i.callingAe !== ctx.callingAe) return false;
    if (i.sources !== undefined && !i.sources.includes(ctx.source as IntakeSource)) return false;
    return true;
  });
}

export function deidProject(p: Pipeline): string | undefined {
  const d = p.stages.find((s) => s.kind === 'deid');
  return d?.kind === 'deid' ? d.project : undefined;
}

/** HTTP intakes a pipeline can bind to: the project's STOW route and upload route. */
export type HttpIntake = 'stow' | 'upload';
/** Intakes bound to a project by name rather than by called AE: its HTTP routes and its watch folders. */
export type ProjectIntake = HttpIntake | 'folder';

/**
 * A pipeline with filter/deid stages and no called AE binds HTTP intakes instead: with
 * `intake.sources: [stow]` and `deid: {project: X}`, `POST /projects/X/dicom-web/studies`; with
 * `[upload]`, `POST /projects/X/instances`; with `[folder]`, the watch folders bound to X
 * (`watchFolders[].project`). True when the pipeline is such a binding.
 */
export function bindsHttpIntakes(p: Pipeline): boolean {
  const src = p.intake.sources;
  return p.intake.calledAe === undefined && src !== undefined && src.length > 0 && src.every((s) => s === 'stow' || s === 'upload' || s === 'folder');
}

/** The first pipeline bound to that HTTP or folder intake of that project, if any (as selectPipeline would pick). */
export function httpIntakePipeline(pipelines: readonly Pipeline[], intake: ProjectIntake, project: string): Pipeline | undefined {
  return pipelines.find((p) => bindsHttpIntakes(p) && p.intake.sources!.includes(intake) && deidProject(p) === project);
}
