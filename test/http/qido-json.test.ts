import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchToDicomJson } from '../../src/http/dicomweb/qido-json.ts';
import type { QueryMatch } from '../../src/index/archive-index.ts';

/** The answer body as the QIDO route sends it (fastify stringifies the array). */
const matchesToDicomJsonText = (ms: QueryMatch[], urlOf: (m: QueryMatch) => string | undefined): string => JSON.stringify(ms.map((m) => matchToDicomJson(m, urlOf(m))));

const match = (tags: Record<string, string | null>): QueryMatch => ({ level: 'study', id: 'x', parentId: undefined, tags });

test('QIDO JSON: PS3.18 F.2 values, tag order, retrieve URL in place, valid JSON', () => {
  const text = matchesToDicomJsonText(
    [
      match({
        StudyInstanceUID: '1.2.3',
        PatientName: 'Doe^Jane=山田^太郎=やまだ^たろう',
        PatientID: 'A"B\\C',
        StudyDate: '',
        NumberOfStudyRelatedInstances: '12',
        ModalitiesInStudy: 'CT\\RTSTRUCT',
        AccessionNumber: null,
      }),
      match({ StudyInstanceUID: '1.2.4', PatientName: '=Yamada', PatientID: 'P2', StudyDate: '20240101', NumberOfStudyRelatedInstances: ' x ', ModalitiesInStudy: 'MR', AccessionNumber: 'ACC' }),
    ],
    (m) => `http://h/dicom-web/studies/${m.tags.StudyInstanceUID}`,
  );
  const parsed = JSON.parse(text) as Record<string, { vr: string; Value?: unknown[] }>[];
  assert.equal(parsed.length, 2);
  const [a, b] = parsed;
  // Keys ascending by tag, the retrieve URL (0008,1190) between (0008,0061) and (0010,0010).
  assert.deepEqual(Object.keys(a), ['00080020', '00080061', '00081190', '00100010', '00100020', '0020000D', '00201208']);
  assert.deepEqual(a['00080020'], { vr: 'DA' });
  assert.deepEqual(a['00080061'], { vr: 'CS', Value: ['CT', 'RTSTRUCT'] });
  assert.deepEqual(a['00081190'], { vr: 'UR', Value: ['http://h/dicom-web/studies/1.2.3'] });
  assert.deepEqual(a['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }] });
  assert.deepEqual(a['00100020'], { vr: 'LO', Value: ['A"B', 'C'] });
  assert.deepEqual(a['00201208'], { vr: 'IS', Value: [12] });
  assert.equal('00080050' in a, false, 'a null (absent) attribute is left out');
  assert.deepEqual(b['00100010'], { vr: 'PN', Value: [{ Ideographic: 'Yamada' }] });
  assert.deepEqual(b['00201208'], { vr: 'IS', Value: [null] }, 'a malformed number is null, as JSON.stringify(NaN) wrote it');
  assert.deepEqual(b['00080050'], { vr: 'SH', Value: ['ACC'] });
});

test('QIDO JSON: no matches is an empty array; no URL level leaves 0008,1190 out', () => {
  assert.equal(matchesToDicomJsonText([], () => undefined), '[]');
  const [only] = JSON.parse(matchesToDicomJsonText([match({ PatientID: 'P' })], () => undefined)) as Record<string, unknown>[];
  assert.deepEqual(only, { '00100020': { vr: 'LO', Value: ['P'] } });
});
