import { SqlJobRepo } from '../../src/pipeline/sql-job-repo.ts';
import { jobRepoContract } from './job-repo-contract.ts';
import { freshPgDb, pgAvailable } from './pg-test-db.ts';
import { describe, it } from 'node:test';

const FILE = 'test/pipeline/pg-job-repo.test.ts';

if (await pgAvailable()) {
  jobRepoContract('postgres', async (name) => {
    const repo = new SqlJobRepo(await freshPgDb(FILE, name));
    await repo.migrate();
    return repo;
  });
} else {
  describe('JobRepo contract (postgres)', () => it('PostgreSQL not reachable', (t) => t.skip('no PostgreSQL at 127.0.0.1:5432')));
}
