import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../src/core/errors.ts';
import { MAPPING_CSV_HEADER, parseCtpLookupTable, parseMappingCsv, toMappingCsv } from '../../src/pseudonyms/mapping-csv.ts';

const record = (id: string, issuer: string, pseudo: string) => ({
  project: 'p',
  original: { patientId: id, issuer },
  pseudonym: { patientId: pseudo, patientName: `${pseudo}^`, dateShiftDays: -42 },
  createdAt: '2026-01-01T00:00:00.000Z',
});

describe('mapping CSV', () => {
  it('round-trips quotes, commas, line breaks and spaces', () => {
    const csv = toMappingCsv([record('A,"1"', ' lead', 'P1'), record('multi\nline', '', 'P2')]);
    assert.ok(csv.startsWith(MAPPING_CSV_HEADER.join(',') + '\r\n'));
    assert.deepEqual(parseMappingCsv(csv), [
      { original: { patientId: 'A,"1"', issuer: ' lead' }, patientId: 'P1', patientName: 'P1^', dateShiftDays: -42 },
      { original: { patientId: 'multi\nline', issuer: '' }, patientId: 'P2', patientName: 'P2^', dateShiftDays: -42 },
    ]);
  });

  it('accepts a minimal header in any order and a BOM', () => {
    assert.deepEqual(parseMappingCsv('\uFEFFpseudonymous_patient_id,original_patient_id\nX1,MRN\n'), [{ original: { patientId: 'MRN', issuer: '' }, patientId: 'X1' }]);
  });

  it('names the line of a bad row, never its content', () => {
    for (const text of ['original_patient_id,pseudonymous_patient_id\nSECRET-MRN,\n', 'original_patient_id,pseudonymous_patient_id,date_shift_days\nSECRET-MRN,P,abc\n', 'x,y\n']) {
      assert.throws(() => parseMappingCsv(text), (e) => {
        assert.ok(isAppError(e, 'KEYS_IMPORT_INVALID'));
        assert.match(e.message, /line \d/);
        assert.ok(!e.message.includes('SECRET'));
        return true;
      });
    }
  });
});

describe('CTP lookup table', () => {
  it('reads ptid/ entries with properties escapes and ignores other keys and comments', () => {
    const rows = parseCtpLookupTable('#comment\n! also\nptid/12\\:34 = ANON1\nptid/A\\u00e9 : ANON2\naccession/9=X\n');
    assert.deepEqual(rows, [
      { original: { patientId: '12:34', issuer: '' }, patientId: 'ANON1' },
      { original: { patientId: 'Aé', issuer: '' }, patientId: 'ANON2' },
    ]);
  });

  it('rejects a line without a separator by number', () => {
    assert.throws(() => parseCtpLookupTable('ptid/SECRET\n'), (e) => isAppError(e, 'KEYS_IMPORT_INVALID') && /line 1/.test(e.message) && !e.message.includes('SECRET'));
  });
});
