// Query/Retrieve interop with DCMTK: findscu, movescu (to a storescp the test starts) and getscu
// against our SCP serving a corpus study from an in-memory list (the archive binding is tested in
// dimse-server tests; here the protocol is under test).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dataset, readDataset } from '../../src/dicom/index.ts';
import { tag } from '../../src/dicom/tag.ts';
import { startScp, type DicomScp } from '../../src/dimse/scp.ts';
import type { OutgoingInstance } from '../../src/dimse/handlers.ts';
import { parsePart10Meta, part10Instance } from '../../src/dimse/part10-source.ts';
import { runDcmtk, startStorescp } from '../helpers/dcmtk.ts';

const SERIES = fileURLToPath(new URL('../../../shared/corpus/synthetic-rt/dicom/P01/ST01/CT', import.meta.url));
const hasCorpus = existsSync(SERIES);
const QR_LEVEL = tag(0x0008, 0x0052);
const STUDY_UID = tag(0x0020, 0x000d);
const SOP_UID = tag(0x0008, 0x0018);

let scp: DicomScp;
let instances: OutgoingInstance[] = [];
let studyUid = '';
let storescpPort = 0;
const files = hasCorpus ? readdirSync(SERIES).map((f) => join(SERIES, f)) : [];

function datasetOf(file: string): { ts: string; bytes: Buffer } {
  const b = readFileSync(file);
  const m = parsePart10Meta(b);
  return { ts: m.transferSyntaxUid, bytes: b.subarray(m.datasetOffset) };
}

before(async () => {
  if (!hasCorpus) return;
  instances = await Promise.all(files.map((f) => part10Instance(f)));
  const first = datasetOf(files[0]);
  studyUid = readDataset(first.bytes, first.ts).string(STUDY_UID) ?? '';
  scp = await startScp({
    host: '127.0.0.1',
    aeTitles: ['DICOMGATE'],
    handlers: {
      *onCFind(_rq, id: Dataset) {
        if (id.string(QR_LEVEL) !== 'STUDY') return;
        const wanted = id.string(STUDY_UID);
        if (wanted !== undefined && wanted !== '' && wanted !== studyUid) return;
        const d = new Dataset({ explicitVR: true });
        d.setString(QR_LEVEL, 'CS', 'STUDY');
        d.setString(STUDY_UID, 'UI', studyUid);
        yield d;
      },
      async onCMove(rq) {
        return { destination: rq.moveDestination === 'STORESCP' ? { aeTitle: 'STORESCP', host: '127.0.0.1', port: storescpPort } : undefined, instances };
      },
      async onCGet() {
        return { instances };
      },
    },
  });
});
after(() => scp?.close());

const skip = hasCorpus ? false : 'corpus not present';

test('findscu -S at study level gets the study back', { skip }, async () => {
  const out = await mkdtemp(join(tmpdir(), 'findscu-'));
  try {
    const r = await runDcmtk('findscu', ['-S', '-aec', 'DICOMGATE', '-X', '-od', out, '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID', '127.0.0.1', String(scp.port)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rsp = await readdir(out);
    assert.equal(rsp.length, 1);
    const got = datasetOf(join(out, rsp[0]));
    assert.equal(readDataset(got.bytes, got.ts).string(STUDY_UID), studyUid);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('movescu to a storescp: every instance arrives byte-identical', { skip }, async () => {
  const out = await mkdtemp(join(tmpdir(), 'movedest-'));
  const storescp = await startStorescp(out, { extraArgs: ['+B'] });
  storescpPort = storescp.port;
  try {
    const r = await runDcmtk('movescu', ['-S', '-aec', 'DICOMGATE', '-aem', 'STORESCP', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`, '127.0.0.1', String(scp.port)], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = await readdir(out);
    assert.equal(got.length, files.length, storescp.output());
    const sent = new Set(files.map((f) => datasetOf(f).bytes.toString('base64')));
    for (const g of got) assert.ok(sent.has(datasetOf(join(out, g)).bytes.toString('base64')), `${g} differs from every source`);
  } finally {
    await storescp.stop();
    await rm(out, { recursive: true, force: true });
  }
});

test('getscu: every instance arrives byte-identical on the same association', { skip }, async () => {
  const out = await mkdtemp(join(tmpdir(), 'getscu-'));
  try {
    const r = await runDcmtk('getscu', ['-S', '-aec', 'DICOMGATE', '+B', '-od', out, '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`, '127.0.0.1', String(scp.port)], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = await readdir(out);
    assert.equal(got.length, files.length);
    const sent = new Set(files.map((f) => datasetOf(f).bytes.toString('base64')));
    for (const g of got) assert.ok(sent.has(datasetOf(join(out, g)).bytes.toString('base64')), `${g} differs from every source`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('movescu to an unknown destination: A801 reported', { skip }, async () => {
  const r = await runDcmtk('movescu', ['-S', '-aec', 'DICOMGATE', '-aem', 'NOWHERE', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`, '127.0.0.1', String(scp.port)]);
  assert.match(r.stdout + r.stderr, /a801|MoveDestinationUnknown/i);
});
