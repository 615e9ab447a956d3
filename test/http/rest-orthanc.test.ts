// The Orthanc-compatible REST surface, driven as PyDicer and pyorthanc drive Orthanc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { resourceIds } from '../../src/index/resource-ids.ts';
import { buildHarness, type Harness } from './app-harness.ts';
import { memoryArchive } from './archive-fixture.ts';

const UIDS = { studyInstanceUid: '1.2.826.0.1.1', seriesInstanceUid: '1.2.826.0.1.1.1' };

async function withArchive(fn: (h: Harness) => Promise<void>, now?: () => Date, projects?: string[]): Promise<void> {
  const archive = memoryArchive(now);
  const h = await buildHarness({ surfaces: { rest: archive.rest }, ...(projects ? { projects } : {}) });
  try {
    await fn(h);
  } finally {
    await h.close();
    await archive.close();
  }
}

async function upload(h: Harness, body: Buffer) {
  return h.app.inject({ method: 'POST', url: '/instances', headers: { authorization: h.basic('uploader'), 'content-type': 'application/dicom' }, payload: body });
}

function instance(n: number, over: Partial<Parameters<typeof syntheticInstance>[0]> = {}) {
  return syntheticInstance({ patientId: 'PAT-1', ...UIDS, sopInstanceUid: `1.2.826.0.1.1.1.${n}`, modality: 'CT', instanceNumber: n, size: 4, ...over });
}

test('POST /instances: Success, then AlreadyStored, Failure for garbage; ids are Orthanc ids', async () => {
  await withArchive(async (h) => {
    const first = await upload(h, instance(1));
    assert.equal(first.statusCode, 200);
    const ids = resourceIds({ patientId: 'PAT-1', ...UIDS, sopInstanceUid: '1.2.826.0.1.1.1.1' });
    assert.deepEqual(first.json(), { ID: ids.instance, ParentPatient: ids.patient, ParentStudy: ids.study, ParentSeries: ids.series, Path: `/instances/${ids.instance}`, Status: 'Success' });
    assert.equal((await upload(h, instance(1))).json().Status, 'AlreadyStored');
    const bad = await upload(h, Buffer.from('not dicom at all'));
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().Status, 'Failure');
    const noType = await h.app.inject({ method: 'POST', url: '/instances', headers: { authorization: h.basic('uploader') }, payload: instance(2) });
    assert.equal(noType.json().Status, 'Success', 'no content type, as curl/requests may send');
    const researcher = await h.app.inject({ method: 'POST', url: '/instances', headers: { authorization: h.basic('researcher'), 'content-type': 'application/dicom' }, payload: instance(3) });
    assert.equal(researcher.statusCode, 403);
    const uploads = await h.audit.list({ action: 'upload' });
    assert.deepEqual(uploads.map((e) => [e.actor, e.outcome]), [['u-uploader', 'success'], ['u-uploader', 'success'], ['u-uploader', 'failure'], ['u-uploader', 'success']]);
  });
});

test('PyDicer replay: tools/find non-expanded, patient → studies → series → instances → file', async () => {
  await withArchive(async (h) => {
    const files = [instance(1), instance(2), instance(3, { seriesInstanceUid: '1.2.826.0.1.1.2', modality: 'RTSTRUCT' })];
    for (const f of files) assert.equal((await upload(h, f)).json().Status, 'Success');
    await upload(h, syntheticInstance({ patientId: 'OTHER', studyInstanceUid: '9.9', seriesInstanceUid: '9.9.9', sopInstanceUid: '9.9.9.9', size: 2 }));
    const auth = { authorization: h.basic('researcher') };

    // PyDicer's connection check, then its lookup of each patient. pyorthanc's deprecated client
    // posts json.dumps(query) with requests' data=, i.e. WITHOUT a Content-Type header.
    const none = await h.app.inject({ method: 'POST', url: '/tools/find', headers: auth, payload: JSON.stringify({ Level: 'Patient', Query: { PatientID: 'XXX' } }) });
    assert.equal(none.statusCode, 200, none.body);
    assert.deepEqual(none.json(), []);
    const found = await h.app.inject({ method: 'POST', url: '/tools/find', headers: auth, payload: JSON.stringify({ Level: 'Patient', Query: { PatientID: 'PAT-1' } }) });
    const curl = await h.app.inject({ method: 'POST', url: '/tools/find', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: '{"Level":"Patient","Query":{}}' });
    assert.equal(curl.json().length, 2, 'curl -d sends form-urlencoded');
    const patientIds = found.json() as string[];
    assert.equal(patientIds.length, 1);

    const patient = (await h.app.inject({ url: `/patients/${patientIds[0]}`, headers: auth })).json();
    assert.equal(patient.MainDicomTags.PatientID, 'PAT-1');
    assert.equal(patient.Type, 'Patient');
    assert.equal(patient.Studies.length, 1);
    const study = (await h.app.inject({ url: `/studies/${patient.Studies[0]}`, headers: auth })).json();
    assert.equal(study.ParentPatient, patientIds[0]);
    assert.equal(study.PatientMainDicomTags.PatientID, 'PAT-1');
    assert.equal(study.MainDicomTags.StudyInstanceUID, UIDS.studyInstanceUid);
    assert.equal(study.Series.length, 2);
    const downloaded: string[] = [];
    const modalities: string[] = [];
    for (const seriesId of study.Series as string[]) {
      const series = (await h.app.inject({ url: `/series/${seriesId}`, headers: auth })).json();
      modalities.push(series.MainDicomTags.Modality);
      assert.match(series.MainDicomTags.SeriesInstanceUID, /^1\.2\.826\.0\.1\.1\.[12]$/);
      assert.equal(series.ParentStudy, study.ID);
      for (const instanceId of series.Instances as string[]) {
        const info = (await h.app.inject({ url: `/instances/${instanceId}`, headers: auth })).json();
        assert.equal(info.ParentSeries, seriesId);
        assert.equal(typeof info.FileSize, 'number');
        const file = await h.app.inject({ url: `/instances/${instanceId}/file`, headers: auth });
        assert.equal(file.statusCode, 200);
        assert.equal(file.headers['content-type'], 'application/dicom');
        assert.equal(file.rawPayload.subarray(128, 132).toString('latin1'), 'DICM');
        assert.ok(files.some((f) => f.equals(file.rawPayload)), 'the stored bytes, unchanged');
        downloaded.push(info.MainDicomTags.SOPInstanceUID);
      }
    }
    assert.deepEqual(modalities.sort(), ['CT', 'RTSTRUCT']);
    assert.deepEqual(downloaded.sort(), ['1.2.826.0.1.1.1.1', '1.2.826.0.1.1.1.2', '1.2.826.0.1.1.1.3']);
    const downloads = await h.audit.list({ action: 'download' });
    assert.equal(downloads.length, 3);
    assert.ok(downloads.every((d) => d.actor === 'u-researcher' && d.resource !== null && /^[0-9a-f-]{44}$/.test(d.resource)));
  });
});

test('listings (?expand, ?since, ?limit), children, parents, tags, statistics, changes, system, delete', async () => {
  let now = new Date();
  await withArchive(async (h) => {
    for (let n = 1; n <= 3; n++) await upload(h, instance(n));
    const auth = { authorization: h.basic('researcher') };
    const get = async (url: string) => {
      const r = await h.app.inject({ url, headers: auth });
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      return r.json();
    };
    const all = (await get('/instances')) as string[];
    assert.equal(all.length, 3);
    assert.deepEqual(await get('/instances?since=1&limit=1'), [all[1]]);
    const expanded = await get('/instances?expand');
    assert.equal(expanded[0].Type, 'Instance');
    const [seriesId] = (await get('/series')) as string[];
    const [studyId] = (await get('/studies')) as string[];
    const [patientId] = (await get('/patients')) as string[];
    assert.equal((await get(`/patients/${patientId}/instances`)).length, 3);
    assert.equal((await get(`/studies/${studyId}/series`))[0].ID, seriesId);
    assert.equal((await get(`/instances/${all[0]}/patient`)).ID, patientId);
    assert.equal((await get(`/series/${seriesId}/study`)).ID, studyId);
    const series = await get(`/series/${seriesId}`);
    assert.equal(series.IsStable, false, 'just received');
    now = new Date(Date.now() + 3600_000);
    assert.equal((await get(`/series/${seriesId}`)).IsStable, true);
    const tags = await get(`/instances/${all[0]}/tags`);
    assert.deepEqual(tags['0008,0018'], { Name: 'SOPInstanceUID', Type: 'String', Value: '1.2.826.0.1.1.1.1' });
    const simple = await get(`/instances/${all[0]}/simplified-tags`);
    assert.equal(simple.SOPInstanceUID, '1.2.826.0.1.1.1.1');
    assert.deepEqual(await get(`/instances/${all[0]}/tags?simplify`), simple);
    const stats = await get('/statistics');
    assert.equal(stats.CountInstances, 3);
    assert.equal(stats.CountPatients, 1);
    const changes = await get('/changes?limit=2');
    assert.deepEqual(changes.Changes.map((c: { ChangeType: string }) => c.ChangeType), ['NewPatient', 'NewStudy']);
    assert.equal(changes.Done, false);
    const rest = await get(`/changes?since=${changes.Last}&limit=100`);
    assert.equal(rest.Done, true);
    assert.equal((await get('/system')).Name, 'dicomgate');
    const missing = await h.app.inject({ url: '/patients/00000000-00000000-00000000-00000000-00000000', headers: auth });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().HttpStatus, 404);
    const badFind = await h.app.inject({ method: 'POST', url: '/tools/find', headers: auth, payload: { Level: 'Galaxy', Query: {} } });
    assert.equal(badFind.statusCode, 400);
    const expandFind = await h.app.inject({ method: 'POST', url: '/tools/find', headers: auth, payload: { Level: 'Series', Query: { Modality: 'CT' }, Expand: true, RequestedTags: ['PatientID'] } });
    assert.equal(expandFind.json()[0].ID, seriesId);
    assert.deepEqual(expandFind.json()[0].RequestedTags, { PatientID: 'PAT-1' });

    assert.equal((await h.app.inject({ method: 'DELETE', url: `/instances/${all[0]}`, headers: auth })).statusCode, 403);
    const del = await h.app.inject({ method: 'DELETE', url: `/instances/${all[0]}`, headers: { authorization: h.basic('admin') } });
    assert.equal(del.statusCode, 200);
    assert.deepEqual(del.json().RemainingAncestor, { ID: seriesId, Path: `/series/${seriesId}`, Type: 'Series' });
    assert.equal((await get('/instances')).length, 2);
    assert.equal((await h.audit.list({ action: 'delete' })).length, 1);
  }, () => now);
});

test('GET /studies/{id}/archive streams a ZIP of the study (UID paths) and is audited as an export', async () => {
  await withArchive(async (h) => {
    for (let n = 1; n <= 2; n++) await upload(h, instance(n));
    const auth = { authorization: h.basic('researcher') };
    const [studyId] = (await h.app.inject({ url: '/studies', headers: auth })).json() as string[];
    const r = await h.app.inject({ url: `/studies/${studyId}/archive`, headers: auth });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'application/zip');
    const { zipEntries } = await import('../../src/http/rest/zip-entries.ts');
    const got: Buffer[] = [];
    for await (const e of zipEntries(r.rawPayload, 1 << 20)) got.push(e);
    assert.equal(got.length, 2);
    assert.ok(got.some((g) => g.equals(instance(1))));
    assert.ok(r.rawPayload.includes(Buffer.from(`${UIDS.studyInstanceUid}/CT_${UIDS.seriesInstanceUid}/1.2.826.0.1.1.1.1.dcm`)));
    const ex = await h.audit.list({ action: 'export' });
    assert.deepEqual(ex.map((e) => [e.resource, e.detail?.instances]), [[studyId, 2]]);
  });
});

test('anonymize: a study becomes a new de-identified study; async returns a job; instance returns a file', async () => {
  await withArchive(async (h) => {
    for (let n = 1; n <= 2; n++) await upload(h, instance(n, { patientName: 'Doe^Jane', studyDate: '20200101' }));
    const auth = { authorization: h.basic('broker') };
    const [studyId] = (await h.app.inject({ url: '/studies', headers: auth })).json() as string[];
    const denied = await h.app.inject({ method: 'POST', url: `/studies/${studyId}/anonymize`, headers: { authorization: h.basic('researcher') }, payload: {} });
    assert.equal(denied.statusCode, 403);
    // The broker's list has basic (the default project) but not longitudinal.
    const outside = await h.app.inject({ method: 'POST', url: `/studies/${studyId}/anonymize`, headers: auth, payload: { Project: 'longitudinal' } });
    assert.equal(outside.statusCode, 400, outside.body);
    const r = await h.app.inject({ method: 'POST', url: `/studies/${studyId}/anonymize`, headers: auth, payload: { Replace: { StudyDate: '19990101' } } });
    assert.equal(r.statusCode, 200, r.body);
    const out = r.json();
    assert.equal(out.Type, 'Study');
    assert.notEqual(out.ID, studyId);
    const study = (await h.app.inject({ url: `/studies/${out.ID}`, headers: auth })).json();
    assert.equal(study.Series.length, 1);
    assert.equal(study.MainDicomTags.StudyDate, '19990101', 'Replace overrides the date shift');
    assert.notEqual(study.PatientMainDicomTags.PatientID, 'PAT-1');
    assert.ok(!JSON.stringify(study).includes('Doe'));
    const file = await h.app.inject({ url: `/series/${study.Series[0]}/instances`, headers: auth });
    assert.equal(file.json().length, 2);

    const job = await h.app.inject({ method: 'POST', url: `/studies/${studyId}/anonymize`, headers: auth, payload: { Asynchronous: true } });
    const { ID, Path } = job.json();
    assert.equal(Path, `/jobs/${ID}`);
    let state = '';
    for (let i = 0; i < 100 && state !== 'Success' && state !== 'Failure'; i++) {
      await new Promise((res) => setImmediate(res));
      state = (await h.app.inject({ url: `/jobs/${ID}`, headers: auth })).json().State;
    }
    assert.equal(state, 'Success');
    assert.deepEqual((await h.app.inject({ url: '/jobs', headers: auth })).json(), [ID]);
    assert.equal((await h.app.inject({ url: `/jobs/${ID}`, headers: { authorization: h.basic('researcher') } })).statusCode, 404, 'other users do not see the job');

    const [instanceId] = (await h.app.inject({ url: `/studies/${studyId}/instances?expand=false`, headers: auth })).json() as string[];
    const one = await h.app.inject({ method: 'POST', url: `/instances/${instanceId}/anonymize`, headers: auth, payload: {} });
    assert.equal(one.statusCode, 200);
    assert.equal(one.headers['content-type'], 'application/dicom');
    assert.ok(!one.rawPayload.includes(Buffer.from('Doe^Jane')));
    assert.equal((await h.audit.list({ action: 'anonymize' })).length, 3);
  }, undefined, ['lung', 'archive', 'basic']);
});

test('instance metadata, content paths and shared tags', async () => {
  await withArchive(async (h) => {
    for (let n = 1; n <= 2; n++) await upload(h, instance(n));
    const auth = { authorization: h.basic('researcher') };
    const [a] = (await h.app.inject({ url: '/instances', headers: auth })).json() as string[];
    const md = (await h.app.inject({ url: `/instances/${a}/metadata?expand`, headers: auth })).json();
    assert.equal(md.Origin, 'RestApi');
    assert.equal(md.TransferSyntax, '1.2.840.10008.1.2.1');
    assert.equal(md.IndexInSeries, '1');
    const ts = await h.app.inject({ url: `/instances/${a}/metadata/TransferSyntax`, headers: auth });
    assert.equal(ts.body, '1.2.840.10008.1.2.1');
    const tags = (await h.app.inject({ url: `/instances/${a}/content/`, headers: auth })).json() as string[];
    assert.ok(tags.includes('0008-0018'));
    const sop = await h.app.inject({ url: `/instances/${a}/content/0008-0018`, headers: auth });
    assert.equal(sop.rawPayload.toString('latin1').replace(/\0$/, ''), '1.2.826.0.1.1.1.1');
    assert.equal((await h.app.inject({ url: `/instances/${a}/content/zzzz`, headers: auth })).statusCode, 400);
    const [seriesId] = (await h.app.inject({ url: '/series', headers: auth })).json() as string[];
    const shared = (await h.app.inject({ url: `/series/${seriesId}/shared-tags?simplify`, headers: auth })).json();
    assert.equal(shared.SeriesInstanceUID, UIDS.seriesInstanceUid);
    assert.equal(shared.SOPInstanceUID, undefined, 'differs between instances');
  });
});

test('instance frames, raw frame, preview (PNG) and rendered (JPEG)', async () => {
  await withArchive(async (h) => {
    await upload(h, instance(1, { size: 16 }));
    const auth = { authorization: h.basic('researcher') };
    const [a] = (await h.app.inject({ url: '/instances', headers: auth })).json() as string[];
    assert.deepEqual((await h.app.inject({ url: `/instances/${a}/frames`, headers: auth })).json(), [0]);
    const raw = await h.app.inject({ url: `/instances/${a}/frames/0/raw`, headers: auth });
    assert.equal(raw.rawPayload.length, 16 * 16 * 2);
    assert.equal((await h.app.inject({ url: `/instances/${a}/frames/1/raw`, headers: auth })).statusCode, 404);
    const preview = await h.app.inject({ url: `/instances/${a}/preview`, headers: auth });
    assert.equal(preview.headers['content-type'], 'image/png');
    const { decode } = await import('fast-png');
    assert.equal(decode(preview.rawPayload).width, 16);
    const rendered = await h.app.inject({ url: `/instances/${a}/frames/0/rendered`, headers: auth });
    assert.deepEqual([...rendered.rawPayload.subarray(0, 2)], [0xff, 0xd8]);
  });
});
