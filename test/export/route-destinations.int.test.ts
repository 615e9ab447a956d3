// Routes against a real DCMTK storescp: durable per-destination queue, association reuse, retries
// with backoff while the peer is down, dead-letter after maxAttempts, manual retry once it is up,
// and a folder destination.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/dicom/dataset.ts';
import { newDicomFile, writePart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { DicomPeerDestination } from '../../src/export/dicom-peer-destination.ts';
import { DiskDestination } from '../../src/export/disk-destination.ts';
import { parsePart10Meta } from '../../src/dimse/part10-source.ts';
import { RouteQueues } from '../../src/pipeline/route-queue.ts';
import { SqlJobRepo } from '../../src/pipeline/sql-job-repo.ts';
import { SqliteSqlDb } from '../../src/pipeline/sqlite-sql-db.ts';
import type { JobRepo } from '../../src/pipeline/job-repo.ts';
import type { JobState } from '../../src/pipeline/job.ts';
import { freePort, startStorescp, waitForPort } from '../helpers/dcmtk.ts';

const dir = mkdtempSync(join(tmpdir(), 'dg-routes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeInstances(n: number, tag: string): string[] {
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const ds = new Dataset();
    ds.setString(T.SOPClassUID, 'UI', '1.2.840.10008.5.1.4.1.1.2');
    ds.setString(T.SOPInstanceUID, 'UI', `1.2.826.0.1.3680043.10.999.${tag}.${i + 1}`);
    ds.setString(T.StudyInstanceUID, 'UI', `1.2.826.0.1.3680043.10.999.${tag}`);
    ds.setString(T.SeriesInstanceUID, 'UI', `1.2.826.0.1.3680043.10.999.${tag}.0`);
    ds.setString(T.PatientID, 'LO', 'ANON01');
    ds.setString(T.Modality, 'CS', 'CT');
    ds.setString(T.InstanceNumber, 'IS', String(i + 1));
    const p = join(dir, `${tag}-${i}.dcm`);
    writeFileSync(p, Buffer.concat(writePart10(newDicomFile(ds, '1.2.840.10008.1.2.1'))));
    paths.push(p);
  }
  return paths;
}

const load = async (item: string) => readFileSync(item);

async function repo(name: string): Promise<SqlJobRepo> {
  const r = new SqlJobRepo(new SqliteSqlDb(join(dir, `${name}.db`)));
  await r.migrate();
  return r;
}

async function until(r: JobRepo, id: string, state: JobState, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while ((await r.get(id))!.state !== state) {
    if (Date.now() > end) throw new Error(`job ${id} is ${(await r.get(id))!.state}, expected ${state}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

describe('routes', () => {
  it('delivers a queued study to a DICOM peer over one association', async () => {
    const out = mkdtempSync(join(dir, 'scp-'));
    const scp = await startStorescp(out, { extraArgs: ['-v'] });
    const r = await repo('peer');
    const dest = new DicomPeerDestination('pacs', { aeTitle: 'STORESCP', host: '127.0.0.1', port: scp.port, callingAe: 'DICOMGATE' }, load);
    const routes = new RouteQueues(r, [dest], { pollMs: 10 });
    routes.start();
    try {
      const items = writeInstances(5, '1');
      const job = await routes.enqueue('pacs', items, { trigger: 'stable-study', dedupeKey: 'StableStudy:1:v1' });
      assert.equal((await routes.enqueue('pacs', items, { dedupeKey: 'StableStudy:1:v1' })).id, job.id, 'same trigger, same job');
      await until(r, job.id, 'Success');
      assert.equal(readdirSync(out).length, 5);
      // Acknowledged, not Received: waitForPort's probe connection is received too.
      assert.equal(scp.output().match(/Association Acknowledged/g)?.length, 1, 'association reused');
    } finally {
      await routes.stop();
      await scp.stop();
      await r.close();
    }
  });

  it('instance routes read into one recycled buffer; every instance arrives byte for byte, whatever its size', async () => {
    const out = mkdtempSync(join(dir, 'scp-'));
    const scp = await startStorescp(out);
    const r = await repo('recycle');
    // Sizes that shrink, grow past the buffer and shrink again.
    const sizes = [200_000, 50_000, 300_000, 10_000, 299_000];
    const items = sizes.map((size, i) => {
      const ds = new Dataset();
      ds.setString(T.SOPClassUID, 'UI', '1.2.840.10008.5.1.4.1.1.2');
      ds.setString(T.SOPInstanceUID, 'UI', `1.2.826.0.1.3680043.10.999.7.${i + 1}`);
      ds.setString(T.StudyInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.7');
      ds.setString(T.SeriesInstanceUID, 'UI', '1.2.826.0.1.3680043.10.999.7.0');
      ds.setString(T.Modality, 'CS', 'CT');
      // Distinct bytes per instance: a stale tail of an earlier one would show.
      ds.setBytes(T.PixelData, 'OB', Buffer.alloc(size, i + 1));
      const p = join(dir, `recycle-${i}.dcm`);
      writeFileSync(p, Buffer.concat(writePart10(newDicomFile(ds, '1.2.840.10008.1.2.1'))));
      return p;
    });
    // Like the archive's loader over the fs store's readInto: into the caller's buffer when it fits.
    const given: boolean[] = [];
    const loadInto = async (item: string, into?: Buffer): Promise<Uint8Array> => {
      const bytes = readFileSync(item);
      given.push(into !== undefined && into.length > bytes.length);
      if (!into || into.length <= bytes.length) return bytes;
      bytes.copy(into);
      return into.subarray(0, bytes.length);
    };
    const dest = new DicomPeerDestination('pacs', { aeTitle: 'STORESCP', host: '127.0.0.1', port: scp.port, callingAe: 'DICOMGATE' }, loadInto);
    const routes = new RouteQueues(r, [dest], { pollMs: 10 });
    try {
      // Queued before the runners start: one loop claims them all (a batch) and sends them in order.
      const jobs = [];
      for (const item of items) jobs.push(await routes.enqueue('pacs', [item], { trigger: 'instance' }));
      routes.start();
      for (const j of jobs) await until(r, j.id, 'Success');
      assert.deepEqual(given, [false, true, false, true, true], 'the buffer is kept, and replaced by a larger one when needed');
      const received = readdirSync(out).filter((f) => !f.startsWith('.'));
      assert.equal(received.length, items.length);
      for (const [i, item] of items.entries()) {
        const sent = readFileSync(item);
        const name = received.find((f) => f.includes(`1.2.826.0.1.3680043.10.999.7.${i + 1}`) && !f.includes(`999.7.${i + 1}0`));
        assert.ok(name, `instance ${i + 1} arrived`);
        const got = readFileSync(join(out, name));
        const ds = (b: Buffer) => b.subarray(parsePart10Meta(b).datasetOffset);
        assert.ok(ds(got).equals(ds(sent)), `instance ${i + 1} (${sizes[i]} bytes of pixels) arrived unchanged`);
      }
    } finally {
      await routes.stop();
      await scp.stop();
      await r.close();
    }
  });

  it('a peer that is down: retries with backoff, dead-letter, manual retry delivers everything', async () => {
    const port = await freePort();
    const out = mkdtempSync(join(dir, 'scp-'));
    const r = await repo('down');
    const dest = Object.assign(new DicomPeerDestination('down', { aeTitle: 'STORESCP', host: '127.0.0.1', port, callingAe: 'DICOMGATE' }, load), {
      options: { maxAttempts: 3, backoff: { baseMs: 20, maxMs: 100, jitter: 0 } },
    });
    const events: string[] = [];
    const routes = new RouteQueues(r, [dest], { pollMs: 10, onEvent: (e) => events.push(e.kind) });
    routes.start();
    const child = { stop: async () => undefined as void };
    try {
      const items = writeInstances(3, '2');
      const job = await routes.enqueue('down', items);
      await until(r, job.id, 'Failure');
      assert.deepEqual(events.filter((e) => e === 'retrying').length, 2);
      const dead = await routes.deadLetters('down');
      assert.deepEqual(dead.map((d) => d.id), [job.id]);
      assert.equal(dead[0]!.error?.code, 'DIMSE_CONNECT');
      // The peer comes up on its configured port; an operator retries the dead letter.
      const p = spawn('storescp', ['-aet', 'STORESCP', '-od', out, '+xa', '-uf', String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
      child.stop = () => new Promise<void>((res) => (p.exitCode !== null ? res() : (p.once('close', () => res()), p.kill('SIGTERM'))));
      await waitForPort(port);
      await routes.retryDeadLetter(job.id);
      await until(r, job.id, 'Success');
      assert.equal(readdirSync(out).length, 3);
      assert.deepEqual(await routes.deadLetters('down'), []);
    } finally {
      await routes.stop();
      await child.stop();
      await r.close();
    }
  });

  it('a folder destination exports with its template; test() checks it is writable', async () => {
    const root = mkdtempSync(join(dir, 'disk-'));
    const r = await repo('disk');
    const dest = new DiskDestination('folder', { root, template: '{PatientID}/{SeriesInstanceUID}/{InstanceNumber:03}.dcm' }, load);
    const routes = new RouteQueues(r, [dest], { pollMs: 10 });
    routes.start();
    try {
      await routes.test('folder');
      const job = await routes.enqueue('folder', writeInstances(2, '3'));
      await until(r, job.id, 'Success');
      assert.deepEqual(readdirSync(join(root, 'ANON01', '1.2.826.0.1.3680043.10.999.3.0')).sort(), ['001.dcm', '002.dcm']);
      await assert.rejects(routes.enqueue('nope', []), /No such route destination/);
    } finally {
      await routes.stop();
      await r.close();
    }
  });
});
