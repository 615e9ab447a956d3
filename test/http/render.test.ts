import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/dicom/index.ts';
import { renderFrame } from '../../src/http/dicomweb/render.ts';

function gray(values: number[], extra: (ds: Dataset) => void = () => {}): { ds: Dataset; frame: Buffer } {
  const ds = new Dataset();
  ds.setNumbers(0x00280010, 'US', [1]);
  ds.setNumbers(0x00280011, 'US', [values.length]);
  ds.setNumbers(0x00280002, 'US', [1]);
  ds.setString(0x00280004, 'CS', 'MONOCHROME2');
  ds.setNumbers(0x00280100, 'US', [16]);
  ds.setNumbers(0x00280101, 'US', [16]);
  ds.setNumbers(0x00280103, 'US', [1]);
  extra(ds);
  const frame = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => frame.writeInt16LE(v, i * 2));
  return { ds, frame };
}

test('linear VOI window (PS3.3 C.11.2.1.2.1) after the modality LUT; MONOCHROME1 inverts', () => {
  const { ds, frame } = gray([-1000, 0, 40, 80, 1000], (d) => {
    d.setString(0x00281053, 'DS', '1');
    d.setString(0x00281052, 'DS', '-1024');
  });
  // Raw values + intercept -1024 → -2024, -1024, -984, -944, -24; window c=-1000 w=200 spans
  // (-1100, -901]: y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255.
  const img = renderFrame(ds, frame, { window: { center: -1000, width: 200 } });
  assert.deepEqual([...img.data], [0, 97, 149, 200, 255]);
  ds.setString(0x00280004, 'CS', 'MONOCHROME1');
  assert.deepEqual([...renderFrame(ds, frame, { window: { center: -1000, width: 200 } }).data], [255, 158, 106, 55, 0]);
});

test('without a window the frame range is used; RGB planar is interleaved; viewport shrinks', () => {
  const { ds, frame } = gray([0, 50, 100]);
  assert.deepEqual([...renderFrame(ds, frame).data], [0, 129, 255]);
  const rgb = new Dataset();
  rgb.setNumbers(0x00280010, 'US', [1]);
  rgb.setNumbers(0x00280011, 'US', [2]);
  rgb.setNumbers(0x00280002, 'US', [3]);
  rgb.setString(0x00280004, 'CS', 'RGB');
  rgb.setNumbers(0x00280100, 'US', [8]);
  rgb.setNumbers(0x00280006, 'US', [1]);
  const img = renderFrame(rgb, Buffer.from([1, 2, 3, 4, 5, 6]));
  assert.deepEqual([...img.data], [1, 3, 5, 2, 4, 6]);
  const big = gray(Array.from({ length: 100 }, (_, i) => i));
  const small = renderFrame(big.ds, big.frame, { viewport: { width: 10, height: 10 } });
  assert.deepEqual([small.width, small.height], [10, 1]);
});
