// The gateway's C-STORE sink assembles each object in a reused buffer: these check that what the
// gateway service receives is exactly the Part-10 header plus the fragments of that object (never bytes
// of an earlier, larger object left in the buffer), that buffers grow past their first size, and that
// too-large and aborted objects leave the pool usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/log.ts';
import type { CStoreRequest, StoreSink } from '../../src/dimse/handlers.ts';
import { STATUS } from '../../src/dimse/status.ts';
import { AssemblyPool, gatewayIntake } from '../../src/dimse-server/gateway-intake.ts';
import { part10Header } from '../../src/dimse-server/part10-header.ts';
import type { GatewayProject, GatewayResult, GatewayService } from '../../src/services/gateway.ts';

function request(sopInstanceUid: string, calledAe = 'GATEWAY'): CStoreRequest {
  return {
    association: { calledAe, callingAe: 'SCU', remoteAddress: '127.0.0.1' } as CStoreRequest['association'],
    affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    affectedSopInstanceUid: sopInstanceUid,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    priority: 0,
  };
}

function headerOf(rq: CStoreRequest): Buffer {
  return part10Header({ sopClassUid: rq.affectedSopClassUid, sopInstanceUid: rq.affectedSopInstanceUid, transferSyntaxUid: rq.transferSyntaxUid, sourceAe: rq.association.callingAe });
}

/** A gateway service that keeps a copy of every object it is given (the sink reuses the original). */
function recordingGateway(result: GatewayResult = { status: 'quarantined', quarantineId: 'x', reason: 'test' }) {
  const seen: Buffer[] = [];
  const views: Uint8Array[] = [];
  const service = {
    async process(original: Uint8Array): Promise<GatewayResult> {
      seen.push(Buffer.from(original));
      views.push(original);
      await new Promise((r) => setImmediate(r));
      return result;
    },
  } as unknown as GatewayService;
  return { service, seen, views };
}

function fragments(total: number, fragment: number, fill: (i: number) => number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < total; off += fragment) {
    const n = Math.min(fragment, total - off);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = fill(off + i);
    out.push(b);
  }
  return out;
}

async function send(intake: ReturnType<typeof gatewayIntake>, rq: CStoreRequest, parts: Buffer[]) {
  const sink = (await intake(rq)) as StoreSink;
  for (const p of parts) await sink.write(p);
  return sink.finish();
}

const project = { project: { name: 'basic' } } as unknown as GatewayProject;
const fallback = () => {
  throw new Error('plain AE not expected here');
};

test('objects reach the gateway whole, larger ones after growing the buffer, and nothing of an earlier one leaks into a later one', async () => {
  const g = recordingGateway();
  const intake = gatewayIntake({ gateway: g.service, projectFor: (ae) => (ae === 'GATEWAY' ? project : undefined), fallback, log: silentLogger });
  // 2.5 MB in 64 KB fragments: more than the first assembly buffer holds.
  const big = fragments(2_500_000, 65_536, (i) => (i * 7) & 0xff);
  const small = fragments(1000, 300, (i) => (i * 13 + 1) & 0xff);
  const rqBig = request('1.2.3.1');
  const rqSmall = request('1.2.3.22');
  assert.equal(typeof (await send(intake, rqBig, big)), 'number');
  await send(intake, rqSmall, small);
  await send(intake, rqBig, big);
  assert.deepEqual(g.seen[0], Buffer.concat([headerOf(rqBig), ...big]));
  assert.deepEqual(g.seen[1], Buffer.concat([headerOf(rqSmall), ...small]));
  assert.deepEqual(g.seen[2], Buffer.concat([headerOf(rqBig), ...big]));
  // The second object was assembled in the first one's (reused) buffer: a view, not a copy, was handed on.
  assert.equal(g.views[1].buffer, g.views[0].buffer);
});

test('concurrent objects (several associations) get separate buffers', async () => {
  const g = recordingGateway();
  const intake = gatewayIntake({ gateway: g.service, projectFor: () => project, fallback, log: silentLogger });
  const rqs = [request('1.2.3.1'), request('1.2.3.2'), request('1.2.3.3')];
  const sinks = (await Promise.all(rqs.map((rq) => intake(rq)))) as StoreSink[];
  const parts = rqs.map((_, k) => fragments(200_000, 16_384, (i) => (i + k * 50) & 0xff));
  // Interleaved fragments, as from three associations at once.
  for (let f = 0; f < parts[0].length; f++) for (let k = 0; k < sinks.length; k++) await sinks[k].write(parts[k][f]);
  await Promise.all(sinks.map((s) => s.finish()));
  for (let k = 0; k < rqs.length; k++) assert.deepEqual(g.seen[k], Buffer.concat([headerOf(rqs[k]), ...parts[k]]));
});

test('too large and aborted objects are refused or dropped, and the next object is whole', async () => {
  const g = recordingGateway();
  const intake = gatewayIntake({ gateway: g.service, projectFor: () => project, fallback, log: silentLogger, maxObjectBytes: 100_000 });
  const r = await send(intake, request('1.2.3.1'), fragments(150_000, 65_536, () => 1));
  assert.deepEqual(r, { status: STATUS.StoreOutOfResources, errorComment: 'object too large for de-identification' });
  const aborted = (await intake(request('1.2.3.2'))) as StoreSink;
  await aborted.write(Buffer.alloc(5000, 2));
  aborted.abort();
  const rq = request('1.2.3.3');
  const ok = fragments(50_000, 10_000, (i) => i & 0xff);
  await send(intake, rq, ok);
  assert.equal(g.seen.length, 1, 'only the complete object reached the gateway');
  assert.deepEqual(g.seen[0], Buffer.concat([headerOf(rq), ...ok]));
});

test('a rejected object answers with its status and still frees the buffer', async () => {
  const g = recordingGateway({ status: 'rejected', code: 'DICOM_PARSE', reason: 'parse-error', retryable: false });
  const intake = gatewayIntake({ gateway: g.service, projectFor: () => project, fallback, log: silentLogger });
  const r = await send(intake, request('1.2.3.1'), fragments(10, 10, () => 0));
  assert.deepEqual(r, { status: STATUS.StoreCannotUnderstand, errorComment: 'DICOM_PARSE' });
  const rq = request('1.2.3.9');
  await send(intake, rq, fragments(20, 20, () => 9));
  assert.equal(g.views[1].buffer, g.views[0].buffer);
});

test('assembly pool: keeps a bounded number of buffers, none too large, and hands out one big enough', () => {
  const pool = new AssemblyPool(2, 4096);
  const a = pool.take(100);
  const b = pool.take(5000);
  assert.ok(a.length >= 100 && b.length >= 5000);
  pool.give(Buffer.alloc(4096));
  pool.give(Buffer.alloc(8192));
  pool.give(Buffer.alloc(0));
  assert.equal(pool.size, 1, 'the oversized and the empty buffer are not kept');
  pool.give(Buffer.alloc(1024));
  pool.give(Buffer.alloc(2048));
  assert.equal(pool.size, 2);
  // The 1024-byte buffer is too small for 1500: the 4096-byte one is handed out, the other stays.
  assert.equal(pool.take(1500).length, 4096);
  assert.equal(pool.size, 1);
});
