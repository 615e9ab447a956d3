// In-process loopback for Query/Retrieve: C-FIND (with C-CANCEL), C-MOVE to a second SCP, C-GET.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset, readDataset, writeDataset } from '../../src/dicom/index.ts';
import { tag } from '../../src/dicom/tag.ts';
import { startScp, type DicomScp } from '../../src/dimse/scp.ts';
import { associate, standardContexts } from '../../src/dimse/scu.ts';
import type { CStoreRequest, OutgoingInstance, QueryRequest } from '../../src/dimse/handlers.ts';
import { STATUS } from '../../src/dimse/status.ts';
import { TS } from '../../src/dimse/uids.ts';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const QR_LEVEL = tag(0x0008, 0x0052);
const STUDY_UID = tag(0x0020, 0x000d);
const SOP_UID = tag(0x0008, 0x0018);
const MODALITY = tag(0x0008, 0x0060);

function instanceBytes(i: number): Buffer {
  const ds = new Dataset({ explicitVR: true });
  ds.setString(tag(0x0008, 0x0016), 'UI', CT);
  ds.setString(SOP_UID, 'UI', `1.2.826.0.1.9.${i}`);
  ds.setString(MODALITY, 'CS', 'CT');
  ds.setString(STUDY_UID, 'UI', '1.2.826.0.1.9');
  ds.setBytes(tag(0x7fe0, 0x0010), 'OW', Buffer.alloc(2000 + i * 2, i));
  return Buffer.concat(writeDataset(ds, TS.ExplicitVRLittleEndian));
}
const ARCHIVE: OutgoingInstance[] = [1, 2, 3].map((i) => {
  const bytes = instanceBytes(i);
  return { sopClassUid: CT, sopInstanceUid: `1.2.826.0.1.9.${i}`, transferSyntaxUid: TS.ExplicitVRLittleEndian, open: () => bytes };
});

let scp: DicomScp;
let dest: DicomScp;
const movedIn: { rq: CStoreRequest; bytes: Buffer }[] = [];
let lastCancelled = false;

function collect(into: { rq: CStoreRequest; bytes: Buffer }[]) {
  return (rq: CStoreRequest) => {
    const chunks: Buffer[] = [];
    return { write: (c: Uint8Array) => void chunks.push(Buffer.from(c)), finish: () => (into.push({ rq, bytes: Buffer.concat(chunks) }), STATUS.Success), abort() {} };
  };
}

before(async () => {
  dest = await startScp({ host: '127.0.0.1', aeTitles: ['DEST'], handlers: { onCStore: collect(movedIn) } });
  scp = await startScp({
    host: '127.0.0.1',
    aeTitles: ['ARCHIVE'],
    handlers: {
      async *onCFind(rq: QueryRequest, identifier: Dataset) {
        if (identifier.string(tag(0x0010, 0x0020)) === 'ENDLESS') {
          lastCancelled = false;
          rq.signal.addEventListener('abort', () => (lastCancelled = true));
          for (let i = 0; !rq.signal.aborted; i++) {
            const d = new Dataset({ explicitVR: true });
            d.setString(STUDY_UID, 'UI', `1.2.3.${i}`);
            yield d;
            await new Promise((r) => setImmediate(r));
          }
          return;
        }
        for (const inst of ARCHIVE) {
          const d = new Dataset({ explicitVR: true });
          d.setString(QR_LEVEL, 'CS', identifier.string(QR_LEVEL) ?? '');
          d.setString(SOP_UID, 'UI', inst.sopInstanceUid);
          yield d;
        }
      },
      async onCMove(rq) {
        return { destination: rq.moveDestination === 'DEST' ? { aeTitle: 'DEST', host: '127.0.0.1', port: dest.port } : undefined, instances: ARCHIVE };
      },
      async onCGet() {
        return { instances: ARCHIVE };
      },
    },
  });
});
after(async () => {
  await scp.close();
  await dest.close();
});

function query(level: string): Dataset {
  const q = new Dataset({ explicitVR: false });
  q.setString(QR_LEVEL, 'CS', level);
  q.setEmpty(SOP_UID, 'UI');
  return q;
}

test('C-FIND returns each match as a pending response, then Success', async () => {
  const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: 'Q', calledAe: 'ARCHIVE', contexts: standardContexts() });
  const uids: string[] = [];
  for await (const m of scu.find('study', query('IMAGE'))) {
    assert.equal(m.string(QR_LEVEL), 'IMAGE');
    uids.push(m.string(SOP_UID) ?? '');
  }
  assert.deepEqual(uids, ARCHIVE.map((i) => i.sopInstanceUid));
  await scu.release();
});

test('C-CANCEL stops a running C-FIND; the association stays usable', async () => {
  const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: 'Q', calledAe: 'ARCHIVE', contexts: standardContexts() });
  const q = query('STUDY');
  q.setString(tag(0x0010, 0x0020), 'LO', 'ENDLESS');
  let n = 0;
  for await (const _ of scu.find('patient', q)) {
    if (++n === 3) break; // leaving the loop sends C-CANCEL-RQ and waits for the final response
  }
  assert.equal(lastCancelled, true);
  assert.equal(await scu.echo(), STATUS.Success);
  await scu.release();
});

test('C-MOVE sends every instance to the destination with the move originator set', async () => {
  movedIn.length = 0;
  const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: 'MOVER', calledAe: 'ARCHIVE', contexts: standardContexts() });
  const progress: number[] = [];
  const r = await scu.move('study', 'DEST', query('STUDY'), { onProgress: (p) => progress.push(p.remaining) });
  assert.deepEqual(r, { status: STATUS.Success, completed: 3, failed: 0, warning: 0, remaining: 0 });
  assert.deepEqual(progress, [2, 1]);
  assert.equal(movedIn.length, 3);
  for (const [i, m] of movedIn.entries()) {
    assert.equal(m.rq.moveOriginator?.aeTitle, 'MOVER');
    assert.equal(m.rq.association.callingAe, 'ARCHIVE');
    assert.deepEqual(m.bytes, instanceBytes(i + 1));
  }
  await scu.release();
});

test('C-MOVE to an unknown destination answers A801', async () => {
  const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: 'MOVER', calledAe: 'ARCHIVE', contexts: standardContexts() });
  const r = await scu.move('patient', 'NOWHERE', query('PATIENT'));
  assert.equal(r.status, STATUS.MoveDestinationUnknown);
  await scu.release();
});

test('C-GET brings the instances back on the same association (SCP role for storage)', async () => {
  const got: { rq: CStoreRequest; bytes: Buffer }[] = [];
  const scu = await associate({
    host: '127.0.0.1',
    port: scp.port,
    callingAe: 'GETTER',
    calledAe: 'ARCHIVE',
    contexts: standardContexts([{ sopClassUid: CT, transferSyntaxUid: TS.ExplicitVRLittleEndian }], { forGet: true }),
    onCStore: collect(got),
  });
  const r = await scu.get('study', query('STUDY'));
  assert.deepEqual(r, { status: STATUS.Success, completed: 3, failed: 0, warning: 0, remaining: 0 });
  assert.deepEqual(
    got.map((g) => g.bytes),
    [1, 2, 3].map(instanceBytes),
  );
  assert.equal(readDataset(got[0].bytes, TS.ExplicitVRLittleEndian).string(SOP_UID), '1.2.826.0.1.9.1');
  await scu.release();
});

test('C-CANCEL during C-GET: the SCP stops and answers Cancel with its counts', async () => {
  const many: OutgoingInstance[] = Array.from({ length: 20 }, (_, i) => ({ ...ARCHIVE[0], sopInstanceUid: `1.2.826.0.1.8.${i}` }));
  const getScp = await startScp({ host: '127.0.0.1', handlers: { onCGet: async () => ({ instances: many }) } });
  try {
    const ac = new AbortController();
    let stored = 0;
    const scu = await associate({
      host: '127.0.0.1',
      port: getScp.port,
      callingAe: 'GETTER',
      calledAe: 'ARCHIVE',
      contexts: standardContexts([{ sopClassUid: CT, transferSyntaxUid: TS.ExplicitVRLittleEndian }], { forGet: true }),
      onCStore: () => ({
        write() {},
        finish() {
          if (++stored === 2) ac.abort();
          return STATUS.Success;
        },
        abort() {},
      }),
    });
    const r = await scu.get('study', query('STUDY'), { signal: ac.signal });
    assert.equal(r.status, STATUS.Cancel);
    assert.ok(r.completed >= 2 && r.remaining > 0 && r.completed + r.remaining === 20, JSON.stringify(r));
    assert.equal(await scu.echo(), STATUS.Success);
    await scu.release();
  } finally {
    await getScp.close();
  }
});
