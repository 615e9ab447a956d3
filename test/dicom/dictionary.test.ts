import { test } from 'node:test';
import assert from 'node:assert/strict';
import { implicitVR, keywordOf, lookup, tagForKeyword } from '../../src/dicom/dictionary.ts';

test('lookup gives keyword, name, VR, VM and retired flag', () => {
  const e = lookup(0x00100010)!;
  assert.deepEqual(e, { tag: 0x00100010, keyword: 'PatientName', name: 'Patient Name', vr: 'PN', vm: '1', retired: false });
  assert.equal(lookup(0x00080018)!.name, 'SOP Instance UID');
  assert.equal(lookup(0x00080040)!.retired, true); // DataSetType? retired ACR-NEMA element
  assert.equal(lookup(0x7fe00010)!.vr, 'OB or OW');
});

test('repeating groups: 50xx, 60xx, 7Fxx and (0020,31xx)', () => {
  assert.equal(lookup(0x60003000)!.keyword, 'OverlayData');
  assert.equal(lookup(0x601e3000)!.keyword, 'OverlayData');
  assert.equal(lookup(0x601e3000)!.tag, 0x601e3000);
  assert.equal(lookup(0x60013000), undefined, 'odd 60xx groups are private, not overlays');
  assert.equal(lookup(0x50200010)!.keyword, 'NumberOfPoints');
  assert.equal(lookup(0x7f020010)!.keyword, 'VariablePixelData');
  assert.equal(lookup(0x00203104)!.keyword, 'SourceImageIDs');
});

test('group lengths and private creators follow PS3.5 rules', () => {
  assert.equal(lookup(0x00090000)!.keyword, 'PrivateGroupLength');
  assert.equal(lookup(0x00290010)!.vr, 'LO');
  assert.equal(lookup(0x00291010), undefined);
  assert.equal(lookup(0x00080000)!.vr, 'UL');
});

test('keywords map back to tags', () => {
  assert.equal(tagForKeyword('StudyInstanceUID'), 0x0020000d);
  assert.equal(tagForKeyword('OverlayRows'), 0x60000010);
  assert.equal(tagForKeyword('nope'), undefined);
  assert.equal(keywordOf(0x0020000e), 'SeriesInstanceUID');
});

test('implicit VR resolves PS3.6 choices and unknown tags', () => {
  assert.equal(implicitVR(0x7fe00010), 'OW');
  assert.equal(implicitVR(0x00280106), 'US'); // SmallestImagePixelValue: US or SS
  assert.equal(implicitVR(0x00091001), 'UN');
  assert.equal(implicitVR(0x300a00b0), 'SQ');
});
