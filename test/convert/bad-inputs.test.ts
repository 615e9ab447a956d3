import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode as encodePng } from 'fast-png';
import { makeBmp, makeNifti, makeTiff } from './make-inputs.ts';
import { memoryInput, run } from './helpers.ts';

const good = encodePng({ width: 4, height: 3, data: new Uint8Array(12).fill(9), depth: 8, channels: 1 });

async function failsWith(name: string, buf: Uint8Array, code: string, pattern: RegExp): Promise<void> {
  // The bad file sits between two good ones: both good ones still convert.
  const r = await run([memoryInput('first.png', good), memoryInput(name, buf), memoryInput('last.png', good)]);
  assert.equal(r.instances.length, 2, 'the other files of the batch convert');
  assert.deepEqual(r.instances.map((i) => i.source), ['first.png', 'last.png']);
  assert.equal(r.errors.length, 1);
  const e = r.errors[0];
  assert.equal(e.source, name);
  assert.equal(e.error.code, code);
  assert.ok(e.error.message.includes(name), `message names the file: ${e.error.message}`);
  assert.match(e.error.message, pattern);
  const done = r.all.filter((x) => x.kind === 'done');
  assert.equal(done.length, 3);
}

test('corrupt PNG (bad CRC in the data)', async () => {
  const bad = Buffer.from(good);
  bad[bad.length - 20] ^= 0xff;
  await failsWith('broken.png', bad, 'CONVERT_INPUT_INVALID', /corrupt PNG/);
});

test('truncated NIfTI header', async () => {
  const nii = makeNifti({ dims: [2, 2, 2], datatype: 2, values: Array(8).fill(1) });
  await failsWith('cut.nii', nii.subarray(0, 200), 'CONVERT_INPUT_INVALID', /header truncated \(200 of 348 bytes\)/);
});

test('truncated NIfTI data (gzip)', async () => {
  const nii = makeNifti({ dims: [4, 4, 4], datatype: 4, values: Array(64).fill(1) });
  const { gzipSync } = await import('node:zlib');
  await failsWith('short.nii.gz', gzipSync(nii.subarray(0, nii.length - 10)), 'CONVERT_INPUT_INVALID', /data truncated in volume 1 of 1/);
});

test('unsupported TIFF compression', async () => {
  const tif = makeTiff([{ width: 4, height: 4, spp: 1, bits: 8, samples: Array(16).fill(0), compression: 7 }]);
  await failsWith('jpeg-in.tif', tif, 'CONVERT_UNSUPPORTED', /compression 7 \(JPEG\)/);
});

test('absurd dimensions are refused before allocation', async () => {
  const bmp = makeBmp(4, 4, 24, () => [0, 0, 0]);
  bmp.writeInt32LE(100000, 18);
  await failsWith('huge.bmp', bmp, 'CONVERT_TOO_LARGE', /100000x4/);
  const nii = makeNifti({ dims: [2, 2, 2], datatype: 2, values: Array(8).fill(1) });
  nii.writeInt16LE(30000, 42); nii.writeInt16LE(30000, 44); nii.writeInt16LE(30000, 46);
  await failsWith('huge.nii', nii, 'CONVERT_TOO_LARGE', /bytes of pixel data/);
  const png = Buffer.from(good);
  png.writeUInt32BE(0, 16);
  await failsWith('zero.png', png, 'CONVERT_TOO_LARGE', /dimension 0/);
});

test('unknown formats and unsupported NIfTI datatypes', async () => {
  await failsWith('notes.docx', Buffer.from('PK\u0003\u0004 not an image'), 'CONVERT_UNSUPPORTED', /not a PNG, JPEG, BMP, TIFF or NIfTI/);
  const nii = makeNifti({ dims: [2, 2, 2], datatype: 2, values: Array(8).fill(1) });
  nii.writeInt16LE(32, 70); // complex64
  await failsWith('complex.nii', nii, 'CONVERT_UNSUPPORTED', /datatype 32 \(complex64\)/);
});
