// WADO-RS from the file blob store goes through the pooled writer (sendPooled in wado.ts): blobs
// read into recycled buffers, written straight to the socket. Checks every part comes back byte for
// byte (sizes growing and shrinking, so buffers are reused and replaced), the Content-Length is the
// body's length, the security headers are there, and a blob that vanished cuts the answer short.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteIndex } from '../../src/index/sqlite/sqlite-archive-index.ts';
import { IngestService } from '../../src/services/ingest.ts';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { mediaTypeParams, readMultipart } from '../../src/http/dicomweb/multipart.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { FakePseudonymizer } from '../deid/helpers.ts';
import { buildHarness } from './app-harness.ts';

const STUDY = '1.2.826.0.2.7';
const SERIES = '1.2.826.0.2.7.1';

async function partsOf(body: Buffer, contentType: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await readMultipart((async function* () { yield body; })(), mediaTypeParams(contentType).params.boundary, async () => {
    const got: Buffer[] = [];
    return { write: async (c) => void got.push(Buffer.from(c)), end: async () => void out.push(Buffer.concat(got)) };
  });
  return out;
}

test('WADO-RS series from the file store: every part byte for byte, exact Content-Length, security headers; a missing blob cuts it short', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-wado-pooled-'));
  const blobs = await FsBlobStore.create(join(dir, 'blobs'));
  const index = openSqliteIndex(':memory:');
  const ingest = new IngestService(blobs, index, { duplicates: 'keep-first' });
  const pseudonymizer = new FakePseudonymizer();
  const h = await buildHarness({
    surfaces: {
      rest: {
        archive: { index, blobs, ingest },
        system: { aet: 'DICOMGATE', dicomPort: 4242, httpPort: 8042, version: 'test' },
        anonymize: { projects: {}, defaultProject: 'basic', pseudonymizerFor: () => pseudonymizer },
      },
    },
  });
  try {
    // Pixel sizes up and down: a later, bigger instance cannot reuse a smaller buffer.
    const sides = [8, 64, 16, 256, 4, 128, 512, 32, 2, 300, 64, 64];
    const originals = sides.map((side, i) =>
      syntheticInstance({ patientId: 'PAT-P', studyInstanceUid: STUDY, seriesInstanceUid: SERIES, sopInstanceUid: `${SERIES}.${i + 1}`, modality: 'CT', instanceNumber: i + 1, size: side }),
    );
    for (const o of originals) assert.equal((await ingest.ingest(o, { transport: 'import' })).status, 'stored');
    const auth = { authorization: h.basic('researcher'), accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' };

    const r = await h.app.inject({ url: `/dicom-web/studies/${STUDY}/series/${SERIES}`, headers: auth });
    assert.equal(r.statusCode, 200);
    assert.equal(Number(r.headers['content-length']), r.rawPayload.length, 'Content-Length is the body length');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    const got = await partsOf(r.rawPayload, String(r.headers['content-type']));
    assert.equal(got.length, originals.length);
    const bySop = (b: Buffer) => originals.findIndex((o) => o.equals(b));
    assert.deepEqual(got.map(bySop).sort((a, b) => a - b), originals.map((_, i) => i), 'every part is one stored instance, each once');

    // A blob gone from disk (outside dicomgate): the answer is cut short, never padded or invented.
    const victim = (await index.listInstances('series', (await index.findByUid('series', SERIES))[0]!.id))[3]!;
    unlinkSync(blobs.pathFor(victim.file!.blobKey));
    const cut = await h.app.inject({ url: `/dicom-web/studies/${STUDY}/series/${SERIES}`, headers: auth }).catch((e: Error) => e);
    if (!(cut instanceof Error)) assert.ok(cut.rawPayload.length < Number(cut.headers['content-length']), 'shorter than announced');
  } finally {
    await h.close();
    await index.close();
    await blobs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
