// Notifications end to end through the pipeline runtime: a stable study whose routes all delivered
// gives one "study-done", a dead-lettered route job gives one "job-failed"; the webhook (local HTTP
// server, bearer secret, first answer 503 -> retried with backoff) and e-mail (local SMTP server via
// smtp-server, with AUTH) both receive them, without patient data. Plus the webhook's own failure
// classes (4xx gives up, a hung server times out) and the config keys.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../../src/config/load.ts';
import { AppError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Secret } from '../../src/core/secret.ts';
import type { ArchiveIndex } from '../../src/index/archive-index.ts';
import { buildNotifiers } from '../../src/notify/build-notifiers.ts';
import type { NotifyMessage } from '../../src/notify/notification.ts';
import { WebhookNotifier } from '../../src/notify/webhook-notifier.ts';
import { compilePipelines } from '../../src/pipeline/pipeline-config.ts';
import { SqliteSqlDb } from '../../src/pipeline/sqlite-sql-db.ts';
import { PipelineRuntime } from '../../src/services/pipeline-runtime.ts';
import { waitFor } from '../helpers/wait-for.ts';

const dir = mkdtempSync(join(tmpdir(), 'dg-notify-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PHI = ['DOE^JANE', 'PID-4711', '19700101'];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

test('study-done and job-failed reach a webhook (retried after a 503) and an SMTP server, without PHI', async () => {
  // Webhook receiver: the first POST gets 503 (must be retried), the rest 204.
  const hooks: { auth: string | undefined; body: NotifyMessage }[] = [];
  let posts = 0;
  const http = createServer(async (req, res) => {
    const body = await readBody(req);
    posts++;
    if (posts === 1) return void res.writeHead(503).end();
    hooks.push({ auth: req.headers.authorization, body: JSON.parse(body) as NotifyMessage });
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  // SMTP receiver with AUTH PLAIN/LOGIN over plain TCP (loopback test only).
  const mails: { from: string; to: string[]; raw: string; user: string | undefined }[] = [];
  const smtp = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'gw' && auth.password === 'mail-pw') return cb(null, { user: auth.username });
      cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: String(session.envelope.mailFrom && session.envelope.mailFrom.address), to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8'), user: session.user as string | undefined });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  writeFileSync(join(dir, 'mail-pw'), 'mail-pw\n');

  const cfgFile = join(dir, 'notify.json');
  writeFileSync(
    cfgFile,
    JSON.stringify({
      notifications: {
        maxAttempts: 4,
        webhook: { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`, auth: { kind: 'bearer', secret: 'env:HOOK_TOKEN' }, timeoutSeconds: 5 },
        email: { host: '127.0.0.1', port: smtpPort, secure: false, auth: { username: 'gw', secret: `file:${join(dir, 'mail-pw')}` }, from: 'gw@example.org', to: ['ops@example.org'] },
      },
    }),
  );
  const config = loadConfig({ file: cfgFile, env: { HOOK_TOKEN: 'tok-123' } });
  assert.ok(!JSON.stringify(config.notifications).includes('tok-123'), 'secrets never serialise');

  const pipelines = compilePipelines({
    research: { intake: { calledAe: 'R_IN' }, stages: [{ deid: { project: 'P1' } }, { store: true }, { route: { destination: 'OK', trigger: 'stable-study' } }] },
    broken: { intake: { calledAe: 'B_IN' }, stages: [{ deid: { project: 'P2' } }, { store: true }, { route: { destination: 'BAD', trigger: 'stable-study' } }] },
  });
  // The archive as the runtime sees it: the study row carries identifying main tags too, which
  // must not reach a notification.
  const index = {
    getResource: async (_l: string, id: string) => ({ level: 'study', id, parentId: 'p', tags: { StudyInstanceUID: `2.25.${id.length}99`, PatientName: PHI[0], PatientID: PHI[1], StudyDate: PHI[2] } }),
    listChildren: async () => [{ id: 'se1' }, { id: 'se2' }],
    listInstances: async (_l: string, id: string) => [{ id: `${id}-i1` }, { id: `${id}-i2` }, { id: `${id}-i3` }],
  } as unknown as ArchiveIndex;
  const delivered: string[] = [];
  const rt = await PipelineRuntime.open({
    db: new SqliteSqlDb(join(dir, 'rt.db')),
    index,
    pipelines,
    destinations: [
      { name: 'OK', send: async (item: string) => void delivered.push(item) },
      { name: 'BAD', send: async () => Promise.reject(new AppError('ROUTE_REJECTED', { detail: 'peer said no' })) },
    ],
    stableAgeMs: 60_000,
    jobs: { concurrency: 1, leaseMs: 5_000, maxAttempts: 2, backoff: { baseMs: 10, maxMs: 20, jitter: 0 } },
    log: silentLogger,
    notifications: { notifiers: buildNotifiers(config.notifications), events: config.notifications.events, maxAttempts: config.notifications.maxAttempts, backoff: { baseMs: 50, maxMs: 100, jitter: 0 }, leaseMs: 5_000 },
  });
  rt.start();
  try {
    const ids = (k: string) => ({ patient: 'p', study: `st${k}`, series: `se${k}`, instance: `in${k}` });
    await rt.onStored([{ ids: ids('1'), source: { transport: 'dimse', calledAe: 'R_IN', project: 'P1' } }]);
    await rt.onStored([{ ids: ids('2'), source: { transport: 'dimse', calledAe: 'B_IN', project: 'P2' } }]);
    assert.equal(await rt.complete('st1'), true);
    assert.equal(await rt.complete('st2'), true);

    const done = await waitFor('study-done webhook', () => hooks.find((h) => h.body.event === 'study-done'));
    const failed = await waitFor('job-failed webhook', () => hooks.find((h) => h.body.event === 'job-failed'));
    assert.equal(posts, hooks.length + 1, 'the 503 was retried');
    assert.equal(done.auth, 'Bearer tok-123');
    assert.deepEqual(delivered, ['st1-i1', 'st1-i2', 'st1-i3']);
    assert.ok(done.body.event === 'study-done');
    if (done.body.event === 'study-done') {
      assert.equal(done.body.status, 'Success');
      assert.deepEqual(done.body.study, { id: 'st1', studyInstanceUid: '2.25.399', series: 2, instances: 3 });
      assert.deepEqual(done.body.projects, ['P1']);
      assert.deepEqual(done.body.pipelines, ['research']);
      assert.deepEqual(done.body.routes.map((r) => [r.destination, r.state, r.items]), [['OK', 'Success', 3]]);
    }
    if (failed.body.event === 'job-failed') {
      assert.equal(failed.body.job.code, 'ROUTE_REJECTED');
      assert.equal(failed.body.job.destination, 'BAD');
      assert.deepEqual(failed.body.projects, ['P2']);
    } else assert.fail('job-failed expected');

    await waitFor('two e-mails', () => (mails.length >= 2 ? true : undefined));
    const doneMail = mails.find((m) => m.raw.includes('study st1 done'))!;
    assert.ok(doneMail, 'study-done e-mail');
    assert.equal(doneMail.user, 'gw', 'authenticated with the file: secret');
    assert.deepEqual(doneMail.to, ['ops@example.org']);
    assert.ok(mails.some((m) => /job \d+ failed for BAD \[ROUTE_REJECTED\]/.test(m.raw)), 'job-failed e-mail');

    const everything = JSON.stringify(hooks) + mails.map((m) => m.raw).join('\n');
    for (const p of PHI) assert.ok(!everything.includes(p), `no ${p} in any notification`);
    assert.ok(!everything.includes('peer said no'), 'error details (may echo data) are not sent, codes are');

    // Exactly once per occurrence: a further tick dispatches nothing new, no duplicate message.
    await rt.tracker.tick();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(hooks.filter((h) => h.body.event === 'study-done').length, 1);
    assert.equal(hooks.filter((h) => h.body.event === 'job-failed').length, 1);
    const notifyJobs = await rt.jobs.list({ types: ['notify:webhook', 'notify:email'] });
    assert.deepEqual(notifyJobs.map((j) => j.state), ['Success', 'Success', 'Success', 'Success']);
  } finally {
    await rt.stop();
    await new Promise<void>((r) => http.close(() => r()));
    await new Promise<void>((r) => smtp.close(() => r()));
  }
});

test('webhook: 4xx gives up (NOTIFY_REJECTED), 5xx and a hung server retry (NOTIFY_UNAVAILABLE, timeout)', async () => {
  let status = 401;
  const sockets = new Set<import('node:net').Socket>();
  const http = createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    res.writeHead(status).end();
  });
  http.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const msg: NotifyMessage = { event: 'study-done', at: new Date().toISOString(), status: 'Stored', study: { id: 's' }, pipelines: [], projects: [], trigger: 'stable-study', routes: [] };
  const basic = new WebhookNotifier({ url: `${base}/x`, timeoutMs: 2_000, auth: { kind: 'basic', username: 'u', password: new Secret('p', 'env:X') } });
  try {
    const code = async (n: WebhookNotifier) => n.send(msg, new AbortController().signal).then(() => 'ok', (e: AppError) => `${e.code}:${e.spec.retryable}`);
    assert.equal(await code(basic), 'NOTIFY_REJECTED:false');
    status = 503;
    assert.equal(await code(basic), 'NOTIFY_UNAVAILABLE:true');
    status = 200;
    assert.equal(await code(basic), 'ok');
    const t0 = Date.now();
    const hung = new WebhookNotifier({ url: `${base}/hang`, timeoutMs: 300 });
    assert.equal(await code(hung), 'NOTIFY_UNAVAILABLE:true');
    assert.ok(Date.now() - t0 < 2_000, 'the timeout applies');
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => http.close(() => r()));
  }
});

test('notifications config: secrets must be references; every problem at once', () => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ notifications: { events: ['nope'], webhook: { url: 'ftp://x', auth: { kind: 'bearer', secret: 'plain' } }, email: { host: '', to: [] , bogus: 1 } } }));
  assert.throws(() => loadConfig({ file, env: {} }), (e: AppError) => {
    const d = e.detail ?? '';
    return ['notifications.events', 'notifications.webhook.url', 'notifications.webhook.auth.secret', 'notifications.email.host', 'notifications.email.to', 'notifications.email.from', 'notifications.email.bogus'].every((k) => d.includes(k));
  });
  const none = loadConfig({ env: {} });
  assert.deepEqual(buildNotifiers(none.notifications), [], 'no channel configured: none built');
});
