// RT objects as the viewer reads them from DICOM JSON: structure set ROIs and contours, plan
// summary, dose grid frames and colour wash. Checked against the corpus RTSTRUCT when present.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPart10, toDicomJson } from '../../src/dicom/index.ts';
import type { JsonDataset } from '../../web/src/viewer/dicom-json.ts';
import { sliceFromJson } from '../../web/src/viewer/geometry.ts';
import { doseFrameFor, doseGridFrom, doseWash } from '../../web/src/viewer/rtdose.ts';
import { summarizePlan } from '../../web/src/viewer/rtplan.ts';
import { parseStructureSet } from '../../web/src/viewer/rtstruct.ts';

const RT = fileURLToPath(new URL('../../../shared/corpus/synthetic-rt/dicom/P01/ST01', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/dicom/rtstruct.dcm', import.meta.url));

function json(path: string): JsonDataset {
  return toDicomJson(readPart10(readFileSync(path)).dataset) as JsonDataset;
}

test('structure set: ROI names, display colours and contours with their referenced image (fixture)', () => {
  const ss = parseStructureSet(json(FIXTURE));
  assert.ok(ss.rois.length > 0);
  for (const r of ss.rois) {
    assert.equal(r.color.length, 3);
    for (const c of r.contours) assert.equal(c.points.length % 3, 0);
  }
  assert.ok(ss.rois.some((r) => r.contours.length > 0));
});

test('structure set of the synthetic RT study: 6 ROIs, every contour names a CT slice', (t) => {
  if (!existsSync(RT)) return t.skip('corpus not present');
  const dir = `${RT}/RTSTRUCT`;
  const ss = parseStructureSet(json(`${dir}/${readdirSync(dir)[0]}`));
  assert.equal(ss.rois.length, 6);
  assert.ok(ss.frameOfReferenceUids.length >= 1);
  assert.ok(ss.rois.every((r) => r.contours.every((c) => c.imageSop !== undefined)));
  assert.ok(ss.rois.every((r) => r.color.some((v) => v > 0)), 'display colours read');
});

test('plan summary: fractions, prescription and one row per beam (synthetic RTPLAN)', (t) => {
  if (!existsSync(RT)) return t.skip('corpus not present');
  const dir = `${RT}/RTPLAN`;
  const p = summarizePlan(json(`${dir}/${readdirSync(dir)[0]}`));
  assert.equal(p.beams.length, 5);
  assert.ok(p.fractions !== undefined && p.fractions > 0);
  assert.ok(p.beams.every((b) => b.gantryAngle !== undefined));
});

test('dose grid: frame for a plane from relative offsets; wash colours by fraction of the maximum', () => {
  const ds: JsonDataset = {
    '00200032': { vr: 'DS', Value: [0, 0, -10] },
    '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
    '3004000C': { vr: 'DS', Value: [0, 2.5, 5, 7.5] },
    '3004000E': { vr: 'DS', Value: [0.001] },
  };
  const grid = doseGridFrom(ds, sliceFromJson(ds));
  assert.equal(grid.scaling, 0.001);
  assert.equal(doseFrameFor(grid, [0, 0, -10]), 1);
  assert.equal(doseFrameFor(grid, [0, 0, -4.5]), 3);
  assert.equal(doseFrameFor(grid, [0, 0, 20]), undefined);
  // Absolute offsets (first element not 0) give the same frames.
  const abs = doseGridFrom({ ...ds, '3004000C': { vr: 'DS', Value: [-10, -7.5, -5, -2.5] } }, sliceFromJson(ds));
  assert.equal(doseFrameFor(abs, [0, 0, -4.5]), 3);
  const out = new Uint8ClampedArray(12);
  doseWash(new Float32Array([100, 50, 5]), 100, 90, out);
  assert.deepEqual([...out.subarray(0, 4)], [255, 0, 0, 90]);
  assert.equal(out[7], 90, '50 % is washed');
  assert.equal(out[11], 0, '5 % is not');
});
