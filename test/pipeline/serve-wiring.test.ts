// The pieces `serve` wires together: the config keys of the pipeline (destinations with secrets,
// jobs.*, stableAgeSeconds), the Orthanc job API over the persistent job table merged with the
// in-memory anonymize jobs, and the runtime's dispatch of stable events to the pipelines' routes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { JobRegistry } from '../../src/http/rest/jobs.ts';
import { pipelineJobRoutes } from '../../src/http/rest/jobs-routes.ts';
import { orthancErrorHandler } from '../../src/http/rest/orthanc-errors.ts';
import type { RestDeps } from '../../src/http/rest/rest-deps.ts';
import type { ArchiveIndex } from '../../src/index/archive-index.ts';
import { compilePipelines } from '../../src/pipeline/pipeline-config.ts';
import { SqlJobRepo } from '../../src/pipeline/sql-job-repo.ts';
import { SqliteSqlDb } from '../../src/pipeline/sqlite-sql-db.ts';
import { PipelineRuntime } from '../../src/services/pipeline-runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'dg-serve-wiring-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function load(config: unknown, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `c${n++}.json`);
  writeFileSync(file, JSON.stringify(config));
  return loadConfig({ file, env });
}

test('pipeline config keys: defaults, destinations with resolved secrets', () => {
  const d = load({});
  assert.equal(d.stableAgeSeconds, 60);
  assert.deepEqual({ ...d.jobs }, { concurrency: 2, leaseSeconds: 30, maxAttempts: 40, backoffInitialSeconds: 1, backoffMaxSeconds: 300 });
  const c = load(
    {
      stableAgeSeconds: 5,
      destinations: {
        PACS: { kind: 'dicom', aet: 'PACS_Y', host: 'pacs', port: 104 },
        WEB: { kind: 'dicomweb', url: 'https://x/dicom-web', auth: { kind: 'basic', username: 'gw', secret: 'env:PW' } },
        DISK: { kind: 'folder', root: dir },
      },
    },
    { PW: 's3cret' },
  );
  const web = c.destinations.WEB!;
  assert.equal(web.kind, 'dicomweb');
  assert.equal(web.kind === 'dicomweb' && web.auth?.secret.reveal(), 's3cret');
  assert.ok(!JSON.stringify(c.destinations).includes('s3cret'), 'secrets never serialise');
  const disk = c.destinations.DISK!;
  assert.ok(disk.kind === 'folder' && disk.template.includes('{PatientID}'), 'folder template defaults to the documented one');
});

test('every problem of the pipeline keys is reported at once', () => {
  assert.throws(
    () =>
      load({
        stableAgeSeconds: 0,
        jobs: { concurrency: 0, backoffInitialSeconds: 10, backoffMaxSeconds: 1 },
        destinations: {
          A: { kind: 'dicom', aet: 'way-too-long-ae-title', port: 0 },
          B: { kind: 'dicomweb', url: 'ftp://x', auth: { kind: 'bearer', secret: 'inline-secret' } },
          C: { kind: 'ftp' },
          D: { kind: 'folder', root: '/x', extra: 1 },
        },
      }),
    (e: Error) => {
      for (const bit of ['stableAgeSeconds', 'jobs.concurrency', 'jobs.backoffMaxSeconds', 'destinations.A.aet', 'destinations.A.host', 'destinations.A.port', 'destinations.B.url', 'destinations.B.auth.secret', 'destinations.C', 'destinations.D.extra']) {
        assert.ok(e.message.includes(bit), `${bit} reported in: ${e.message}`);
      }
      assert.ok(!e.message.includes('inline-secret'));
      return true;
    },
  );
});

async function jobsApp() {
  const repo = new SqlJobRepo(new SqliteSqlDb(join(dir, `jobs-${n++}.db`)));
  await repo.migrate();
  const registry = new JobRegistry();
  const completed: string[] = [];
  let woken = 0;
  const app = Fastify();
  app.setErrorHandler(orthancErrorHandler(silentLogger));
  await app.register(pipelineJobRoutes({ repo, registry, wake: () => woken++, completeStudy: async (id) => (completed.push(id), true) }), {} as RestDeps);
  return { app, repo, registry, completed, woken: () => woken };
}

test('GET /jobs merges persistent and anonymize jobs; actions follow the job states', async () => {
  const { app, repo, registry, completed, woken } = await jobsApp();
  const job = await repo.enqueue({ type: 'route:PACS', payload: { destination: 'PACS', items: ['a'] } }, Date.now());
  const mem = registry.start('Anonymization', null, async () => ({ ok: true }));
  await new Promise((r) => setImmediate(r));
  const ids = (await app.inject({ url: '/jobs' })).json() as string[];
  assert.deepEqual(ids.sort(), [job.id, mem.id].sort());
  const expanded = (await app.inject({ url: '/jobs?expand' })).json() as { ID: string; State: string }[];
  assert.equal(expanded.find((j) => j.ID === job.id)?.State, 'Pending');
  assert.equal((await app.inject({ url: `/jobs/${mem.id}` })).statusCode, 200);
  assert.equal((await app.inject({ url: '/jobs/999999' })).statusCode, 404);

  assert.equal((await app.inject({ method: 'POST', url: `/jobs/${job.id}/pause` })).statusCode, 200);
  assert.equal((await repo.get(job.id))?.state, 'Paused');
  assert.equal((await app.inject({ method: 'POST', url: `/jobs/${job.id}/resubmit` })).statusCode, 409, 'resubmit is for failed jobs');
  assert.equal((await app.inject({ method: 'POST', url: `/jobs/${job.id}/resume` })).statusCode, 200);
  assert.equal(woken(), 1);
  assert.equal((await app.inject({ method: 'POST', url: `/jobs/${job.id}/cancel` })).statusCode, 200);
  assert.equal((await repo.get(job.id))?.state, 'Failure');
  assert.equal((await app.inject({ method: 'POST', url: `/jobs/${job.id}/resubmit` })).statusCode, 200);
  assert.equal((await repo.get(job.id))?.state, 'Pending');

  const study = 'b9d5a3f2-6d1c4b38-2b7f0a3e-8e1b5c77-1f0e2d3c';
  const res = await app.inject({ method: 'POST', url: `/studies/${study}/complete` });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(completed, [study]);
  assert.equal((await app.inject({ method: 'POST', url: '/studies/not-an-id/complete' })).statusCode, 404);
  await app.close();
  await repo.close();
});

test('stable events become one route job per destination of the pipelines that received the study', async () => {
  const db = new SqliteSqlDb(join(dir, `rt-${n++}.db`));
  const pipelines = compilePipelines({
    a: { intake: { calledAe: 'A_IN' }, stages: [{ store: true }, { route: { destination: 'X', trigger: 'stable-study' } }, { route: { destination: 'Y', trigger: 'stable-series' } }] },
    b: { intake: { calledAe: 'B_IN' }, stages: [{ store: true }, { route: { destination: 'Z', trigger: 'stable-study' } }] },
  });
  const index = { listInstances: async (_level: string, id: string) => [{ id: `${id}-i1` }, { id: `${id}-i2` }] } as unknown as ArchiveIndex;
  const sent: string[] = [];
  const dest = (name: string) => ({ name, send: async (item: string) => void sent.push(`${name}:${item}`) });
  const rt = await PipelineRuntime.open({
    db,
    index,
    pipelines,
    destinations: [dest('X'), dest('Y'), dest('Z')],
    stableAgeMs: 60_000,
    jobs: { concurrency: 1, leaseMs: 5_000, maxAttempts: 2, backoff: { baseMs: 10, maxMs: 20, jitter: 0 } },
    log: silentLogger,
  });
  const ids = (k: string) => ({ patient: 'p', study: `st${k}`, series: `se${k}`, instance: `in${k}` });
  await rt.onStored([{ ids: ids('1'), source: { transport: 'dimse', calledAe: 'A_IN' } }]);
  await rt.onStored([{ ids: ids('1'), source: { transport: 'dimse', calledAe: 'A_IN' } }]);
  assert.equal(await rt.complete('st1'), true);
  const jobs = await rt.jobs.list({});
  assert.deepEqual(jobs.map((j) => j.type).sort(), ['route:X', 'route:Y'], 'the study of pipeline a goes to X (study) and Y (series), not Z');
  assert.deepEqual((jobs.find((j) => j.type === 'route:X')!.payload as { items: string[] }).items, ['st1-i1', 'st1-i2']);
  assert.equal(await rt.complete('st1'), false, 'nothing new since the event');
  await rt.tracker.tick();
  assert.equal((await rt.jobs.list({})).length, 2, 'dispatch is idempotent');
  await rt.stop();
});

test('onStored: one transaction records the touches and instance route jobs of every batch that arrived meanwhile', async () => {
  const real = new SqliteSqlDb(join(dir, `rt-${n++}.db`));
  let txs = 0;
  // Counts transactions (each is one commit) on the runtime's database.
  const db = new Proxy(real, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (prop === 'tx') txs++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as SqliteSqlDb;
  const pipelines = compilePipelines({
    a: { intake: { calledAe: 'A_IN' }, stages: [{ store: true }, { route: { destination: 'X', trigger: 'instance' } }, { route: { destination: 'Y', trigger: 'stable-study' } }] },
  });
  const index = { listInstances: async () => [] } as unknown as ArchiveIndex;
  const rt = await PipelineRuntime.open({
    db,
    index,
    pipelines,
    destinations: [{ name: 'X', send: async () => undefined }, { name: 'Y', send: async () => undefined }],
    stableAgeMs: 60_000,
    jobs: { concurrency: 1, leaseMs: 5_000, maxAttempts: 2, backoff: { baseMs: 10, maxMs: 20, jitter: 0 } },
    log: silentLogger,
  });
  const ids = (k: string) => ({ patient: 'p', study: 'st1', series: `se${k}`, instance: `in${k}` });
  const src = { transport: 'dimse', calledAe: 'A_IN' } as const;
  txs = 0;
  // Three associations' commits land at once: the first records alone, the two that arrived while
  // it ran share the next transaction.
  await Promise.all([rt.onStored([{ ids: ids('1'), source: src }]), rt.onStored([{ ids: ids('2'), source: src }]), rt.onStored([{ ids: ids('3'), source: src }, { ids: ids('4'), source: src }])]);
  assert.equal(txs, 2);
  const jobs = await rt.jobs.list({});
  assert.deepEqual(jobs.map((j) => (j.payload as { items: string[] }).items[0]).sort(), ['in1', 'in2', 'in3', 'in4'], 'one instance route job per instance');
  assert.ok(jobs.every((j) => j.type === 'route:X' && (j.payload as { trigger: string }).trigger === 'instance'));
  // Touched with the same commit: the study and its four series wait for their quiet period, tagged a.
  assert.deepEqual((await rt.stability.pendingStudies()).map((p) => p.studyKey), ['st1']);
  assert.deepEqual(await rt.stability.tags('st1'), ['a']);
  await rt.stop();
});
