// /routes over the real server (startServer: config -> destinations -> pipeline runtime -> REST):
// a DICOM peer on a closed port and a folder under a regular file dead-letter a study; GET /routes
// and /routes/{name}/dead-letters show it without secrets; /test says why in words; after the fault
// is fixed (DCMTK storescp listens, the file is removed) retry and retry-all deliver, and are audited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '../helpers/dcmtk.ts';
import { startServerWith } from '../helpers/serve.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { waitFor } from '../helpers/wait-for.ts';

interface RouteStatus { name: string; kind: string; target: string; source: string; waiting: number; sending: number; deadLetters: number; countsCapped: boolean; lastError: { code: string; detail: string | null; jobId: string } | null }
interface OrthancJob { ID: string; Type: string; State: string; ErrorDetails?: string; Content: { destination: string; items: string[]; Attempts: number } }

test('GET /routes, dead letters, test, retry and retry-all against a real peer and folder', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-route-status-'));
  const peerPort = await freePort(); // nothing listens here until storescp starts below
  const blocker = join(dir, 'blocker'); // a regular file: the folder under it cannot be made
  writeFileSync(blocker, '');
  const server = await startServerWith(
    dir,
    {
      stableAgeSeconds: 60,
      jobs: { concurrency: 1, maxAttempts: 2, backoffInitialSeconds: 0.05, backoffMaxSeconds: 0.1 },
      dicom: { peers: [{ aet: 'OTHER', host: '127.0.0.1', port: peerPort }] },
      destinations: {
        PACS: { kind: 'dicom', aet: 'STORESCP', host: '127.0.0.1', port: peerPort },
        DISK: { kind: 'folder', root: join(blocker, 'out') },
        WEB: { kind: 'dicomweb', url: 'http://127.0.0.1:1/dicom-web?access_token=tok-in-url', auth: { kind: 'basic', username: 'gw', secret: 'env:WEB_PW' } },
      },
    },
    { WEB_PW: 's3cret-pw' },
  );
  let scp: ReturnType<typeof spawn> | undefined;
  const base = `http://127.0.0.1:${server.httpPort}`;
  const get = async <T>(path: string): Promise<{ status: number; body: T; text: string }> => {
    const res = await fetch(base + path);
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) as T, text };
  };
  const post = async <T>(path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(base + path, { method: 'POST', ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    return { status: res.status, body: (await res.json()) as T };
  };
  try {
    const instance = syntheticInstance({ patientId: 'RS-1', studyInstanceUid: '1.2.826.0.9.1', seriesInstanceUid: '1.2.826.0.9.1.1', sopInstanceUid: '1.2.826.0.9.1.1.1', modality: 'CT', size: 4 });
    const stored = (await (await fetch(`${base}/instances`, { method: 'POST', body: instance, headers: { 'content-type': 'application/dicom' } })).json()) as { ParentStudy: string };
    const sent = await post<{ Jobs: { ID: string; Destination: string }[] }>(`/studies/${stored.ParentStudy}/send`, { Destinations: ['PACS', 'DISK'] });
    assert.equal(sent.status, 200);

    // Both jobs use up their two attempts: one dead letter per destination.
    const routes = await waitFor('both dead-lettered', async () => {
      const r = (await get<RouteStatus[]>('/routes')).body;
      return r.filter((x) => x.deadLetters === 1).length === 2 ? r : undefined;
    });
    const listing = await get<RouteStatus[]>('/routes');
    for (const secret of ['s3cret-pw', 'tok-in-url', 'access_token']) assert.ok(!listing.text.includes(secret), `no ${secret} in GET /routes`);
    const by = new Map(routes.map((r) => [r.name, r]));
    assert.deepEqual([...by.keys()].sort(), ['DISK', 'PACS', 'WEB', 'peer:OTHER']);
    assert.deepEqual(
      [by.get('PACS'), by.get('DISK'), by.get('WEB'), by.get('peer:OTHER')].map((r) => [r!.kind, r!.target, r!.source, r!.waiting, r!.deadLetters]),
      [
        ['dicom', `STORESCP@127.0.0.1:${peerPort}`, 'destinations', 0, 1],
        ['folder', join(blocker, 'out'), 'destinations', 0, 1],
        ['dicomweb', 'http://127.0.0.1:1/dicom-web', 'destinations', 0, 0],
        ['dicom', `OTHER@127.0.0.1:${peerPort}`, 'dicom.peers', 0, 0],
      ],
    );
    const pacsJob = sent.body.Jobs.find((j) => j.Destination === 'PACS')!.ID;
    const diskJob = sent.body.Jobs.find((j) => j.Destination === 'DISK')!.ID;
    assert.equal(by.get('PACS')!.lastError?.jobId, pacsJob);
    assert.equal(by.get('DISK')!.lastError?.code, 'EXPORT_WRITE_FAILED');
    assert.equal(by.get('WEB')!.lastError, null);

    const dead = await get<OrthancJob[]>('/routes/DISK/dead-letters');
    assert.equal(dead.status, 200);
    assert.deepEqual(dead.body.map((j) => [j.ID, j.Type, j.State, j.Content.destination]), [[diskJob, 'route:DISK', 'Failure', 'DISK']]);
    assert.match(dead.body[0]!.ErrorDetails ?? '', /EXPORT_WRITE_FAILED/);
    const detail = await get<RouteStatus & { queue: OrthancJob[] }>('/routes/PACS');
    assert.deepEqual([detail.status, detail.body.deadLetters, detail.body.queue.length], [200, 1, 0]);

    // Unknown names and jobs, and a job of another destination, are 404; bad limits 400.
    assert.equal((await get('/routes/NOPE')).status, 404);
    assert.equal((await get('/routes/NOPE/dead-letters')).status, 404);
    assert.equal((await get('/routes/DISK/dead-letters?limit=0')).status, 400);
    assert.equal((await post(`/routes/PACS/dead-letters/${diskJob}/retry`)).status, 404);
    assert.equal((await post('/routes/PACS/dead-letters/999999/retry')).status, 404);
    assert.equal((await post('/routes/NOPE/test')).status, 404);

    // Tests of the broken destinations: 200 with ok:false and the reason in words.
    const diskDown = await post<{ ok: boolean; code: string | null; detail: string }>('/routes/DISK/test');
    assert.equal(diskDown.status, 200);
    assert.deepEqual([diskDown.body.ok, diskDown.body.code], [false, 'EXPORT_WRITE_FAILED']);
    assert.match(diskDown.body.detail, /not writable/);
    const pacsDown = await post<{ ok: boolean; detail: string }>('/routes/PACS/test');
    assert.equal(pacsDown.body.ok, false);
    t.diagnostic(`PACS test while down: ${pacsDown.body.detail}`);
    const webDown = await post<{ ok: boolean; detail: string }>('/routes/WEB/test');
    assert.equal(webDown.body.ok, false);
    assert.ok(!webDown.body.detail.includes('tok-in-url') && !webDown.body.detail.includes('s3cret'), webDown.body.detail);

    // Fix the folder; retry its dead letter; it is delivered and no longer a dead letter.
    rmSync(blocker);
    const diskOk = await post<{ ok: boolean; code: null; detail: string; kind: string }>('/routes/DISK/test');
    assert.deepEqual([diskOk.status, diskOk.body.ok, diskOk.body.code, diskOk.body.detail, diskOk.body.kind], [200, true, null, 'the folder is writable', 'folder']);
    const retried = await post<{ ID: string; Path: string }>(`/routes/DISK/dead-letters/${diskJob}/retry`);
    assert.deepEqual([retried.status, retried.body.ID, retried.body.Path], [200, diskJob, `/jobs/${diskJob}`]);
    await waitFor('DISK job delivered', async () => ((await get<OrthancJob>(`/jobs/${diskJob}`)).body.State === 'Success' ? true : undefined));
    assert.ok(existsSync(join(blocker, 'out')) && readdirSync(join(blocker, 'out'), { recursive: true }).some((f) => String(f).endsWith('.dcm')), 'a file was written');
    assert.deepEqual((await get<OrthancJob[]>('/routes/DISK/dead-letters')).body, []);
    // No longer a dead letter: a second retry is refused.
    assert.equal((await post(`/routes/DISK/dead-letters/${diskJob}/retry`)).status, 409);

    // The peer comes up (DCMTK storescp on its port): the test passes, retry-all delivers.
    const received = join(dir, 'received');
    mkdirSync(received);
    scp = spawn('storescp', ['-aet', 'STORESCP', '-od', received, '+xa', '-uf', String(peerPort)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
    await waitForPort(peerPort);
    const pacsOk = await post<{ ok: boolean; detail: string }>('/routes/PACS/test');
    assert.deepEqual([pacsOk.body.ok, pacsOk.body.detail], [true, 'the peer answered C-ECHO']);
    const all = await post<{ Retried: number; Jobs: string[] }>('/routes/PACS/dead-letters/retry-all');
    assert.deepEqual(all.body, { Retried: 1, Jobs: [pacsJob] });
    await waitFor('PACS job delivered', async () => ((await get<OrthancJob>(`/jobs/${pacsJob}`)).body.State === 'Success' ? true : undefined));
    assert.equal(readdirSync(received).length, 1);
    const after = new Map((await get<RouteStatus[]>('/routes')).body.map((r) => [r.name, r]));
    assert.deepEqual([after.get('PACS')!.deadLetters, after.get('DISK')!.deadLetters], [0, 0]);

    // Retries and tests are in the audit log, by destination name.
    const audit = (await get<{ events: { action: string; resource: string; outcome: string }[] }>('/audit?action=route.retry')).body.events;
    assert.deepEqual(audit.map((e) => [e.action, e.resource, e.outcome]), [['route.retry', 'DISK', 'success'], ['route.retry', 'PACS', 'success']]);
    const tests = (await get<{ events: { resource: string; outcome: string }[] }>('/audit?action=route.test')).body.events;
    assert.ok(tests.some((e) => e.resource === 'DISK' && e.outcome === 'failure') && tests.some((e) => e.resource === 'PACS' && e.outcome === 'success'));
  } finally {
    scp?.kill('SIGTERM');
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
