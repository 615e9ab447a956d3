import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T, type Dataset } from '../../src/dicom/index.ts';
import { niftiAffine, rasToLps, voxelToLps, quaternionToMatrix } from '../../src/convert/geometry.ts';
import { parseNiftiHeader } from '../../src/convert/decode/nifti-header.ts';
import { makeNifti, type NiftiSpec } from './make-inputs.ts';
import { datasetOf, memoryInput, pixelBytes, run, u16 } from './helpers.ts';

const NX = 5;
const NY = 4;
const NZ = 3;
const N = NX * NY * NZ;

function realValues(ds: Dataset): number[] {
  const slope = ds.number(T.RescaleSlope) ?? 1;
  const inter = ds.number(T.RescaleIntercept) ?? 0;
  return u16(pixelBytes(ds)).map((v) => v * slope + inter);
}

function close(actual: number[], expected: number[], tol: number, msg: string): void {
  assert.equal(actual.length, expected.length, msg);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol, `${msg}: [${i}] ${a} vs ${expected[i]}`));
}

const datatypes: [NiftiSpec['datatype'], string, (i: number) => number][] = [
  [2, 'uint8', (i) => (i * 7) % 256],
  [256, 'int8', (i) => ((i * 7) % 256) - 128],
  [4, 'int16', (i) => i * 500 - 12000],
  [512, 'uint16', (i) => (i * 1111) % 65536],
  [8, 'int32', (i) => i * 100000 - 3000000],
  [768, 'uint32', (i) => i * 3],
  [16, 'float32', (i) => Math.fround(i * 0.37 - 5.5)],
  [64, 'float64', (i) => i * 1e-3],
];

for (const [dt, label, f] of datatypes) {
  test(`NIfTI ${label}: real values survive through RescaleSlope/Intercept`, async () => {
    const values = Array.from({ length: N }, (_, i) => f(i));
    const r = await run([memoryInput(`v.nii`, makeNifti({ dims: [NX, NY, NZ], datatype: dt, values }))]);
    assert.equal(r.errors.length, 0, r.errors.map((e) => e.error.message).join());
    const ds = datasetOf(r.instances[0]);
    assert.equal(ds.string(T.SOPClassUID), '1.2.840.10008.5.1.4.1.1.7.3');
    assert.equal(ds.number(T.NumberOfFrames), NZ);
    const range = Math.max(...values) - Math.min(...values);
    const integral = values.every(Number.isInteger) && range <= 65535;
    // Lossless for integers that fit 16 bits; otherwise within half a stored step (plus DS rounding).
    close(realValues(ds), values, integral ? 1e-9 : (range / 65535) * 0.5 + range * 1e-12 + 1e-9, label);
  });
}

test('scl_slope/scl_inter become part of the rescale', async () => {
  const values = Array.from({ length: N }, (_, i) => i * 10);
  const r = await run([memoryInput('s.nii.gz', makeNifti({ dims: [NX, NY, NZ], datatype: 4, values, sclSlope: 0.5, sclInter: -100, gzip: true }))]);
  const ds = datasetOf(r.instances[0]);
  assert.equal(ds.number(T.RescaleSlope), 0.5);
  assert.equal(ds.number(T.RescaleIntercept), -100);
  close(realValues(ds), values.map((v) => v * 0.5 - 100), 1e-9, 'scaled');
});

// An oblique, anisotropic sform with an origin far from 0 and a flipped axis.
const c = Math.cos(0.3);
const s = Math.sin(0.3);
const SFORM = [[-0.9 * c, 0.8 * s, 0, 12.5], [0.9 * s, 0.8 * c, 0.1, -40], [0, 0, 2.5, 7]];

function dicomVoxel(ds: Dataset, i: number, j: number): number[] {
  const ipp = ds.numbers(T.ImagePositionPatient);
  const iop = ds.numbers(T.ImageOrientationPatient);
  const [dr, dc] = ds.numbers(T.PixelSpacing);
  return [0, 1, 2].map((n) => ipp[n] + i * dc * iop[n] + j * dr * iop[3 + n]);
}

for (const version of [1, 2] as const) {
  for (const form of ['sform', 'qform'] as const) {
    test(`NIfTI-${version} ${form} → CT slices: a voxel's patient position matches the NIfTI affine`, async () => {
      const values = Array.from({ length: N }, (_, i) => i);
      // qform: a rotation of 0.4 rad about z (quaternion b=c=0, d=sin 0.2) and qfac -1, whose
      // affine is written out here independently of the code under test.
      const q = { quatern: [0, 0, Math.sin(0.2)] as [number, number, number], offset: [-10, 20, 30] as [number, number, number] };
      const [cq, sq] = [Math.cos(0.4), Math.sin(0.4)];
      const qAffine = [[cq * 0.9, -sq * 0.8, 0, -10], [sq * 0.9, cq * 0.8, 0, 20], [0, 0, -2.5, 30]];
      const spec: NiftiSpec = { version, dims: [NX, NY, NZ], datatype: 4, values, pixdim: [-1, 0.9, 0.8, 2.5] };
      if (form === 'sform') spec.sform = SFORM; else spec.qform = q;
      const file = makeNifti(spec);
      const ras = form === 'sform' ? SFORM : qAffine;
      const lps = [ras[0].map((v) => -v), ras[1].map((v) => -v), ras[2]];
      const r = await run([memoryInput('ct.nii', file)], { modality: 'CT', frameOfReferenceUID: '1.2.3.4' });
      assert.equal(r.instances.length, NZ);
      for (const inst of r.instances) {
        const ds = datasetOf(inst);
        assert.equal(ds.string(T.SOPClassUID), '1.2.840.10008.5.1.4.1.1.2');
        assert.equal(ds.string(T.FrameOfReferenceUID), '1.2.3.4');
        const k = ds.number(T.InstanceNumber)! - 1;
        for (const [i, j] of [[0, 0], [NX - 1, 0], [2, 3], [NX - 1, NY - 1]]) {
          close(dicomVoxel(ds, i, j), voxelToLps(lps, i, j, k), 1e-4, `voxel ${i},${j},${k}`);
        }
        // The pixels of slice k are the NIfTI voxels with that k, row j = NIfTI j.
        assert.deepEqual(realValues(ds), values.slice(k * NX * NY, (k + 1) * NX * NY));
        assert.ok(Math.abs(ds.number(T.SpacingBetweenSlices)! - 2.5) < 1e-3);
      }
    });
  }
}

test('qform: rotation matrix is orthonormal and matches the RAS→LPS flip', () => {
  const r = quaternionToMatrix(0.1, -0.2, 0.3);
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
    const d = r[0][a] * r[0][b] + r[1][a] * r[1][b] + r[2][a] * r[2][b];
    assert.ok(Math.abs(d - (a === b ? 1 : 0)) < 1e-9);
  }
  const lps = rasToLps([[1, 0, 0, 5], [0, 1, 0, 6], [0, 0, 1, 7]]);
  assert.deepEqual(voxelToLps(lps, 1, 1, 1), [-6, -7, 8]);
});

test('sform is preferred over qform when both are set', () => {
  const h = parseNiftiHeader('x', makeNifti({ dims: [2, 2, 2], datatype: 2, values: Array(8).fill(0), sform: SFORM,
    qform: { quatern: [0, 0, 0], offset: [1, 2, 3] } }));
  assert.equal(niftiAffine(h).source, 'sform');
});

test('4D NIfTI (.nii.gz): one instance per slice per volume, MR with temporal positions', async () => {
  const NT = 2;
  const values = Array.from({ length: N * NT }, (_, i) => i);
  const r = await run([memoryInput('fmri.nii.gz', makeNifti({ dims: [NX, NY, NZ, NT], datatype: 4, values, sform: SFORM, gzip: true }))], { modality: 'MR' });
  assert.equal(r.instances.length, NZ * NT);
  assert.equal(new Set(r.instances.map((i) => i.seriesInstanceUID)).size, 1);
  const last = datasetOf(r.instances[NZ * NT - 1]);
  assert.equal(last.number(T.TemporalPositionIdentifier), NT);
  assert.equal(last.string(T.SeriesDescription), 'fmri');
  assert.deepEqual(realValues(last), values.slice(-NX * NY));
  // Default (no --modality): one multi-frame SC per volume.
  const sc = await run([memoryInput('fmri.nii.gz', makeNifti({ dims: [NX, NY, NZ, NT], datatype: 4, values, gzip: true }))]);
  assert.equal(sc.instances.length, NT);
});

test('metadata: non-ASCII names switch to UTF-8; a sidecar FrameOfReferenceUID is used for the volume', async () => {
  const { attributesFrom } = await import('../../src/convert/metadata.ts');
  const attributes = attributesFrom({ PatientName: 'Müller^Jörg', PatientID: 'X9', FrameOfReferenceUID: '1.2.826.0.1.99' }, 'test');
  const r = await run([memoryInput('v.nii', makeNifti({ dims: [2, 2, 2], datatype: 2, values: Array(8).fill(3), sform: SFORM }))], { modality: 'MR', attributes });
  const ds = datasetOf(r.instances[0]);
  assert.equal(ds.string(T.PatientName), 'Müller^Jörg');
  assert.equal(ds.string(T.SpecificCharacterSet), 'ISO_IR 192');
  assert.equal(ds.string(T.FrameOfReferenceUID), '1.2.826.0.1.99');
  assert.throws(() => attributesFrom({ Modality: 'CT' }, 'meta.json'), /meta\.json: Modality cannot be set/);
  assert.throws(() => attributesFrom({ PatientNmae: 'x' }, 'meta.json'), /unknown DICOM keyword "PatientNmae"/);
});

test('a sheared affine keeps exact positions and flags the approximation', async () => {
  const { imagePlane } = await import('../../src/convert/geometry.ts');
  const p = imagePlane([[1, 0.3, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0]]);
  assert.equal(p.sheared, true);
  const iop = p.orientation;
  assert.ok(Math.abs(iop[0] * iop[3] + iop[1] * iop[4] + iop[2] * iop[5]) < 1e-12, 'orientation made orthogonal');
  assert.deepEqual(p.position(3), [0, 0, 6]);
});

test('big-endian NIfTI-1 reads like its little-endian twin', async () => {
  const { niftiToBigEndian } = await import('./make-inputs.ts');
  for (const [dt, size, f] of [[4, 2, (i: number) => i * 300 - 9000], [16, 4, (i: number) => i * 0.5 - 3], [64, 8, (i: number) => i * 1e-2]] as const) {
    const values = Array.from({ length: N }, (_, i) => f(i));
    const le = makeNifti({ dims: [NX, NY, NZ], datatype: dt, values, sform: SFORM });
    const r = await run([memoryInput('le.nii', le), memoryInput('be.nii', niftiToBigEndian(le, size))], { modality: 'CT' });
    assert.equal(r.errors.length, 0, r.errors.map((e) => e.error.message).join());
    const [a, b] = [datasetOf(r.instances[1]), datasetOf(r.instances[NZ + 1])];
    assert.deepEqual(realValues(b), realValues(a), `datatype ${dt}`);
    assert.deepEqual(b.numbers(T.ImagePositionPatient), a.numbers(T.ImagePositionPatient));
  }
});

test('NIfTI is streamed: the first instance comes out before the file is read past its first volume', async () => {
  const { Readable } = await import('node:stream');
  const { convert } = await import('../../src/convert/convert.ts');
  const NT = 6;
  const file = makeNifti({ dims: [NX, NY, NZ, NT], datatype: 16, values: Array.from({ length: N * NT }, (_, i) => i) });
  let consumed = 0;
  const chunks = function* () {
    for (let o = 0; o < file.length; o += 64) { consumed = Math.min(file.length, o + 64); yield file.subarray(o, o + 64); }
  };
  const input = { name: 'stream.nii', open: async () => Readable.from(chunks(), { objectMode: false, highWaterMark: 64 }) };
  const it = convert([input]);
  const first = await it.next();
  assert.equal((first.value as { kind: string }).kind, 'instance');
  const volume = N * 4;
  assert.ok(consumed < 352 + 3 * volume, `read ${consumed} of ${file.length} bytes for the first of ${NT} volumes`);
  await it.return(undefined);
});
