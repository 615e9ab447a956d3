// The contract suite against the real PostgreSQL (127.0.0.1:5432, db test, user postgres), one schema per test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PG_URL, schemaFor as schemaIn } from '../helpers/pg.ts';
import pg from 'pg';
import { PgPseudonymStore } from '../../src/pseudonyms/postgres/pg-pseudonym-store.ts';
import type { PseudonymStore } from '../../src/pseudonyms/pseudonym-store.ts';
import { isAppError } from '../../src/core/errors.ts';
import { POLICY, pseudonymStoreContract } from './contract.ts';

const FILE = 'test/pseudonyms/postgres-store.test.ts';
const schemaFor = (name: string) => schemaIn(FILE, name);
const pool = new pg.Pool({ connectionString: PG_URL, max: 12 });
const schemas: string[] = [];

after(async () => {
  for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await pool.end();
});

async function freshStore(name: string): Promise<PseudonymStore> {
  const schema = schemaFor(name);
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  schemas.push(schema);
  const s = new PgPseudonymStore(pool, { schema });
  await s.migrate();
  return s;
}

pseudonymStoreContract('postgres', freshStore);

describe('PgPseudonymStore specifics', () => {
  let other: pg.Pool;
  before(() => {
    other = new pg.Pool({ connectionString: PG_URL, max: 8 });
  });
  after(() => other.end());

  it('two gateways (pools) racing on one new patient agree', async () => {
    const a = await freshStore('two-pools');
    const b = new PgPseudonymStore(other, { schema: schemaFor('two-pools') });
    await b.migrate();
    const calls = Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).mapUids('p', { patientId: 'NEW', issuer: '' }, ['1.4.1', `1.4.sop.${i}`], POLICY));
    const maps = await Promise.all(calls);
    assert.equal(new Set(maps.map((m) => m.get('1.4.1'))).size, 1);
    assert.equal((await a.listPatients('p')).length, 1);
  });

  it('reports driver failures as KEYS_UNAVAILABLE with the SQLSTATE, never the key', async () => {
    const unmigrated = new PgPseudonymStore(pool, { schema: schemaFor('never-migrated') });
    await pool.query(`DROP SCHEMA IF EXISTS ${schemaFor('never-migrated')} CASCADE`);
    await assert.rejects(unmigrated.getOrCreatePatient('p', { patientId: 'SECRET-MRN', issuer: '' }, POLICY), (e) => {
      assert.ok(isAppError(e, 'KEYS_UNAVAILABLE'));
      assert.match((e as Error).message, /PostgreSQL 42/);
      assert.ok(!(e as Error).message.includes('SECRET-MRN'));
      return true;
    });
  });
});
