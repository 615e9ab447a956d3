// An in-memory archive (MemoryBlobStore + SQLite ':memory:' index + IngestService) for REST tests.
import { openSqliteIndex } from '../../src/index/sqlite/sqlite-archive-index.ts';
import { IngestService } from '../../src/services/ingest.ts';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.ts';
import type { RestDeps } from '../../src/http/rest/rest-deps.ts';
import { FakePseudonymizer } from '../deid/helpers.ts';
import { buildHarness, type Harness } from './app-harness.ts';

export type MemoryArchive = ReturnType<typeof memoryArchive>;

export function memoryArchive(now?: () => Date): { rest: Omit<RestDeps, 'audit' | 'logger'>; close(): Promise<void> } {
  const blobs = new MemoryBlobStore();
  const index = openSqliteIndex(':memory:');
  const ingest = new IngestService(blobs, index, { duplicates: 'keep-first' });
  const pseudonymizer = new FakePseudonymizer();
  return {
    rest: {
      archive: { index, blobs, ingest },
      system: { aet: 'DICOMGATE', dicomPort: 4242, httpPort: 8042, version: 'test' },
      anonymize: { projects: {}, defaultProject: 'basic', pseudonymizerFor: () => pseudonymizer },
      ...(now ? { now } : {}),
    },
    async close() {
      await index.close();
      await blobs.close();
    },
  };
}

/** Runs `fn` against a REST/DICOMweb harness over a fresh in-memory archive, then closes both. */
export async function withMemoryArchive(fn: (h: Harness, archive: MemoryArchive) => Promise<void>): Promise<void> {
  const archive = memoryArchive();
  const h = await buildHarness({ surfaces: { rest: archive.rest } });
  try {
    await fn(h, archive);
  } finally {
    await h.close();
    await archive.close();
  }
}
