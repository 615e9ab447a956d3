import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromDicomJson, toDicomJson } from '../../src/dicom/json.ts';
import type { JsonDataset } from '../../src/dicom/json.ts';
import { readDataset, readPart10, writeDataset } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { TS } from '../../src/dicom/uids.ts';
import { isAppError } from '../../src/core/errors.ts';
import { CORPUS, corpusPresent, fixture } from './fixtures.ts';

test('PS3.18 F.2 shapes: keys, strings, numbers, PN groups, AT, empty values, sequences', () => {
  const f = readPart10(fixture('chrH31.dcm'));
  const j = toDicomJson(f.dataset);
  assert.deepEqual(j['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }] });
  assert.deepEqual(j['00080005'], { vr: 'CS', Value: [null, 'ISO 2022 IR 87'] });
  assert.deepEqual(j['00200013'], { vr: 'IS', Value: [1] });
  assert.deepEqual(j['00280010'], { vr: 'US', Value: [32] });
  assert.deepEqual(j['00080020'], { vr: 'DA' });
  const rs = toDicomJson(readPart10(fixture('rtstruct.dcm')).dataset);
  const roi = rs['30060020'].Value as JsonDataset[];
  assert.equal(rs['30060020'].vr, 'SQ');
  assert.ok(roi.length > 0);
  assert.equal(typeof (roi[0]['30060022'].Value![0]), 'number', 'ROI Number (IS) as a JSON number');
});

test('binary values: InlineBinary by default, BulkDataURI above the threshold via the callback', () => {
  const ct = readPart10(fixture('CT_small.dcm')).dataset;
  const inline = toDicomJson(ct);
  assert.equal(Buffer.from(inline['7FE00010'].InlineBinary!, 'base64').length, 128 * 128 * 2);
  const seen: string[] = [];
  const bulk = toDicomJson(ct, { bulkThreshold: 100, bulkDataUri: (path, t) => (seen.push(path), t === T.PixelData ? 'https://x/bulk/1' : undefined) });
  assert.deepEqual(bulk['7FE00010'], { vr: 'OW', BulkDataURI: 'https://x/bulk/1' });
  assert.ok(seen.includes('(7FE0,0010)'));
  const enc = toDicomJson(readPart10(fixture('JPEG2000.dcm')).dataset, { bulkDataUri: () => 'u' });
  assert.deepEqual(enc['7FE00010'], { vr: 'OB', BulkDataURI: 'u' });
});

test('UN holding a sequence is exposed as SQ', () => {
  const j = toDicomJson(readPart10(fixture('UN_sequence.dcm')).dataset);
  const seq = Object.values(j)[0];
  assert.equal(seq.vr, 'SQ');
  assert.equal((seq.Value as JsonDataset[]).length, 1);
});

function roundTripJson(j: JsonDataset): JsonDataset {
  const ds = fromDicomJson(j, { bulkData: () => Uint8Array.of(1, 2, 3, 4) });
  // Through bytes as well, so encoding is exercised.
  return toDicomJson(readDataset(Buffer.concat(writeDataset(ds, TS.ExplicitVRLittleEndian)), TS.ExplicitVRLittleEndian));
}

test('fromDicomJson ∘ toDicomJson is the identity on fixtures (charset may become UTF-8)', () => {
  // (Odd-length values, as in nested_priv_SQ.dcm, come back padded to even length: a re-encoding, not a loss.)
  for (const name of ['CT_small.dcm', 'rtstruct.dcm', 'MR_small_bigendian.dcm', 'chrJapMulti.dcm', 'UN_sequence.dcm', 'priv_SQ.dcm']) {
    const j = toDicomJson(readPart10(fixture(name)).dataset);
    const back = roundTripJson(j);
    delete j['00080005'];
    delete back['00080005'];
    assert.deepEqual(back, j, name);
  }
});

test('every corpus file survives toDicomJson → fromDicomJson → toDicomJson', (t) => {
  if (!corpusPresent) return t.skip('corpus not present');
  const names = ['pydicom/rtplan.dcm', 'pydicom/test-SR.dcm', 'pydicom/waveform_ecg.dcm', 'pydicom/reportsi_with_empty_number_tags.dcm',
    'pydicom/charset_files/chrX2.dcm', 'pydicom/charset_files/chrI2.dcm', 'pydicom/rtdose.dcm', 'rt-dvha-anon33345/RTPLAN/2.16.840.1.114362.1.6.6.12.17310.7693757184.448884818.667.4154.dcm'];
  for (const name of names) {
    const j = toDicomJson(readPart10(readFileSync(`${CORPUS}/${name}`)).dataset);
    const back = roundTripJson(j);
    delete j['00080005'];
    delete back['00080005'];
    assert.deepEqual(back, j, name);
  }
});

test('malformed JSON gives a typed error', () => {
  assert.throws(() => fromDicomJson({ nope: { vr: 'LO' } }), (e) => isAppError(e, 'DICOM_PARSE'));
  assert.throws(() => fromDicomJson({ '00100010': { vr: 'XX' } }), (e) => isAppError(e, 'DICOM_PARSE'));
});
