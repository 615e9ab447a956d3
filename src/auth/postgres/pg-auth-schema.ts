// The auth tables on PostgreSQL: same names and columns as the SQLite schema
// (src/auth/sqlite-auth-schema.ts), BIGSERIAL for the audit sequence, and a trigger function
// that keeps audit_log append-only. Applied under an advisory lock, so two processes starting
// at once migrate once.
import type pg from 'pg';

export const PG_AUTH_MIGRATIONS: readonly string[] = [
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
     seq BIGSERIAL PRIMARY KEY,
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
   CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
     $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
   CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();`,
];

export async function migratePgAuthSchema(client: pg.PoolClient): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('dicomgate-auth-schema'))");
    await client.query('CREATE TABLE IF NOT EXISTS auth_schema_version (version INTEGER NOT NULL)');
    const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM auth_schema_version');
    const current = rows[0].v ?? 0;
    if (current > PG_AUTH_MIGRATIONS.length) throw new Error(`auth schema version ${current} is newer than this dicomgate (${PG_AUTH_MIGRATIONS.length})`);
    for (let v = current + 1; v <= PG_AUTH_MIGRATIONS.length; v++) {
      await client.query(PG_AUTH_MIGRATIONS[v - 1]);
      await client.query('INSERT INTO auth_schema_version (version) VALUES ($1)', [v]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  }
}
