import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset, readPart10, readPart10Header, writeDataset, writePart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { TS } from '../../src/dicom/uids.ts';
import { isAppError } from '../../src/core/errors.ts';
import { fixture, FIXTURES } from './fixtures.ts';

const roundTrip = (b: Buffer) => Buffer.concat(writePart10(readPart10(b)));

test('explicit VR LE with preamble and meta: values and byte-identical round trip', () => {
  const b = fixture('CT_small.dcm');
  const f = readPart10(b);
  assert.equal(f.hadPreamble, true);
  assert.equal(f.hadMeta, true);
  assert.equal(f.transferSyntaxUID, TS.ExplicitVRLittleEndian);
  assert.equal(f.dataset.string(T.Modality), 'CT');
  assert.equal(f.dataset.number(T.Rows), 128);
  assert.deepEqual(f.dataset.numbers(T.ImagePositionPatient).length, 3);
  assert.equal(f.dataset.vr(T.PixelData), 'OW');
  assert.equal(f.dataset.bytes(T.PixelData)!.length, 128 * 128 * 2);
  assert.equal(f.meta.string(T.MediaStorageSOPInstanceUID), f.dataset.string(T.SOPInstanceUID));
  assert.ok(roundTrip(b).equals(b));
});

test('implicit VR LE takes VRs from the dictionary', () => {
  const b = fixture('MR_small_implicit.dcm');
  const f = readPart10(b);
  assert.equal(f.transferSyntaxUID, TS.ImplicitVRLittleEndian);
  assert.equal(f.dataset.explicitVR, false);
  assert.equal(f.dataset.vr(T.Rows), 'US');
  assert.equal(f.dataset.vr(T.PatientName), 'PN');
  assert.equal(f.dataset.number(T.Columns), 64);
  assert.ok(roundTrip(b).equals(b));
});

test('explicit VR big endian reads numbers correctly and writes back unchanged', () => {
  const be = readPart10(fixture('MR_small_bigendian.dcm'));
  const le = readPart10(fixture('MR_small_implicit.dcm'));
  assert.equal(be.dataset.littleEndian, false);
  assert.equal(be.dataset.number(T.Rows), 64);
  assert.deepEqual(be.dataset.numbers(T.PixelSpacing), le.dataset.numbers(T.PixelSpacing));
  assert.equal(be.dataset.string(T.PatientName), le.dataset.string(T.PatientName));
  assert.ok(roundTrip(fixture('MR_small_bigendian.dcm')).equals(fixture('MR_small_bigendian.dcm')));
});

test('transcoding big endian to little endian swaps binary values', () => {
  const be = readPart10(fixture('MR_small_bigendian.dcm'));
  be.transferSyntaxUID = TS.ExplicitVRLittleEndian;
  const le = readPart10(Buffer.concat(writePart10(be)));
  assert.equal(le.meta.string(T.TransferSyntaxUID), TS.ExplicitVRLittleEndian);
  assert.equal(le.dataset.littleEndian, true);
  assert.equal(le.dataset.number(T.Rows), 64);
  const ref = readPart10(fixture('MR_small_implicit.dcm'));
  assert.deepEqual(le.dataset.bytes(T.PixelData), ref.dataset.bytes(T.PixelData));
});

test('files without preamble and meta: encoding detected, meta synthesized, written back as they were', () => {
  for (const [name, le] of [['ExplVR_LitEndNoMeta.dcm', true], ['ExplVR_BigEndNoMeta.dcm', false]] as const) {
    const b = fixture(name);
    const f = readPart10(b);
    assert.equal(f.hadPreamble, false);
    assert.equal(f.hadMeta, false);
    assert.equal(f.dataset.littleEndian, le);
    assert.equal(f.dataset.string(T.Modality), 'RTPLAN');
    assert.equal(f.meta.string(T.TransferSyntaxUID), le ? TS.ExplicitVRLittleEndian : TS.ExplicitVRBigEndian);
    assert.equal(f.meta.string(T.MediaStorageSOPInstanceUID), f.dataset.string(T.SOPInstanceUID));
    assert.ok(roundTrip(b).equals(b), name);
    // Normalizing to Part 10 adds preamble and meta and stays readable.
    f.hadPreamble = true;
    f.hadMeta = true;
    const g = readPart10(Buffer.concat(writePart10(f)));
    assert.equal(g.hadMeta, true);
    assert.equal(g.dataset.string(T.SOPInstanceUID), f.dataset.string(T.SOPInstanceUID));
  }
  const rs = readPart10(fixture('rtstruct.dcm'));
  assert.equal(rs.dataset.explicitVR, false);
  assert.ok(roundTrip(fixture('rtstruct.dcm')).equals(fixture('rtstruct.dcm')));
});

test('trailing padding after the last element is preserved', () => {
  const b = fixture('MR_small_padded.dcm');
  assert.ok(roundTrip(b).equals(b));
});

test('UN with undefined length holds an implicit VR sequence, nested', () => {
  const b = fixture('UN_sequence.dcm');
  const f = readPart10(b);
  const tags = f.dataset.tags();
  assert.equal(tags.length, 1);
  assert.equal(f.dataset.vr(tags[0]), 'UN');
  const items = f.dataset.items(tags[0])!;
  assert.equal(items.length, 1);
  assert.equal(items[0].explicitVR, false);
  const series = items[0].items(T.ReferencedSeriesSequence)!;
  assert.equal(series.length, 1);
  assert.ok(series[0].items(T.ReferencedSOPSequence)![0].string(T.ReferencedSOPInstanceUID)!.length > 0);
  assert.ok(roundTrip(b).equals(b));
});

test('private sequences: undefined length in implicit VR, defined-length UN probed lazily', () => {
  const n = readPart10(fixture('nested_priv_SQ.dcm'));
  const outer = n.dataset.items(0x00010001)!;
  assert.equal(outer.length, 1);
  assert.equal(outer[0].items(0x00010001)![0].string(0x00010001), 'Double Nested SQ');
  assert.ok(roundTrip(fixture('nested_priv_SQ.dcm')).equals(fixture('nested_priv_SQ.dcm')));
  const p = readPart10(fixture('priv_SQ.dcm'));
  assert.equal(p.dataset.vr(0x3f031001), 'UN');
  const items = p.dataset.items(0x3f031001)!;
  assert.ok(items.length >= 1);
  assert.ok(items[0].tags().length > 0);
  assert.ok(roundTrip(fixture('priv_SQ.dcm')).equals(fixture('priv_SQ.dcm')));
});

test('deflated explicit VR LE: inflated on read, original stream reused when unchanged, deflated again when edited', () => {
  const b = fixture('image_dfl.dcm');
  const f = readPart10(b);
  assert.equal(f.transferSyntaxUID, TS.DeflatedExplicitVRLittleEndian);
  assert.ok(f.dataset.string(T.SOPInstanceUID));
  assert.ok(roundTrip(b).equals(b));
  f.dataset.setString(T.StudyDescription, 'LO', 'EDITED');
  const g = readPart10(Buffer.concat(writePart10(f)));
  assert.equal(g.dataset.string(T.StudyDescription), 'EDITED');
  assert.deepEqual(g.dataset.bytes(T.PixelData), f.dataset.bytes(T.PixelData));
  assert.deepEqual(g.dataset.tags(), f.dataset.tags());
});

test('encapsulated pixel data: offset table and fragments passed through', () => {
  const rle = readPart10(fixture('rtdose_rle_1frame.dcm'));
  // This file has UN for standard attributes: values are still read with the dictionary VR.
  assert.equal(rle.dataset.vr(T.SOPInstanceUID), 'UN');
  assert.equal(rle.dataset.string(T.SOPInstanceUID), rle.meta.string(T.MediaStorageSOPInstanceUID));
  assert.ok((rle.dataset.number(T.Rows) ?? 0) > 0);
  const frags = rle.dataset.fragments(T.PixelData)!;
  assert.ok(frags.length >= 2);
  assert.equal(rle.dataset.bytes(T.PixelData), undefined);
  assert.ok(frags[1][0] >= 1 && frags[1][0] <= 15, 'RLE header: segment count (PS3.5 G.5)');
  const j2k = readPart10(fixture('JPEG2000.dcm'));
  const jf = j2k.dataset.fragments(T.PixelData)!;
  assert.equal(jf[0].length, 0, 'empty basic offset table');
  assert.deepEqual([...jf[1].subarray(0, 2)], [0xff, 0x4f], 'J2K codestream SOC marker');
  // An edit elsewhere re-encodes nothing of the pixel data.
  j2k.dataset.setString(T.PatientID, 'LO', 'X');
  const again = readPart10(Buffer.concat(writePart10(j2k)));
  assert.deepEqual(again.dataset.fragments(T.PixelData), jf);
});

test('truncated files give DICOM_PARSE naming the offset', () => {
  for (const [name, offset] of [['MR_truncated.dcm', 1488], ['rtplan_truncated.dcm', 1410]] as const) {
    assert.throws(() => readPart10(fixture(name)), (e) => {
      assert.ok(isAppError(e, 'DICOM_PARSE'), String(e));
      assert.match(e.detail!, new RegExp(`at offset ${offset}$`));
      return true;
    }, name);
  }
});

test('garbage never crashes or loops: every prefix and random corruption fails with DICOM_PARSE or parses', () => {
  const b = fixture('rtstruct.dcm');
  for (let n = 0; n < b.length; n += 7) {
    try {
      readPart10(b.subarray(0, n));
    } catch (e) {
      assert.ok(isAppError(e, 'DICOM_PARSE'), `prefix ${n}: ${e}`);
    }
  }
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 0x1000000;
  for (let i = 0; i < 300; i++) {
    const c = Buffer.from(b);
    for (let k = 0; k < 4; k++) c[Math.floor(rnd() * c.length)] = Math.floor(rnd() * 256);
    try {
      const f = readPart10(c);
      f.dataset.walk((ds, t) => void ds.string(t));
    } catch (e) {
      assert.ok(isAppError(e, 'DICOM_PARSE'), `corruption ${i}: ${e}`);
    }
  }
  for (const empty of [Buffer.alloc(0), Buffer.alloc(7), Buffer.alloc(4096)]) {
    assert.throws(() => readPart10(empty), (e) => isAppError(e, 'DICOM_PARSE') && /at offset 0$/.test(e.detail!));
  }
  const noise = Buffer.alloc(4096);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rnd() * 256);
  assert.throws(() => readPart10(noise), (e) => isAppError(e, 'DICOM_PARSE'));
});

test('readPart10Header stops before PixelData and reads little of a large file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-dicom-'));
  try {
    const f = readPart10(fixture('CT_small.dcm'));
    // Grow the pixel data so the file is much larger than the first read.
    f.dataset.setBytes(T.PixelData, 'OW', new Uint8Array(4 * 1024 * 1024));
    const p = join(dir, 'big.dcm');
    writeFileSync(p, Buffer.concat(writePart10(f)));
    const h = await readPart10Header(p);
    assert.equal(h.dataset.has(T.PixelData), false);
    assert.equal(h.dataset.string(T.SOPInstanceUID), f.dataset.string(T.SOPInstanceUID));
    assert.throws(() => writePart10(h), (e) => isAppError(e, 'DICOM_ENCODE'));
    const small = await readPart10Header(FIXTURES + 'rtstruct.dcm');
    assert.ok(small.dataset.items(T.StructureSetROISequence)!.length > 0);
    await assert.rejects(readPart10Header(FIXTURES + 'MR_truncated.dcm').then((x) => {
      x.dataset.string(T.Rows);
      throw new Error('should have stopped before the pixel data without error');
    }), /should have stopped/);
    await assert.rejects(readPart10Header(join(dir, 'missing.dcm')), (e) => isAppError(e, 'IMPORT_UNREADABLE'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readDataset / writeDataset for DIMSE payloads, with transcoding between LE syntaxes', () => {
  const f = readPart10(fixture('rtstruct.dcm'));
  const implicitBytes = Buffer.concat(writeDataset(f.dataset, TS.ImplicitVRLittleEndian));
  const ds = readDataset(implicitBytes, TS.ImplicitVRLittleEndian);
  assert.ok(Buffer.concat(writeDataset(ds, TS.ImplicitVRLittleEndian)).equals(implicitBytes));
  const explicitBytes = Buffer.concat(writeDataset(ds, TS.ExplicitVRLittleEndian));
  const ex = readDataset(explicitBytes, TS.ExplicitVRLittleEndian);
  assert.equal(ex.vr(T.StructureSetROISequence), 'SQ');
  const roiNames = (d: typeof ds) => d.items(T.StructureSetROISequence)!.map((it) => it.string(T.ROIName));
  assert.deepEqual(roiNames(ex), roiNames(ds));
  const back = Buffer.concat(writeDataset(ex, TS.ImplicitVRLittleEndian));
  assert.ok(back.equals(implicitBytes), 'explicit → implicit gives the original implicit bytes');
  const dfl = Buffer.concat(writeDataset(ex, TS.DeflatedExplicitVRLittleEndian));
  assert.ok(dfl.length < explicitBytes.length);
  assert.deepEqual(roiNames(readDataset(dfl, TS.DeflatedExplicitVRLittleEndian)), roiNames(ds));
});
