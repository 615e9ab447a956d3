// Opens the archive of a data folder: <dataDir>/blobs (FsBlobStore) + <dataDir>/index.sqlite
// (SQLite index), and the ingest service over them. Used by the CLI and by main.ts for serve.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ArchiveIndex, DuplicatePolicy } from '../index/archive-index.ts';
import { openSqliteIndex } from '../index/sqlite/sqlite-archive-index.ts';
import type { Secret } from '../core/secret.ts';
import { FsBlobStore } from '../storage/fs-blob-store.ts';
import { IngestService, type IngestOptions } from './ingest.ts';

export interface ArchiveOptions {
  /** What a second instance with a known SOP Instance UID does (config storage.duplicates). */
  duplicates: DuplicatePolicy;
  /** config index.kind: 'sqlite' (default) keeps <dataDir>/index.sqlite; 'postgres' needs `postgres`. */
  indexKind?: 'sqlite' | 'postgres';
  /** config postgres.url (a Secret: only this adapter reveals it) and postgres.schema. */
  postgres?: { url: Secret | null; schema: string };
  log?: Logger;
  /** IngestOptions.onStored: told of every newly stored instance (the pipeline runtime). */
  onStored?: IngestOptions['onStored'];
}

export interface Archive {
  readonly dataDir: string;
  readonly blobs: FsBlobStore;
  readonly index: ArchiveIndex;
  readonly ingest: IngestService;
  close(): Promise<void>;
}

export const INDEX_FILE = 'index.sqlite';
export const BLOBS_DIR = 'blobs';

export async function openArchive(dataDir: string, opts: ArchiveOptions): Promise<Archive> {
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (e) {
    throw new AppError('STORE_UNAVAILABLE', { detail: `cannot create data folder: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, cause: e });
  }
  const blobs = await FsBlobStore.create(join(dataDir, BLOBS_DIR));
  const index = await openIndex(dataDir, opts);
  const ingest = new IngestService(blobs, index, { duplicates: opts.duplicates, ...(opts.log ? { log: opts.log } : {}), ...(opts.onStored ? { onStored: opts.onStored } : {}) });
  return {
    dataDir,
    blobs,
    index,
    ingest,
    async close() {
      await index.close();
      await blobs.close();
    },
  };
}

async function openIndex(dataDir: string, opts: ArchiveOptions): Promise<ArchiveIndex> {
  if ((opts.indexKind ?? 'sqlite') === 'sqlite') return openSqliteIndex(join(dataDir, INDEX_FILE));
  const url = opts.postgres?.url;
  if (!url) throw new AppError('CONFIG_INVALID', { detail: 'index.kind "postgres" needs postgres.url (e.g. "env:DICOMGATE_PG_URL")' });
  // Loaded on demand: SQLite users do not pay for the pg driver's import.
  const { openPostgresIndex } = await import('../index/postgres/postgres-archive-index.ts');
  return openPostgresIndex({ connectionString: url.reveal(), schema: opts.postgres!.schema });
}
