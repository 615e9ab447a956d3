import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDb } from '../../src/index/sqlite/sqlite-db.ts';

test('WAL checkpoints happen on the checkpointer thread, not in the COMMITs of the writer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-ckpt-'));
  const path = join(dir, 'x.sqlite');
  const db = new SqliteDb(path, { synchronous: 'NORMAL' });
  try {
    await db.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
    const before = statSync(path).size;
    // ~4 MB of pages: far below the writer's own automatic threshold (64 MB of WAL), so only the
    // checkpointer can move them into the database file.
    for (let i = 0; i < 40; i++) {
      await db.transaction(async (tx) => {
        for (let j = 0; j < 100; j++) await tx.run('INSERT INTO t (v) VALUES (?)', [Buffer.alloc(1000, j)]);
      });
    }
    assert.ok(statSync(`${path}-wal`).size > 3_000_000, 'the rows are in the WAL');
    let after = statSync(path).size;
    for (let i = 0; i < 60 && after < before + 3_000_000; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = statSync(path).size;
    }
    assert.ok(after >= before + 3_000_000, `database file grew by ${after - before} bytes`);
    assert.equal((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM t'))?.n, 4000);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
