// POST /studies/{id}/send: the manual trigger queues one durable route job per destination for the
// whole study and answers Orthanc's { ID, Path }; the body forms, unknown names, peers, the audit
// record, and delivery through the queue (plus the study-done occurrence shared by the jobs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { AuditEvent } from '../../src/auth/audit-event.ts';
import { silentLogger } from '../../src/core/log.ts';
import { parseSendBody, peerDestination, studySendRoutes } from '../../src/http/pipeline/study-send-route.ts';
import { orthancErrorHandler } from '../../src/http/rest/orthanc-errors.ts';
import type { RestDeps } from '../../src/http/rest/rest-deps.ts';
import type { ArchiveIndex } from '../../src/index/archive-index.ts';
import type { RouteItemPayload } from '../../src/pipeline/route-queue.ts';
import { SqliteSqlDb } from '../../src/pipeline/sqlite-sql-db.ts';
import { PipelineRuntime } from '../../src/services/pipeline-runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'dg-send-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const STUDY = 'b9d5a3f2-6d1c4b38-2b7f0a3e-8e1b5c77-1f0e2d3c';
const EMPTY = '00000000-00000000-00000000-00000000-00000000';

test('body forms', () => {
  assert.deepEqual(parseSendBody('PACS'), ['PACS']);
  assert.deepEqual(parseSendBody(['PACS', 'DISK']), ['PACS', 'DISK']);
  assert.deepEqual(parseSendBody({ Destinations: ['PACS'] }), ['PACS']);
  assert.deepEqual(parseSendBody({ Peer: 'ORTHANC2' }), [peerDestination('ORTHANC2')]);
  for (const bad of [undefined, null, {}, [], [''], { Destinations: [1] }, { Peer: 'X', Destinations: ['Y'] }, 42]) {
    assert.throws(() => parseSendBody(bad), /QUERY_INVALID|body/, JSON.stringify(bad));
  }
});

test('POST /studies/{id}/send queues the whole study per destination, delivers it, audits an export', async () => {
  const index = {
    listInstances: async (_l: string, id: string) => (id === STUDY ? [{ id: 'i1' }, { id: 'i2' }, { id: 'i3' }] : []),
    getResource: async (level: string, id: string) => (id === STUDY ? { level, id, tags: {} } : undefined),
    // The study belongs to project "lung" (what the scoped index asks for non-admin callers).
    isVisible: async (_l: string, _id: string, scope: { projects: readonly string[] }) => scope.projects.includes('lung'),
  } as unknown as ArchiveIndex;
  let scope: { projects: string[]; unassigned: boolean } | undefined;
  const sent: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const rt = await PipelineRuntime.open({
    db: new SqliteSqlDb(join(dir, 'send.db')),
    index,
    pipelines: [],
    destinations: [
      { name: 'PACS', send: async (item: string) => (await gate, void sent.push(`PACS:${item}`)) },
      { name: 'DISK', send: async (item: string) => void sent.push(`DISK:${item}`) },
      { name: peerDestination('ORTHANC2'), send: async (item: string) => void sent.push(`peer:${item}`) },
    ],
    stableAgeMs: 60_000,
    jobs: { concurrency: 1, leaseMs: 5_000, maxAttempts: 2, backoff: { baseMs: 10, maxMs: 20, jitter: 0 } },
    log: silentLogger,
  });
  rt.start();
  const audit: Omit<AuditEvent, 'at'>[] = [];
  const app = Fastify();
  app.decorateRequest('principal', null);
  app.decorateRequest('projectScope', undefined);
  app.addHook('onRequest', async (req) => {
    (req as unknown as { principal: unknown }).principal = { user: { username: 'alice', roles: ['uploader'] } };
    (req as unknown as { projectScope: unknown }).projectScope = scope;
  });
  app.setErrorHandler(orthancErrorHandler(silentLogger));
  const deps = { audit: { record: async (e: Omit<AuditEvent, 'at'>) => void audit.push(e) }, logger: silentLogger, archive: { index } } as unknown as RestDeps;
  await app.register(studySendRoutes({ send: (id, d) => rt.send(id, d) }), deps);
  try {
    const res = await app.inject({ method: 'POST', url: `/studies/${STUDY}/send`, payload: { Destinations: ['PACS', 'DISK'] } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { ID: string; Path: string; Jobs: { ID: string; Destination: string }[] };
    assert.equal(body.Path, `/jobs/${body.ID}`);
    assert.deepEqual(body.Jobs.map((j) => j.Destination), ['PACS', 'DISK']);
    const jobs = await Promise.all(body.Jobs.map((j) => rt.jobs.get(j.ID)));
    const payloads = jobs.map((j) => j!.payload as RouteItemPayload);
    assert.deepEqual(payloads.map((p) => [p.destination, p.items, p.trigger]), [['PACS', ['i1', 'i2', 'i3'], 'manual'], ['DISK', ['i1', 'i2', 'i3'], 'manual']]);
    assert.equal(payloads[0]!.occurrence, payloads[1]!.occurrence, 'one occurrence: study-done after both');
    assert.ok(jobs.every((j) => j!.studyKey === STUDY), 'per-study lock');
    assert.deepEqual(audit.map((a) => [a.action, a.resource, a.outcome, a.actor]), [['export', STUDY, 'success', 'alice']]);

    release();
    const end = Date.now() + 10_000;
    while ((await Promise.all(body.Jobs.map((j) => rt.jobs.get(j.ID)))).some((j) => j!.state !== 'Success') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(sent.sort(), ['DISK:i1', 'DISK:i2', 'DISK:i3', 'PACS:i1', 'PACS:i2', 'PACS:i3']);

    const peer = await app.inject({ method: 'POST', url: `/studies/${STUDY}/send`, payload: { Peer: 'ORTHANC2' } });
    assert.equal(peer.statusCode, 200);
    const unknownDest = await app.inject({ method: 'POST', url: `/studies/${STUDY}/send`, payload: JSON.stringify('NOPE'), headers: { 'content-type': 'application/json' } });
    assert.equal(unknownDest.statusCode, 404);
    assert.equal((await app.inject({ method: 'POST', url: `/studies/${EMPTY}/send`, payload: ['PACS'] })).statusCode, 404, 'unknown study');
    assert.equal((await app.inject({ method: 'POST', url: '/studies/not-an-id/send', payload: ['PACS'] })).statusCode, 404);
    assert.equal((await app.inject({ method: 'POST', url: `/studies/${STUDY}/send`, payload: { Wrong: 1 } })).statusCode, 400);
    assert.equal(audit.filter((a) => a.outcome === 'failure').length, 2, 'refused sends (unknown destination, unknown study) are audited too');

    // Per-project access: a caller whose projects do not hold the study cannot send it out.
    scope = { projects: ['brain'], unassigned: false };
    const outside = await app.inject({ method: 'POST', url: `/studies/${STUDY}/send`, payload: ['PACS'] });
    assert.equal(outside.statusCode, 404, 'a study outside the caller\'s projects answers as absent');
    scope = { projects: ['lung'], unassigned: false };
    assert.equal((await app.inject({ method: 'POST', url: `/studies/${STUDY}/send`, payload: ['DISK'] })).statusCode, 200);
  } finally {
    release();
    await app.close();
    await rt.stop();
  }
});
