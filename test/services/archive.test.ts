import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PG_URL, schemaFor } from '../helpers/pg.ts';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { isAppError } from '../../src/core/errors.ts';
import { Secret } from '../../src/core/secret.ts';
import { openArchive } from '../../src/services/archive.ts';
import { syntheticSeries } from '../helpers/synthetic-dicom.ts';


describe('openArchive', () => {
  it('creates <data>/index.sqlite and <data>/blobs and stores through its ingest service', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-archive-'));
    try {
      const a = await openArchive(join(dir, 'data'), { duplicates: 'keep-first' });
      const r = await a.ingest.ingest(syntheticSeries('55', 1)[0], { transport: 'rest' });
      assert.equal(r.status, 'stored');
      await a.close();
      assert.ok(existsSync(join(dir, 'data', 'index.sqlite')));
      assert.ok(existsSync(join(dir, 'data', 'blobs')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('index.kind postgres needs postgres.url, and then uses PostgreSQL', async (t) => {
    await assert.rejects(
      openArchive(join(tmpdir(), 'dg-unused'), { duplicates: 'keep-first', indexKind: 'postgres', postgres: { url: null, schema: 'x' } }),
      (e) => isAppError(e, 'CONFIG_INVALID'),
    );
    const probe = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    try {
      await probe.connect();
    } catch {
      t.skip('PostgreSQL not reachable');
      return;
    }
    const schema = schemaFor('test/services/archive.test.ts', '#postgres');
    await probe.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const dir = await mkdtemp(join(tmpdir(), 'dg-archive-'));
    try {
      const a = await openArchive(dir, { duplicates: 'keep-first', indexKind: 'postgres', postgres: { url: new Secret(PG_URL, 'test'), schema } });
      const r = await a.ingest.ingest(syntheticSeries('56', 1)[0], { transport: 'rest' });
      assert.equal(r.status, 'stored');
      assert.equal((await a.index.statistics()).instances, 1);
      await a.close();
      assert.equal(existsSync(join(dir, 'index.sqlite')), false);
    } finally {
      await probe.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await probe.end();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
