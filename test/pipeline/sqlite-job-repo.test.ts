import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SqlJobRepo } from '../../src/pipeline/sql-job-repo.ts';
import { SqliteSqlDb } from '../../src/pipeline/sqlite-sql-db.ts';
import { jobRepoContract } from './job-repo-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'dg-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

jobRepoContract('sqlite', async () => {
  const repo = new SqlJobRepo(new SqliteSqlDb(join(dir, `jobs-${n++}.db`)));
  await repo.migrate();
  return repo;
});
