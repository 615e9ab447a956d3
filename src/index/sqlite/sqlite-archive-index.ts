// Opens (and migrates) the SQLite index: `<dataDir>/index.sqlite`, or ':memory:' for tests.
import type { ArchiveIndex } from '../archive-index.ts';
import { SqlArchiveIndex } from '../sql/sql-archive-index.ts';
import { migrate } from './migrations.ts';
import { SqliteDb, type SqliteOptions } from './sqlite-db.ts';

export function openSqliteIndex(path: string, opts: SqliteOptions = {}): ArchiveIndex {
  const db = new SqliteDb(path, opts);
  try {
    migrate(db);
  } catch (e) {
    void db.close();
    throw e;
  }
  return new SqlArchiveIndex(db);
}
