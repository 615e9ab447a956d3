import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/dicom/dataset.ts';
import { newDicomFile, readDataset, readPart10, writeDataset, writePart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { TS } from '../../src/dicom/uids.ts';
import { isAppError } from '../../src/core/errors.ts';
import { fixture } from './fixtures.ts';

/** path → encoded bytes of every leaf element (not SQ), for comparing what an edit left alone. */
function leafSpans(ds: Dataset): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  ds.walk((d, t, path) => {
    const el = d._find(t)!;
    if (el.items) return;
    out.set(path, Buffer.from(d._src!.subarray(el.start, el.end)));
  });
  return out;
}

test('edit PatientName at root and inside a nested sequence item; every other element keeps its bytes', () => {
  for (const name of ['rtstruct.dcm', 'CT_small.dcm', 'MR_small_bigendian.dcm']) {
    const original = fixture(name);
    const f = readPart10(original);
    const before = leafSpans(f.dataset);
    // Deepest item of the first sequence found (defined or undefined length).
    let nested: Dataset | undefined;
    let nestedPath = '';
    f.dataset.walk((d, t, path) => {
      const items = d.items(t);
      if (items && items.length > 0) {
        nested = items[0];
        nestedPath = `${path}[0].`;
      }
    });
    f.dataset.setString(T.PatientName, 'PN', 'EDITED^ROOT');
    if (nested) nested.setString(T.PatientName, 'PN', 'EDITED^NESTED');
    const written = Buffer.concat(writePart10(f));
    const g = readPart10(written);
    assert.equal(g.dataset.string(T.PatientName), 'EDITED^ROOT', name);
    const after = leafSpans(g.dataset);
    if (nested) assert.equal(after.has(`${nestedPath}(0010,0010)`), true, `${name}: nested edit at ${nestedPath}`);
    let compared = 0;
    for (const [path, bytes] of before) {
      if (path.endsWith('(0010,0010)')) continue;
      assert.ok(after.get(path)?.equals(bytes), `${name}: ${path} changed`);
      compared++;
    }
    assert.equal(after.size, before.size + (nested && !before.has(`${nestedPath}(0010,0010)`) ? 1 : 0) + (before.has('(0010,0010)') ? 0 : 1));
    assert.ok(compared > 10);
    // Same tags and values everywhere else: re-reading gives the same tree shape.
    assert.deepEqual(g.dataset.tags().filter((t) => t !== T.PatientName), f.dataset.tags().filter((t) => t !== T.PatientName));
  }
});

test('defined-length items and sequences get their lengths recomputed after an edit', () => {
  // Build a dataset with defined-length items by round-tripping through a hand-made encoding.
  const ds = new Dataset({ explicitVR: false });
  const item = new Dataset({ explicitVR: false });
  item.setString(T.ReferencedSOPInstanceUID, 'UI', '1.2.3');
  ds.setItems(T.ReferencedImageSequence, [item]);
  ds.setString(T.PatientID, 'LO', 'A');
  const bytes = Buffer.concat(writeDataset(ds, TS.ImplicitVRLittleEndian));
  // Rewrite the undefined lengths as defined ones (sequence at 0, item at 8): seq value 8+8+6=... computed here.
  const itemLen = 8 + 6; // (0008,1155) header + "1.2.3\0"
  const defined = Buffer.concat([
    bytes.subarray(0, 4), u32(8 + itemLen), // sequence header with defined length
    bytes.subarray(8, 12), u32(itemLen), // item header with defined length
    bytes.subarray(16, 16 + itemLen), // item content
    bytes.subarray(16 + itemLen + 8 + 8), // skip item + sequence delimiters, keep the rest
  ]);
  const parsed = readDataset(defined, TS.ImplicitVRLittleEndian);
  assert.ok(Buffer.concat(writeDataset(parsed, TS.ImplicitVRLittleEndian)).equals(defined));
  parsed.items(T.ReferencedImageSequence)![0].setString(T.ReferencedSOPInstanceUID, 'UI', '1.2.3.4.5.6.7');
  const out = Buffer.concat(writeDataset(parsed, TS.ImplicitVRLittleEndian));
  assert.equal(out.readUInt32LE(4), 8 + 8 + 14, 'sequence length recomputed');
  assert.equal(out.readUInt32LE(12), 8 + 14, 'item length recomputed');
  const again = readDataset(out, TS.ImplicitVRLittleEndian);
  assert.equal(again.items(T.ReferencedImageSequence)![0].string(T.ReferencedSOPInstanceUID), '1.2.3.4.5.6.7');
  assert.equal(again.string(T.PatientID), 'A');
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

test('group length elements are kept, and recomputed only for groups that changed', () => {
  const ds = new Dataset();
  ds.setNumbers(0x00080000, 'UL', [999]); // wrong on purpose: untouched groups keep it
  ds.setString(T.Modality, 'CS', 'CT');
  ds.setNumbers(0x00100000, 'UL', [0]);
  ds.setString(T.PatientID, 'LO', 'ID1');
  const raw = Buffer.concat(writeDataset(ds, TS.ExplicitVRLittleEndian));
  const parsed = readDataset(raw, TS.ExplicitVRLittleEndian);
  // Both groups were new in `ds`, so both lengths were computed on the first write.
  assert.equal(parsed.number(0x00080000), 10);
  assert.equal(parsed.number(0x00100000), 12);
  // Make group 0008's length wrong in the source, then edit only group 0010.
  raw.writeUInt32LE(777, 8);
  const lying = readDataset(raw, TS.ExplicitVRLittleEndian);
  lying.setString(T.PatientID, 'LO', 'LONGER-ID');
  const out = readDataset(Buffer.concat(writeDataset(lying, TS.ExplicitVRLittleEndian)), TS.ExplicitVRLittleEndian);
  assert.equal(out.number(0x00080000), 777, 'untouched group keeps its bytes');
  assert.equal(out.number(0x00100000), 8 + 10);
  lying.remove(T.Modality);
  const out2 = readDataset(Buffer.concat(writeDataset(lying, TS.ExplicitVRLittleEndian)), TS.ExplicitVRLittleEndian);
  assert.equal(out2.number(0x00080000), 0, 'removing an element recomputes its group');
});

test('values: strings trimmed and split, numbers from text and binary VRs, empty values', () => {
  const ds = new Dataset();
  ds.setString(T.ImageType, 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']);
  ds.setString(T.SOPInstanceUID, 'UI', '1.2.3');
  ds.setNumbers(T.ImagePositionPatient, 'DS', [-1.5, 0, 1e-7]);
  ds.setNumbers(T.InstanceNumber, 'IS', [12]);
  ds.setNumbers(T.Rows, 'US', [512]);
  ds.setNumbers(T.RealWorldValueFirstValueMapped, 'SS', [-3]);
  ds.setString(T.StudyComments, 'LT', 'a\\b  ');
  ds.setEmpty(T.AccessionNumber, 'SH');
  ds.setNumbers(T.SelectorSVValue, 'SV', [-(2 ** 40)]);
  const rt = readDataset(Buffer.concat(writeDataset(ds, TS.ExplicitVRLittleEndian)), TS.ExplicitVRLittleEndian);
  assert.deepEqual(rt.strings(T.ImageType), ['ORIGINAL', 'PRIMARY', 'AXIAL']);
  assert.equal(rt.string(T.ImageType), 'ORIGINAL');
  assert.equal(rt.string(T.SOPInstanceUID), '1.2.3');
  assert.equal(rt.bytes(T.SOPInstanceUID)!.length, 6, 'UI padded with NUL to even length');
  assert.deepEqual(rt.numbers(T.ImagePositionPatient), [-1.5, 0, 1e-7]);
  assert.equal(rt.number(T.InstanceNumber), 12);
  assert.equal(rt.number(T.Rows), 512);
  assert.equal(rt.number(T.RealWorldValueFirstValueMapped), -3);
  assert.equal(rt.string(T.StudyComments), 'a\\b', 'LT is one value');
  assert.equal(rt.string(T.AccessionNumber), '');
  assert.deepEqual(rt.strings(T.AccessionNumber), []);
  assert.equal(rt.number(T.AccessionNumber), undefined);
  assert.equal(rt.number(T.SelectorSVValue), -(2 ** 40));
  assert.equal(rt.string(T.PatientName), undefined);
  assert.throws(() => ds.setString(T.Modality, 'CS', 'Ü'), (e) => isAppError(e, 'DICOM_ENCODE'));
});

test('remove, has, tags ascending, walk paths', () => {
  const f = readPart10(fixture('rtstruct.dcm'));
  const tags = f.dataset.tags();
  assert.deepEqual(tags, [...tags].sort((a, b) => a - b));
  const paths: string[] = [];
  f.dataset.walk((_d, _t, path) => void paths.push(path));
  assert.ok(paths.includes('(3006,0020)[0].(3006,0022)'));
  let skipped = 0;
  f.dataset.walk((_d, t) => (t === T.StructureSetROISequence ? 'skip' : void skipped++));
  assert.ok(skipped < paths.length);
  assert.equal(f.dataset.remove(T.StructureSetROISequence), true);
  assert.equal(f.dataset.has(T.StructureSetROISequence), false);
  assert.equal(f.dataset.remove(T.StructureSetROISequence), false);
  const g = readPart10(Buffer.concat(writePart10(f)));
  assert.equal(g.dataset.has(T.StructureSetROISequence), false);
  assert.equal(g.dataset.tags().length, tags.length - 1);
});

test('setItems builds new sequences that nest and survive a round trip in every syntax', () => {
  for (const ts of [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian, TS.DeflatedExplicitVRLittleEndian]) {
    const root = new Dataset();
    const a = new Dataset();
    const b = new Dataset();
    b.setNumbers(T.ReferencedFrameNumber, 'IS', [3]);
    b.setNumbers(T.Rows, 'US', [7]);
    a.setItems(T.ReferencedImageSequence, [b]);
    root.setItems(T.ReferencedSeriesSequence, [a, new Dataset()]);
    const back = readDataset(Buffer.concat(writeDataset(root, ts)), ts);
    const items = back.items(T.ReferencedSeriesSequence)!;
    assert.equal(items.length, 2, ts);
    assert.equal(items[1].tags().length, 0);
    const inner = items[0].items(T.ReferencedImageSequence)![0];
    assert.equal(inner.number(T.ReferencedFrameNumber), 3);
    assert.equal(inner.number(T.Rows), 7, ts);
    assert.equal(inner.parent, items[0]);
  }
});

test('long-length VRs (OB OW OF OD OL OV SV UV UC UR UT) encode with 4-byte lengths and round-trip', () => {
  const ds = new Dataset();
  const big = 70000; // beyond a 16-bit length
  ds.setBytes(0x00091010, 'OB', new Uint8Array(big).fill(1));
  ds.setNumbers(0x00091011, 'OW', [1, 2, 3]);
  ds.setNumbers(0x00091012, 'OF', [1.5]);
  ds.setNumbers(0x00091013, 'OD', [2.25]);
  ds.setNumbers(0x00091014, 'OL', [7]);
  ds.setNumbers(0x00091015, 'OV', [2 ** 40]);
  ds.setNumbers(0x00091016, 'SV', [-5]);
  ds.setNumbers(0x00091017, 'UV', [5]);
  ds.setString(0x00091018, 'UC', 'x'.repeat(big));
  ds.setString(0x00091019, 'UR', 'http://example.org/a b');
  ds.setString(0x0009101a, 'UT', 'line1\\line2');
  for (const ts of [TS.ExplicitVRLittleEndian, TS.ExplicitVRBigEndian, TS.ImplicitVRLittleEndian]) {
    const bytes = Buffer.concat(writeDataset(ds, ts));
    const back = readDataset(bytes, ts);
    if (ts !== TS.ImplicitVRLittleEndian) {
      assert.equal(back.vr(0x00091018), 'UC');
      assert.deepEqual(back.numbers(0x00091011), [1, 2, 3], ts);
      assert.deepEqual(back.numbers(0x00091015), [2 ** 40]);
      assert.equal(back.number(0x00091016), -5);
      assert.equal(back.string(0x0009101a), 'line1\\line2');
      assert.equal(back.string(0x00091019), 'http://example.org/a b');
    }
    assert.equal(back.bytes(0x00091010)!.length, big);
    assert.equal(back.bytes(0x00091018)!.length, big);
    assert.ok(Buffer.concat(writeDataset(back, ts)).equals(bytes));
  }
});

test('odd-length values are kept as they are', () => {
  const f = readPart10(fixture('nested_priv_SQ.dcm'));
  const inner = f.dataset.items(0x00010001)![0];
  assert.equal(inner.bytes(0x00010002)!.length, 9);
  assert.ok(Buffer.concat(writePart10(f)).equals(fixture('nested_priv_SQ.dcm')));
});

test('a sequence with 150,000 items encodes (no call-stack limit on huge sequences)', () => {
  const ds = new Dataset();
  const items: Dataset[] = [];
  for (let i = 0; i < 150_000; i++) {
    const item = new Dataset();
    item.setString(T.ReferencedSOPInstanceUID, 'UI', `1.2.3.${i}`);
    items.push(item);
  }
  ds.setItems(T.ReferencedImageSequence, items);
  const file = newDicomFile(ds, '1.2.840.10008.1.2.1');
  const back = readPart10(Buffer.concat(writePart10(file)));
  assert.equal(back.dataset.items(T.ReferencedImageSequence)?.length, 150_000);
  assert.equal(back.dataset.items(T.ReferencedImageSequence)?.[149_999].string(T.ReferencedSOPInstanceUID), '1.2.3.149999');
});
