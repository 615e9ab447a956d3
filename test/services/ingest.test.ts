import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/core/errors.ts';
import type { ArchiveIndex } from '../../src/index/archive-index.ts';
import { resourceIds } from '../../src/index/resource-ids.ts';
import { openSqliteIndex } from '../../src/index/sqlite/sqlite-archive-index.ts';
import { IngestService, type IngestResult } from '../../src/services/ingest.ts';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.ts';
import { syntheticInstance, syntheticSeries } from '../helpers/synthetic-dicom.ts';

const source = { transport: 'dimse', remoteAe: 'SCU', calledAe: 'DICOMGATE' } as const;

function ok(r: IngestResult) {
  if (r.status === 'rejected') assert.fail(`rejected: ${r.code} ${r.reason}`);
  return r;
}

describe('IngestService', () => {
  let blobs: MemoryBlobStore;
  let index: ArchiveIndex;
  beforeEach(() => {
    blobs = new MemoryBlobStore();
    index = openSqliteIndex(':memory:');
  });
  afterEach(() => index.close());

  it('stores a file: blob written, rows committed, Orthanc ids returned', async () => {
    const data = syntheticInstance({ patientId: 'P1', studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4', size: 8 });
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const r = ok(await svc.ingest(data, source));
    assert.equal(r.status, 'stored');
    assert.deepEqual(r.ids, resourceIds({ patientId: 'P1', studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4' }));
    assert.equal(r.sopClassUid, '1.2.840.10008.5.1.4.1.1.2');
    const inst = await index.getResource('instance', r.ids.instance);
    assert.equal(inst?.file?.fileSize, data.length);
    assert.equal(inst?.file?.transferSyntaxUid, '1.2.840.10008.1.2.1');
    assert.equal(inst?.file?.source.remoteAe, 'SCU');
    assert.deepEqual(await blobs.get(inst!.file!.blobKey), data);
    assert.equal(blobs.blobs.size, 1);
  });

  it('a missing PatientID hashes as the empty string', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const r = ok(await svc.ingest(syntheticInstance({ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.5' }), source));
    assert.equal(r.ids.patient, 'da39a3ee-5e6b4b0d-3255bfef-95601890-afd80709');
  });

  it('rejects unparsable data and missing UIDs with a coded, PHI-free reason and stores nothing', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const garbage = await svc.ingest(Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.from([2, 0, 1, 0, 0x4f, 0x42, 0, 0, 0xff, 0xff])]), source);
    assert.equal(garbage.status, 'rejected');
    assert.equal(garbage.status === 'rejected' && garbage.code, 'DICOM_PARSE');
    const noUid = await svc.ingest(syntheticInstance({ patientName: 'Secret^Name', studyInstanceUid: '1.2', seriesInstanceUid: '', sopInstanceUid: '1.2.3.6' }), source);
    assert.equal(noUid.status === 'rejected' && noUid.code, 'DICOM_MISSING_UID');
    assert.match(noUid.status === 'rejected' ? noUid.reason : '', /SeriesInstanceUID/);
    assert.doesNotMatch(noUid.status === 'rejected' ? noUid.reason : '', /Secret/);
    assert.equal(blobs.blobs.size, 0);
    assert.equal((await index.statistics()).instances, 0);
  });

  it('keep-first: a duplicate is reported and its bytes are not kept', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const [a] = syntheticSeries('7', 1);
    const first = ok(await svc.ingest(a, source));
    const again = ok(await svc.ingest(a, source));
    assert.equal(again.status, 'duplicate');
    assert.deepEqual(again.ids, first.ids);
    // Within one batch too (the pre-check cannot see it; the index transaction does).
    const [b] = syntheticSeries('8', 1);
    const batch = await svc.ingestBatch([{ data: b, source }, { data: b, source }]);
    assert.deepEqual(batch.map((r) => r.status), ['stored', 'duplicate']);
    assert.equal(blobs.blobs.size, 2);
  });

  it('overwrite: the new file replaces the old one, whose blob is deleted', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'overwrite' });
    const uids = { patientId: 'P', studyInstanceUid: '3.1', seriesInstanceUid: '3.1.1', sopInstanceUid: '3.1.1.1' };
    ok(await svc.ingest(syntheticInstance({ ...uids, instanceNumber: 1 }), source));
    const newer = syntheticInstance({ ...uids, instanceNumber: 2 });
    const r = ok(await svc.ingest(newer, source));
    assert.equal(r.status, 'replaced');
    assert.equal(blobs.blobs.size, 1);
    const inst = await index.getResource('instance', r.ids.instance);
    assert.deepEqual(await blobs.get(inst!.file!.blobKey), newer);
  });

  it('group commit: a batch is one index transaction and every result is final', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const series = syntheticSeries('9', 20, { size: 4 });
    const results = await svc.ingestBatch(series.map((data) => ({ data, source })));
    assert.ok(results.every((r) => r.status === 'stored'));
    assert.equal((await index.statistics()).instances, 20);
    assert.equal(blobs.blobs.size, 20);
  });

  it('when the index commit fails, the new blobs are deleted and the batch is rejected as retryable', async () => {
    const failing: ArchiveIndex = Object.create(index, {
      storeInstances: { value: async () => { throw new AppError('INDEX_UNAVAILABLE', { detail: 'disk full' }); } },
    });
    const svc = new IngestService(blobs, failing, { duplicates: 'keep-first' });
    const results = await svc.ingestBatch(syntheticSeries('10', 3).map((data) => ({ data, source })));
    assert.ok(results.every((r) => r.status === 'rejected' && r.code === 'INDEX_UNAVAILABLE' && r.retryable));
    assert.equal(blobs.blobs.size, 0);
  });

  it('when the blob store fails, nothing is indexed', async () => {
    const broken = Object.create(blobs, { put: { value: async () => { throw new AppError('STORE_UNAVAILABLE', { detail: 'EIO' }); } } });
    const svc = new IngestService(broken, index, { duplicates: 'keep-first' });
    const [r] = await svc.ingestBatch([{ data: syntheticSeries('11', 1)[0], source }]);
    assert.equal(r.status === 'rejected' && r.code, 'STORE_UNAVAILABLE');
    assert.equal((await index.statistics()).instances, 0);
  });

  it('ingestStaged: commits a streamed writer, or aborts it for a duplicate or bad data', async () => {
    const svc = new IngestService(blobs, index, { duplicates: 'keep-first' });
    const [data] = syntheticSeries('12', 1, { size: 4 });
    const w = await blobs.open();
    await w.write(data.subarray(0, 100));
    await w.write(data.subarray(100));
    const r = ok(await svc.ingestStaged(w, source));
    assert.equal(r.status, 'stored');
    assert.ok(await blobs.exists(w.key));
    const dup = await blobs.open();
    await dup.write(data);
    assert.equal((await svc.ingestStaged(dup, source)).status, 'duplicate');
    assert.equal(await blobs.exists(dup.key), false);
    const bad = await blobs.open();
    await bad.write(Buffer.from('not dicom at all'));
    assert.equal((await svc.ingestStaged(bad, source)).status, 'rejected');
    assert.equal(blobs.blobs.size, 1);
  });
});
