import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shiftDA, shiftDT } from '../../src/deid/dates.ts';

describe('date shifting', () => {
  it('shifts DA across months, leap days and years', () => {
    assert.equal(shiftDA('20200305', -10), '20200224');
    assert.equal(shiftDA('20200301', -1), '20200229');
    assert.equal(shiftDA('20210101', -1), '20201231');
    assert.equal(shiftDA('1999.12.31', 1), '20000101');
    assert.equal(shiftDA('20200101-20200110', 5), '20200106-20200115');
    assert.equal(shiftDA('', 5), '');
    assert.equal(shiftDA('garbage', 5), undefined);
  });

  it('shifts the date of DT and keeps its time, fraction and UTC offset', () => {
    assert.equal(shiftDT('20200305101010.123456-0500', -10), '20200224101010.123456-0500');
    assert.equal(shiftDT('20200305', 1), '20200306');
    assert.equal(shiftDT('202003', 40), '202004');
    assert.equal(shiftDT('2020+0100', 0), '2020+0100');
    assert.equal(shiftDT('2020030510x', 1), undefined);
  });

  it('keeps intervals exactly', () => {
    const a = shiftDA('20201212', -123) as string;
    const b = shiftDA('20210318', -123) as string;
    const days = (s: string) => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8)) / 86_400_000;
    assert.equal(days(b) - days(a), 96);
  });
});
