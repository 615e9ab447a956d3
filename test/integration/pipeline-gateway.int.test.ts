// The whole pipeline inside `serve`, end to end with DCMTK: storescu pushes an identifiable study to
// the intake AE RESEARCH_IN on several associations at once; dicomgate de-identifies, stores, waits
// for the study to be stable and forwards it to a storescp. Every instance must arrive there
// de-identified, exactly once, also when the server restarts during the quiet period; a destination
// that is down gets its items retried, dead-lettered, and sent by hand once it is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { readPart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import type { JobRecord } from '../../src/pipeline/job.ts';
import { freePort, runDcmtk, startStorescp, waitForPort, type RunningTool } from '../helpers/dcmtk.ts';
import { syntheticSeries } from '../helpers/synthetic-dicom.ts';
import pg from 'pg';
import { PG_URL, pgAvailable, schemaFor } from '../pipeline/pg-test-db.ts';
import { waitFor } from '../helpers/wait-for.ts';

const ORIGINAL_NAME = 'Synthetic^Patient';

function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** How long the waits below may take: real DCMTK peers and PostgreSQL on a shared machine. */
const LIMIT_MS = 60_000;

function writeStudy(dir: string, seed: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  return syntheticSeries(seed, count, { size: 32, modality: 'CT' }).map((b, i) => {
    const p = join(dir, `i${String(i).padStart(3, '0')}.dcm`);
    writeFileSync(p, b);
    return p;
  });
}

/** storescu of `files` to RESEARCH_IN on `n` parallel associations. */
async function push(port: number, files: string[], n: number): Promise<void> {
  const parts = Array.from({ length: n }, (_, k) => files.filter((_, i) => i % n === k));
  const results = await Promise.all(parts.map((p) => runDcmtk('storescu', ['-aec', 'RESEARCH_IN', '-aet', 'TPS1', '127.0.0.1', String(port), ...p])));
  for (const r of results) assert.equal(r.code, 0, r.stderr.slice(-2000));
}

function configFor(dataDir: string, destination: Record<string, unknown>, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) {
  const file = join(dataDir, '..', `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      dev: true,
      log: { level: 'silent' },
      stableAgeSeconds: 2,
      jobs: { maxAttempts: 3, backoffInitialSeconds: 0.05, backoffMaxSeconds: 0.2 },
      destinations: { PACS: destination },
      pipelines: {
        research: {
          intake: { calledAe: 'RESEARCH_IN' },
          stages: [{ filter: 'Modality in [CT, RTSTRUCT]', onMismatch: 'reject' }, { deid: { project: 'basic' } }, { store: true }, { route: { destination: 'PACS', trigger: 'stable-study' } }],
        },
      },
      ...extra,
    }),
  );
  return loadConfig({ file, env, overrides: { dataDir, 'dicom.port': 0, 'http.port': 0, host: '127.0.0.1' } });
}

/** C-STORE requests storescp received (its -v log), not files: a duplicate would overwrite a file. */
function storesReceived(scp: RunningTool): number {
  return (scp.output().match(/Received Store Request/g) ?? []).length;
}

function checkForwarded(dir: string, expected: number): void {
  const files = readdirSync(dir).filter((f) => !f.startsWith('.'));
  assert.equal(files.length, expected, 'one file per instance at the destination');
  const uids = new Set<string>();
  for (const f of files) {
    const ds = readPart10(readFileSync(join(dir, f))).dataset;
    assert.equal(ds.string(T.PatientIdentityRemoved), 'YES', `${f} de-identified`);
    assert.notEqual(ds.string(T.PatientName), ORIGINAL_NAME);
    assert.ok(!readFileSync(join(dir, f)).includes(Buffer.from(ORIGINAL_NAME)), 'no original PatientName anywhere in the file');
    uids.add(ds.string(T.SOPInstanceUID) ?? '');
  }
  assert.equal(uids.size, expected);
}

async function routeJobs(server: RunningServer): Promise<JobRecord[]> {
  return server.pipeline.jobs.list({ types: ['route:PACS'] });
}

test('RESEARCH_IN: de-identified, stored, forwarded once when the study is stable', async () => {
  const root = scratch('dg-pipe-');
  const out = join(root, 'scp');
  mkdirSync(out);
  const scp = await startStorescp(out, { extraArgs: ['-v'] });
  let server: RunningServer | undefined;
  try {
    const files = writeStudy(join(root, 'in'), '7001', 12);
    const cfg = configFor(join(root, 'data'), { kind: 'dicom', aet: 'STORESCP', host: '127.0.0.1', port: scp.port });
    server = await startServer(cfg, silentLogger);
    await push(server.dicomPort, files, 3);
    assert.equal((await server.archive.index.statistics()).instances, 12);
    const s = server;
    const [job] = await waitFor('the route job to succeed', async () => {
      const jobs = await routeJobs(s);
      return jobs.length > 0 && jobs.every((j) => j.state === 'Success') && jobs;
    }, LIMIT_MS);
    assert.equal(job!.state, 'Success');
    assert.equal((job!.payload as { items: string[] }).items.length, 12);
    // Two more quiet periods: no second event, no second job, nothing sent again.
    await new Promise((r) => setTimeout(r, 4_500));
    assert.equal((await routeJobs(s)).length, 1, 'exactly one forward job');
    assert.equal(storesReceived(scp), 12, 'every instance received exactly once');
    checkForwarded(out, 12);
    // The HTTP surface shows the persistent job (Orthanc's /jobs).
    const base = `http://127.0.0.1:${s.httpPort}`;
    const list = (await (await fetch(`${base}/jobs`)).json()) as string[];
    assert.ok(list.includes(job!.id));
    const view = (await (await fetch(`${base}/jobs/${job!.id}`)).json()) as { State: string; Type: string };
    assert.equal(view.State, 'Success');
    assert.equal(view.Type, 'route:PACS');
  } finally {
    await server?.close();
    await scp.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

async function restartScenario(extra: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<void> {
  const root = scratch('dg-pipe-restart-');
  const out = join(root, 'scp');
  mkdirSync(out);
  const scp = await startStorescp(out, { extraArgs: ['-v'] });
  let server: RunningServer | undefined;
  try {
    const files = writeStudy(join(root, 'in'), '7002', 10);
    const cfg = configFor(join(root, 'data'), { kind: 'dicom', aet: 'STORESCP', host: '127.0.0.1', port: scp.port }, { stableAgeSeconds: 3, ...extra }, env);
    server = await startServer(cfg, silentLogger);
    await push(server.dicomPort, files, 2);
    const first = server;
    server = undefined;
    await first.close();
    assert.equal(storesReceived(scp), 0, 'nothing forwarded before the quiet period ended');
    server = await startServer(cfg, silentLogger);
    const s = server;
    await waitFor('the route job to succeed after the restart', async () => {
      const jobs = await routeJobs(s);
      return jobs.length > 0 && jobs.every((j) => j.state === 'Success');
    }, LIMIT_MS);
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal((await routeJobs(s)).length, 1, 'exactly one forward job across the restart');
    assert.equal(storesReceived(scp), 10, 'every instance received exactly once');
    checkForwarded(out, 10);
  } finally {
    await server?.close();
    await scp.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

test('a restart during the quiet period forwards the study exactly once (SQLite)', () => restartScenario({}, {}));

test('a restart during the quiet period forwards the study exactly once (PostgreSQL)', async (t) => {
  if (!(await pgAvailable())) return t.skip('PostgreSQL not reachable');
  const schema = schemaFor(import.meta.url, 'restart');
  const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
  for (const s of [schema, `${schema}_k`]) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  try {
    await restartScenario({ index: { kind: 'postgres' }, postgres: { url: 'env:PGURL', schema, keysSchema: `${schema}_k` } }, { PGURL: PG_URL });
  } finally {
    for (const s of [schema, `${schema}_k`]) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await pool.end();
  }
});

test('filters refuse what the pipeline is not for; POST /studies/{id}/complete forwards at once', async () => {
  const root = scratch('dg-pipe-complete-');
  const out = join(root, 'scp');
  mkdirSync(out);
  const scp = await startStorescp(out, { extraArgs: ['-v'] });
  let server: RunningServer | undefined;
  try {
    const cfg = configFor(join(root, 'data'), { kind: 'dicom', aet: 'STORESCP', host: '127.0.0.1', port: scp.port }, { stableAgeSeconds: 3600 });
    server = await startServer(cfg, silentLogger);
    const mr = writeStudy(join(root, 'mr'), '7005', 1).map((f) => f);
    writeFileSync(mr[0]!, syntheticSeries('7005', 1, { size: 32, modality: 'MR' })[0]!);
    const refused = await runDcmtk('storescu', ['-v', '-aec', 'RESEARCH_IN', '127.0.0.1', String(server.dicomPort), mr[0]!]);
    assert.match(refused.stdout + refused.stderr, /Received Store Response \(Error/, 'the filter refuses an MR: ' + refused.stdout + refused.stderr);
    assert.equal((await server.archive.index.statistics()).instances, 0);

    await push(server.dicomPort, writeStudy(join(root, 'in'), '7004', 3), 1);
    const base = `http://127.0.0.1:${server.httpPort}`;
    const studies = (await (await fetch(`${base}/studies`)).json()) as string[];
    assert.equal(studies.length, 1);
    assert.equal((await routeJobs(server)).length, 0, 'still in its (hour-long) quiet period');
    const res = await fetch(`${base}/studies/${studies[0]}/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.deepEqual(JSON.parse(body), { ID: studies[0], Announced: true });
    const s = server;
    await waitFor('the completed study to be forwarded', async () => {
      const jobs = await routeJobs(s);
      return jobs.length === 1 && jobs[0]!.state === 'Success';
    }, LIMIT_MS);
    assert.equal(storesReceived(scp), 3);
    checkForwarded(out, 3);
  } finally {
    await server?.close();
    await scp.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('destination down: retried, dead-lettered, nothing lost; resubmit sends it once it is back', async () => {
  const root = scratch('dg-pipe-down-');
  const out = join(root, 'scp');
  mkdirSync(out);
  const port = await freePort();
  let server: RunningServer | undefined;
  let scp: ReturnType<typeof spawn> | undefined;
  let scpLog = '';
  try {
    const files = writeStudy(join(root, 'in'), '7003', 4);
    const cfg = configFor(join(root, 'data'), { kind: 'dicom', aet: 'STORESCP', host: '127.0.0.1', port });
    server = await startServer(cfg, silentLogger);
    await push(server.dicomPort, files, 2);
    const s = server;
    const dead = await waitFor('the job to become a dead letter', async () => {
      const d = await s.pipeline.routes.deadLetters('PACS');
      return d.length > 0 && d;
    }, LIMIT_MS);
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.attempts, 3, 'tried jobs.maxAttempts times');
    assert.equal((dead[0]!.payload as { items: string[] }).items.length, 4, 'all items kept in the dead letter');
    // The destination comes back; an operator resubmits over HTTP.
    scp = spawn('storescp', ['-aet', 'STORESCP', '-od', out, '+xa', '-uf', '-v', String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    scp.stdout!.on('data', (d: Buffer) => (scpLog += d.toString()));
    scp.stderr!.on('data', (d: Buffer) => (scpLog += d.toString()));
    await waitForPort(port);
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/jobs/${dead[0]!.id}/resubmit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 200, await res.text());
    await waitFor('the resubmitted job to succeed', async () => (await s.pipeline.jobs.get(dead[0]!.id))?.state === 'Success', LIMIT_MS);
    assert.equal((scpLog.match(/Received Store Request/g) ?? []).length, 4);
    checkForwarded(out, 4);
  } finally {
    await server?.close();
    if (scp && scp.exitCode === null) {
      const c = scp;
      await new Promise<void>((resolve) => {
        c.once('close', () => resolve());
        c.kill('SIGTERM');
      });
    }
    rmSync(root, { recursive: true, force: true });
  }
});
