// The viewer's pure parts: image plane geometry (PS3.3 C.7.6.2), stack order, patient → pixel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonDataset } from '../../web/src/viewer/dicom-json.ts';
import { patientToPixel, sliceFromJson, sliceIndexAt, sortSlices } from '../../web/src/viewer/geometry.ts';

function ct(z: number, n: number, extra: JsonDataset = {}): JsonDataset {
  return {
    '00080018': { vr: 'UI', Value: [`1.2.3.${n}`] },
    '00200013': { vr: 'IS', Value: [n] },
    '00200032': { vr: 'DS', Value: [-100, -50, z] },
    '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
    '00280030': { vr: 'DS', Value: [0.5, 2] },
    '00280010': { vr: 'US', Value: [200] },
    '00280011': { vr: 'US', Value: [100] },
    '00281052': { vr: 'DS', Value: [-1024] },
    '00281053': { vr: 'DS', Value: [1] },
    ...extra,
  };
}

test('reads the attributes the viewer needs from DICOM JSON', () => {
  const s = sliceFromJson(ct(12.5, 3, { '00281050': { vr: 'DS', Value: [40, 50] }, '00281051': { vr: 'DS', Value: [400] } }));
  assert.equal(s.sopInstanceUid, '1.2.3.3');
  assert.deepEqual([s.rows, s.columns, s.frames], [200, 100, 1]);
  assert.deepEqual(s.spacing, [0.5, 2]);
  assert.equal(s.intercept, -1024);
  assert.equal(s.windowCenter, 40, 'first of several window values');
  assert.equal(s.location, 12.5);
});

test('stacks by position along the normal, not by instance number', () => {
  const slices = [ct(10, 1), ct(-5, 2), ct(2.5, 3)].map(sliceFromJson);
  assert.deepEqual(sortSlices(slices).map((s) => s.instanceNumber), [2, 3, 1]);
  // Without positions (e.g. a secondary capture), instance number decides.
  const noPos = [3, 1, 2].map((n) => sliceFromJson({ ...ct(0, n), '00200032': { vr: 'DS' } }));
  assert.deepEqual(sortSlices(noPos).map((s) => s.instanceNumber), [1, 2, 3]);
});

test('patient coordinates map to column (row direction, column spacing) and row', () => {
  const s = sliceFromJson(ct(0, 1));
  // IPP is the centre of pixel (0,0); PixelSpacing = [row spacing 0.5, column spacing 2].
  assert.deepEqual(patientToPixel(s, [-100, -50, 0]), [0, 0]);
  assert.deepEqual(patientToPixel(s, [-90, -45, 0]), [5, 10]);
});

test('a point belongs to the slice whose plane is within half the gap', () => {
  const slices = sortSlices([ct(0, 1), ct(3, 2), ct(6, 3)].map(sliceFromJson));
  assert.equal(sliceIndexAt(slices, [0, 0, 3.4]), 1);
  assert.equal(sliceIndexAt(slices, [0, 0, 5.9]), 2);
  assert.equal(sliceIndexAt(slices, [0, 0, 9]), undefined, 'beyond the stack');
});
