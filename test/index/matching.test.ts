import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/core/errors.ts';
import { compileQuery, parseMatchValue } from '../../src/index/matching.ts';
import { postgresDialect, sqliteDialect } from '../../src/index/sql/dialect.ts';

describe('parseMatchValue (PS3.4 C.2.2.2)', () => {
  it('universal, single, wildcard, list', () => {
    assert.deepEqual(parseMatchValue('', 'PN'), { kind: 'universal' });
    assert.deepEqual(parseMatchValue('*', 'PN'), { kind: 'universal' });
    assert.deepEqual(parseMatchValue('  ', 'LO'), { kind: 'universal' });
    assert.deepEqual(parseMatchValue('DOE^JOHN', 'PN'), { kind: 'single', value: 'DOE^JOHN' });
    assert.deepEqual(parseMatchValue('D?E**', 'PN'), { kind: 'wildcard', pattern: [{ literal: 'D' }, '?', { literal: 'E' }, '*'] });
    assert.deepEqual(parseMatchValue('1.2\\1.3', 'UI'), { kind: 'list', items: [{ kind: 'single', value: '1.2' }, { kind: 'single', value: '1.3' }] });
    assert.deepEqual(parseMatchValue('1.2\\*', 'UI'), { kind: 'universal' });
  });

  it('DA and TM ranges, with the TM upper bound covering its whole minute', () => {
    assert.deepEqual(parseMatchValue('20200101-20201231', 'DA'), { kind: 'range', from: '20200101', to: '20201231' });
    assert.deepEqual(parseMatchValue('-20201231', 'DA'), { kind: 'range', from: undefined, to: '20201231' });
    assert.deepEqual(parseMatchValue('20200101-', 'DA'), { kind: 'range', from: '20200101', to: undefined });
    assert.deepEqual(parseMatchValue('1000-1100', 'TM'), { kind: 'range', from: '1000', to: '110099.999999' });
    assert.deepEqual(parseMatchValue('-10', 'TM'), { kind: 'range', from: undefined, to: '109999.999999' });
    assert.deepEqual(parseMatchValue('AB-CD', 'LO'), { kind: 'single', value: 'AB-CD' }, 'a dash is a range only for DA/TM');
    for (const bad of ['2020-01-01', '-', '2020-', 'x-20200101']) {
      assert.throws(() => parseMatchValue(bad, 'DA', 'StudyDate'), (e) => isAppError(e, 'QUERY_INVALID') && /StudyDate/.test((e as Error).message), bad);
    }
  });
});

describe('compileQuery input checks', () => {
  it('rejects an unknown level and negative or fractional paging', () => {
    assert.throws(() => compileQuery({ level: 'frame' as never }, sqliteDialect), (e) => isAppError(e, 'QUERY_INVALID'));
    assert.throws(() => compileQuery({ level: 'study', limit: -1 }, sqliteDialect), (e) => isAppError(e, 'QUERY_INVALID'));
    assert.throws(() => compileQuery({ level: 'study', offset: 1.5 }, sqliteDialect), (e) => isAppError(e, 'QUERY_INVALID'));
  });
});

describe('dialects', () => {
  it('SQLite GLOB escapes its specials; PostgreSQL LIKE escapes % _ and \\', () => {
    const pattern = [{ literal: 'a*b?c[d%e_f\\' }, '*', '?'] as const;
    assert.deepEqual(sqliteDialect.wildcard('x', [...pattern]), { sql: 'x GLOB ?', param: 'a[*]b[?]c[[]d%e_f\\*?' });
    assert.deepEqual(postgresDialect.wildcard('x', [...pattern]), { sql: "x LIKE ? ESCAPE '\\'", param: 'a*b?c[d\\%e\\_f\\\\%_' });
  });

  it('compiled SQL differs only in the wildcard operator', () => {
    const q = { level: 'study', keys: { PatientName: 'DOE*', StudyDate: '20200101-', Modality: 'CT' }, limit: 10 } as const;
    const a = compileQuery(q, sqliteDialect);
    const b = compileQuery(q, postgresDialect);
    assert.equal(a.sql.replace(' GLOB ?', " LIKE ? ESCAPE '\\'"), b.sql);
    assert.deepEqual(a.params.length, b.params.length);
    assert.ok(!/GLOB|PRAGMA|COLLATE/.test(b.sql));
  });
});
