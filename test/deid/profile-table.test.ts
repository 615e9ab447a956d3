import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateTable, SOURCE, TARGET } from '../../scripts/gen-deid-profiles.ts';
import { TABLE_E1_1, TABLE_E1_1_EDITION } from '../../src/deid/profiles/table-e1-1.ts';
import { decide, tableRow } from '../../src/deid/profile.ts';
import { NO_OPTIONS } from '../../src/deid/options.ts';
import { T } from '../../src/dicom/tag.ts';

describe('Table E.1-1 (generated)', () => {
  it('is what the generator makes from the reference JSON', { skip: existsSync(fileURLToPath(SOURCE)) ? false : 'reference data not present' }, () => {
    assert.equal(generateTable(readFileSync(SOURCE)), readFileSync(TARGET, 'utf8'));
  });

  it('holds the 2024b rows with wildcards for curves and overlays', () => {
    assert.equal(TABLE_E1_1_EDITION, '2024b');
    assert.equal(TABLE_E1_1.length, 620);
    assert.equal(tableRow(T.PatientName)?.basic, 'Z');
    assert.equal(tableRow(0x60024000)?.name, 'Overlay Comments');
    assert.equal(tableRow(0x601e3000)?.name, 'Overlay Data');
    assert.equal(tableRow(0x50100200)?.name, 'Curve Data');
    assert.equal(tableRow(0x60020010), undefined);
  });

  it('lets an option column turn the basic action into K or C', () => {
    const studyDate = tableRow(T.StudyDate);
    assert.ok(studyDate);
    assert.equal(decide(studyDate, NO_OPTIONS), 'Z');
    assert.equal(decide(studyDate, { ...NO_OPTIONS, retainLongitudinalModifiedDates: true }), 'C');
    assert.equal(decide(studyDate, { ...NO_OPTIONS, retainLongitudinalFullDates: true }), 'K');
    const device = tableRow(T.DeviceUID);
    assert.ok(device);
    assert.equal(decide(device, { ...NO_OPTIONS, retainDeviceIdentity: true }), 'K');
  });
});
