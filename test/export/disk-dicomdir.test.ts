// Folder export with `dicomdir: true`: paths become DICOM File IDs (PS3.10 8.2), and after each
// route job the export root gets a DICOMDIR referencing every exported file. Checked with DCMTK's
// dcmdump (records, File IDs that exist and hold the named instance) and dicom3tools' dciodvfy.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/core/errors.ts';
import { DiskDestination } from '../../src/export/disk-destination.ts';
import { DEFAULT_TEMPLATE, DiskExporter } from '../../src/export/disk-exporter.ts';
import { sanitizeComponent } from '../../src/export/sanitize-path.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dg-dicomdir-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const STUDY = '2.25.4242';
const files = new Map<string, Buffer>([
  ['a', syntheticInstance({ patientId: 'pat-01 é', patientName: 'Anon^1', studyInstanceUid: STUDY, seriesInstanceUid: `${STUDY}.1`, sopInstanceUid: `${STUDY}.1.1`, modality: 'CT', instanceNumber: 1, size: 4 })],
  ['b', syntheticInstance({ patientId: 'pat-01 é', patientName: 'Anon^1', studyInstanceUid: STUDY, seriesInstanceUid: `${STUDY}.1`, sopInstanceUid: `${STUDY}.1.2`, modality: 'CT', instanceNumber: 2, size: 4 })],
  // Same InstanceNumber as 'b' in the same series: a collision, suffixed within 8 characters.
  ['c', syntheticInstance({ patientId: 'pat-01 é', patientName: 'Anon^1', studyInstanceUid: STUDY, seriesInstanceUid: `${STUDY}.1`, sopInstanceUid: `${STUDY}.1.3`, modality: 'CT', instanceNumber: 2, size: 4 })],
  ['d', syntheticInstance({ patientId: 'pat-01 é', patientName: 'Anon^1', studyInstanceUid: STUDY, seriesInstanceUid: `${STUDY}.2`, sopInstanceUid: `${STUDY}.2.1`, modality: 'MR', instanceNumber: 1, size: 4 })],
]);

function walk(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

test('File ID components: upper case A-Z 0-9 _, 8 characters, no extension, no device names', () => {
  const f = (s: string) => sanitizeComponent(s, { fileId: true });
  assert.equal(f('0007.dcm'), '0007');
  assert.equal(f('20240131_CT THORAX'), '20240131');
  assert.equal(f('pat-01 é'), 'PAT_01_E');
  assert.equal(f('con'), '_CON');
  assert.equal(f(''), '_');
  assert.equal(f('..'), '__');
});

test('folder destination with dicomdir: File ID paths, DICOMDIR at the root after the job, valid for DCMTK and dciodvfy', async () => {
  const root = join(tmp, 'export');
  const dest = new DiskDestination('CD', { root, template: DEFAULT_TEMPLATE, dicomdir: true }, async (item) => files.get(item)!);
  for (const item of files.keys()) await dest.send(item);
  assert.equal(existsSync(join(root, 'DICOMDIR')), false, 'written once the job is complete, not per item');
  await dest.afterJob();
  const exported = walk(root).map((p) => relative(root, p)).filter((p) => p !== 'DICOMDIR').sort();
  // No SeriesNumber: "unknown_CT" and "unknown_MR" both cut to UNKNOWN_, so the two series share a
  // folder; the files stay apart by suffix and the DICOMDIR still tells the series by their UIDs.
  assert.deepEqual(exported, ['PAT_01_E/20240101/UNKNOWN_/0001', 'PAT_01_E/20240101/UNKNOWN_/0001_1', 'PAT_01_E/20240101/UNKNOWN_/0002', 'PAT_01_E/20240101/UNKNOWN_/0002_1']);

  const dumped = execFileSync('dcmdump', ['-q', '+L', join(root, 'DICOMDIR')], { encoding: 'utf8' });
  assert.match(dumped, /\(0002,0002\) UI =MediaStorageDirectoryStorage/);
  const types = [...dumped.matchAll(/\(0004,1430\) CS \[([^\]]*)\]/g)].map((m) => m[1]!.trim());
  assert.deepEqual(types, ['PATIENT', 'STUDY', 'SERIES', 'IMAGE', 'IMAGE', 'IMAGE', 'SERIES', 'IMAGE']);
  const fileIds = [...dumped.matchAll(/\(0004,1500\) CS \[([^\]]*)\]/g)].map((m) => m[1]!.split('\\'));
  const sops = [...dumped.matchAll(/\(0004,1511\) UI \[([^\]]*)\]/g)].map((m) => m[1]!);
  assert.equal(fileIds.length, 4);
  for (const [i, id] of fileIds.entries()) {
    assert.ok(id.every((c) => /^[A-Z0-9_]{1,8}$/.test(c)) && id.length <= 8, `${id.join('\\')} is a File ID`);
    const bytes = readFileSync(join(root, ...id));
    assert.ok(bytes.includes(Buffer.from(sops[i]!)), `${id.join('/')} holds the instance its record names`);
  }
  // dicom3tools: the DICOMDIR against the Basic Directory IOD; any "Error" line fails.
  const v = spawnSync('dciodvfy', [join(root, 'DICOMDIR')], { encoding: 'utf8' });
  const report = v.stdout + v.stderr;
  assert.ok(/BasicDirectory/i.test(report), `dciodvfy recognised a Basic Directory:\n${report}`);
  assert.deepEqual(report.split('\n').filter((l) => /^Error/.test(l)), [], report);
  // DCMTK's own DICOMDIR reader accepts it (dcmgpdir would append to it; here it only reads).
  assert.equal(spawnSync('dcmdump', ['-q', '+sd', '+r', join(root, 'DICOMDIR')]).status, 0);

  // Another job later (same study again + nothing new): the DICOMDIR is rebuilt, still 4 records.
  await dest.send('a');
  await dest.afterJob();
  const again = execFileSync('dcmdump', ['-q', '+L', join(root, 'DICOMDIR')], { encoding: 'utf8' });
  assert.equal([...again.matchAll(/\(0004,1500\)/g)].length, 4, 'idempotent');
  assert.deepEqual(readdirSync(root).filter((n) => n.startsWith('.')), [], 'no temp files left');
});

test('dicomdir refuses templates deeper than a File ID allows', () => {
  assert.throws(() => new DiskExporter({ root: tmp, template: 'a/b/c/d/e/f/g/h/{InstanceNumber}', dicomdir: true }), (e) => isAppError(e) && e.code === 'CONFIG_INVALID');
  assert.doesNotThrow(() => new DiskExporter({ root: tmp, template: 'a/b/c/d/e/f/g/h/{InstanceNumber}' }));
});

test('through the route queue: the DICOMDIR is written when the job has delivered its last item', async () => {
  const { RouteQueues } = await import('../../src/pipeline/route-queue.ts');
  const { SqlJobRepo } = await import('../../src/pipeline/sql-job-repo.ts');
  const { SqliteSqlDb } = await import('../../src/pipeline/sqlite-sql-db.ts');
  const root = join(tmp, 'queued');
  const repo = new SqlJobRepo(new SqliteSqlDb(join(tmp, 'queue.db')));
  await repo.migrate();
  const dest = new DiskDestination('CD', { root, template: DEFAULT_TEMPLATE, dicomdir: true }, async (item) => files.get(item)!);
  const queues = new RouteQueues(repo, [dest], { pollMs: 20 });
  queues.start();
  try {
    const job = await queues.enqueue('CD', ['a', 'd'], { trigger: 'manual' });
    const end = Date.now() + 10_000;
    while ((await repo.get(job.id))?.state !== 'Success' && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await repo.get(job.id))?.state, 'Success');
    const dumped = execFileSync('dcmdump', ['-q', '+L', join(root, 'DICOMDIR')], { encoding: 'utf8' });
    assert.equal([...dumped.matchAll(/\(0004,1500\)/g)].length, 2);
  } finally {
    await queues.stop();
    await repo.close();
  }
});
