// Expected values written from CTP's documented semantics (AnonymizerFunctions / DICOMAnonymizer):
// MD5 digests as unsigned decimal numbers (computed independently with Python's hashlib), date
// increments in days, CTP's initials and age rounding rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  caesar, ctpDaysSince, ctpHash, ctpHashDateIncrement, ctpHashName, ctpHashPtId, ctpHashUid, ctpIncrementDate,
  ctpInitials, ctpModifyDate, ctpRoundAge, md5Decimal,
} from '../../src/deid/ctp/ctp-functions.ts';

describe('CTP value functions', () => {
  it('md5 as decimal', () => {
    assert.equal(md5Decimal('abc'), '191415658344158766168031473277922803570');
    assert.equal(ctpHash('PAT01', 10), '3222961099');
    assert.equal(ctpHash('ACC123', 16), '1041483139756610');
    assert.equal(ctpHash('abc', 0), md5Decimal('abc'), 'maxlen < 1: whole digest');
  });

  it('@hashuid: root + "." + md5 decimal of the UID, max 64 chars', () => {
    assert.equal(ctpHashUid('1.2.840.113654.2.70.1', '1.2.3.4.5'), '1.2.840.113654.2.70.1.59466230175336036203084014467748397925');
    assert.equal(ctpHashUid('1.2.840.113654.2.70.1.', '1.2.3.4.5'), '1.2.840.113654.2.70.1.59466230175336036203084014467748397925');
    const long = ctpHashUid('1.2.826.0.1.3680043.10.543.1234567890.1234567890', '1.2.3');
    assert.equal(long.length, 64);
  });

  it('@hashptid, @hashname', () => {
    assert.equal(ctpHashPtId('1', 'PAT01'), '15235565484881420390861964250971945265');
    assert.equal(ctpHashPtId(' 1 ', ' PAT01 '), '15235565484881420390861964250971945265');
    // First two name components, punctuation dropped, upper case: "DOEJOHN"
    assert.equal(ctpHashName("Doe^John^Q.", 6, 2), '767339');
    assert.equal(ctpHashName("D'oe, ^John", 6, 2), '767339');
  });

  it('@initials: last name initial moves to the end; offset shifts letters', () => {
    assert.equal(ctpInitials('Doe^John^Quincy'), 'JQD');
    assert.equal(ctpInitials('doe^john'), 'JD');
    assert.equal(ctpInitials('Doe'), 'D');
    assert.equal(ctpInitials('  '), 'X');
    assert.equal(ctpInitials(undefined), 'X');
    assert.equal(caesar('JQD', 1), 'KRE');
    assert.equal(caesar('XYZ', 3), 'ABC');
  });

  it('@round: age bins, suffix kept, even length', () => {
    assert.equal(ctpRoundAge('027Y', 5), '025Y');
    assert.equal(ctpRoundAge('028Y', 5), '030Y');
    assert.equal(ctpRoundAge('062Y', 10), '060Y');
    assert.equal(ctpRoundAge('', 5), '');
  });

  it('@incrementdate / @modifydate / @hashdate / @dateinterval', () => {
    assert.equal(ctpIncrementDate('20240131', -3210), '20150418');
    assert.equal(ctpIncrementDate('20240301', -1), '20240229', 'leap year');
    assert.equal(ctpIncrementDate('20240131120000.5', -1), '20240130120000.5', 'DT keeps its time');
    assert.throws(() => ctpIncrementDate('2024', 1));
    assert.equal(ctpModifyDate('20240131', -1, 7, 1), '20240701');
    assert.equal(ctpModifyDate('20240131', 2000, -1, -1), '20000131');
    assert.equal(ctpHashDateIncrement('PAT01'), -1280);
    assert.equal(ctpIncrementDate('20240131', ctpHashDateIncrement('PAT01')), '20200730');
    assert.equal(ctpDaysSince('20240131', '1/15/2020'), 1477);
  });
});
