// Stored values → modality values → grey levels (PS3.3 C.7.6.3, C.11.1, C.11.2.1.2), and the
// multipart/related parser the frame fetches go through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sliceFromJson } from '../../web/src/viewer/geometry.ts';
import { parseMultipart } from '../../web/src/viewer/multipart.ts';
import { autoWindow, modalityValues, renderWindow } from '../../web/src/viewer/pixels.ts';

const base = {
  '00280010': { vr: 'US', Value: [1] },
  '00280011': { vr: 'US', Value: [3] },
  '00280100': { vr: 'US', Value: [16] },
  '00281052': { vr: 'DS', Value: [-1024] },
  '00281053': { vr: 'DS', Value: [1] },
};

test('signed 16-bit stored values are sign-extended from BitsStored, then rescaled', () => {
  const s = sliceFromJson({ ...base, '00280101': { vr: 'US', Value: [12] }, '00280103': { vr: 'US', Value: [1] } });
  // 0x0FFF is -1 in 12 bits; 0xF800 has garbage above bit 12 (masked: 0x800 = -2048).
  const bytes = new Uint8Array([0xff, 0x0f, 0x00, 0xf8, 0x10, 0x00]);
  assert.deepEqual([...modalityValues(s, bytes)], [-1025, -3072, -1008]);
});

test('unsigned values are masked to BitsStored', () => {
  const s = sliceFromJson({ ...base, '00280101': { vr: 'US', Value: [12] }, '00281052': { vr: 'DS', Value: [0] } });
  assert.deepEqual([...modalityValues(s, new Uint8Array([0xff, 0xff, 0x00, 0x00, 0x01, 0x00]))], [4095, 0, 1]);
  assert.throws(() => modalityValues(s, new Uint8Array(4)), /4 bytes, 6 expected/);
});

test('the linear VOI function: below the window black, above white, centre mid-grey; MONOCHROME1 inverted', () => {
  const v = new Float32Array([-1000, 40, 1000]);
  const out = new Uint8ClampedArray(12);
  renderWindow(v, 40, 400, false, out);
  assert.deepEqual([out[0], out[4], out[8], out[3]], [0, 128, 255, 255]);
  renderWindow(v, 40, 400, true, out);
  assert.deepEqual([out[0], out[8]], [255, 0]);
  assert.deepEqual(autoWindow(v), { center: 0, width: 2000 });
});

test('multipart/related frames: parts split at the boundary, Content-Length honoured', () => {
  const enc = new TextEncoder();
  const payload = new Uint8Array([1, 2, 13, 10, 45, 45, 3]); // contains CRLF-- but not the boundary
  const body = new Uint8Array([
    ...enc.encode('--b1\r\nContent-Type: application/octet-stream\r\nContent-Length: 7\r\n\r\n'),
    ...payload,
    ...enc.encode('\r\n--b1\r\nContent-Type: image/jpeg\r\n\r\n'),
    9, 9,
    ...enc.encode('\r\n--b1--\r\n'),
  ]);
  const parts = parseMultipart(body, 'multipart/related; type="application/octet-stream"; boundary=b1');
  assert.equal(parts.length, 2);
  assert.deepEqual([...parts[0].body], [...payload]);
  assert.equal(parts[1].headers['content-type'], 'image/jpeg');
  assert.deepEqual([...parts[1].body], [9, 9]);
  assert.throws(() => parseMultipart(body, 'multipart/related'), /boundary/);
});
