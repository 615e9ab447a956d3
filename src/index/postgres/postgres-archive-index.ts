// Opens (and migrates) the PostgreSQL index in its own schema.
import type { ArchiveIndex } from '../archive-index.ts';
import { SqlArchiveIndex } from '../sql/sql-archive-index.ts';
import { migratePostgres } from './migrations.ts';
import { PostgresDb, type PostgresOptions } from './postgres-db.ts';

export async function openPostgresIndex(opts: PostgresOptions): Promise<ArchiveIndex> {
  const db = new PostgresDb(opts);
  try {
    await migratePostgres(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return new SqlArchiveIndex(db);
}
