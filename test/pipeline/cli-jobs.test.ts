// `dicomgate jobs` against the job table in <dataDir>/index.sqlite, through the CLI entry point.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { SqlJobRepo } from '../../src/pipeline/sql-job-repo.ts';
import { SqliteSqlDb } from '../../src/pipeline/sqlite-sql-db.ts';

const data = mkdtempSync(join(tmpdir(), 'dg-cli-jobs-'));
after(() => rmSync(data, { recursive: true, force: true }));

const cli = (...argv: string[]): Promise<CliResult> => runCli([...argv, '--data', data]);

it('lists, shows, pauses, resumes, cancels and resubmits jobs', async () => {
  const repo = new SqlJobRepo(new SqliteSqlDb(join(data, 'index.sqlite')));
  await repo.migrate();
  const j = await repo.enqueue({ type: 'forward', payload: { destination: 'PACS' }, studyKey: 'S1' }, Date.now());
  await repo.close();

  let r = await cli('jobs');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Pending 1/);
  assert.match(r.out, new RegExp(`${j.id}\\s+Pending`));
  r = await cli('jobs', 'show', j.id);
  const view = JSON.parse(r.out) as Record<string, unknown>;
  assert.equal(view.ID, j.id);
  assert.equal(view.State, 'Pending');
  assert.deepEqual((view.Content as Record<string, unknown>).destination, 'PACS');
  assert.match((await cli('jobs', 'pause', j.id)).out, /Paused/);
  assert.match((await cli('jobs', 'resume', j.id)).out, /Pending/);
  r = await cli('jobs', 'resubmit', j.id);
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot resubmit job .* in state Pending/);
  assert.match((await cli('jobs', 'cancel', j.id)).out, /Failure/);
  assert.match((await cli('jobs', 'resubmit', j.id)).out, /Pending/);
  r = await cli('jobs', 'list', '--state', 'failure', '--json');
  assert.deepEqual(JSON.parse(r.out), []);
  assert.equal((await cli('jobs', 'show', '999')).code, 1);
  assert.equal((await cli('jobs', 'list', '--state', 'bogus')).code, 2);
});

it('studies complete marks a waiting study due at once', async () => {
  const { StabilityRepo } = await import('../../src/pipeline/stability-repo.ts');
  const db = new SqliteSqlDb(join(data, 'index.sqlite'));
  const repo = new SqlJobRepo(db);
  await repo.migrate();
  const st = new StabilityRepo(db);
  const now = Date.now();
  await st.touch('study-a', 'series-a', now);
  assert.deepEqual(await st.fireDue(now - 60_000, now), [], 'still in its quiet period');
  await db.close();
  const r = await cli('studies', 'complete', 'study-a');
  assert.equal(r.code, 0, r.err);
  assert.equal((await cli('studies', 'complete', 'study-a')).code, 0, 'still unannounced: no-op but fine');
  assert.equal((await cli('studies', 'complete', 'nope')).code, 1);
  assert.equal((await cli('studies', 'frob')).code, 2);
  const db2 = new SqliteSqlDb(join(data, 'index.sqlite'));
  const fired = await new StabilityRepo(db2).fireDue(now - 60_000, now);
  assert.deepEqual(fired.map((e) => e.type), ['StableSeries', 'StableStudy']);
  await db2.close();
});

it('studies send queues the archived study for a configured destination (manual trigger)', async () => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { openArchive } = await import('../../src/services/archive.ts');
  const archive = await openArchive(data, { duplicates: 'keep-first', indexKind: 'sqlite' });
  const r0 = await archive.ingest.ingest(readFileSync(new URL('../fixtures/dicom/CT_small.dcm', import.meta.url)), { transport: 'import' });
  await archive.close();
  assert.ok(r0.status === 'stored' || r0.status === 'duplicate');
  const study = (r0 as { ids: { study: string } }).ids.study;
  const cfg = join(data, 'send.json');
  writeFileSync(cfg, JSON.stringify({ destinations: { DISK: { kind: 'folder', root: join(data, 'out') } }, dicom: { peers: [{ aet: 'PEER2', host: '127.0.0.1', port: 11112 }] } }));
  const r = await cli('studies', 'send', study, 'DISK', 'peer:PEER2', '--config', cfg);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /1 instance\(s\) queued for DISK as job \d+/);
  assert.match(r.out, /queued for peer:PEER2/);
  const repo = new SqlJobRepo(new SqliteSqlDb(join(data, 'index.sqlite')));
  const jobs = await repo.list({ types: ['route:DISK', 'route:peer:PEER2'] });
  await repo.close();
  assert.deepEqual(jobs.map((j) => [j.type, j.studyKey, (j.payload as { trigger: string }).trigger]), [
    ['route:DISK', study, 'manual'],
    ['route:peer:PEER2', study, 'manual'],
  ]);
  assert.equal((await cli('studies', 'send', study, 'NOPE', '--config', cfg)).code, 1);
  assert.equal((await cli('studies', 'send', '00000000-00000000-00000000-00000000-00000000', 'DISK', '--config', cfg)).code, 1);
  assert.equal((await cli('studies', 'send', study)).code, 2);
});
