// Hostile and broken peers against our SCP: it answers or aborts cleanly, frees the association,
// and keeps serving the others.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startScp, type DicomScp } from '../../src/dimse/scp.ts';
import { associate, standardContexts } from '../../src/dimse/scu.ts';
import { encodeCommand, COMMAND_FIELD, HAS_DATASET } from '../../src/dimse/command-set.ts';
import { encodePdu } from '../../src/dimse/pdu/encode.ts';
import { decodePdu } from '../../src/dimse/pdu/decode.ts';
import { PduFramer } from '../../src/dimse/pdu/framer.ts';
import type { AAssociateRq, Pdu } from '../../src/dimse/pdu/types.ts';
import { STATUS } from '../../src/dimse/status.ts';
import { TS } from '../../src/dimse/uids.ts';

const CT = '1.2.840.10008.5.1.4.1.1.2';
let scp: DicomScp;
const log: string[] = [];
let aborted = 0;
let stored = 0;

before(async () => {
  scp = await startScp({
    host: '127.0.0.1',
    timeouts: { artimMs: 300, idleMs: 300 },
    limits: { maxPduLength: 16384 },
    log: (l) => log.push(l),
    handlers: {
      onCStore: () => ({
        write() {},
        finish: () => {
          stored++;
          return STATUS.Success;
        },
        abort: () => {
          aborted++;
        },
      }),
    },
  });
});
after(() => scp.close());

/** Connects, sends bytes, collects PDUs until the server closes. */
function rawSession(send: (s: net.Socket) => void): Promise<Pdu[]> {
  return new Promise((resolve) => {
    const got: Pdu[] = [];
    const f = new PduFramer({ maxPDataLength: 0, maxControlLength: 0 });
    const s = net.connect({ host: '127.0.0.1', port: scp.port }, () => send(s));
    s.on('data', (d: Buffer) => {
      f.push(d);
      try {
        for (let p = f.take(); p; p = f.take()) got.push(decodePdu(p));
      } catch {
        // not a PDU: record nothing
      }
    });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
  });
}

/** Waits for a condition that another part of the server reaches asynchronously. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

async function echoWorks(): Promise<void> {
  const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: 'OK', calledAe: 'SCP', contexts: standardContexts() });
  assert.equal(await scu.echo(), STATUS.Success);
  await scu.release();
}

const RQ: AAssociateRq = {
  type: 'AAssociateRq',
  protocolVersion: 1,
  calledAe: 'SCP',
  callingAe: 'RAW',
  applicationContext: '1.2.840.10008.3.1.1.1',
  presentationContexts: [{ id: 1, abstractSyntax: CT, transferSyntaxes: [TS.ImplicitVRLittleEndian] }],
  userInformation: { maxLength: 16384 },
};

test('garbage bytes instead of an A-ASSOCIATE-RQ: A-ABORT and close', async () => {
  const pdus = await rawSession((s) => s.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 2, 3])));
  assert.deepEqual(pdus.map((p) => p.type), ['AAbort']);
  await echoWorks();
});

test('an HTTP request on the DICOM port: A-ABORT and close', async () => {
  const pdus = await rawSession((s) => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.deepEqual(pdus.map((p) => p.type), ['AAbort']);
  await echoWorks();
});

test('a PDU longer than our maximum is refused from its header', async () => {
  const pdus = await rawSession((s) => {
    s.write(encodePdu(RQ));
    const head = Buffer.alloc(6);
    head[0] = 0x04;
    head.writeUInt32BE(10_000_000, 2); // 10 MB P-DATA-TF announced, never sent
    setTimeout(() => s.write(head), 50);
  });
  assert.deepEqual(pdus.map((p) => p.type), ['AAssociateAc', 'AAbort']);
  await echoWorks();
});

test('a PDU length larger than the data sent, then silence: ARTIM closes the connection', async () => {
  const pdus = await rawSession((s) => {
    const rq = encodePdu(RQ);
    s.write(rq.subarray(0, rq.length - 10)); // stops mid-PDU before association
  });
  assert.equal(pdus.length, 0);
  await echoWorks();
});

test('a peer that stops mid-dataset: the sink is aborted, nothing stored, the server goes on', async () => {
  const before = { aborted, stored };
  const pdus = await rawSession((s) => {
    s.write(encodePdu(RQ));
    const cmd = encodeCommand({ commandField: COMMAND_FIELD.CStoreRq, commandDataSetType: HAS_DATASET, messageId: 1, affectedSopClassUid: CT, affectedSopInstanceUid: '1.2.3', priority: 0 });
    setTimeout(() => {
      s.write(encodePdu({ type: 'PDataTf', pdvs: [{ contextId: 1, isCommand: true, isLast: true, data: cmd }] }));
      s.write(encodePdu({ type: 'PDataTf', pdvs: [{ contextId: 1, isCommand: false, isLast: false, data: Buffer.alloc(1000) }] }));
      // and then nothing: the idle timeout aborts
    }, 30);
  });
  assert.equal(pdus[0].type, 'AAssociateAc');
  assert.equal(pdus[pdus.length - 1].type, 'AAbort');
  await until(() => aborted === before.aborted + 1);
  assert.equal(stored, before.stored);
  await echoWorks();
});

test('a peer that closes the TCP connection mid-dataset: the sink is aborted', async () => {
  const before = aborted;
  await rawSession((s) => {
    s.write(encodePdu(RQ));
    const cmd = encodeCommand({ commandField: COMMAND_FIELD.CStoreRq, commandDataSetType: HAS_DATASET, messageId: 1, affectedSopClassUid: CT, affectedSopInstanceUid: '1.2.4', priority: 0 });
    setTimeout(() => {
      s.write(encodePdu({ type: 'PDataTf', pdvs: [{ contextId: 1, isCommand: true, isLast: true, data: cmd }] }));
      s.end(encodePdu({ type: 'PDataTf', pdvs: [{ contextId: 1, isCommand: false, isLast: false, data: Buffer.alloc(100) }] }));
    }, 30);
  });
  await until(() => aborted === before + 1);
  await echoWorks();
});

test('P-DATA on a presentation context that was not accepted: A-ABORT', async () => {
  const pdus = await rawSession((s) => {
    s.write(encodePdu(RQ));
    setTimeout(() => s.write(encodePdu({ type: 'PDataTf', pdvs: [{ contextId: 99, isCommand: true, isLast: true, data: Buffer.alloc(8) }] })), 30);
  });
  assert.deepEqual(pdus.map((p) => p.type), ['AAssociateAc', 'AAbort']);
});

test('a PDV item longer than its P-DATA-TF: A-ABORT (invalid PDU parameter), nothing stored', async () => {
  const before = stored;
  const pdus = await rawSession((s) => {
    s.write(encodePdu(RQ));
    const cmd = encodeCommand({ commandField: COMMAND_FIELD.CStoreRq, commandDataSetType: HAS_DATASET, messageId: 1, affectedSopClassUid: CT, affectedSopInstanceUid: '1.2.5', priority: 0 });
    setTimeout(() => {
      s.write(encodePdu({ type: 'PDataTf', pdvs: [{ contextId: 1, isCommand: true, isLast: true, data: cmd }] }));
      // A P-DATA-TF of 6 + 20 bytes whose one PDV item claims 100: streamed P-DATA checks each item
      // against what is left of its PDU before taking any of its value.
      const bad = Buffer.alloc(6 + 6 + 14);
      bad[0] = 0x04;
      bad.writeUInt32BE(20, 2);
      bad.writeUInt32BE(100, 6);
      bad[10] = 1;
      bad[11] = 0x02;
      s.write(bad);
    }, 30);
  });
  assert.equal(pdus[0].type, 'AAssociateAc');
  const last = pdus[pdus.length - 1];
  assert.equal(last.type, 'AAbort');
  assert.equal(last.type === 'AAbort' && last.reason, 6, 'reason: invalid PDU parameter value');
  assert.equal(stored, before);
  await echoWorks();
});

test('a dataset trickled one byte per TCP segment is stored whole (P-DATA streamed across reads)', async () => {
  const got: Buffer[] = [];
  let finished = 0;
  const trickle = await startScp({
    host: '127.0.0.1',
    handlers: {
      onCStore: () => ({
        write(chunk) {
          got.push(Buffer.from(chunk));
        },
        finish: () => {
          finished++;
          return STATUS.Success;
        },
        abort() {},
      }),
    },
  });
  try {
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const cmd = encodeCommand({ commandField: COMMAND_FIELD.CStoreRq, commandDataSetType: HAS_DATASET, messageId: 1, affectedSopClassUid: CT, affectedSopInstanceUid: '1.2.6', priority: 0 });
    // Two PDVs in one PDU, then a third PDU: every boundary (PDU header, PDV header, value) falls
    // inside some read when the bytes come one at a time.
    const wire = Buffer.concat([
      encodePdu({ type: 'PDataTf', pdvs: [{ contextId: 1, isCommand: true, isLast: true, data: cmd }, { contextId: 1, isCommand: false, isLast: false, data: data.subarray(0, 1000) }] }),
      encodePdu({ type: 'PDataTf', pdvs: [{ contextId: 1, isCommand: false, isLast: true, data: data.subarray(1000) }] }),
    ]);
    const pdus = await new Promise<Pdu[]>((resolve, reject) => {
      const out: Pdu[] = [];
      const f = new PduFramer({ maxPDataLength: 0, maxControlLength: 0 });
      const s = net.connect({ host: '127.0.0.1', port: trickle.port, noDelay: true }, () => s.write(encodePdu(RQ)));
      let sent = false;
      s.on('data', (d: Buffer) => {
        f.push(d);
        for (let p = f.take(); p; p = f.take()) {
          const pdu = decodePdu(p);
          out.push(pdu);
          if (pdu.type === 'AAssociateAc' && !sent) {
            sent = true;
            void (async () => {
              for (let i = 0; i < wire.length; i++) {
                s.write(wire.subarray(i, i + 1));
                if (i % 64 === 0) await new Promise((r) => setImmediate(r));
              }
            })();
          }
          if (pdu.type === 'PDataTf') s.end(encodePdu({ type: 'AAbort', source: 0, reason: 0 }));
        }
      });
      s.on('error', reject);
      s.on('close', () => resolve(out));
    });
    assert.equal(pdus[1]?.type, 'PDataTf', 'a C-STORE-RSP came back');
    assert.equal(finished, 1);
    assert.deepEqual(Buffer.concat(got), data);
  } finally {
    await trickle.close();
  }
});

test('a peer that never releases is aborted after the idle timeout', async () => {
  const pdus = await rawSession((s) => s.write(encodePdu(RQ)));
  assert.deepEqual(pdus.map((p) => p.type), ['AAssociateAc', 'AAbort']);
  assert.ok(log.some((l) => l.includes('no data from peer')));
});

test('50 associations at once are all served, and the server frees them all', async () => {
  const results = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: `SCU${i}`, calledAe: 'SCP', contexts: standardContexts([{ sopClassUid: CT, transferSyntaxUid: TS.ImplicitVRLittleEndian }]) });
      const st = await scu.store({ sopClassUid: CT, sopInstanceUid: `1.2.9.${i}`, transferSyntaxUid: TS.ImplicitVRLittleEndian, open: () => Buffer.alloc(40_000) });
      await scu.release();
      return st.status;
    }),
  );
  assert.deepEqual(results, Array(50).fill(STATUS.Success));
  await until(() => scp.active === 0);
});

test('beyond maxAssociations: rejected as transient (local limit exceeded), others unaffected', async () => {
  const small = await startScp({ host: '127.0.0.1', maxAssociations: 5, handlers: {} });
  try {
    const open = await Promise.all(Array.from({ length: 5 }, () => associate({ host: '127.0.0.1', port: small.port, callingAe: 'A', calledAe: 'B', contexts: standardContexts() })));
    await assert.rejects(associate({ host: '127.0.0.1', port: small.port, callingAe: 'A', calledAe: 'B', contexts: standardContexts() }), /result 2 source 3 reason 2/);
    for (const s of open) assert.equal(await s.echo(), STATUS.Success);
    await Promise.all(open.map((s) => s.release()));
  } finally {
    await small.close();
  }
});
