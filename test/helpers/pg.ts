// The test PostgreSQL (127.0.0.1:5432, trust auth, database `test`; override with
// DICOMGATE_TEST_PG_URL) and the schema-per-test naming every PostgreSQL test uses.
import { createHash } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.DICOMGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `t_<12 hex of sha1(file + name)>`: stable per test, distinct across tests. */
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

/** Drops these schemas (if they exist) with all they hold. */
export async function dropSchemas(...names: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    for (const s of names) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await c.end();
  }
}
