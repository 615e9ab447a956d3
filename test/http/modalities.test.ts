// Orthanc's /modalities routes against real peers: DCMTK storescp (echo, store) and a second
// dicomgate DIMSE server (query: C-FIND), plus /peers, roles, project scope and the audit trail.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDimseServer, type DimseServer } from '../../src/dimse-server/start-dimse-server.ts';
import { readPart10 } from '../../src/dicom/index.ts';
import { freePort, startStorescp, type RunningTool } from '../helpers/dcmtk.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { buildHarness, type Harness } from './app-harness.ts';
import { memoryArchive } from './archive-fixture.ts';

process.env.TCP_NODELAY = '1';

describe('/modalities: echo, store, query; /peers', () => {
  let h: Harness;
  let archive: ReturnType<typeof memoryArchive>;
  let remote: ReturnType<typeof memoryArchive>;
  let remoteScp: DimseServer;
  let storescp: RunningTool;
  let closedPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'dg-modalities-'));
  const ids: Record<string, string> = {};

  before(async () => {
    storescp = await startStorescp(dir, { aeTitle: 'STORESCP', extraArgs: ['+B'] });
    remote = memoryArchive();
    for (const n of [1, 2]) {
      await remote.rest.archive.ingest.ingest(syntheticInstance({ patientId: 'REMOTE-1', patientName: 'Far^Away', studyInstanceUid: `1.2.826.0.6.${n}`, seriesInstanceUid: `1.2.826.0.6.${n}.1`, sopInstanceUid: `1.2.826.0.6.${n}.1.1`, studyDate: `2024010${n}`, modality: 'CT', size: 4 }), { transport: 'dimse' });
    }
    remoteScp = await startDimseServer({ ingest: remote.rest.archive.ingest, index: remote.rest.archive.index, blobs: remote.rest.archive.blobs }, { aet: 'REMOTE', host: '127.0.0.1', port: 0, peers: [] });
    closedPort = await freePort();
    archive = memoryArchive();
    h = await buildHarness({
      surfaces: {
        rest: {
          ...archive.rest,
          modalities: {
            localAet: 'DICOMGATE',
            peers: [
              { name: 'storage', aet: 'STORESCP', host: '127.0.0.1', port: storescp.port },
              { name: 'remote', aet: 'REMOTE', host: '127.0.0.1', port: remoteScp.port },
              { name: 'down', aet: 'DOWN', host: '127.0.0.1', port: closedPort },
            ],
            httpPeers: ['research-pacs'],
            timeoutMs: 3000,
          },
        },
      },
    });
    const ingest = archive.rest.archive.ingest;
    for (const [key, n, project] of [['lung', 1, 'lung'], ['brain', 2, 'brain']] as const) {
      for (const i of [1, 2]) {
        const r = await ingest.ingest(syntheticInstance({ patientId: `P-${key}`, studyInstanceUid: `1.2.826.0.5.${n}`, seriesInstanceUid: `1.2.826.0.5.${n}.1`, sopInstanceUid: `1.2.826.0.5.${n}.1.${i}`, modality: 'CT', size: 4 }), { transport: 'stow', project });
        if (r.status === 'rejected') throw new Error(r.reason);
        ids[key] = r.ids.study;
      }
    }
  });
  after(async () => {
    await h.close();
    await archive.close();
    await remoteScp.close();
    await remote.close();
    await storescp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (role: 'researcher' | 'broker' | 'uploader' | 'admin', method: 'GET' | 'POST', url: string, payload?: unknown) =>
    h.app.inject({ method, url, headers: { authorization: h.basic(role) }, ...(payload !== undefined ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}) });

  it('lists modalities and their configuration; /peers lists HTTP peers', async () => {
    assert.deepEqual((await call('researcher', 'GET', '/modalities')).json(), ['storage', 'remote', 'down']);
    const expanded = (await call('uploader', 'GET', '/modalities?expand')).json();
    assert.deepEqual([expanded.storage.AET, expanded.storage.Port], ['STORESCP', storescp.port]);
    assert.deepEqual((await call('researcher', 'GET', '/modalities/storage')).json(), ['configuration', 'echo', 'move', 'query', 'store']);
    assert.equal((await call('researcher', 'GET', '/modalities/storage/configuration')).json().Host, '127.0.0.1');
    assert.equal((await call('researcher', 'GET', '/modalities/nope')).statusCode, 404);
    assert.deepEqual((await call('researcher', 'GET', '/peers')).json(), ['research-pacs']);
  });

  it('echo: {} from a live peer, 502 from a closed port', async () => {
    const ok = await call('uploader', 'POST', '/modalities/storage/echo', {});
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), {});
    const down = await call('uploader', 'POST', '/modalities/down/echo', {});
    assert.equal(down.statusCode, 502, down.body);
  });

  it('store: C-STOREs a study to storescp (bare id body), audited as an export; other projects 404', async () => {
    const r = await call('researcher', 'POST', '/modalities/storage/store', ids.lung);
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { Description: 'REST API', FailedInstancesCount: 0, InstancesCount: 2, LocalAet: 'DICOMGATE', ParentResources: [ids.lung], RemoteAet: 'STORESCP' });
    const received = readdirSync(dir);
    const sops = received.map((f) => readPart10(readFileSync(join(dir, f))).dataset.string(0x00080018)).sort();
    assert.deepEqual(sops, ['1.2.826.0.5.1.1.1', '1.2.826.0.5.1.1.2']);
    const exports = await h.audit.list({ action: 'export' });
    assert.deepEqual(exports.map((e) => [e.actor, e.resource, e.detail?.modality, e.detail?.instances]), [['u-researcher', ids.lung, 'storage', 2]]);
    // The harness researcher is on lung (and archive), not brain: the brain study does not exist for it.
    assert.equal((await call('researcher', 'POST', '/modalities/storage/store', { Resources: [ids.brain] })).statusCode, 404);
    assert.equal((await call('uploader', 'POST', '/modalities/storage/store', [ids.lung])).statusCode, 403, 'uploaders cannot read, so cannot export');
    assert.equal((await call('admin', 'POST', '/modalities/down/store', [ids.brain])).statusCode, 502);
  });

  it('query: C-FIND at the peer, answers under /queries/{id}; broker only', async () => {
    assert.equal((await call('researcher', 'POST', '/modalities/remote/query', { Level: 'Study', Query: {} })).statusCode, 403);
    const q = await call('broker', 'POST', '/modalities/remote/query', { Level: 'Study', Query: { PatientID: 'REMOTE-1', StudyDate: '20240102', PatientName: '' } });
    assert.equal(q.statusCode, 200, q.body);
    const { ID, Path } = q.json();
    assert.equal(Path, `/queries/${ID}`);
    assert.deepEqual((await call('broker', 'GET', `${Path}/answers`)).json(), ['0']);
    const content = (await call('broker', 'GET', `${Path}/answers/0/content?simplify`)).json();
    assert.equal(content.StudyInstanceUID, '1.2.826.0.6.2');
    assert.equal(content.PatientName, 'Far^Away');
    assert.equal((await call('broker', 'GET', `${Path}/level`)).body, 'STUDY');
    const all = await call('broker', 'POST', '/modalities/remote/query', { Level: 'Study', Query: { PatientID: 'REMOTE-*' } });
    assert.equal((await call('broker', 'GET', `/queries/${all.json().ID}/answers?expand`)).json().length, 2);
    assert.equal((await call('admin', 'GET', `${Path}/answers`)).statusCode, 200);
    const audit = await h.audit.list({ action: 'modality.query' });
    assert.equal(audit.length, 2);
    assert.ok(!JSON.stringify(audit).includes('Far'), 'answers are never audited');
    assert.equal((await call('broker', 'POST', '/modalities/remote/query', { Level: 'Nope' })).statusCode, 400);
  });
});

