// Tables of the auth module inside the file it is given (main.ts passes <dataDir>/index.sqlite).
// Own table names (auth_*, audit_log) and own version table, so it never collides with the
// index's migrations. Types and statements stay within what PostgreSQL accepts too (TEXT ids,
// ISO timestamps as TEXT, 0/1 flags), except the audit sequence (INTEGER PRIMARY KEY here,
// BIGSERIAL there).
import type Database from 'better-sqlite3';
import { AppError } from '../core/errors.ts';

const MIGRATIONS: readonly string[] = [
  // 1
  `CREATE TABLE auth_users (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL UNIQUE,
     password_hash TEXT NOT NULL,
     roles TEXT NOT NULL,
     projects TEXT NOT NULL,
     disabled INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL
   );
   CREATE TABLE auth_tokens (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE,
     created_at TEXT NOT NULL,
     expires_at TEXT,
     revoked_at TEXT,
     last_used_at TEXT
   );
   CREATE INDEX auth_tokens_user ON auth_tokens(user_id);
   CREATE TABLE auth_sessions (
     id_hash TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES auth_users(id) ON DELETE CASCADE,
     csrf_token TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL
   );
   CREATE INDEX auth_sessions_expiry ON auth_sessions(expires_at);
   CREATE TABLE audit_log (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     actor TEXT,
     action TEXT NOT NULL,
     resource TEXT,
     ip TEXT,
     outcome TEXT NOT NULL,
     detail TEXT
   );
   CREATE INDEX audit_log_actor ON audit_log(actor, seq);
   CREATE INDEX audit_log_action ON audit_log(action, seq);
   -- Append-only: the database itself refuses edits and deletions of audit records.
   CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
   CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;`,
];

export function migrateAuthSchema(db: Database.Database): void {
  try {
    db.exec('CREATE TABLE IF NOT EXISTS auth_schema_version (version INTEGER NOT NULL)');
    // IMMEDIATE: `serve` and a `users` command may open the file at once; one migrates, the other waits.
    db.transaction(() => {
      const row = db.prepare('SELECT MAX(version) AS v FROM auth_schema_version').get() as { v: number | null };
      const current = row.v ?? 0;
      if (current > MIGRATIONS.length) {
        throw new AppError('AUTH_STORE_UNAVAILABLE', { detail: `auth schema version ${current} is newer than this dicomgate (${MIGRATIONS.length})` });
      }
      for (let v = current + 1; v <= MIGRATIONS.length; v++) {
        db.exec(MIGRATIONS[v - 1]);
        db.prepare('INSERT INTO auth_schema_version (version) VALUES (?)').run(v);
      }
    }).immediate();
  } catch (cause) {
    if (cause instanceof AppError) throw cause;
    throw new AppError('AUTH_STORE_UNAVAILABLE', { detail: 'cannot create auth tables', cause });
  }
}
