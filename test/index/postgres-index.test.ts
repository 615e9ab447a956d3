// The same ArchiveIndex contract as SQLite, against the local PostgreSQL (schema per suite).
import { after, describe, it } from 'node:test';
import { dropSchemas, PG_URL, pgAvailable, schemaFor } from '../helpers/pg.ts';
import { openPostgresIndex } from '../../src/index/postgres/postgres-archive-index.ts';
import { indexContract } from './index-contract.ts';

const schemas: string[] = [];
let counter = 0;

async function freshSchema(): Promise<string> {
  const name = schemaFor('test/index/postgres-index.test.ts', `#${++counter}`);
  await dropSchemas(name);
  schemas.push(name);
  return name;
}

if (await pgAvailable()) {
  indexContract('postgres', { open: async () => openPostgresIndex({ connectionString: PG_URL, schema: await freshSchema() }) });
  after(() => dropSchemas(...schemas));
} else {
  describe('ArchiveIndex contract: postgres', () => {
    it('needs PostgreSQL on 127.0.0.1:5432', (t) => t.skip('PostgreSQL not reachable'));
  });
}
