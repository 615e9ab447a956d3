import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTag, isPrivateCreator, isPrivateTag, parseTag, privateCreatorTag, T, tag } from '../../src/dicom/tag.ts';
import { isAppError } from '../../src/core/errors.ts';

test('tag packs group and element as uint32', () => {
  assert.equal(tag(0x0010, 0x0010), 0x00100010);
  assert.equal(tag(0xfffe, 0xe000), 0xfffee000);
  assert.ok(tag(0xfffe, 0xe000) > 0);
});

test('formatTag and parseTag round-trip every accepted form', () => {
  assert.equal(formatTag(0x7fe00010), '(7FE0,0010)');
  for (const s of ['00100010', '(0010,0010)', '0010,0010', 'PatientName', ' (0010,0010) ']) assert.equal(parseTag(s), 0x00100010);
  assert.equal(parseTag('7fe00010'), T.PixelData);
  assert.throws(() => parseTag('NoSuchKeyword'), (e) => isAppError(e, 'DICOM_TAG_UNKNOWN'));
});

test('private tags and creators', () => {
  assert.ok(isPrivateTag(0x00091001));
  assert.ok(!isPrivateTag(0x00100010));
  assert.ok(!isPrivateTag(0x00010010), 'groups 0001-0007 are not private');
  assert.ok(!isPrivateTag(0xfffee000));
  assert.ok(isPrivateCreator(0x00290010));
  assert.ok(!isPrivateCreator(0x00291010));
  assert.equal(privateCreatorTag(0x00291010), 0x00290010);
  assert.equal(privateCreatorTag(0x002910ff), 0x00290010);
  assert.equal(privateCreatorTag(0x00292301), 0x00290023);
  assert.equal(privateCreatorTag(0x00290010), undefined);
});

test('T has generated keyword constants, including repeating groups', () => {
  assert.equal(T.PatientName, 0x00100010);
  assert.equal(T.SOPInstanceUID, 0x00080018);
  assert.equal(T.OverlayData, 0x60003000);
  assert.equal(T.FileMetaInformationGroupLength, 0x00020000);
});
