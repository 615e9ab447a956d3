// POST /tools/find OrderBy (Orthanc 1.12.5): DicomTag sorting through the index, paging consistent
// with Limit/Since, and 400s that say what to send instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { buildHarness } from './app-harness.ts';
import { memoryArchive } from './archive-fixture.ts';

test('POST /tools/find: OrderBy sorts studies on the server, pages with Since/Limit, refuses Metadata and unindexed keys', async () => {
  const archive = memoryArchive();
  const h = await buildHarness({ surfaces: { rest: archive.rest } });
  try {
    const dates = ['20210301', '20190101', '20230715', '20200115', '20220202'];
    for (const [i, d] of dates.entries()) {
      const f = syntheticInstance({ patientId: `P${i}`, patientName: `NAME^${'EDCBA'[i]}`, studyInstanceUid: `1.2.9.${i}`, seriesInstanceUid: `1.2.9.${i}.1`, sopInstanceUid: `1.2.9.${i}.1.1`, studyDate: d });
      const up = await h.app.inject({ method: 'POST', url: '/instances', headers: { authorization: h.basic('admin'), 'content-type': 'application/dicom' }, payload: f });
      assert.equal(up.json().Status, 'Success');
    }
    const find = (body: object) => h.app.inject({ method: 'POST', url: '/tools/find', headers: { authorization: h.basic('researcher') }, payload: body });
    const datesOf = (rows: { MainDicomTags: { StudyDate: string } }[]) => rows.map((r) => r.MainDicomTags.StudyDate);

    const desc = await find({ Level: 'Study', Expand: true, Query: {}, OrderBy: [{ Type: 'DicomTag', Key: 'StudyDate', Direction: 'DESC' }] });
    assert.equal(desc.statusCode, 200, desc.body);
    assert.deepEqual(datesOf(desc.json()), [...dates].sort().reverse());
    const paged = [];
    for (let since = 0; since < 5; since += 2) {
      paged.push(...(await find({ Level: 'Study', Expand: true, Since: since, Limit: 2, OrderBy: [{ Type: 'DicomTag', Key: 'StudyDate', Direction: 'DESC' }] })).json());
    }
    assert.deepEqual(datesOf(paged), [...dates].sort().reverse(), 'pages follow the sorted order');
    // A parent (patient) attribute orders studies too; tag numbers work like keywords.
    const byName = await find({ Level: 'Study', Expand: true, OrderBy: [{ Type: 'DicomTag', Key: '0010,0010', Direction: 'ASC' }] });
    assert.deepEqual((byName.json() as { PatientMainDicomTags: { PatientName: string } }[]).map((r) => r.PatientMainDicomTags.PatientName), ['NAME^A', 'NAME^B', 'NAME^C', 'NAME^D', 'NAME^E']);
    const ids = await find({ Level: 'Study', OrderBy: [{ Type: 'DicomTag', Key: 'StudyDate', Direction: 'asc' }] });
    assert.equal((ids.json() as string[]).length, 5, 'non-expanded answers sort too');

    const metadata = await find({ Level: 'Study', OrderBy: [{ Type: 'Metadata', Key: 'LastUpdate', Direction: 'ASC' }] });
    assert.equal(metadata.statusCode, 400);
    assert.match(metadata.body, /DicomTag/);
    const unindexed = await find({ Level: 'Study', OrderBy: [{ Type: 'DicomTag', Key: 'SliceThickness', Direction: 'ASC' }] });
    assert.equal(unindexed.statusCode, 400);
    assert.match(unindexed.body, /not an indexed main tag/);
    const lower = await find({ Level: 'Study', OrderBy: [{ Type: 'DicomTag', Key: 'Modality', Direction: 'ASC' }] });
    assert.equal(lower.statusCode, 400, 'a series attribute cannot order studies');
    const direction = await find({ Level: 'Study', OrderBy: [{ Type: 'DicomTag', Key: 'StudyDate', Direction: 'UP' }] });
    assert.equal(direction.statusCode, 400);
    assert.match(direction.body, /ASC/);
  } finally {
    await h.close();
    await archive.close();
  }
});
