// Opens the auth tables (users, tokens, sessions, audit) in a SQLite file, creating them when
// needed. main.ts and the `users` command call this with <dataDir>/index.sqlite.
import Database from 'better-sqlite3';
import { AppError } from '../core/errors.ts';
import { migrateAuthSchema } from './sqlite-auth-schema.ts';
import { SqliteAuditStore } from './sqlite-audit-store.ts';
import { SqliteUserStore } from './sqlite-user-store.ts';

export interface SqliteAuth {
  users: SqliteUserStore;
  audit: SqliteAuditStore;
  close(): void;
}

export function openSqliteAuth(file: string, opts: { now?: () => Date } = {}): SqliteAuth {
  let db: Database.Database;
  try {
    db = new Database(file);
    // WAL lets `serve` and a `users` command use the file at once; busy_timeout waits out short locks.
    if (file !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
  } catch (cause) {
    throw new AppError('AUTH_STORE_UNAVAILABLE', { detail: `cannot open ${file}`, cause });
  }
  migrateAuthSchema(db);
  return {
    users: new SqliteUserStore(db, opts),
    audit: new SqliteAuditStore(db),
    close: () => db.close(),
  };
}
