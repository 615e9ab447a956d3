import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiate, type NegotiationPolicy } from '../../src/dimse/negotiation.ts';
import type { AAssociateRq } from '../../src/dimse/pdu/types.ts';
import { QR_SOP, SOP, TS } from '../../src/dimse/uids.ts';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const RT_DOSE = '1.2.840.10008.5.1.4.1.1.481.2';
const JPEG2000 = '1.2.840.10008.1.2.4.90';
const ALL: NegotiationPolicy = { verification: true, store: true, find: true, move: true, get: true, maxPduLength: 65536 };

function rq(pcs: [string, string[]][], ui: Partial<AAssociateRq['userInformation']> = {}): AAssociateRq {
  return {
    type: 'AAssociateRq',
    protocolVersion: 1,
    calledAe: 'US',
    callingAe: 'THEM',
    applicationContext: '1.2.840.10008.3.1.1.1',
    presentationContexts: pcs.map(([a, t], i) => ({ id: 2 * i + 1, abstractSyntax: a, transferSyntaxes: t })),
    userInformation: { maxLength: 16384, ...ui },
  };
}

test('storage takes the first proposed transfer syntax, any of them; Q/R needs uncompressed little endian', () => {
  const { ac, services } = negotiate(
    rq([
      [CT, [JPEG2000, TS.ExplicitVRLittleEndian]],
      [RT_DOSE, [TS.ExplicitVRBigEndian]],
      [QR_SOP.study.find, [TS.ExplicitVRBigEndian, TS.ImplicitVRLittleEndian]],
      [QR_SOP.patient.move, [JPEG2000]],
      [SOP.Verification, [TS.ImplicitVRLittleEndian]],
      ['1.2.840.10008.5.1.4.31', [TS.ImplicitVRLittleEndian]], // Modality Worklist FIND: not ours
      ['1.3.12.2.1107.5.9.1', [TS.ExplicitVRLittleEndian]], // a vendor private storage class
    ]),
    ALL,
  );
  assert.deepEqual(
    ac.presentationContexts.map((p) => [p.id, p.result, p.result === 0 ? p.transferSyntax : '']),
    [
      [1, 0, JPEG2000],
      [3, 0, TS.ExplicitVRBigEndian],
      [5, 0, TS.ImplicitVRLittleEndian],
      [7, 4, ''],
      [9, 0, TS.ImplicitVRLittleEndian],
      [11, 3, ''],
      [13, 0, TS.ExplicitVRLittleEndian],
    ],
  );
  assert.equal(services.get(1), 'storage');
  assert.equal(services.get(5), 'find');
  assert.equal(ac.userInformation.maxLength, 65536);
});

test('a storage allow-list limits the storage classes accepted', () => {
  const { ac } = negotiate(rq([[CT, [TS.ImplicitVRLittleEndian]], [RT_DOSE, [TS.ImplicitVRLittleEndian]]]), { ...ALL, storageAllowList: [RT_DOSE] });
  assert.deepEqual(ac.presentationContexts.map((p) => p.result), [3, 0]);
});

test('role selection is answered for accepted classes; async ops answered 1/1; relational C-FIND granted', () => {
  const { ac } = negotiate(
    rq([[CT, [TS.ImplicitVRLittleEndian]], [QR_SOP.study.find, [TS.ImplicitVRLittleEndian]]], {
      roleSelections: [
        { sopClassUid: CT, scuRole: false, scpRole: true },
        { sopClassUid: RT_DOSE, scuRole: false, scpRole: true },
      ],
      asyncOps: { invoked: 5, performed: 5 },
      extendedNegotiations: [{ sopClassUid: QR_SOP.study.find, info: Uint8Array.from([1, 1, 0]) }],
    }),
    ALL,
  );
  assert.deepEqual(ac.userInformation.roleSelections, [{ sopClassUid: CT, scuRole: false, scpRole: true }]);
  assert.deepEqual(ac.userInformation.asyncOps, { invoked: 1, performed: 1 });
  assert.deepEqual(ac.userInformation.extendedNegotiations, [{ sopClassUid: QR_SOP.study.find, info: Uint8Array.from([1]) }]);
});
