// The DICOM edge over a real archive (FsBlobStore + SQLite index) against DCMTK: storescu in (4
// associations at once), findscu through the matching engine, movescu to storescp, getscu; every
// object sent is in the index and every object retrieved is byte-identical to what was stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset } from '../../src/dicom/index.ts';
import { parsePart10Meta } from '../../src/dimse/part10-source.ts';
import { startDimseServer, type DimseServer } from '../../src/dimse-server/start-dimse-server.ts';
import { openArchive, type Archive } from '../../src/services/archive.ts';
import { runDcmtk, startStorescp, type RunningTool } from '../helpers/dcmtk.ts';
import { startPduTap } from '../dimse/helpers/pdu-tap.ts';
import { associate, standardContexts } from '../../src/dimse/scu.ts';

const PATIENT = fileURLToPath(new URL('../../../shared/corpus/synthetic-rt/dicom/P01', import.meta.url));
const hasCorpus = existsSync(PATIENT);
const skip = hasCorpus ? false : 'corpus not present';

function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? filesUnder(join(d, n)) : [join(d, n)]));
}
function datasetOf(file: string | Buffer): { ts: string; bytes: Buffer; sop: string } {
  const b = typeof file === 'string' ? readFileSync(file) : file;
  const m = parsePart10Meta(b);
  return { ts: m.transferSyntaxUid, bytes: b.subarray(m.datasetOffset), sop: m.sopInstanceUid };
}

let dataDir: string;
let archive: Archive;
let server: DimseServer;
let storescp: RunningTool;
let moveDir: string;
const files = hasCorpus ? filesUnder(PATIENT) : [];
const studies = hasCorpus ? readdirSync(PATIENT).map((s) => filesUnder(join(PATIENT, s))) : [];

before(async () => {
  if (!hasCorpus) return;
  dataDir = await mkdtemp(join(tmpdir(), 'dimse-server-'));
  moveDir = await mkdtemp(join(tmpdir(), 'dimse-server-move-'));
  storescp = await startStorescp(moveDir, { extraArgs: ['+B'] });
  archive = await openArchive(dataDir, { duplicates: 'keep-first' });
  server = await startDimseServer(
    { ingest: archive.ingest, index: archive.index, blobs: archive.blobs },
    { aet: 'DICOMGATE', host: '127.0.0.1', port: 0, peers: [{ aet: 'STORESCP', host: '127.0.0.1', port: storescp.port }], allowedCallingAets: ['STORESCU', 'FINDSCU', 'MOVESCU', 'GETSCU'] },
  );
});
after(async () => {
  if (!hasCorpus) return;
  await server.close();
  await storescp.stop();
  await archive.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(moveDir, { recursive: true, force: true });
});

async function storedDataset(sop: string): Promise<{ ts: string; bytes: Buffer }> {
  const [rec] = await archive.index.findByUid('instance', sop);
  assert.ok(rec, `instance ${sop} not in the index`);
  const inst = (await archive.index.listInstances('instance', rec.id))[0];
  return datasetOf(await archive.blobs.get(inst.file!.blobKey));
}

test('storescu pushes a patient over 4 parallel associations: every instance indexed with the bytes on the wire', { skip }, async () => {
  const tap = await startPduTap(server.port);
  try {
    const quarters = [0, 1, 2, 3].map((q) => files.filter((_, i) => i % 4 === q));
    const runs = await Promise.all(quarters.map((fs) => runDcmtk('storescu', ['-aet', 'STORESCU', '-aec', 'DICOMGATE', '127.0.0.1', String(tap.port), ...fs], { timeoutMs: 120_000 })));
    for (const r of runs) assert.equal(r.code, 0, r.stdout + r.stderr);
  } finally {
    await tap.close();
  }
  const stats = await archive.index.statistics();
  assert.deepEqual({ patients: stats.patients, studies: stats.studies, instances: stats.instances }, { patients: 1, studies: 2, instances: files.length });
  const wire = new Set(tap.datasets.map((d) => d.toString('base64')));
  assert.equal(wire.size, files.length);
  for (const f of files) {
    const stored = await storedDataset(datasetOf(f).sop);
    assert.ok(wire.has(stored.bytes.toString('base64')), `stored bytes of ${f} differ from the wire`);
  }
});

test('a calling AE outside the allow-list is rejected', { skip }, async () => {
  const r = await runDcmtk('echoscu', ['-aet', 'INTRUDER', '-aec', 'DICOMGATE', '127.0.0.1', String(server.port)]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /Calling AE Title Not Recognized/i);
});

async function findscu(args: string[]): Promise<ReturnType<typeof readDataset>[]> {
  const out = await mkdtemp(join(tmpdir(), 'findscu-'));
  try {
    const r = await runDcmtk('findscu', ['-aet', 'FINDSCU', '-aec', 'DICOMGATE', '-X', '-od', out, ...args.flatMap((k) => (k.startsWith('-') ? [k] : ['-k', k])), '127.0.0.1', String(server.port)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const names = (await readdir(out)).sort();
    return names.map((n) => {
      const d = datasetOf(join(out, n));
      return readDataset(d.bytes, d.ts);
    });
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

test('findscu at patient, study, series and image level, with wildcards and date ranges', { skip }, async () => {
  const patients = await findscu(['-P', 'QueryRetrieveLevel=PATIENT', 'PatientID=PHITOKEN-*', 'NumberOfPatientRelatedStudies']);
  assert.equal(patients.length, 1);
  assert.equal(patients[0].string(0x00201200), '2');
  const all = await findscu(['-S', 'QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'StudyDate=19000101-20991231']);
  assert.equal(all.length, 2);
  const none = await findscu(['-S', 'QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'StudyDate=19000101-19001231']);
  assert.equal(none.length, 0);
  const study = all[0].string(0x0020000d)!;
  const series = await findscu(['-S', 'QueryRetrieveLevel=SERIES', `StudyInstanceUID=${study}`, 'SeriesInstanceUID', 'Modality=C?']);
  assert.equal(series.length, 1);
  assert.equal(series[0].string(0x00080060), 'CT');
  const images = await findscu(['-S', 'QueryRetrieveLevel=IMAGE', `StudyInstanceUID=${study}`, `SeriesInstanceUID=${series[0].string(0x0020000e)}`, 'SOPInstanceUID']);
  assert.equal(images.length, 40);
});

test('movescu of a study to storescp: every instance byte-identical to what is stored', { skip }, async () => {
  const studyUid = readDataset(datasetOf(studies[0][0]).bytes, datasetOf(studies[0][0]).ts).string(0x0020000d)!;
  const r = await runDcmtk('movescu', ['-aet', 'MOVESCU', '-aec', 'DICOMGATE', '-aem', 'STORESCP', '-S', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`, '127.0.0.1', String(server.port)], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const got = await readdir(moveDir);
  assert.equal(got.length, studies[0].length, storescp.output());
  for (const g of got) {
    const d = datasetOf(join(moveDir, g));
    const stored = await storedDataset(d.sop);
    assert.equal(d.ts, stored.ts);
    assert.ok(d.bytes.equals(stored.bytes), `${g} differs from the stored blob`);
  }
});

test('getscu of a study: every instance byte-identical to what is stored', { skip }, async () => {
  const out = await mkdtemp(join(tmpdir(), 'getscu-'));
  try {
    const studyUid = readDataset(datasetOf(studies[1][0]).bytes, datasetOf(studies[1][0]).ts).string(0x0020000d)!;
    const r = await runDcmtk('getscu', ['-aet', 'GETSCU', '-aec', 'DICOMGATE', '+B', '-od', out, '-S', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`, '127.0.0.1', String(server.port)], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = await readdir(out);
    assert.equal(got.length, studies[1].length);
    for (const g of got) {
      const d = datasetOf(join(out, g));
      const stored = await storedDataset(d.sop);
      assert.ok(d.bytes.equals(stored.bytes), `${g} differs from the stored blob`);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('sending the same instances again: Success, nothing duplicated', { skip }, async () => {
  const r = await runDcmtk('storescu', ['-aet', 'STORESCU', '-aec', 'DICOMGATE', '127.0.0.1', String(server.port), ...studies[1].slice(0, 5)]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((await archive.index.statistics()).instances, files.length);
});

test('user identity from storescu -usr/-pwd is checked; without one the association is refused', { skip }, async () => {
  const secured = await startDimseServer(
    { ingest: archive.ingest, index: archive.index, blobs: archive.blobs, authenticate: (id) => id.type === 2 && id.primary === 'alice' && id.secondary === 'secret' },
    { aet: 'DICOMGATE', host: '127.0.0.1', port: 0, peers: [], requireUserIdentity: true },
  );
  try {
    const ok = await runDcmtk('storescu', ['-aec', 'DICOMGATE', '-usr', 'alice', '-pwd', 'secret', '127.0.0.1', String(secured.port), studies[0][0]]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const wrong = await runDcmtk('storescu', ['-aec', 'DICOMGATE', '-usr', 'alice', '-pwd', 'guess', '127.0.0.1', String(secured.port), studies[0][0]]);
    assert.notEqual(wrong.code, 0);
    const none = await runDcmtk('echoscu', ['-aec', 'DICOMGATE', '127.0.0.1', String(secured.port)]);
    assert.notEqual(none.code, 0);
    assert.match(none.stdout + none.stderr, /Rejected|Association Request Failed/i);
  } finally {
    await secured.close();
  }
});

test('a truncated dataset is answered C000 (cannot understand) and not indexed', { skip }, async () => {
  const src = datasetOf(studies[0][0]);
  const before = (await archive.index.statistics()).instances;
  const scu = await associate({ host: '127.0.0.1', port: server.port, callingAe: 'STORESCU', calledAe: 'DICOMGATE', contexts: standardContexts([{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxUid: src.ts }]) });
  try {
    const r = await scu.store({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '2.25.1', transferSyntaxUid: src.ts, open: () => src.bytes.subarray(0, 1001) });
    assert.equal(r.status, 0xc000);
    assert.equal(r.errorComment, 'DICOM_PARSE');
  } finally {
    await scu.release();
  }
  assert.equal((await archive.index.statistics()).instances, before);
});
