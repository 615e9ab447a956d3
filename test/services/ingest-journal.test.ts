// C-STORE's one-flush path (services/ingest.ts, storage/fs-blob-store.ts): a journaled writer's
// index row commits without a WAL sync, and recoverUnindexed re-indexes, after a power loss that
// dropped such rows, every blob of the journal's folders. Also: ingestStaged answers only after
// the blob is durable and the row committed.
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveIndex, InstanceRecord, StoreOptions } from '../../src/index/archive-index.ts';
import { openSqliteIndex } from '../../src/index/sqlite/sqlite-archive-index.ts';
import { IngestService, type IngestResult } from '../../src/services/ingest.ts';
import type { BlobWriter } from '../../src/storage/blob-store.ts';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { syntheticSeries } from '../helpers/synthetic-dicom.ts';

const source = { transport: 'dimse', remoteAe: 'SCU', calledAe: 'DICOMGATE' } as const;

async function staged(blobs: FsBlobStore, data: Buffer): Promise<BlobWriter> {
  const w = await blobs.open({ journal: true });
  await w.write(data);
  return w;
}

function stored(r: IngestResult): asserts r is Exclude<IngestResult, { status: 'rejected' }> {
  assert.equal(r.status, 'stored', r.status === 'rejected' ? r.reason : '');
}

describe('IngestService with the blob journal', () => {
  let dir: string;
  let blobs: FsBlobStore;
  let index: ArchiveIndex;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dg-ingest-journal-'));
    blobs = await FsBlobStore.create(join(dir, 'blobs'));
    index = openSqliteIndex(join(dir, 'index.sqlite'));
  });
  afterEach(async () => {
    await index.close();
    await blobs.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('journaled writers commit without a sync; plain ones and batches keep durable commits', async () => {
    const calls: (StoreOptions | undefined)[] = [];
    const spy: ArchiveIndex = Object.create(index, {
      storeInstances: { value: (r: readonly InstanceRecord[], d: 'keep-first', o?: StoreOptions) => (calls.push(o), index.storeInstances(r, d, o)) },
    });
    const svc = new IngestService(blobs, spy, { duplicates: 'keep-first' });
    const [a, b, c] = syntheticSeries('41', 3, { size: 4 });
    stored(await svc.ingestStaged(await staged(blobs, a), source));
    const plain = await blobs.open();
    await plain.write(b);
    stored(await svc.ingestStaged(plain, source));
    stored(await svc.ingest(c, source));
    assert.deepEqual(calls, [{ durable: false }, undefined, undefined]);
  });

  it('no answer before the blob is durable and the row committed', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const [data] = syntheticSeries('42', 1, { size: 4 });
    const w = await staged(blobs, data);
    let commitDone!: () => void;
    const gate = new Promise<void>((r) => (commitDone = r));
    const realCommit = w.commit.bind(w);
    let committed = false;
    const gated: BlobWriter = Object.create(w, {
      commit: { value: async () => { await gate; const k = await realCommit(); committed = true; return k; } },
    });
    let answered = false;
    const result = svc.ingestStaged(gated, source).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(answered, false, 'answered while the blob commit was still pending');
    assert.equal((await index.statistics()).instances, 0);
    commitDone();
    const r = await result;
    stored(r);
    assert.ok(committed);
    assert.ok(await index.getResource('instance', r.ids.instance), 'row committed before the answer');
  });

  it('recovery after a power loss: blobs of journaled folders without rows are indexed again; duplicates go', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const series = syntheticSeries('43', 5, { size: 4 });
    const results = [];
    for (const d of series) results.push(await svc.ingestStaged(await staged(blobs, d), source));
    results.forEach(stored);
    const keep = (await index.findByUid('instance', results[0].status === 'stored' ? results[0].sopInstanceUid : ''))[0].file!.blobKey;
    // A power loss that drops the last three commits: an index that has only the first two rows.
    // (The index file of that moment is rebuilt by storing those two into a fresh index.)
    await index.close();
    await rm(join(dir, 'index.sqlite'), { force: true });
    await rm(join(dir, 'index.sqlite-wal'), { force: true });
    await rm(join(dir, 'index.sqlite-shm'), { force: true });
    index = openSqliteIndex(join(dir, 'index.sqlite'));
    // And a stray copy of an indexed instance's blob (a keep-first duplicate whose delete was lost).
    const w = await blobs.open({ journal: true });
    await w.write(Buffer.from('x'));
    const strayKey = await w.commit();
    w.release!();
    await copyFile(blobs.pathFor(keep), blobs.pathFor(strayKey));
    await blobs.close();
    blobs = await FsBlobStore.create(join(dir, 'blobs'));
    const again = new IngestService(blobs, index, { duplicates: 'keep-first' });
    for (const d of series.slice(0, 2)) stored(await again.ingest(d, source));
    const before = (await blobs.listKeys()).length;
    assert.equal(before, 5 + 2 + 1);

    const r = await again.recoverUnindexed();
    // The first two were ingested again by ingest() (new blobs), so their journaled originals
    // are unreferenced copies too: removed, like the stray one.
    assert.deepEqual(r, { reindexed: 3, removed: 3, unreadable: 0 });
    assert.equal((await index.statistics()).instances, 5);
    const keys = await blobs.listKeys();
    assert.equal(keys.length, 5, 'one blob per instance, no orphans left');
    for (const k of keys) assert.ok(await index.hasBlobKey(k));
    assert.equal(blobs.journalSize, 0, 'journal emptied after recovery');
    assert.deepEqual(await again.recoverUnindexed(), { reindexed: 0, removed: 0, unreadable: 0 });
  });

  it('ingestChunks (gateway): journaled per project, and recovery gives the row its project back', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const [plain, a, b] = syntheticSeries('45', 3, { size: 4 });
    stored(await svc.ingestStaged(await staged(blobs, plain), source));
    const ra = await svc.ingestChunks([a.subarray(0, 50), a.subarray(50)], { ...source, project: 'basic' });
    stored(ra);
    stored(await svc.ingestChunks([b], { ...source, project: 'basic' }));
    const keyOf = async (uid: string) => (await index.findByUid('instance', uid))[0].file!.blobKey;
    const projectKey = await keyOf(ra.sopInstanceUid);
    await blobs.close();
    blobs = await FsBlobStore.create(join(dir, 'blobs'));
    const byProject = new Map((await blobs.journaledBlobs()).map((j) => [j.key, j.project]));
    assert.equal(byProject.get(projectKey), 'basic');
    assert.equal(byProject.size, 3);
    assert.equal([...byProject.values()].filter((p) => p === undefined).length, 1, 'the plain C-STORE has a folder of its own');
    // Power loss dropping every row: recovery brings all three back, the gateway ones with their project.
    await index.close();
    for (const f of ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm']) await rm(join(dir, f), { force: true });
    index = openSqliteIndex(join(dir, 'index.sqlite'));
    const again = new IngestService(blobs, index, { duplicates: 'keep-first' });
    assert.deepEqual(await again.recoverUnindexed(), { reindexed: 3, removed: 0, unreadable: 0 });
    const [row] = await index.findByUid('instance', ra.sopInstanceUid);
    assert.equal(row.file?.source.project, 'basic');
    assert.equal(row.file?.source.transport, 'dimse');
  });

  it('ingestChunks with publishAfter: the blob is committed only after it settles, and not at all when it fails', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const [a, b] = syntheticSeries('46', 2, { size: 4 });
    const commits: string[] = [];
    const watched = Object.create(blobs, {
      open: {
        value: async (o: Parameters<FsBlobStore['open']>[0]) => {
          const w = await blobs.open(o);
          return Object.create(w, { commit: { value: async () => { commits.push('commit'); return w.commit(); } } }) as BlobWriter;
        },
      },
    }) as FsBlobStore;
    const gated = new IngestService(watched, index, { duplicates: 'keep-first' });
    let release!: () => void;
    const flushed = new Promise<void>((r) => (release = r));
    const pending = gated.ingestChunks([a], { ...source, project: 'basic' }, undefined, flushed);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(commits, [], 'no blob commit while the key flush runs');
    assert.equal((await index.statistics()).instances, 0);
    release();
    stored(await pending);
    assert.deepEqual(commits, ['commit']);

    const failed = await svc.ingestChunks([b], { ...source, project: 'basic' }, undefined, Promise.reject(new Error('fdatasync: EIO')));
    assert.equal(failed.status, 'rejected');
    assert.equal(failed.status === 'rejected' && failed.code, 'KEYS_UNAVAILABLE');
    assert.equal(failed.status === 'rejected' && failed.retryable, true);
    assert.equal((await index.statistics()).instances, 1, 'the object whose mappings were not flushed is not archived');
  });

  it('the journal is trimmed as commits go on, after an index sync', async () => {
    let syncs = 0;
    const sync = index.syncCommitted!.bind(index);
    const counting: ArchiveIndex = Object.create(index, { syncCommitted: { value: async () => { syncs++; await sync(); } } });
    const svc = new IngestService(blobs, counting, { duplicates: 'keep-first' });
    const series = syntheticSeries('44', 128 * 6 + 1, { size: 0 });
    for (const d of series) stored(await svc.ingestStaged(await staged(blobs, d), source));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(syncs >= 1, 'trimmed at least once');
    assert.ok(blobs.journalSize <= 5, `journal holds ${blobs.journalSize} folders`);
    assert.equal((await index.statistics()).instances, series.length);
  });
});
