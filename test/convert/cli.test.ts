// `dicomgate convert` end to end in-process: a folder with a sub-folder of pictures, a NIfTI file,
// a ZIP, a sidecar and --like; outputs land as <out>/<series>/<sop>.dcm and read back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { makeZip } from '../helpers/make-zip.ts';
import { runCli as cli } from '../helpers/run-cli.ts';
import { readPart10, T } from '../../src/dicom/index.ts';
import { makeNifti } from './make-inputs.ts';

function readOut(dir: string) {
  return readdirSync(dir).flatMap((series) => readdirSync(join(dir, series)).map((f) => ({ series, ds: readPart10(readFileSync(join(dir, series, f))).dataset })));
}

test('convert a folder and a ZIP with sidecar, options and --like', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'conv-cli-'));
  try {
    const png = Buffer.from(encodePng({ width: 6, height: 4, data: new Uint8Array(24).fill(50), depth: 8, channels: 1 }));
    const inDir = join(tmp, 'in');
    mkdirSync(join(inDir, 'Doe John photos'), { recursive: true });
    writeFileSync(join(inDir, 'Doe John photos', 'a.png'), png);
    writeFileSync(join(inDir, 'Doe John photos', 'b.png'), png);
    writeFileSync(join(inDir, 'Doe John photos', 'broken.png'), png.subarray(0, 40));
    writeFileSync(join(inDir, 'seg.nii.gz'), makeNifti({ dims: [3, 2, 2], datatype: 2, values: Array(12).fill(1), gzip: true }));
    writeFileSync(join(inDir, 'notes.json'), '{}'); // sidecars and text are skipped
    const zip = join(tmp, 'batch.zip');
    writeFileSync(zip, makeZip([{ name: 'scans/x.png', data: png }, { name: 'scans/y.png', data: png }]));
    const sidecar = join(tmp, 'meta.json');
    writeFileSync(sidecar, JSON.stringify({ PatientID: 'from-sidecar', StudyDescription: 'Sidecar study', AccessionNumber: 'A1' }));

    const out = join(tmp, 'out');
    const r = await cli(['convert', inDir, zip, '--out', out, '--sidecar', sidecar, '--patient-id', 'P-7', '--modality', 'CT', '--data', join(tmp, 'data')]);
    assert.equal(r.code, 1, 'one input failed');
    assert.match(r.err, /broken\.png/);
    assert.match(r.out, /converted 5 of 6 inputs: 6 instances/);
    const files = readOut(out);
    assert.equal(files.length, 6);
    assert.equal(new Set(files.map((f) => f.series)).size, 3, 'photo folder, NIfTI, zip folder');
    assert.equal(new Set(files.map((f) => f.ds.string(T.StudyInstanceUID))).size, 1);
    for (const { ds } of files) {
      assert.equal(ds.string(T.PatientID), 'P-7', 'option beats sidecar');
      assert.equal(ds.string(T.AccessionNumber), 'A1');
    }
    const seg = files.find((f) => f.ds.string(T.Modality) === 'CT')!;
    assert.equal(seg.ds.string(T.SeriesDescription), 'seg');
    const photos = files.filter((f) => f.ds.string(T.Modality) === 'OT');
    assert.deepEqual(photos.map((f) => f.ds.string(T.SeriesDescription)).sort(), ['a', 'a', 'x', 'x'], 'described by the first file, never the folder');
    for (const { ds } of files) assert.ok(!JSON.stringify(ds.strings(T.SeriesDescription)).includes('Doe'));

    // --like: the new series joins the reference's study with its patient attributes.
    const likeFile = join(out, seg.series, readdirSync(join(out, seg.series))[0]);
    const out2 = join(tmp, 'out2');
    const r2 = await cli(['convert', join(inDir, 'seg.nii.gz'), '--out', out2, '--like', likeFile, '--data', join(tmp, 'data')]);
    assert.equal(r2.code, 0, r2.err);
    const joined = readOut(out2);
    assert.equal(joined[0].ds.string(T.StudyInstanceUID), seg.ds.string(T.StudyInstanceUID));
    assert.equal(joined[0].ds.string(T.PatientID), 'P-7');
    assert.notEqual(joined[0].ds.string(T.SeriesInstanceUID), seg.ds.string(T.SeriesInstanceUID));

    // A study folder works like one of its instances: --like takes the first DICOM file in it.
    const out2b = join(tmp, 'out2b');
    const r2b = await cli(['convert', join(inDir, 'seg.nii.gz'), '--out', out2b, '--like', out, '--data', join(tmp, 'data')]);
    assert.equal(r2b.code, 0, r2b.err);
    assert.equal(readOut(out2b)[0].ds.string(T.StudyInstanceUID), seg.ds.string(T.StudyInstanceUID));

    const missing = join(tmp, 'nope.png');
    const r3 = await cli(['convert', missing, join(inDir, 'Doe John photos', 'a.png'), '--out', join(tmp, 'out3'), '--data', join(tmp, 'data')]);
    assert.equal(r3.code, 1);
    assert.match(r3.err, /nope\.png: no such file/);
    assert.match(r3.out, /converted 1 of 2 inputs: 1 instances/);

    // --send stores through the archive's ingest path; a second run of the same files gives new UIDs.
    const data = join(tmp, 'archive');
    const r4 = await cli(['convert', join(inDir, 'seg.nii.gz'), zip, '--send', '--modality', 'MR', '--data', data]);
    assert.equal(r4.code, 0, r4.err);
    assert.match(r4.out, /archive: stored 4, duplicate 0, rejected 0/);
    const { openArchive } = await import('../../src/services/archive.ts');
    const archive = await openArchive(data, { duplicates: 'keep-first' });
    try {
      const stats = await archive.index.statistics();
      assert.equal(stats.instances, 4);
      assert.equal(stats.series, 2);
      assert.equal(stats.studies, 1);
    } finally {
      await archive.close();
    }

    const usage = await cli(['convert', inDir]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--out <dir> or --send/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
