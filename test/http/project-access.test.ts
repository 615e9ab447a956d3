// Per-project access lists on every archive read surface: a researcher on project "lung" reads
// lung data only, over the Orthanc REST API, DICOMweb (QIDO, WADO-RS) and WADO-URI; data stored
// without a project is read only with the "archive" pseudo-project; admin and "*" read everything.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Role } from '../../src/auth/roles.ts';
import type { InstanceSource } from '../../src/index/archive-index.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { buildHarness, PASSWORD, type Harness } from './app-harness.ts';
import { memoryArchive } from './archive-fixture.ts';

// One patient with a lung study and a brain study, and a second patient stored without a project.
const LUNG = { patientId: 'PX-1', studyInstanceUid: '1.2.826.0.7.1', seriesInstanceUid: '1.2.826.0.7.1.1', sopInstanceUid: '1.2.826.0.7.1.1.1' };
const BRAIN = { patientId: 'PX-1', studyInstanceUid: '1.2.826.0.7.2', seriesInstanceUid: '1.2.826.0.7.2.1', sopInstanceUid: '1.2.826.0.7.2.1.1' };
const PLAIN = { patientId: 'PX-2', studyInstanceUid: '1.2.826.0.7.3', seriesInstanceUid: '1.2.826.0.7.3.1', sopInstanceUid: '1.2.826.0.7.3.1.1' };

describe('per-project access lists on archive reads', () => {
  let h: Harness;
  let archive: ReturnType<typeof memoryArchive>;
  const ids: Record<'lung' | 'brain' | 'plain', { patient: string; study: string; series: string; instance: string }> = {} as never;
  const users: Record<string, string> = {};
  let startSeq = 0;

  before(async () => {
    archive = memoryArchive();
    h = await buildHarness({ surfaces: { rest: archive.rest } });
    const ingest = archive.rest.archive.ingest;
    const store = async (uids: typeof LUNG, source: InstanceSource) => {
      const r = await ingest.ingest(syntheticInstance({ ...uids, modality: 'CT', size: 4 }), source);
      if (r.status === 'rejected') throw new Error(`not stored: ${r.reason}`);
      assert.equal(r.status, 'stored');
      return r.ids;
    };
    ids.lung = await store(LUNG, { transport: 'stow', project: 'lung' });
    ids.brain = await store(BRAIN, { transport: 'stow', project: 'brain' });
    ids.plain = await store(PLAIN, { transport: 'rest' });
    const add = async (name: string, roles: Role[], projects: string[]) => {
      await h.auth.addUser(name, PASSWORD, roles, projects);
      users[name] = 'Basic ' + Buffer.from(`${name}:${PASSWORD}`).toString('base64');
    };
    await add('r-lung', ['researcher'], ['lung']);
    await add('r-archive', ['researcher'], ['archive']);
    await add('r-all', ['researcher'], ['*']);
    await add('b-brain', ['broker'], ['brain']);
    await add('admin2', ['admin'], []);
  });
  after(async () => {
    await h.close();
    await archive.close();
  });

  const get = (user: string, url: string, headers: Record<string, string> = {}) => h.app.inject({ url, headers: { authorization: users[user], ...headers } });

  it('lists: /studies, /patients, /tools/find, children of a shared patient', async () => {
    const studies = async (u: string) => ((await get(u, '/studies')).json() as string[]).sort();
    assert.deepEqual(await studies('r-lung'), [ids.lung.study]);
    assert.deepEqual(await studies('b-brain'), [ids.brain.study]);
    assert.deepEqual(await studies('r-archive'), [ids.plain.study]);
    assert.deepEqual(await studies('r-all'), [ids.lung.study, ids.brain.study, ids.plain.study].sort());
    assert.deepEqual(await studies('admin2'), [ids.lung.study, ids.brain.study, ids.plain.study].sort());
    assert.deepEqual((await get('r-lung', '/patients')).json(), [ids.lung.patient]);
    // The shared patient shows only the caller's study, in its JSON and as a child list.
    const patient = (await get('r-lung', `/patients/${ids.lung.patient}`)).json();
    assert.deepEqual(patient.Studies, [ids.lung.study]);
    assert.deepEqual((await get('r-lung', `/patients/${ids.lung.patient}/studies?expand=false`)).json(), [ids.lung.study]);
    assert.deepEqual((await get('r-lung', `/patients/${ids.lung.patient}/instances?expand=false`)).json(), [ids.lung.instance]);
    const find = await h.app.inject({ method: 'POST', url: '/tools/find', headers: { authorization: users['r-lung'] }, payload: { Level: 'Instance', Query: {} } });
    assert.deepEqual(find.json(), [ids.lung.instance]);
  });

  it('direct reads of another project answer 404: resource, parent, file, tags, archive, media, shared tags', async () => {
    const urls = [
      `/studies/${ids.brain.study}`, `/series/${ids.brain.series}`, `/instances/${ids.brain.instance}`,
      `/instances/${ids.brain.instance}/study`, `/studies/${ids.brain.study}/series`,
      `/instances/${ids.brain.instance}/file`, `/instances/${ids.brain.instance}/tags`, `/instances/${ids.brain.instance}/metadata`,
      `/instances/${ids.brain.instance}/frames`,
      `/studies/${ids.brain.study}/archive`, `/studies/${ids.brain.study}/media`, `/studies/${ids.brain.study}/shared-tags`,
      `/studies/${ids.plain.study}`,
    ];
    for (const url of urls) assert.equal((await get('r-lung', url)).statusCode, 404, url);
    // The same routes work for the project's member and for admin.
    assert.equal((await get('b-brain', `/instances/${ids.brain.instance}/file`)).statusCode, 200);
    assert.equal((await get('admin2', `/studies/${ids.brain.study}/archive`)).statusCode, 200);
    assert.equal((await get('r-archive', `/studies/${ids.plain.study}/media`)).statusCode, 200);
  });

  it('a patient-level archive holds only the caller\'s instances', async () => {
    const zip = await get('r-lung', `/patients/${ids.lung.patient}/archive`);
    assert.equal(zip.statusCode, 200);
    assert.ok(zip.rawPayload.includes(Buffer.from(`${LUNG.sopInstanceUid}.dcm`)));
    assert.ok(!zip.rawPayload.includes(Buffer.from(`${BRAIN.sopInstanceUid}.dcm`)));
  });

  it('/changes lists only changes of visible resources', async () => {
    const changes = (await get('r-lung', `/changes?since=${startSeq}&limit=1000`)).json();
    const seen = new Set((changes.Changes as { ID: string }[]).map((c) => c.ID));
    assert.ok(seen.has(ids.lung.study) && seen.has(ids.lung.instance));
    assert.ok(!seen.has(ids.brain.study) && !seen.has(ids.plain.patient) && !seen.has(ids.brain.instance));
    assert.ok(seen.has(ids.lung.patient), 'the shared patient holds lung data');
    assert.equal(changes.Done, true);
    const all = (await get('admin2', '/changes?limit=1000')).json();
    assert.ok((all.Changes as { ID: string }[]).some((c) => c.ID === ids.brain.study));
    startSeq = 0;
  });

  it('DICOMweb: QIDO-RS, WADO-RS and WADO-URI', async () => {
    const qido = await get('r-lung', '/dicom-web/studies');
    assert.equal(qido.statusCode, 200);
    const uids = (qido.json() as Record<string, { Value: string[] }>[]).map((s) => s['0020000D'].Value[0]);
    assert.deepEqual(uids, [LUNG.studyInstanceUid]);
    const inst = await get('r-lung', `/dicom-web/studies/${BRAIN.studyInstanceUid}/series/${BRAIN.seriesInstanceUid}/instances`);
    assert.ok(inst.statusCode === 204 || (inst.statusCode === 200 && inst.json().length === 0), `QIDO instances of another project: ${inst.statusCode}`);
    assert.equal((await get('r-lung', `/dicom-web/studies/${BRAIN.studyInstanceUid}`)).statusCode, 404);
    assert.equal((await get('r-lung', `/dicom-web/studies/${BRAIN.studyInstanceUid}/metadata`)).statusCode, 404);
    assert.equal((await get('r-lung', `/dicom-web/studies/${LUNG.studyInstanceUid}/metadata`)).statusCode, 200);
    assert.equal((await get('b-brain', `/dicom-web/studies/${BRAIN.studyInstanceUid}`, { accept: 'multipart/related; type="application/dicom"' })).statusCode, 200);
    const uri = (p: typeof LUNG) => `/wado?requestType=WADO&studyUID=${p.studyInstanceUid}&seriesUID=${p.seriesInstanceUid}&objectUID=${p.sopInstanceUid}&contentType=application/dicom`;
    assert.equal((await get('r-lung', uri(BRAIN))).statusCode, 404);
    assert.equal((await get('r-lung', uri(LUNG))).statusCode, 200);
    assert.equal((await get('r-lung', uri(PLAIN))).statusCode, 404);
    assert.equal((await get('r-archive', uri(PLAIN))).statusCode, 200);
  });
});
