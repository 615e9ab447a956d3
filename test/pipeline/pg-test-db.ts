// A PostgreSQL SqlDb in a fresh schema per test (t_<12 hex of sha1(file + name)>, dropped before use).
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PgSqlDb } from '../../src/pipeline/pg-sql-db.ts';

export const PG_URL = process.env.DICOMGATE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export function schemaFor(file: string, name: string): string {
  return `t_${createHash('sha1').update(file + name).digest('hex').slice(0, 12)}`;
}

export async function pgAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

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
