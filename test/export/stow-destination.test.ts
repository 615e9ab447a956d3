// STOW-RS destination against a local HTTP server on port 0: multipart body, bearer/basic auth,
// retry on 503 and dead-letter on 400 through the route queue.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { Secret } from '../../src/core/secret.ts';
import { isAppError } from '../../src/core/errors.ts';
import { StowDestination } from '../../src/export/stow-destination.ts';
import { RouteQueues } from '../../src/pipeline/route-queue.ts';
import { SqlJobRepo } from '../../src/pipeline/sql-job-repo.ts';
import { SqliteSqlDb } from '../../src/pipeline/sqlite-sql-db.ts';

const dir = mkdtempSync(join(tmpdir(), 'dg-stow-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  auth: string | undefined;
  type: string | undefined;
  body: Buffer;
}

async function server(answer: () => number) {
  const got: Received[] = [];
  const srv = createServer((rq: IncomingMessage, rs) => {
    const chunks: Buffer[] = [];
    rq.on('data', (c: Buffer) => chunks.push(c));
    rq.on('end', () => {
      if (rq.method === 'POST') got.push({ auth: rq.headers.authorization, type: rq.headers['content-type'], body: Buffer.concat(chunks) });
      rs.statusCode = rq.method === 'GET' ? 200 : answer();
      rs.end('{}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/dicom-web`;
  return { url, got, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

const PART10 = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from('rest-of-file')]);
const load = async () => PART10;

it('posts one instance as multipart/related with bearer auth; probe works', async () => {
  const s = await server(() => 200);
  try {
    const d = new StowDestination('web', { url: `${s.url}/`, auth: { kind: 'bearer', token: new Secret('tok123', 'test') } }, load);
    await d.test();
    await d.send('x', new AbortController().signal);
    assert.equal(s.got.length, 1);
    assert.equal(s.got[0]!.auth, 'Bearer tok123');
    const boundary = /boundary=([^;]+)/.exec(s.got[0]!.type!)![1]!;
    assert.match(s.got[0]!.type!, /^multipart\/related; type="application\/dicom"/);
    const body = s.got[0]!.body;
    assert.ok(body.includes(PART10));
    assert.ok(body.toString('latin1').startsWith(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`));
    assert.ok(body.toString('latin1').endsWith(`\r\n--${boundary}--\r\n`));
    const basic = new StowDestination('web', { url: s.url, auth: { kind: 'basic', user: 'u', password: new Secret('p', 'test') } }, load);
    await basic.send('x', new AbortController().signal);
    assert.equal(s.got[1]!.auth, `Basic ${Buffer.from('u:p').toString('base64')}`);
  } finally {
    await s.close();
  }
});

it('503 is retried until it succeeds; 400 dead-letters at once', async () => {
  let n = 0;
  const s = await server(() => (++n <= 2 ? 503 : 200));
  const bad = await server(() => 400);
  const repo = new SqlJobRepo(new SqliteSqlDb(join(dir, 'q.db')));
  await repo.migrate();
  const backoff = { baseMs: 10, maxMs: 20, jitter: 0 };
  const routes = new RouteQueues(
    repo,
    [Object.assign(new StowDestination('flaky', { url: s.url }, load), { options: { backoff } }), Object.assign(new StowDestination('strict', { url: bad.url }, load), { options: { backoff } })],
    { pollMs: 5 },
  );
  routes.start();
  try {
    const a = await routes.enqueue('flaky', ['i1']);
    const b = await routes.enqueue('strict', ['i1']);
    const end = Date.now() + 10_000;
    while (Date.now() < end && ((await repo.get(a.id))!.state !== 'Success' || (await repo.get(b.id))!.state !== 'Failure')) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await repo.get(a.id))!.state, 'Success');
    assert.equal((await repo.get(a.id))!.attempts, 2);
    const dead = await routes.deadLetters('strict');
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.attempts, 1);
    assert.equal(dead[0]!.error?.code, 'ROUTE_REJECTED');
    await assert.rejects(new StowDestination('x', { url: 'http://127.0.0.1:1' }, load).send('i', new AbortController().signal), (e) => isAppError(e, 'ROUTE_PEER_BUSY'));
  } finally {
    await routes.stop();
    await repo.close();
    await s.close();
    await bad.close();
  }
});
