// A PostgreSQL SqlDb in a fresh schema per test (t_<12 hex of sha1(file + name)>, dropped before use).
import pg from 'pg';
import { PgSqlDb } from '../../src/pipeline/pg-sql-db.ts';
import { PG_URL, schemaFor } from '../helpers/pg.ts';

export { PG_URL, pgAvailable, schemaFor } from '../helpers/pg.ts';

/** Drops and recreates the schema; the returned SqlDb owns its pool. */
export async function freshPgDb(file: string, name: string, max = 8): Promise<PgSqlDb> {
  const schema = schemaFor(file, name);
  const pool = new pg.Pool({ connectionString: PG_URL, max });
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.query(`CREATE SCHEMA "${schema}"`);
  return new PgSqlDb(pool, { schema, ownsPool: true });
}

/** Same schema again without dropping (a "restart"). */
export function reopenPgDb(file: string, name: string, max = 8): PgSqlDb {
  return new PgSqlDb(new pg.Pool({ connectionString: PG_URL, max }), { schema: schemaFor(file, name), ownsPool: true });
}
