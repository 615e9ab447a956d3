// In-process SCU <-> SCP loopback for C-ECHO and C-STORE (streaming), on port 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startScp } from '../../src/dimse/scp.ts';
import { associate, standardContexts } from '../../src/dimse/scu.ts';
import type { CStoreRequest, StoreSink } from '../../src/dimse/handlers.ts';
import { STATUS } from '../../src/dimse/status.ts';
import { SOP, TS } from '../../src/dimse/uids.ts';

const CT = '1.2.840.10008.5.1.4.1.1.2';

function collectingSink(into: Map<string, { rq: CStoreRequest; bytes: Buffer; writes: number }>): (rq: CStoreRequest) => StoreSink {
  return (rq) => {
    const chunks: Buffer[] = [];
    return {
      write: (c) => {
        chunks.push(Buffer.from(c));
      },
      finish: async () => {
        into.set(rq.affectedSopInstanceUid, { rq, bytes: Buffer.concat(chunks), writes: chunks.length });
        return STATUS.Success;
      },
      abort: () => {},
    };
  };
}

test('C-ECHO and streaming C-STORE over loopback', async () => {
  const received = new Map<string, { rq: CStoreRequest; bytes: Buffer; writes: number }>();
  const scp = await startScp({ handlers: { onCStore: collectingSink(received) }, host: '127.0.0.1', limits: { maxPduLength: 16384 } });
  try {
    const scu = await associate({
      host: '127.0.0.1',
      port: scp.port,
      callingAe: 'TESTSCU',
      calledAe: 'DICOMGATE',
      contexts: standardContexts([{ sopClassUid: CT, transferSyntaxUid: TS.ExplicitVRLittleEndian }]),
    });
    assert.equal(await scu.echo(), STATUS.Success);
    const payload = Buffer.alloc(100_002);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    const r = await scu.store({ sopClassUid: CT, sopInstanceUid: '1.2.3.4', transferSyntaxUid: TS.ExplicitVRLittleEndian, open: () => [payload.subarray(0, 5000), payload.subarray(5000)] });
    assert.equal(r.status, STATUS.Success);
    const got = received.get('1.2.3.4');
    assert.ok(got);
    assert.deepEqual(got.bytes, payload);
    // Our announced maximum (16384) forces fragments: the sink saw them one by one, not one buffer.
    assert.ok(got.writes >= Math.ceil(payload.length / 16384), `writes ${got.writes}`);
    assert.equal(got.rq.association.callingAe, 'TESTSCU');
    assert.equal(got.rq.transferSyntaxUid, TS.ExplicitVRLittleEndian);
    await scu.release();
    assert.equal(scu.channel.association.state, 'Sta1');
  } finally {
    await scp.close();
  }
});

test('an odd-length dataset (a deflated bitstream) travels with one trailing NUL (PS3.5 A.5)', async () => {
  const received = new Map<string, { rq: CStoreRequest; bytes: Buffer; writes: number }>();
  const scp = await startScp({ handlers: { onCStore: collectingSink(received) }, host: '127.0.0.1' });
  try {
    const DEFLATED = '1.2.840.10008.1.2.1.99';
    const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: 'A', calledAe: 'B', contexts: standardContexts([{ sopClassUid: CT, transferSyntaxUid: DEFLATED }]) });
    const r = await scu.store({ sopClassUid: CT, sopInstanceUid: '9', transferSyntaxUid: DEFLATED, open: () => Buffer.from([1, 2, 3]) });
    assert.equal(r.status, STATUS.Success);
    assert.deepEqual(received.get('9')?.bytes, Buffer.from([1, 2, 3, 0]));
    await scu.release();
  } finally {
    await scp.close();
  }
});

test('C-STORE failure status from the sink reaches the SCU and the association stays usable', async () => {
  const scp = await startScp({
    handlers: {
      onCStore: () => ({
        write() {
          throw new Error('disk full');
        },
        finish: () => STATUS.Success,
        abort() {},
      }),
    },
    host: '127.0.0.1',
  });
  try {
    const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: 'A', calledAe: 'B', contexts: standardContexts([{ sopClassUid: CT, transferSyntaxUid: TS.ImplicitVRLittleEndian }]) });
    const r = await scu.store({ sopClassUid: CT, sopInstanceUid: '1.2.3', transferSyntaxUid: TS.ImplicitVRLittleEndian, open: () => Buffer.alloc(10) });
    assert.equal(r.status, STATUS.StoreCannotUnderstand);
    assert.equal(await scu.echo(), STATUS.Success);
    await scu.release();
  } finally {
    await scp.close();
  }
});

test('no accepted context for an unsupported SOP class', async () => {
  const scp = await startScp({ handlers: {}, host: '127.0.0.1' });
  try {
    const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: 'A', calledAe: 'B', contexts: standardContexts([{ sopClassUid: CT, transferSyntaxUid: TS.ImplicitVRLittleEndian }]) });
    assert.equal(scu.acceptedContexts.length, 1);
    assert.equal(scu.acceptedContexts[0].abstractSyntax, SOP.Verification);
    await assert.rejects(scu.store({ sopClassUid: CT, sopInstanceUid: '1', transferSyntaxUid: TS.ImplicitVRLittleEndian, open: () => Buffer.alloc(2) }), /DIMSE_NO_CONTEXT|No accepted/);
    await scu.release();
  } finally {
    await scp.close();
  }
});

test('user identity negotiation: accepted with a server response, rejected when wrong', async () => {
  const scp = await startScp({
    host: '127.0.0.1',
    handlers: {
      onAssociate: (info) =>
        info.userIdentity?.type === 2 && info.userIdentity.primary === 'alice' && info.userIdentity.secondary === 'secret'
          ? { accept: true, userIdentityResponse: new Uint8Array(0) }
          : { accept: false, reason: 'no-reason' },
    },
  });
  try {
    const ok = await associate({
      host: '127.0.0.1',
      port: scp.port,
      callingAe: 'A',
      calledAe: 'B',
      contexts: standardContexts(),
      userIdentity: { type: 2, primary: 'alice', secondary: 'secret', positiveResponseRequested: true },
    });
    // PS3.7 D.3.3.7.2: a positive response was requested, so the A-ASSOCIATE-AC carries sub-item 59H.
    assert.equal(ok.ac.userInformation.userIdentityAc?.length, 0);
    await ok.release();
    await assert.rejects(
      associate({ host: '127.0.0.1', port: scp.port, callingAe: 'A', calledAe: 'B', contexts: standardContexts(), userIdentity: { type: 2, primary: 'alice', secondary: 'wrong' } }),
      (e: Error & { code?: string }) => e.code === 'DIMSE_ASSOCIATION_REJECTED',
    );
  } finally {
    await scp.close();
  }
});

test('connecting to a closed port is DIMSE_CONNECT', async () => {
  const scp = await startScp({ host: '127.0.0.1', handlers: {} });
  const port = scp.port;
  await scp.close();
  await assert.rejects(associate({ host: '127.0.0.1', port, callingAe: 'A', calledAe: 'B', contexts: standardContexts() }), (e: Error & { code?: string }) => e.code === 'DIMSE_CONNECT');
});

test('sendInstances: more than 128 (SOP class, syntax) pairs go over several associations, each instance answered', async () => {
  const received = new Map<string, { rq: CStoreRequest; bytes: Buffer; writes: number }>();
  let associations = 0;
  const scp = await startScp({ handlers: { onCStore: collectingSink(received), onAssociate: () => (associations++, { accept: true }) }, host: '127.0.0.1' });
  try {
    const { sendInstances } = await import('../../src/dimse/send-instances.ts');
    // Vendor private classes (outside the DICOM root) count as storage.
    const instances = Array.from({ length: 130 }, (_, i) => ({ sopClassUid: `1.3.6.1.4.1.9999.${i}`, sopInstanceUid: `2.25.${i}`, transferSyntaxUid: TS.ExplicitVRLittleEndian, open: () => Buffer.alloc(4, i) }));
    const results = await sendInstances({ host: '127.0.0.1', port: scp.port, callingAe: 'A', calledAe: 'B' }, instances);
    assert.equal(associations, 2);
    assert.deepEqual(results.map((r) => r.status), Array(130).fill(STATUS.Success));
    assert.equal(received.size, 130);
  } finally {
    await scp.close();
  }
});

test('a 64 MB dataset streams through in PDU-sized pieces on both sides (never assembled)', async () => {
  let total = 0;
  let largest = 0;
  const scp = await startScp({
    host: '127.0.0.1',
    limits: { maxPduLength: 65536 },
    handlers: {
      onCStore: () => ({
        write(c) {
          total += c.length;
          largest = Math.max(largest, c.length);
        },
        finish: () => STATUS.Success,
        abort() {},
      }),
    },
  });
  try {
    const scu = await associate({ host: '127.0.0.1', port: scp.port, callingAe: 'A', calledAe: 'B', contexts: standardContexts([{ sopClassUid: CT, transferSyntaxUid: TS.ExplicitVRLittleEndian }]) });
    const MB = 1024 * 1024;
    async function* generate(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(MB, i);
    }
    const r = await scu.store({ sopClassUid: CT, sopInstanceUid: '1.2.64', transferSyntaxUid: TS.ExplicitVRLittleEndian, open: generate });
    assert.equal(r.status, STATUS.Success);
    assert.equal(total, 64 * MB);
    assert.ok(largest <= 65536 - 6, `largest fragment ${largest}`);
    await scu.release();
  } finally {
    await scp.close();
  }
});
