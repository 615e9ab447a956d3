// The study searches QIDO-RS and /tools/find send most (patient name prefix, date range, exact
// patient ID, case-insensitive name) must be index searches, not table scans: checked on SQLite's
// EXPLAIN QUERY PLAN for the SQL the matching engine compiles (no timing involved).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { compileQuery, type MatchQuery } from '../../src/index/matching.ts';
import { sqliteDialect } from '../../src/index/sql/dialect.ts';
import { MIGRATIONS } from '../../src/index/sqlite/migrations.ts';

function plan(q: MatchQuery): string[] {
  const db = new Database(':memory:');
  try {
    for (const m of MIGRATIONS) db.exec(m.sql);
    const c = compileQuery(q, sqliteDialect);
    return db.prepare(`EXPLAIN QUERY PLAN ${c.sql}`).all(...(c.params as unknown[])).map((r) => (r as { detail: string }).detail);
  } finally {
    db.close();
  }
}

const COUNTS = ['ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'];

test('PatientName prefix wildcard: an index range on patients, no scan', () => {
  const p = plan({ level: 'study', keys: { PatientName: 'AB*' }, returnKeys: COUNTS, limit: 100 });
  assert.ok(p.some((d) => /SEARCH p USING INDEX patients_patient_name \(patient_name>\? AND patient_name<\?\)/.test(d)), p.join('\n'));
  assert.ok(!p.some((d) => /^SCAN (p|st)\b/.test(d)), p.join('\n'));
});

test('case-insensitive PatientName (fuzzymatching) uses the folded column index', () => {
  const p = plan({ level: 'study', keys: { PatientName: 'ab*' }, fuzzy: true, limit: 100 });
  assert.ok(p.some((d) => /patients_patient_name_ci/.test(d)), p.join('\n'));
  assert.ok(!p.some((d) => /^SCAN (p|st)\b/.test(d)), p.join('\n'));
});

test('StudyDate range and exact PatientID are index searches; counts are per-row index lookups', () => {
  const date = plan({ level: 'study', keys: { StudyDate: '20200101-20201231' }, returnKeys: COUNTS, limit: 100 });
  assert.ok(date.some((d) => /SEARCH st USING INDEX studies_date/.test(d)), date.join('\n'));
  assert.ok(date.filter((d) => /^SEARCH k\d USING COVERING INDEX/.test(d)).length >= 2, date.join('\n'));
  assert.ok(!date.some((d) => /^SCAN/.test(d)), date.join('\n'));
  const pid = plan({ level: 'study', keys: { PatientID: 'P100001' }, limit: 100 });
  assert.ok(pid.some((d) => /SEARCH p USING INDEX patients_patient_id/.test(d)), pid.join('\n'));
});

test('series Modality uses its index', () => {
  const p = plan({ level: 'series', keys: { Modality: 'MR' }, limit: 100 });
  assert.ok(p.some((d) => /series_modality/.test(d)), p.join('\n'));
});
