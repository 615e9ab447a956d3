// Honest-broker routes: who may call them (broker only; admin is not implied), what they answer
// (originals only in bodies, Cache-Control: no-store), and what the audit log keeps (no originals).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROLES } from '../../src/auth/roles.ts';
import { readPart10 } from '../../src/dicom/index.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { concreteUrl } from './app-harness.ts';
import { brokerHarness } from './broker-harness.ts';

const MRN = 'MRN-4711';
const NAME = 'Doe^John';
const instance = (n: number, modality = 'CT') =>
  syntheticInstance({ patientId: MRN, patientName: NAME, studyInstanceUid: '1.2.826.0.9.7', seriesInstanceUid: '1.2.826.0.9.7.1', sopInstanceUid: `1.2.826.0.9.7.1.${n}`, modality, size: 4, instanceNumber: n });

test('every /broker route: 403 for researcher, uploader and admin (audited), reachable for broker', async () => {
  const { h, close } = await brokerHarness();
  try {
    const routes = h.routes.filter((r) => r.url.startsWith('/broker/') && r.method !== 'HEAD');
    assert.ok(routes.length >= 10, `broker routes registered: ${routes.length}`);
    const problems: string[] = [];
    for (const r of routes) {
      const url = concreteUrl(r.url).replace('00000000-00000000-00000000-00000000-00000000', 'lung');
      for (const role of ROLES) {
        const res = await h.app.inject({ method: r.method as 'GET', url, headers: { authorization: h.basic(role) } });
        const denied = res.statusCode === 403 && (res.json() as { error?: string }).error === 'AUTH_FORBIDDEN';
        if ((role === 'broker') === denied) problems.push(`${r.method} ${r.url}: ${res.statusCode} for ${role}`);
        if (res.headers['cache-control'] !== 'no-store') problems.push(`${r.method} ${r.url}: cache-control ${String(res.headers['cache-control'])} for ${role}`);
      }
    }
    assert.deepEqual(problems, []);
    const denied = await h.audit.list({ action: 'auth.denied', actor: 'u-admin' });
    assert.equal(denied.length, routes.length, 'each refusal of admin is audited');
  } finally {
    await close();
  }
});

test('lookup both ways, list, search, export, import, delete; audit names pseudonyms only', async () => {
  const { h, s, close } = await brokerHarness();
  const broker = { authorization: h.basic('broker') };
  try {
    const stored = await s.gateway.process(instance(1), s.project('lung')!, { transport: 'import' });
    assert.equal(stored.status, 'stored');
    const list = await h.app.inject({ url: '/broker/projects/lung/patients', headers: broker });
    assert.equal(list.statusCode, 200, list.body);
    assert.equal(list.headers['cache-control'], 'no-store');
    const [p] = list.json().patients;
    assert.equal(p.originalPatientId, MRN);
    assert.match(p.pseudonym, /^LUNG-\d{4}$/);

    const byPseudonym = await h.app.inject({ method: 'POST', url: '/broker/projects/lung/lookup', headers: broker, payload: { pseudonym: p.pseudonym } });
    assert.equal(byPseudonym.json().patient.originalPatientId, MRN);
    const studies = byPseudonym.json().studies as { id: string; tags: Record<string, string | null> }[];
    assert.equal(studies.length, 1, 'the pseudonymous patient has one study in the archive');
    assert.notEqual(studies[0].tags.StudyInstanceUID, '1.2.826.0.9.7', 'de-identified study');
    const byOriginal = await h.app.inject({ method: 'POST', url: '/broker/projects/lung/lookup', headers: broker, payload: { patientId: MRN } });
    assert.equal(byOriginal.json().patient.pseudonym, p.pseudonym);
    const missing = await h.app.inject({ method: 'POST', url: '/broker/projects/lung/lookup', headers: broker, payload: { patientId: 'nobody' } });
    assert.equal(missing.statusCode, 404);
    const both = await h.app.inject({ method: 'POST', url: '/broker/projects/lung/lookup', headers: broker, payload: { patientId: MRN, pseudonym: p.pseudonym } });
    assert.equal(both.statusCode, 400);
    const search = await h.app.inject({ method: 'POST', url: '/broker/projects/lung/patients/search', headers: broker, payload: { q: '4711' } });
    assert.equal(search.json().total, 1);
    const notMine = await h.app.inject({ url: '/broker/projects/basic/patients', headers: broker });
    assert.equal(notMine.statusCode, 403, 'project outside the user list answers as unknown');

    const csv = await h.app.inject({ url: '/broker/projects/lung/export', headers: broker });
    assert.match(csv.headers['content-type'] as string, /^text\/csv/);
    assert.ok(csv.body.includes(MRN) && csv.body.includes(p.pseudonym));

    const imported = await h.app.inject({ method: 'POST', url: '/broker/projects/lung/import', headers: { ...broker, 'content-type': 'text/csv' }, payload: 'original_patient_id,pseudonymous_patient_id\r\nMRN-9,LUNG-9000\r\n' });
    assert.deepEqual(imported.json(), { project: 'lung', format: 'csv', imported: 1, unchanged: 0, conflicts: 0 });
    const ctp = await h.app.inject({ method: 'POST', url: '/broker/projects/lung/import', headers: { ...broker, 'content-type': 'text/plain' }, payload: '# CTP\nptid/MRN-10=LUNG-9001\n' });
    assert.equal(ctp.json().format, 'ctp');
    assert.equal(ctp.json().imported, 1);
    const bad = await h.app.inject({ method: 'POST', url: '/broker/projects/lung/import', headers: { ...broker, 'content-type': 'text/csv' }, payload: 'a,b\r\n1,2\r\n' });
    assert.equal(bad.statusCode, 400);
    assert.equal((await s.keys.listPatients('lung')).length, 3);

    const del = await h.app.inject({ method: 'DELETE', url: '/broker/projects/lung/patients/LUNG-9000', headers: broker });
    assert.equal(del.statusCode, 204);
    assert.equal((await h.app.inject({ method: 'DELETE', url: '/broker/projects/lung/patients/LUNG-9000', headers: broker })).statusCode, 404);
    assert.equal((await s.keys.listPatients('lung')).length, 2);

    const events = await h.audit.list({ actor: 'u-broker' });
    const actions = new Set(events.map((e) => e.action));
    for (const a of ['keys.list', 'keys.lookup', 'keys.export', 'keys.import', 'keys.delete']) assert.ok(actions.has(a), `audited: ${a}`);
    assert.ok(events.every((e) => e.ip !== null && e.actor === 'u-broker'));
    const text = JSON.stringify(events);
    for (const original of [MRN, 'MRN-9', 'MRN-10', '4711']) assert.ok(!text.includes(original), `no original (${original}) in the audit log`);
    assert.ok(events.some((e) => e.action === 'keys.lookup' && e.resource === p.pseudonym && e.detail?.by === 'original'));
  } finally {
    await close();
  }
});

test('quarantine: list, download the original, release with burned-in accepted, delete', async () => {
  const { h, s, close } = await brokerHarness();
  const broker = { authorization: h.basic('broker') };
  try {
    const us = instance(2, 'US');
    const q1 = await s.gateway.process(us, s.project('lung')!, { transport: 'import' });
    const q2 = await s.gateway.process(instance(3, 'US'), s.project('lung')!, { transport: 'import' });
    assert.ok(q1.status === 'quarantined' && q2.status === 'quarantined');
    const list = await h.app.inject({ url: '/broker/quarantine', headers: broker });
    assert.deepEqual(list.json().items.map((n: { id: string }) => n.id).sort(), [q1.quarantineId, q2.quarantineId].sort());
    const file = await h.app.inject({ url: `/broker/quarantine/${q1.quarantineId}/file`, headers: broker });
    assert.ok(file.rawPayload.equals(us));

    const refused = await h.app.inject({ method: 'POST', url: `/broker/quarantine/${q1.quarantineId}/release`, headers: broker, payload: {} });
    assert.equal(refused.statusCode, 409);
    assert.equal((await s.quarantine.list()).length, 2, 'still there, and no second copy');

    const released = await h.app.inject({ method: 'POST', url: `/broker/quarantine/${q1.quarantineId}/release`, headers: broker, payload: { project: 'lung', acceptBurnedIn: true } });
    assert.equal(released.statusCode, 200, released.body);
    assert.equal(released.json().status, 'stored');
    assert.deepEqual((await s.quarantine.list()).map((n) => n.id), [q2.quarantineId]);
    const stored = await h.app.inject({ url: `/instances/${released.json().instance}/file`, headers: { authorization: h.basic('researcher') } });
    assert.equal(stored.statusCode, 200);
    const ds = readPart10(stored.rawPayload).dataset;
    assert.match(ds.string(0x00100020) ?? '', /^LUNG-/);
    assert.ok(!stored.rawPayload.includes(Buffer.from(MRN)) && !stored.rawPayload.includes(Buffer.from('Doe')), 'de-identified');
    assert.equal(ds.string(0x00120062), 'YES');

    assert.equal((await h.app.inject({ method: 'DELETE', url: `/broker/quarantine/${q2.quarantineId}`, headers: broker })).statusCode, 204);
    assert.deepEqual(await s.quarantine.list(), []);
    assert.equal((await h.app.inject({ url: `/broker/quarantine/${q2.quarantineId}/file`, headers: broker })).statusCode, 404);

    const events = await h.audit.list({ actor: 'u-broker' });
    assert.deepEqual(
      events.filter((e) => e.action.startsWith('quarantine.')).map((e) => [e.action, e.outcome]),
      [['quarantine.list', 'success'], ['quarantine.download', 'success'], ['quarantine.release', 'failure'], ['quarantine.release', 'success'], ['quarantine.delete', 'success']],
    );
    assert.ok(!JSON.stringify(events).includes(MRN));
  } finally {
    await close();
  }
});
