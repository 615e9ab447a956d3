// What one intake stage decided about one object (CTP's pipeline stage results, typed):
// pass on to the next stage, skip (drop quietly: not for this pipeline), quarantine (kept aside
// with a reason, visible to a broker and releasable), reject (refused; the sender is told).
import type { Dataset } from '../dicom/dataset.ts';

export type StageOutcome =
  | { readonly kind: 'pass'; readonly dataset: Dataset }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'quarantine'; readonly reason: string; readonly detail?: string }
  | { readonly kind: 'reject'; readonly reason: string; readonly detail?: string };

export interface IntakeStage<C> {
  readonly name: string;
  run(ds: Dataset, ctx: C): Promise<StageOutcome>;
}

/** Runs stages in order until one does not pass; returns that outcome (or the last pass). */
export async function runStages<C>(stages: readonly IntakeStage<C>[], ds: Dataset, ctx: C): Promise<StageOutcome & { stage?: string }> {
  let current = ds;
  for (const s of stages) {
    const out = await s.run(current, ctx);
    if (out.kind !== 'pass') return { ...out, stage: s.name };
    current = out.dataset;
  }
  return { kind: 'pass', dataset: current };
}
