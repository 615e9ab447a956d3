import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/core/errors.ts';
import { Dataset } from '../../src/dicom/dataset.ts';
import { T } from '../../src/dicom/tag.ts';
import { compileFilter } from '../../src/pipeline/filter-expr.ts';
import { compilePipelines, selectPipeline } from '../../src/pipeline/pipeline-config.ts';
import { runStages, type IntakeStage } from '../../src/pipeline/stage-outcome.ts';

function ds(modality: string, desc?: string): Dataset {
  const d = new Dataset();
  d.setString(T.Modality, 'CS', modality);
  if (desc !== undefined) d.setString(T.SeriesDescription, 'LO', desc);
  d.setString(T.ImageType, 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']);
  return d;
}

describe('filter expressions', () => {
  it('in, matches, ==, !=, contains, exists, and/or/not, parentheses, intake keys', () => {
    const f = (s: string, d: Dataset, c = {}) => compileFilter(s)(d, c);
    assert.equal(f('Modality in [CT, RTSTRUCT]', ds('CT')), true);
    assert.equal(f('Modality in [CT, RTSTRUCT]', ds('MR')), false);
    assert.equal(f('SeriesDescription matches /^PLAN/i', ds('CT', 'plan 1')), true);
    assert.equal(f('SeriesDescription matches /^PLAN/i', ds('CT', 'x plan')), false);
    assert.equal(f('SeriesDescription matches /^PLAN/i', ds('CT')), false, 'absent never matches');
    assert.equal(f('ImageType == AXIAL', ds('CT')), true, 'any value of a multi-valued attribute');
    assert.equal(f('Modality != SR and (0008,103E) exists', ds('CT', 'a')), true);
    assert.equal(f('not SeriesDescription exists or Modality == "MR"', ds('CT')), true);
    assert.equal(f('(Modality == CT or Modality == MR) and not ImageType contains LOCAL', ds('MR')), true);
    assert.equal(f('CalledAE == RESEARCH_IN', ds('CT'), { calledAe: 'RESEARCH_IN' }), true);
    assert.equal(f('CallingAE in [TPS, PACS]', ds('CT'), { callingAe: 'OTHER' }), false);
  });

  it('rejects malformed expressions with a position', () => {
    for (const bad of ['Modality in CT', 'Nope == 1', 'Modality ==', 'Modality = CT', 'Modality matches PLAN', '(Modality == CT', 'Modality == CT extra', 'SeriesDescription matches /[/']) {
      assert.throws(() => compileFilter(bad), (e) => isAppError(e, 'PIPELINE_CONFIG_INVALID') && /position \d+/.test((e as Error).message), bad);
    }
  });
});

describe('pipelines config', () => {
  const raw = {
    research: {
      intake: { calledAe: 'RESEARCH_IN' },
      stages: [{ filter: 'Modality in [CT, RTSTRUCT, RTPLAN, RTDOSE]', onMismatch: 'reject' }, { deid: { project: 'X' } }, { store: true }, { route: { destination: 'PACS_Y', trigger: 'stable-study' } }],
    },
    everything: { stages: [{ store: {} }] },
  };

  it('compiles the issue example and selects by intake', () => {
    const ps = compilePipelines(raw, { projects: ['X'], destinations: ['PACS_Y'] });
    assert.deepEqual(ps[0]!.stages.map((s) => s.kind), ['filter', 'deid', 'store', 'route']);
    assert.equal(selectPipeline(ps, { calledAe: 'RESEARCH_IN', project: 'X' })?.name, 'research');
    // A deid pipeline only takes what was de-identified with its project (the gateway sets it).
    assert.equal(selectPipeline(ps, { calledAe: 'RESEARCH_IN' })?.name, 'everything');
    assert.equal(selectPipeline(ps, { calledAe: 'RESEARCH_IN', project: 'other' })?.name, 'everything');
    assert.equal(selectPipeline(ps, { calledAe: 'OTHER' })?.name, 'everything');
  });

  it('reports every problem at once', () => {
    const bad = {
      a: { intake: { calledAe: 5, bogus: 1 }, stages: [{ filter: 'Modality in' }, { store: true }, { deid: { project: 'Y' } }, { route: { destination: 'Z', trigger: 'weekly' } }, { fly: {} }] },
      b: { stages: [] },
    };
    assert.throws(
      () => compilePipelines(bad, { projects: ['X'], destinations: ['PACS_Y'] }),
      (e) => {
        const m = (e as Error).message;
        return isAppError(e, 'PIPELINE_CONFIG_INVALID') && ['calledAe must be text', 'intake.bogus', 'stages[0]', 'unknown project Y', 'unknown destination Z', 'unknown stage fly', 'pipelines.b: stages'].every((s) => m.includes(s));
      },
    );
    assert.throws(() => compilePipelines({ c: { stages: [{ store: true }, { deid: { project: 'X' } }] } }), /deid after store/);
  });

  it('runStages stops at the first non-pass outcome', async () => {
    const seen: string[] = [];
    const stage = (name: string, kind: 'pass' | 'quarantine'): IntakeStage<object> => ({
      name,
      async run(d) {
        seen.push(name);
        return kind === 'pass' ? { kind: 'pass', dataset: d } : { kind: 'quarantine', reason: 'burned-in-annotation' };
      },
    });
    const out = await runStages([stage('a', 'pass'), stage('b', 'quarantine'), stage('c', 'pass')], ds('CT'), {});
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(out.kind, 'quarantine');
    assert.equal(out.stage, 'b');
  });
});
