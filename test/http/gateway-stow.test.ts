// STOW-RS into a de-identification project: only de-identified data reaches the archive, the
// caller needs the uploader role and the project, and the answer does not reveal new UIDs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveProject } from '../../src/deid/project.ts';
import { multipartStream } from '../../src/http/dicomweb/multipart.ts';
import { GatewayService } from '../../src/services/gateway.ts';
import { QuarantineStore } from '../../src/services/quarantine.ts';
import { silentLogger } from '../../src/core/log.ts';
import { FakePseudonymizer } from '../deid/helpers.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { buildHarness } from './app-harness.ts';
import { memoryArchive } from './archive-fixture.ts';

test('POST /projects/{project}/dicom-web/studies de-identifies before archiving', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-gw-'));
  const archive = memoryArchive();
  const gateway = new GatewayService({ ingest: archive.rest.archive.ingest, quarantine: new QuarantineStore(join(dir, 'q')), log: silentLogger });
  const project = { project: resolveProject('lung', { lung: { extends: 'basic' } }), pseudonymizer: new FakePseudonymizer() };
  const h = await buildHarness({ surfaces: { rest: archive.rest, gateway: { gateway, projectFor: (n) => (n === 'lung' ? project : undefined) } } });
  try {
    const sop = '1.2.826.0.9.1.1.1';
    const file = syntheticInstance({ patientId: 'MRN-123', patientName: 'Doe^John', studyInstanceUid: '1.2.826.0.9.1', seriesInstanceUid: '1.2.826.0.9.1.1', sopInstanceUid: sop, modality: 'CT', size: 4 });
    const boundary = 'gw-boundary';
    const chunks: Buffer[] = [];
    for await (const c of multipartStream(boundary, [{ contentType: 'application/dicom', body: () => file }])) chunks.push(c as Buffer);
    const post = (url: string, role: 'uploader' | 'researcher') =>
      h.app.inject({ method: 'POST', url, headers: { authorization: h.basic(role), 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` }, payload: Buffer.concat(chunks) });

    assert.equal((await post('/projects/lung/dicom-web/studies', 'researcher')).statusCode, 403);
    assert.equal((await post('/projects/brain/dicom-web/studies', 'uploader')).statusCode, 403, 'unknown or not granted');
    const r = await post('/projects/lung/dicom-web/studies', 'uploader');
    assert.equal(r.statusCode, 200, r.body);
    const item = r.json()['00081199'].Value[0];
    assert.deepEqual(item['00081155'].Value, [sop], 'named by the UID the sender sent');
    assert.equal(item['00081190'], undefined, 'no RetrieveURL: it would reveal the pseudonymous UIDs');

    const researcher = { authorization: h.basic('researcher') };
    const [patientId] = (await h.app.inject({ url: '/patients', headers: researcher })).json() as string[];
    const patient = (await h.app.inject({ url: `/patients/${patientId}`, headers: researcher })).json();
    assert.notEqual(patient.MainDicomTags.PatientID, 'MRN-123');
    assert.ok(!JSON.stringify(patient).includes('Doe'));
    const [instanceId] = (await h.app.inject({ url: '/instances', headers: researcher })).json() as string[];
    const stored = (await h.app.inject({ url: `/instances/${instanceId}/file`, headers: researcher })).rawPayload;
    assert.ok(!stored.includes(Buffer.from('MRN-123')) && !stored.includes(Buffer.from(sop)), 'only de-identified bytes archived');
    const ev = await h.audit.list({ action: 'upload' });
    assert.deepEqual(ev.map((e) => [e.resource, e.detail?.project]), [[sop, 'lung']]);
    // Recorded with its project: reads are limited to users with access to it.
    assert.equal((await archive.rest.archive.index.getResource('instance', instanceId))?.file?.source.project, 'lung');
    await h.auth.addUser('r-brain', 'a long enough password', ['researcher'], ['brain', 'archive']);
    const other = { authorization: 'Basic ' + Buffer.from('r-brain:a long enough password').toString('base64') };
    assert.deepEqual((await h.app.inject({ url: '/instances', headers: other })).json(), []);
  } finally {
    await h.close();
    await archive.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
