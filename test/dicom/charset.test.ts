import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Dataset } from '../../src/dicom/dataset.ts';
import { readDataset, readPart10, writeDataset, writePart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { TS } from '../../src/dicom/uids.ts';
import { CORPUS, corpusPresent, fixture } from './fixtures.ts';

// Expected Patient's Name per file: the values pydicom's own tests assert for dclunie's SCS* samples.
const NAMES: Record<string, string> = {
  'chrArab.dcm': 'قباني^لنزار',
  'chrFren.dcm': 'Buc^Jérôme',
  'chrFrenMulti.dcm': 'Buc^Jérôme',
  'chrGerm.dcm': 'Äneas^Rüdiger',
  'chrGreek.dcm': 'Διονυσιος',
  'chrH31.dcm': 'Yamada^Tarou=山田^太郎=やまだ^たろう',
  'chrH32.dcm': 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
  'chrHbrw.dcm': 'שרון^דבורה',
  'chrI2.dcm': 'Hong^Gildong=洪^吉洞=홍^길동',
  'chrJapMulti.dcm': 'やまだ^たろう',
  'chrJapMultiExplicitIR6.dcm': 'やまだ^たろう',
  'chrKoreanMulti.dcm': '김희중',
  'chrRuss.dcm': 'Люкceмбypг',
  'chrX1.dcm': 'Wang^XiaoDong=王^小東=',
  'chrX2.dcm': 'Wang^XiaoDong=王^小东=',
};

test('ISO 2022 Japanese names decode (fixtures, no corpus needed)', () => {
  assert.equal(readPart10(fixture('chrH31.dcm')).dataset.string(T.PatientName), NAMES['chrH31.dcm']);
  assert.equal(readPart10(fixture('chrJapMulti.dcm')).dataset.string(T.PatientName), NAMES['chrJapMulti.dcm']);
});

test('every charset sample of the corpus decodes like pydicom', (t) => {
  if (!corpusPresent) return t.skip('corpus not present');
  for (const [name, expected] of Object.entries(NAMES)) {
    const f = readPart10(readFileSync(`${CORPUS}/pydicom/charset_files/${name}`));
    assert.equal(f.dataset.string(T.PatientName), expected, name);
  }
});

test('a sequence item inherits the charset unless it declares its own', () => {
  const f = readPart10(fixture('chrSQEncoding.dcm'));
  assert.equal(f.dataset.charset(), 'ISO_IR 192');
  const item = f.dataset.items(0x00321064)![0];
  assert.equal(item.string(T.PatientName), 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  const inherited = new Dataset();
  f.dataset.setItems(T.ReferencedStudySequence, [inherited]);
  assert.equal(inherited.charset(), 'ISO_IR 192');
});

test('setString keeps a single-byte charset when it can represent the text', () => {
  const ds = new Dataset();
  ds.setString(T.SpecificCharacterSet, 'CS', 'ISO_IR 100');
  ds.setString(T.PatientName, 'PN', 'Buc^Jérôme');
  assert.equal(ds.bytes(T.PatientName)!.length, 10);
  assert.equal(ds.charset(), 'ISO_IR 100');
  assert.equal(ds.string(T.PatientName), 'Buc^Jérôme');
});

test('setString switches the dataset to UTF-8 when a character is not representable, re-encoding other text', () => {
  const ds = new Dataset();
  ds.setString(T.SpecificCharacterSet, 'CS', 'ISO_IR 100');
  ds.setString(T.InstitutionName, 'LO', 'Hôpital Général');
  const item = new Dataset();
  item.setString(T.CodeMeaning, 'LO', 'Côte');
  ds.setItems(T.ProcedureCodeSequence, [item]);
  ds.setString(T.PatientName, 'PN', '山田^太郎');
  assert.equal(ds.charset(), 'ISO_IR 192');
  const back = readDataset(Buffer.concat(writeDataset(ds, TS.ExplicitVRLittleEndian)), TS.ExplicitVRLittleEndian);
  assert.equal(back.string(T.PatientName), '山田^太郎');
  assert.equal(back.string(T.InstitutionName), 'Hôpital Général');
  assert.equal(back.items(T.ProcedureCodeSequence)![0].string(T.CodeMeaning), 'Côte');
});

test('an ISO 2022 file edited with text outside its repertoire is converted to UTF-8 consistently', () => {
  const f = readPart10(fixture('chrH31.dcm'));
  const before = new Map<string, string>();
  f.dataset.walk((d, tg, path) => void before.set(path, d.string(tg) ?? ''));
  f.dataset.setString(T.PatientAddress, 'LO', 'Rue Ém');
  const g = readPart10(Buffer.concat(writePart10(f)));
  assert.equal(g.dataset.charset(), 'ISO_IR 192');
  assert.equal(g.dataset.string(T.PatientName), NAMES['chrH31.dcm']);
  assert.equal(g.dataset.string(T.PatientAddress), 'Rue Ém');
  g.dataset.walk((d, tg, path) => {
    if (tg === T.SpecificCharacterSet || tg === T.PatientAddress || tg === T.FileMetaInformationGroupLength) return;
    assert.equal(d.string(tg) ?? '', before.get(path), path);
  });
});
