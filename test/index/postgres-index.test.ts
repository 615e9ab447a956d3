// The same ArchiveIndex contract as SQLite, against the local PostgreSQL (schema per suite).
import { after, describe, it } from 'node:test';
import { PG_URL, schemaFor } from '../helpers/pg.ts';
import pg from 'pg';
import { openPostgresIndex } from '../../src/index/postgres/postgres-archive-index.ts';
import { indexContract } from './index-contract.ts';

const URL = PG_URL;
const schemas: string[] = [];
let counter = 0;

async function reachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

async function freshSchema(): Promise<string> {
  const name = schemaFor('test/index/postgres-index.test.ts', `#${++counter}`);
  const c = new pg.Client({ connectionString: URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  await c.end();
  schemas.push(name);
  return name;
}

if (await reachable()) {
  indexContract('postgres', { open: async () => openPostgresIndex({ connectionString: URL, schema: await freshSchema() }) });
  after(async () => {
    const c = new pg.Client({ connectionString: URL });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  });
} else {
  describe('ArchiveIndex contract: postgres', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', (t) => t.skip('PostgreSQL not reachable'));
  });
}
