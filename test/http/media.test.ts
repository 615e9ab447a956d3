// GET /{level}/{id}/media: a ZIP with a DICOMDIR (written by our DICOM core) that DCMTK and
// dicom3tools read back, whose every ReferencedFileID names a file of the ZIP holding that instance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { buildDicomdir, recordType } from '../../src/http/rest/dicomdir.ts';
import { mediaFileId } from '../../src/http/rest/media.ts';
import { withMemoryArchive } from './archive-fixture.ts';

/** Every entry of a ZIP (yauzl, an independent reader): name → bytes. */
function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out = new Map<string, Buffer>();
      zip.on('entry', (e: yauzl.Entry) => {
        zip.openReadStream(e, (err2, s) => {
          if (err2) return reject(err2);
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('end', () => {
            out.set(e.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
          s.on('error', reject);
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

const STUDY = '1.2.826.0.1.7';
const files = [
  syntheticInstance({ patientId: 'PAT-M', patientName: 'Media^Test', studyInstanceUid: STUDY, seriesInstanceUid: `${STUDY}.1`, sopInstanceUid: `${STUDY}.1.1`, modality: 'CT', instanceNumber: 1, size: 4 }),
  syntheticInstance({ patientId: 'PAT-M', patientName: 'Media^Test', studyInstanceUid: STUDY, seriesInstanceUid: `${STUDY}.1`, sopInstanceUid: `${STUDY}.1.2`, modality: 'CT', instanceNumber: 2, size: 4 }),
  syntheticInstance({ patientId: 'PAT-M', patientName: 'Media^Test', studyInstanceUid: STUDY, seriesInstanceUid: `${STUDY}.2`, sopInstanceUid: `${STUDY}.2.1`, modality: 'MR', instanceNumber: 1, size: 4 }),
];

test('GET /studies/{id}/media: DICOMDIR read back by dcmdump and dcdirdmp; each referenced file is in the ZIP', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-media-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await withMemoryArchive(async (h) => {
    for (const f of files) {
      const up = await h.app.inject({ method: 'POST', url: '/instances', headers: { authorization: h.basic('uploader'), 'content-type': 'application/dicom' }, payload: f });
      assert.equal(up.json().Status, 'Success');
    }
    const auth = { authorization: h.basic('researcher') };
    const [studyId] = (await h.app.inject({ url: '/studies', headers: auth })).json() as string[];
    assert.equal((await h.app.inject({ url: `/studies/${studyId}/media` })).statusCode, 401);
    assert.equal((await h.app.inject({ url: `/studies/${studyId}/media`, headers: { authorization: h.basic('uploader') } })).statusCode, 403);
    assert.equal((await h.app.inject({ url: '/studies/00000000-00000000-00000000-00000000-00000000/media', headers: auth })).statusCode, 404);
    const r = await h.app.inject({ url: `/studies/${studyId}/media`, headers: auth });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'application/zip');
    const zip = await unzip(r.rawPayload);
    assert.deepEqual([...zip.keys()].sort(), ['DICOMDIR', 'IMAGES/IM0', 'IMAGES/IM1', 'IMAGES/IM2']);
    assert.ok(![...zip.keys()].some((k) => k.includes('Media') || k.includes('PAT-M')), 'no identifiers in paths');

    writeFileSync(join(dir, 'DICOMDIR'), zip.get('DICOMDIR')!);
    const dumped = execFileSync('dcmdump', ['-q', '+L', join(dir, 'DICOMDIR')], { encoding: 'utf8' });
    assert.match(dumped, /\(0002,0002\) UI =MediaStorageDirectoryStorage/);
    const types = [...dumped.matchAll(/\(0004,1430\) CS \[([^\]]*)\]/g)].map((m) => m[1].trim());
    assert.deepEqual(types, ['PATIENT', 'STUDY', 'SERIES', 'IMAGE', 'IMAGE', 'SERIES', 'IMAGE']);
    const fileIds = [...dumped.matchAll(/\(0004,1500\) CS \[([^\]]*)\]/g)].map((m) => m[1].replaceAll('\\', '/'));
    const sops = [...dumped.matchAll(/\(0004,1511\) UI \[([^\]]*)\]/g)].map((m) => m[1]);
    assert.equal(fileIds.length, 3);
    for (const [i, id] of fileIds.entries()) {
      const bytes = zip.get(id);
      assert.ok(bytes, `${id} referenced by the DICOMDIR is in the ZIP`);
      assert.ok(files.some((f) => f.equals(bytes)), `${id} holds an uploaded file unchanged`);
      assert.ok(bytes.includes(Buffer.from(sops[i])), `${id} is the instance its record names`);
    }
    // dicom3tools' dcdirdmp walks the records through their offsets (next / lower level) only.
    const dirdmp = spawnSync('dcdirdmp', [join(dir, 'DICOMDIR')], { encoding: 'utf8' });
    const walked = dirdmp.stdout + dirdmp.stderr; // it reports on stderr
    for (const id of fileIds) assert.ok(walked.includes(id.replaceAll('/', '\\')), `dcdirdmp reaches ${id}:\n${walked}`);
    const shape = walked.split('\n').filter((l) => l.trim() !== '' && !l.includes('->')).map((l) => `${l.match(/^\t*/)![0].length}${l.trim().split(/\s+/)[0]}`);
    assert.deepEqual(shape, ['0PATIENT', '1STUDY', '2SERIES', '3IMAGE', '3IMAGE', '2SERIES', '3IMAGE'], walked);
    const ex = await h.audit.list({ action: 'export' });
    assert.deepEqual(ex.map((e) => [e.resource, e.detail?.instances]), [[studyId, 3]]);
  });
});

test('DICOMDIR: record types by SOP class, file ids within PS3.10 limits, empty directory is valid', async () => {
  assert.equal(recordType('1.2.840.10008.5.1.4.1.1.481.3'), 'RT STRUCTURE SET');
  assert.equal(recordType('1.2.840.10008.5.1.4.1.1.481.2'), 'RT DOSE');
  assert.equal(recordType('1.2.840.10008.5.1.4.1.1.88.22'), 'SR DOCUMENT');
  assert.equal(recordType('1.2.840.10008.5.1.4.1.1.2'), 'IMAGE');
  for (const n of [0, 999_999, 1_000_000, 123_456_789]) {
    const id = mediaFileId(n);
    assert.ok(id.every((c) => /^[A-Z0-9_]{1,8}$/.test(c)), id.join('/'));
  }
  assert.notDeepEqual(mediaFileId(1), mediaFileId(1_000_001));
  const empty = await buildDicomdir([]);
  assert.equal(empty.subarray(128, 132).toString('latin1'), 'DICM');
});

test('DICOMDIR: a record with non-ASCII keys carries its own SpecificCharacterSet (PS3.3 F.5)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-dicomdir-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = await buildDicomdir([{
    tags: { PatientName: 'Müller^Jörg', PatientID: 'X1' },
    studies: [{
      tags: { StudyDate: '20200101', StudyTime: '1200', StudyInstanceUID: '1.2.3', StudyID: '1', AccessionNumber: null, StudyDescription: 'Kopf' },
      series: [{ tags: { Modality: 'CT', SeriesInstanceUID: '1.2.3.4', SeriesNumber: '1' }, instances: [{ fileId: ['IMAGES', 'IM0'], sopClassUid: '1.2.840.10008.5.1.4.1.1.481.3', sopInstanceUid: '1.2.3.4.5', transferSyntaxUid: '1.2.840.10008.1.2.1', instanceNumber: '1' }] }],
    }],
  }]);
  writeFileSync(join(dir, 'DICOMDIR'), bytes);
  const dumped = execFileSync('dcmdump', ['-q', join(dir, 'DICOMDIR')], { encoding: 'utf8' });
  assert.match(dumped, /"Directory Record" PATIENT[\s\S]*?\(0008,0005\) CS \[ISO_IR 192\][\s\S]*?\(0010,0010\) PN \[Müller\^Jörg\]/);
  assert.match(dumped, /"Directory Record" RT STRUCTURE SET/);
});

test('DICOMDIR: two patients and 6,000 instance records, every offset walked by dcdirdmp', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-dicomdir-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const inst = (s: string, n: number, k: number) => ({ fileId: mediaFileId(k), sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: `${s}.${n}`, transferSyntaxUid: '1.2.840.10008.1.2.1', instanceNumber: String(n) });
  const study = (uid: string, series: { uid: string; count: number; first: number }[]) => ({
    tags: { StudyDate: '20200101', StudyTime: '1200', StudyInstanceUID: uid, StudyID: '1', AccessionNumber: null, StudyDescription: null },
    series: series.map((se) => ({ tags: { Modality: 'CT', SeriesInstanceUID: se.uid, SeriesNumber: '1' }, instances: Array.from({ length: se.count }, (_, n) => inst(se.uid, n, se.first + n)) })),
  });
  const bytes = await buildDicomdir([
    { tags: { PatientName: 'A^A', PatientID: 'P1' }, studies: [study('1.1', [{ uid: '1.1.1', count: 6000, first: 0 }]), study('1.2', [{ uid: '1.2.1', count: 1, first: 6000 }])] },
    { tags: { PatientName: 'B^B', PatientID: 'P2' }, studies: [study('2.1', [{ uid: '2.1.1', count: 2, first: 6001 }, { uid: '2.1.2', count: 1, first: 6003 }])] },
  ]);
  writeFileSync(join(dir, 'DICOMDIR'), bytes);
  const r = spawnSync('dcdirdmp', [join(dir, 'DICOMDIR')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '' && !l.includes('->'));
  const shape = lines.map((l) => `${l.match(/^\t*/)![0].length}${l.trim().split(/\s+/)[0]}`);
  assert.equal(shape.filter((s) => s === '3IMAGE').length, 6004);
  assert.deepEqual(shape.filter((s) => s !== '3IMAGE'), ['0PATIENT', '1STUDY', '2SERIES', '1STUDY', '2SERIES', '0PATIENT', '1STUDY', '2SERIES', '2SERIES']);
  assert.match(lines[lines.length - 1], /IMAGE/);
  assert.ok((r.stdout + r.stderr).includes('IMAGES\\IM6003'));
});
