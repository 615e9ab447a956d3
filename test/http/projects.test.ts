// Projects API: who reads what, and the de-identification preview (before -> after per attribute,
// action, reason) that creates no key and uses the existing pseudonym when the patient is known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { brokerHarness } from './broker-harness.ts';

const file = (n: number) =>
  syntheticInstance({ patientId: 'MRN-55', patientName: 'Roe^Richard', studyInstanceUid: '1.2.826.0.9.8', seriesInstanceUid: '1.2.826.0.9.8.1', sopInstanceUid: `1.2.826.0.9.8.1.${n}`, studyDate: '20240315', size: 4, instanceNumber: n });

interface Row { keyword: string; before: string | null; after: string | null; action: string; reason: string }

test('GET /projects and /projects/{project}: readers see their projects, settings and pseudonym scheme', async () => {
  const { h, close } = await brokerHarness();
  try {
    const list = await h.app.inject({ url: '/projects', headers: { authorization: h.basic('researcher') } });
    assert.equal(list.statusCode, 200);
    // Harness users hold project "lung" only; admin sees every project.
    assert.deepEqual(list.json().projects.map((p: { name: string }) => p.name), ['lung']);
    const all = await h.app.inject({ url: '/projects', headers: { authorization: h.basic('admin') } });
    assert.deepEqual(all.json().projects.map((p: { name: string; source: string }) => [p.name, p.source]), [['basic', 'built-in'], ['longitudinal', 'built-in'], ['lung', 'configured']]);
    const lung = (await h.app.inject({ url: '/projects/lung', headers: { authorization: h.basic('researcher') } })).json();
    assert.equal(lung.extends, 'longitudinal');
    assert.equal(lung.options.retainLongitudinalModifiedDates, true);
    assert.equal(lung.pseudonym.idPattern, 'LUNG-{seq:04}');
    assert.deepEqual(lung.overrides, [{ tag: '(0008,1030)', keyword: 'StudyDescription', action: 'keep' }]);
    assert.equal((await h.app.inject({ url: '/projects/basic', headers: { authorization: h.basic('researcher') } })).statusCode, 400, 'not granted: answered as unknown');
    assert.equal((await h.app.inject({ url: '/projects', headers: { authorization: h.basic('uploader') } })).statusCode, 403);
    assert.ok((await h.audit.list({ action: 'projects.read' })).length === 1);
  } finally {
    await close();
  }
});

test('POST /projects/{project}/preview: PatientName before -> after, actions and reasons; no key created', async () => {
  const { h, s, close } = await brokerHarness();
  try {
    const ingest = s.surfaces.rest!.archive.ingest;
    const r1 = await ingest.ingest(file(1), { transport: 'import' });
    await ingest.ingest(file(2), { transport: 'import' });
    assert.equal(r1.status, 'stored');
    const study = r1.status === 'stored' ? r1.ids.study : '';
    const preview = (role: 'broker' | 'researcher' | 'admin') => h.app.inject({ method: 'POST', url: '/projects/lung/preview', headers: { authorization: h.basic(role) }, payload: { study, limit: 1 } });

    assert.equal((await preview('researcher')).statusCode, 403, 'the preview shows originals');
    const res = await preview('broker');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json();
    assert.equal(body.totalInstances, 2);
    assert.equal(body.instances.length, 1);
    const [inst] = body.instances;
    assert.equal(inst.outcome, 'deidentified');
    assert.equal(inst.knownPatient, false);
    const row = (k: string) => (inst.attributes as Row[]).find((a) => a.keyword === k)!;
    assert.deepEqual([row('PatientName').before, row('PatientName').after, row('PatientName').action], ['Roe^Richard', '<new pseudonym>', 'replaced']);
    assert.equal(row('PatientID').before, 'MRN-55');
    assert.equal(row('StudyInstanceUID').action, 'uid-replaced');
    assert.equal(row('StudyInstanceUID').after, '<new UID>');
    assert.equal(row('StudyDate').action, 'shifted');
    assert.equal(row('StudyDate').before, '20240315');
    assert.ok(row('StudyDate').reason.length > 0);
    assert.deepEqual(await s.keys.listPatients('lung'), [], 'the preview creates no key');

    // Once the patient has keys, the preview shows the real pseudonym and shifted date.
    await s.gateway.process(file(3), s.project('lung')!, { transport: 'import' });
    const [known] = await s.keys.listPatients('lung');
    const again = (await preview('admin')).json().instances[0];
    assert.equal(again.knownPatient, true);
    const name = (again.attributes as Row[]).find((a) => a.keyword === 'PatientName')!;
    assert.equal(name.after, known.pseudonym.patientName);
    const date = (again.attributes as Row[]).find((a) => a.keyword === 'StudyDate')!;
    assert.match(date.after ?? '', /^\d{8}$/);
    assert.notEqual(date.after, '20240315');

    const ev = await h.audit.list({ action: 'projects.preview' });
    assert.deepEqual(ev.map((e) => [e.actor, e.resource]), [['u-broker', study], ['u-admin', study]]);
    assert.ok(!JSON.stringify(ev).includes('MRN-55') && !JSON.stringify(ev).includes('Roe'));
    assert.equal((await h.app.inject({ method: 'POST', url: '/projects/lung/preview', headers: { authorization: h.basic('broker') }, payload: { study: 'nope' } })).statusCode, 404);
  } finally {
    await close();
  }
});
