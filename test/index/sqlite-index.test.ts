import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MAIN_TAGS, foldedColumn } from '../../src/index/main-tags.ts';
import { MIGRATIONS } from '../../src/index/sqlite/migrations.ts';
import { openSqliteIndex } from '../../src/index/sqlite/sqlite-archive-index.ts';
import { TABLES } from '../../src/index/sql/tables.ts';
import type { InstanceRecord } from '../../src/index/archive-index.ts';
import { indexContract, record } from './index-contract.ts';

indexContract('sqlite', { open: async () => openSqliteIndex(':memory:') });

describe('SQLite index', () => {
  it('has a column for every main tag (a new tag needs a migration)', () => {
    const db = new Database(':memory:');
    for (const m of MIGRATIONS) db.exec(m.sql);
    for (const m of MAIN_TAGS) {
      const cols = (db.prepare(`PRAGMA table_info(${TABLES[m.level].table})`).all() as { name: string }[]).map((c) => c.name);
      assert.ok(cols.includes(m.column), `${m.keyword} → ${TABLES[m.level].table}.${m.column}`);
      if (m.vr === 'PN') assert.ok(cols.includes(foldedColumn(m)), `${m.keyword} folded column`);
    }
    db.close();
  });

  it('migrates a file once, keeps data across reopen, and runs WAL with synchronous=FULL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dg-idx-'));
    try {
      const path = join(dir, 'index.sqlite');
      const a = openSqliteIndex(path);
      const [o] = await a.storeInstances([record({})], 'keep-first');
      await a.close();
      const b = openSqliteIndex(path);
      assert.ok(await b.getResource('instance', o.ids.instance));
      await b.close();
      const raw = new Database(path);
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      assert.deepEqual(raw.prepare('SELECT version FROM schema_migrations').all(), MIGRATIONS.map((m) => ({ version: m.version })));
      raw.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('performance sanity: 100k instances over 10k studies, wildcard name + date-range study search', async (t) => {
    const index = openSqliteIndex(':memory:');
    const names = ['DOE^JOHN', 'DOE^JANE', 'SMITH^ANN', 'MULLER^JURGEN', 'ROE^RICHARD'];
    const records: InstanceRecord[] = [];
    for (let s = 0; s < 10_000; s++) {
      const day = String(1 + (s % 28)).padStart(2, '0');
      const month = String(1 + (Math.floor(s / 28) % 12)).padStart(2, '0');
      for (let i = 0; i < 10; i++) {
        records.push(record({
          PatientID: `P${s % 2000}`, PatientName: names[s % names.length], StudyInstanceUID: `2.25.${s}`,
          SeriesInstanceUID: `2.25.${s}.1`, SOPInstanceUID: `2.25.${s}.1.${i}`, StudyDate: `20${10 + (s % 15)}${month}${day}`,
          Modality: 'CT', InstanceNumber: String(i + 1),
        }));
      }
    }
    let t0 = performance.now();
    const out = await index.storeInstances(records, 'keep-first');
    const insertMs = performance.now() - t0;
    assert.equal(out.length, 100_000);
    assert.equal((await index.statistics()).studies, 10_000);
    const times: number[] = [];
    let n = 0;
    for (let r = 0; r < 51; r++) {
      t0 = performance.now();
      const page = await index.query({ level: 'study', keys: { PatientName: 'DOE*', StudyDate: '20150101-20181231' }, limit: 100 });
      times.push(performance.now() - t0);
      n = page.matches.length;
    }
    times.sort((a, b) => a - b);
    t.diagnostic(`100k instances in one transaction: ${(insertMs / 1000).toFixed(2)} s; study search (PatientName=DOE*, StudyDate range, limit 100): ${n} matches, median ${times[25].toFixed(2)} ms`);
    console.log(`# perf: insert 100k ${(insertMs / 1000).toFixed(2)} s; study search median ${times[25].toFixed(2)} ms`);
    assert.equal(n, 100);
    await index.close();
  });
});
