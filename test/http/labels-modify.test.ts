// Orthanc labels (per resource, in /tools/find) and POST /{level}/{id}/modify (a new instance set
// with new UIDs unless kept; the instance route returns the file), over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPart10 } from '../../src/dicom/index.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { withMemoryArchive, type MemoryArchive } from './archive-fixture.ts';

const STUDY = '1.2.826.0.4.1';

async function seed(a: MemoryArchive, project?: string) {
  const out: { study: string; patient: string; series: string[] } = { study: '', patient: '', series: [] };
  for (const [series, n] of [['1', 1], ['1', 2], ['2', 3]] as const) {
    const r = await a.rest.archive.ingest.ingest(
      syntheticInstance({ patientId: 'MOD-1', patientName: 'Before^Name', studyInstanceUid: STUDY, seriesInstanceUid: `${STUDY}.${series}`, sopInstanceUid: `${STUDY}.${series}.${n}`, modality: 'CT', size: 4 }),
      { transport: 'rest', ...(project ? { project } : {}) },
    );
    if (r.status === 'rejected') throw new Error(r.reason);
    out.study = r.ids.study;
    out.patient = r.ids.patient;
    if (!out.series.includes(r.ids.series)) out.series.push(r.ids.series);
  }
  return out;
}

test('labels: set, list, remove, /tools/labels, /tools/find Labels + LabelsConstraint, in the resource JSON', async () => {
  await withMemoryArchive(async (h, a) => {
    const ids = await seed(a);
    const r = { authorization: h.basic('researcher') };
    const put = (url: string) => h.app.inject({ method: 'PUT', url, headers: r });
    assert.equal((await put(`/studies/${ids.study}/labels/reviewed`)).statusCode, 200);
    assert.equal((await put(`/studies/${ids.study}/labels/cohort-A`)).statusCode, 200);
    assert.equal((await put(`/series/${ids.series[0]}/labels/cohort-A`)).statusCode, 200);
    assert.equal((await put(`/studies/${ids.study}/labels/bad%20label`)).statusCode, 400);
    assert.equal((await put('/studies/00000000-00000000-00000000-00000000-00000000/labels/x')).statusCode, 404);
    assert.equal((await h.app.inject({ method: 'PUT', url: `/studies/${ids.study}/labels/x`, headers: { authorization: h.basic('uploader') } })).statusCode, 403);
    assert.deepEqual((await h.app.inject({ url: `/studies/${ids.study}/labels`, headers: r })).json(), ['cohort-A', 'reviewed']);
    assert.deepEqual((await h.app.inject({ url: `/studies/${ids.study}`, headers: r })).json().Labels, ['cohort-A', 'reviewed']);
    assert.deepEqual((await h.app.inject({ url: '/tools/labels', headers: r })).json(), ['cohort-A', 'reviewed']);
    const find = async (body: object) => (await h.app.inject({ method: 'POST', url: '/tools/find', headers: r, payload: body })).json();
    assert.deepEqual(await find({ Level: 'Study', Query: {}, Labels: ['reviewed', 'cohort-A'] }), [ids.study]);
    assert.deepEqual(await find({ Level: 'Series', Query: {}, Labels: ['cohort-A'], LabelsConstraint: 'None' }), [ids.series[1]]);
    assert.deepEqual(await find({ Level: 'Series', Query: {}, Labels: ['cohort-A', 'other'], LabelsConstraint: 'Any' }), [ids.series[0]]);
    assert.equal((await h.app.inject({ method: 'DELETE', url: `/studies/${ids.study}/labels/reviewed`, headers: r })).statusCode, 200);
    assert.deepEqual((await h.app.inject({ url: `/studies/${ids.study}/labels`, headers: r })).json(), ['cohort-A']);
    assert.equal((await h.audit.list({ action: 'label.add' })).length, 3);
    assert.equal((await h.app.inject({ url: '/system', headers: r })).json().HasLabels, true);
  });
});

test('labels of another project\'s resource cannot be read or set', async () => {
  await withMemoryArchive(async (h, a) => {
    const ids = await seed(a, 'brain');
    await a.rest.archive.index.setLabel('study', ids.study, 'secret-cohort', true);
    const r = { authorization: h.basic('researcher') }; // lung + archive
    assert.equal((await h.app.inject({ url: `/studies/${ids.study}/labels`, headers: r })).statusCode, 404);
    assert.equal((await h.app.inject({ method: 'PUT', url: `/studies/${ids.study}/labels/mine`, headers: r })).statusCode, 404);
    assert.deepEqual((await h.app.inject({ url: '/tools/labels', headers: r })).json(), []);
  });
});

test('modify a study: a new study with new UIDs and the replaced/removed tags; the original stays', async () => {
  await withMemoryArchive(async (h, a) => {
    const ids = await seed(a, 'lung');
    const up = { authorization: h.basic('uploader') };
    const body = { Replace: { PatientName: 'After^Name', StudyDescription: 'modified' }, Remove: ['Modality'] };
    assert.equal((await h.app.inject({ method: 'POST', url: `/studies/${ids.study}/modify`, headers: { authorization: h.basic('researcher') }, payload: body })).statusCode, 403);
    const res = await h.app.inject({ method: 'POST', url: `/studies/${ids.study}/modify`, headers: up, payload: body });
    assert.equal(res.statusCode, 200, res.body);
    const out = res.json();
    assert.equal(out.Type, 'Study');
    assert.notEqual(out.ID, ids.study);
    assert.equal(out.PatientID, ids.patient, 'same PatientID, same patient');
    assert.equal(out.Path, `/studies/${out.ID}`);
    const r = { authorization: h.basic('researcher') };
    const study = (await h.app.inject({ url: `/studies/${out.ID}`, headers: r })).json();
    assert.notEqual(study.MainDicomTags.StudyInstanceUID, STUDY);
    assert.equal(study.MainDicomTags.StudyDescription, 'modified');
    assert.equal(study.Series.length, 2, 'the two series stay two series');
    const instances = (await h.app.inject({ url: `/studies/${out.ID}/instances`, headers: r })).json() as { ID: string; MainDicomTags: { SOPInstanceUID: string } }[];
    assert.equal(instances.length, 3);
    assert.ok(instances.every((i) => !i.MainDicomTags.SOPInstanceUID.startsWith(STUDY)), 'new SOP Instance UIDs');
    const file = readPart10((await h.app.inject({ url: `/instances/${instances[0].ID}/file`, headers: r })).rawPayload);
    assert.equal(file.dataset.string(0x00100010), 'After^Name');
    assert.equal(file.dataset.has(0x00080060), false, 'Modality removed');
    assert.equal(file.meta.string(0x00020003), file.dataset.string(0x00080018), 'file meta follows the new SOP Instance UID');
    // The copy keeps the source's project: a lung-only reader sees it, a brain-only one does not.
    assert.equal((await a.rest.archive.index.getResource('instance', instances[0].ID))?.file?.source.project, 'lung');
    assert.ok((await h.app.inject({ url: `/studies/${ids.study}`, headers: r })).statusCode === 200, 'KeepSource defaults to true');
    assert.equal((await h.audit.list({ action: 'modify' })).length, 1);
  });
});

test('modify: Force rules, Keep, patient level, KeepSource=false (admin), instance returns the file', async () => {
  await withMemoryArchive(async (h, a) => {
    const ids = await seed(a);
    const up = { authorization: h.basic('uploader') };
    const post = (url: string, payload: object, headers = up) => h.app.inject({ method: 'POST', url, headers, payload });
    assert.equal((await post(`/studies/${ids.study}/modify`, { Replace: { StudyInstanceUID: '1.2.3' } })).statusCode, 400, 'UIDs need Force');
    assert.equal((await post(`/studies/${ids.study}/modify`, { Replace: { PatientID: 'X' } })).statusCode, 400, 'PatientID below patient needs Force');
    assert.equal((await post(`/patients/${ids.patient}/modify`, { Replace: { PatientName: 'X' } })).statusCode, 400, 'a patient needs a new PatientID');
    assert.equal((await post(`/studies/${ids.study}/modify`, { Transcode: '1.2.840.10008.1.2.4.50' })).statusCode, 400);

    // Series level: a new series (new UID) in the same study.
    const s = await post(`/series/${ids.series[1]}/modify`, { Replace: { SeriesDescription: 'copy' } });
    assert.equal(s.statusCode, 200, s.body);
    const r = { authorization: h.basic('researcher') };
    const series = (await h.app.inject({ url: `/series/${s.json().ID}`, headers: r })).json();
    assert.notEqual(s.json().ID, ids.series[1]);
    assert.equal(series.ParentStudy, ids.study);
    assert.equal(series.MainDicomTags.SeriesDescription, 'copy');
    // Study level keeping StudyInstanceUID (Force): the same study gains new series.
    const k = await post(`/studies/${ids.study}/modify`, { Keep: ['StudyInstanceUID'], Force: true });
    assert.equal(k.statusCode, 200, k.body);
    assert.equal(k.json().ID, ids.study);
    assert.equal((await h.app.inject({ url: `/studies/${ids.study}`, headers: r })).json().Series.length, 6, '3 series and their 3 copies');

    const p = await post(`/patients/${ids.patient}/modify`, { Replace: { PatientID: 'MOD-2' }, KeepSource: false });
    assert.equal(p.statusCode, 403, 'deleting the source is for admin');
    const admin = { authorization: h.basic('admin') };
    const p2 = await post(`/patients/${ids.patient}/modify`, { Replace: { PatientID: 'MOD-2' }, KeepSource: false }, admin);
    assert.equal(p2.statusCode, 200, p2.body);
    assert.equal((await h.app.inject({ url: `/patients/${ids.patient}`, headers: r })).statusCode, 404, 'source deleted');
    const moved = (await h.app.inject({ url: `/patients/${p2.json().ID}`, headers: r })).json();
    assert.equal(moved.MainDicomTags.PatientID, 'MOD-2');

    const [instanceId] = (await h.app.inject({ url: `/patients/${p2.json().ID}/instances?expand=false`, headers: r })).json() as string[];
    const one = await post(`/instances/${instanceId}/modify`, { Replace: { PatientName: 'Only^Copy' } }, r);
    assert.equal(one.statusCode, 200, one.body);
    assert.equal(one.headers['content-type'], 'application/dicom');
    const f = readPart10(one.rawPayload);
    assert.equal(f.dataset.string(0x00100010), 'Only^Copy');
    assert.notEqual(f.dataset.string(0x00080018), (await a.rest.archive.index.getResource('instance', instanceId))?.tags.SOPInstanceUID, 'new SOP Instance UID');
    assert.equal((await h.app.inject({ url: `/patients/${p2.json().ID}/instances?expand=false`, headers: r })).json().length, 8, 'nothing stored');
  });
});
