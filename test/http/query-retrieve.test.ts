// Orthanc's retrieve routes (C-MOVE) against real peers: a second dicomgate DIMSE server holds the
// studies ("REMOTE") and knows our AE title; dicomgate's own DIMSE server ("DICOMGATE") receives the
// moved instances through its normal C-STORE intake into the archive the REST surface serves.
// Covers /queries/{id}/retrieve (sync and async), /queries/{id}/answers/{n}/retrieve,
// /modalities/{name}/move, the error cases, roles and the audit trail.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPart10 } from '../../src/dicom/index.ts';
import { startDimseServer, type DimseServer } from '../../src/dimse-server/start-dimse-server.ts';
import { parsePart10Meta } from '../../src/dimse/part10-source.ts';
import { JobRegistry } from '../../src/http/rest/jobs.ts';
import type { PipelineJobsDeps } from '../../src/http/rest/jobs-routes.ts';
import { freePort, startStorescp, type RunningTool } from '../helpers/dcmtk.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { buildHarness, type Harness } from './app-harness.ts';
import { memoryArchive } from './archive-fixture.ts';

type Archive = ReturnType<typeof memoryArchive>;

/** Remote studies: REMOTE-1 has two (one instance each), REMOTE-2 one with two series. */
const STUDIES = [
  { patientId: 'REMOTE-1', study: '1.2.826.0.7.1', series: ['1.2.826.0.7.1.1'] },
  { patientId: 'REMOTE-1', study: '1.2.826.0.7.2', series: ['1.2.826.0.7.2.1'] },
  { patientId: 'REMOTE-2', study: '1.2.826.0.7.3', series: ['1.2.826.0.7.3.1', '1.2.826.0.7.3.2'] },
];

/** The dataset bytes of the stored Part-10 blob of an instance (the file meta is rewritten on receipt). */
async function storedDataset(a: Archive, sopInstanceUid: string): Promise<Buffer | undefined> {
  const [inst] = await a.rest.archive.index.findByUid('instance', sopInstanceUid);
  if (!inst?.file) return undefined;
  const bytes = await a.rest.archive.blobs.get(inst.file.blobKey);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.subarray(parsePart10Meta(b, 'test blob').datasetOffset);
}

describe('/queries/{id}/retrieve, /modalities/{name}/move (C-MOVE into dicomgate)', () => {
  let h: Harness;
  let archive: Archive;
  let remote: Archive;
  let remoteScp: DimseServer;
  let localScp: DimseServer;
  let storescp: RunningTool;
  let closedPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'dg-retrieve-'));
  const sops: Record<string, string[]> = {};

  before(async () => {
    archive = memoryArchive();
    // dicomgate's own DIMSE server over the archive the REST surface serves: the C-MOVE destination.
    localScp = await startDimseServer({ ingest: archive.rest.archive.ingest, index: archive.rest.archive.index, blobs: archive.rest.archive.blobs }, { aet: 'DICOMGATE', host: '127.0.0.1', port: 0, peers: [] });
    remote = memoryArchive();
    for (const s of STUDIES) {
      sops[s.study] = [];
      for (const [i, series] of s.series.entries()) {
        const sop = `${series}.${i + 1}`;
        sops[s.study].push(sop);
        const r = await remote.rest.archive.ingest.ingest(syntheticInstance({ patientId: s.patientId, patientName: 'Far^Away', studyInstanceUid: s.study, seriesInstanceUid: series, sopInstanceUid: sop, modality: 'CT', size: 8 }), { transport: 'dimse' });
        if (r.status === 'rejected') throw new Error(r.reason);
      }
    }
    // The remote node knows DICOMGATE and a DCMTK storescp (a third node) as move destinations.
    storescp = await startStorescp(dir, { aeTitle: 'STORESCP', extraArgs: ['+B'] });
    remoteScp = await startDimseServer(
      { ingest: remote.rest.archive.ingest, index: remote.rest.archive.index, blobs: remote.rest.archive.blobs },
      { aet: 'REMOTE', host: '127.0.0.1', port: 0, peers: [{ aet: 'DICOMGATE', host: '127.0.0.1', port: localScp.port }, { aet: 'STORESCP', host: '127.0.0.1', port: storescp.port }] },
    );
    closedPort = await freePort();
    const never = () => Promise.reject(new Error('not reached'));
    const pipeline: PipelineJobsDeps = {
      repo: { list: async () => [], get: async () => undefined, cancel: never, pause: never, resume: never, resubmit: never },
      registry: new JobRegistry(),
      wake: () => {},
      completeStudy: async () => false,
    };
    h = await buildHarness({
      surfaces: {
        rest: {
          ...archive.rest,
          pipeline,
          modalities: {
            localAet: 'DICOMGATE',
            peers: [
              { name: 'remote', aet: 'REMOTE', host: '127.0.0.1', port: remoteScp.port },
              { name: 'down', aet: 'DOWN', host: '127.0.0.1', port: closedPort },
            ],
            timeoutMs: 3000,
          },
        },
      },
    });
  });
  after(async () => {
    await h.close();
    await localScp.close();
    await remoteScp.close();
    await archive.close();
    await remote.close();
    await storescp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (role: 'researcher' | 'broker' | 'uploader' | 'admin', method: 'GET' | 'POST', url: string, payload?: unknown) =>
    h.app.inject({ method, url, headers: { authorization: h.basic(role) }, ...(payload !== undefined ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}) });
  const query = async (level: string, q: Record<string, string>) => {
    const r = await call('broker', 'POST', '/modalities/remote/query', { Level: level, Query: q });
    assert.equal(r.statusCode, 200, r.body);
    return r.json().ID as string;
  };
  const assertArrived = async (study: string) => {
    for (const sop of sops[study]) {
      const got = await storedDataset(archive, sop);
      assert.ok(got, `${sop} in dicomgate's index`);
      assert.ok(got.equals((await storedDataset(remote, sop))!), `${sop} byte-identical to the peer's`);
    }
  };

  it('retrieves one answer to our own AE title (empty body), synchronously with the job content', async () => {
    const id = await query('Study', { PatientID: 'REMOTE-1', StudyDate: '' });
    assert.deepEqual((await call('broker', 'GET', `/queries/${id}`)).json(), ['answers', 'level', 'modality', 'query', 'retrieve']);
    const answer = (await call('broker', 'GET', `/queries/${id}/answers/0/content?simplify`)).json();
    const study = answer.StudyInstanceUID as string;
    assert.equal(await storedDataset(archive, sops[study][0]), undefined, 'not there before');
    const r = await call('broker', 'POST', `/queries/${id}/answers/0/retrieve`, '');
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), {
      Description: 'REST API', LocalAet: 'DICOMGATE', RemoteAet: 'REMOTE', TargetAet: 'DICOMGATE',
      Query: [{ '0008,0052': 'STUDY', '0020,000d': study }], InstancesCount: 1, FailedInstancesCount: 0,
    });
    await assertArrived(study);
    const other = STUDIES.find((s) => s.patientId === 'REMOTE-1' && s.study !== study)!.study;
    assert.equal(await storedDataset(archive, sops[other][0]), undefined, 'only the answer named was retrieved');
  });

  it('retrieves every answer asynchronously: {ID, Path} of a job that ends in Success', async () => {
    const id = await query('Study', { PatientID: 'REMOTE-1' });
    const r = await call('broker', 'POST', `/queries/${id}/retrieve`, { TargetAet: 'DICOMGATE', Synchronous: false, Simplify: true });
    assert.equal(r.statusCode, 200, r.body);
    const { ID, Path } = r.json();
    assert.equal(Path, `/jobs/${ID}`);
    let job: Record<string, unknown> = {};
    for (let i = 0; i < 100 && job.State !== 'Success' && job.State !== 'Failure'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      job = (await call('broker', 'GET', Path)).json();
    }
    assert.equal(job.State, 'Success', JSON.stringify(job));
    assert.equal(job.Type, 'DicomMoveScu');
    const content = job.Content as { Query: Record<string, string>[]; InstancesCount: number };
    assert.deepEqual(content.Query.map((q) => q.StudyInstanceUID).sort(), ['1.2.826.0.7.1', '1.2.826.0.7.2']);
    // One study came over in the test above: the peer sends it again, the archive keeps the first copy.
    assert.equal(content.InstancesCount, 2);
    await assertArrived('1.2.826.0.7.1');
    await assertArrived('1.2.826.0.7.2');
  });

  it('/modalities/{name}/move: series of a study by UID, to our AE title by default', async () => {
    assert.deepEqual((await call('researcher', 'GET', '/modalities/remote')).json(), ['configuration', 'echo', 'move', 'query', 'store']);
    const r = await call('broker', 'POST', '/modalities/remote/move', { Level: 'Series', Resources: [{ StudyInstanceUID: '1.2.826.0.7.3', SeriesInstanceUID: '1.2.826.0.7.3.2' }], Synchronous: true });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().Query, [{ '0008,0052': 'SERIES', '0020,000d': '1.2.826.0.7.3', '0020,000e': '1.2.826.0.7.3.2' }]);
    assert.equal(r.json().InstancesCount, 1);
    assert.equal(await storedDataset(archive, sops['1.2.826.0.7.3'][0]), undefined, 'the other series stayed');
    const second = await storedDataset(archive, sops['1.2.826.0.7.3'][1]);
    assert.ok(second?.equals((await storedDataset(remote, sops['1.2.826.0.7.3'][1]))!));
    // A series-level query answers the study UID too, so its answers can be retrieved.
    const id = await query('Series', { PatientID: 'REMOTE-2', SeriesInstanceUID: '1.2.826.0.7.3.1' });
    const one = await call('admin', 'POST', `/queries/${id}/retrieve`, 'DICOMGATE');
    assert.equal(one.statusCode, 200, one.body);
    await assertArrived('1.2.826.0.7.3');
  });

  it('moves to a third node when TargetAet names one the peer knows; nothing arrives here', async () => {
    const before = (await archive.rest.archive.index.statistics()).instances;
    const r = await call('broker', 'POST', '/modalities/remote/move', { Level: 'Instance', Resources: [{ '0020,000D': '1.2.826.0.7.1', '0020,000E': '1.2.826.0.7.1.1', SOPInstanceUID: '1.2.826.0.7.1.1.1' }], TargetAet: 'STORESCP' });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().TargetAet, 'STORESCP');
    const received = readdirSync(dir).map((f) => readPart10(readFileSync(join(dir, f))).dataset.string(0x00080018));
    assert.deepEqual(received, ['1.2.826.0.7.1.1.1']);
    assert.equal((await archive.rest.archive.index.statistics()).instances, before);
  });

  it('errors in Orthanc shape: unknown query, answer and modality; refused destination; bad bodies; peer down', async () => {
    const unknown = await call('broker', 'POST', '/queries/00000000-0000-0000-0000-000000000000/retrieve', '');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().HttpStatus, 404);
    const id = await query('Study', { PatientID: 'REMOTE-2' });
    assert.equal((await call('broker', 'POST', `/queries/${id}/answers/7/retrieve`, '')).statusCode, 404);
    assert.equal((await call('broker', 'POST', '/modalities/nope/move', { Level: 'Study', Resources: [{ StudyInstanceUID: '1.2.3' }] })).statusCode, 404);
    // The peer does not know NOWHERE: C-MOVE status A801 (PS3.4 C.4.2.1.4).
    const refused = await call('broker', 'POST', `/queries/${id}/retrieve`, { TargetAet: 'NOWHERE' });
    assert.equal(refused.statusCode, 502, refused.body);
    const body = refused.json();
    assert.deepEqual([body.HttpError, body.HttpStatus, body.Method, body.Uri, body.Code], ['Bad Gateway', 502, 'POST', `/queries/${id}/retrieve`, 'DIMSE_PEER_FAILURE']);
    assert.match(body.Message, /0xA801.*NOWHERE/);
    // Asynchronously, the same refusal ends the job in Failure with the error code.
    const job = await call('broker', 'POST', `/queries/${id}/retrieve`, { TargetAet: 'NOWHERE', Asynchronous: true });
    assert.equal(job.statusCode, 200, job.body);
    let state: Record<string, unknown> = {};
    for (let i = 0; i < 100 && state.State !== 'Success' && state.State !== 'Failure'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      state = (await call('broker', 'GET', job.json().Path)).json();
    }
    assert.deepEqual([state.State, state.ErrorDetails], ['Failure', 'DIMSE_PEER_FAILURE']);
    const bad = [
      { Level: 'Study', Resources: [{ PatientID: 'REMOTE-2' }] },
      { Level: 'Study', Resources: [{ StudyInstanceUID: '1.2.*' }] },
      { Level: 'Nope', Resources: [{ StudyInstanceUID: '1.2.3' }] },
      { Level: 'Study', Resources: [] },
      { Level: 'Study', Resources: [{ StudyInstanceUID: '1.2.3' }], TargetAet: 'MUCH-TOO-LONG-AE-TITLE' },
      { Level: 'Study', Resources: [{ StudyInstanceUID: '1.2.3' }], RetrieveMethod: 'C-GET' },
    ];
    for (const b of bad) assert.equal((await call('broker', 'POST', '/modalities/remote/move', b)).statusCode, 400, JSON.stringify(b));
    assert.equal((await call('broker', 'POST', '/modalities/down/move', { Level: 'Study', Resources: [{ StudyInstanceUID: '1.2.3' }] })).statusCode, 502);
  });

  it('broker (+admin) only; audited as modality.retrieve without UIDs', async () => {
    const id = await query('Study', { PatientID: 'REMOTE-2' });
    for (const role of ['researcher', 'uploader'] as const) {
      assert.equal((await call(role, 'POST', `/queries/${id}/retrieve`, '')).statusCode, 403);
      assert.equal((await call(role, 'POST', '/modalities/remote/move', { Level: 'Study', Resources: [{ StudyInstanceUID: '1.2.826.0.7.3' }] })).statusCode, 403);
    }
    const audit = await h.audit.list({ action: 'modality.retrieve' });
    const rows = audit.map((e) => [e.actor, e.outcome, e.detail?.route, e.detail?.target]);
    assert.deepEqual(rows.slice(0, 4), [
      ['u-broker', 'success', '/queries/:id/answers/:n/retrieve', 'DICOMGATE'],
      ['u-broker', 'success', '/queries/:id/retrieve', 'DICOMGATE'],
      ['u-broker', 'success', '/modalities/:name/move', 'DICOMGATE'],
      ['u-admin', 'success', '/queries/:id/retrieve', 'DICOMGATE'],
    ]);
    assert.ok(rows.some((r) => r[1] === 'failure' && r[3] === 'NOWHERE'), 'the refused move is recorded');
    assert.ok(!/1\.2\.826\.0\.7|Far/.test(JSON.stringify(audit)), 'no UIDs or answers in the audit log');
  });
});
