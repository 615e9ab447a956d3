// A sequence that reached us as UN (an implicit VR sequence relayed by a system that did not know the
// tag, PS3.5 6.2.2 / CP-246) is de-identified like any other sequence.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readDataset, writeDataset } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { deidentify } from '../../src/deid/engine.ts';
import { resolveProject } from '../../src/deid/project.ts';
import { CT, FakePseudonymizer, object } from './helpers.ts';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';

function u16(n: number): number[] {
  return [n & 0xff, n >> 8];
}
function u32(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}
function implicitElement(tag: number, value: string): number[] {
  const v = [...Buffer.from(value.length % 2 ? value + (tag === T.StudyInstanceUID ? '\0' : ' ') : value, 'latin1')];
  return [...u16(tag >>> 16), ...u16(tag & 0xffff), ...u32(v.length), ...v];
}

/** (0040,A375) encoded as UN with undefined length, holding one implicit VR item. */
function unSequence(): Buffer {
  const item = [...implicitElement(T.PatientName, 'Doe^Jane'), ...implicitElement(T.StudyInstanceUID, '1.2.3.4.2')];
  return Buffer.from([
    ...u16(0x0040), ...u16(0xa375), 0x55, 0x4e, 0, 0, ...u32(0xffffffff),
    ...u16(0xfffe), ...u16(0xe000), ...u32(0xffffffff), ...item, ...u16(0xfffe), ...u16(0xe00d), ...u32(0),
    ...u16(0xfffe), ...u16(0xe0dd), ...u32(0),
  ]);
}

describe('UN-encoded sequences', () => {
  it('are walked: names inside are emptied and UIDs remapped like the top level', async () => {
    const bytes = Buffer.concat([...writeDataset(object(CT), EXPLICIT_LE), unSequence()]);
    const d = readDataset(bytes, EXPLICIT_LE);
    assert.equal(d.vr(T.CurrentRequestedProcedureEvidenceSequence), 'UN');
    assert.equal(d.items(T.CurrentRequestedProcedureEvidenceSequence)?.[0].string(T.PatientName), 'Doe^Jane');
    const out = await deidentify({ dataset: d, project: resolveProject('basic'), pseudonymizer: new FakePseudonymizer() });
    assert.equal(out.kind, 'deidentified');
    const again = readDataset(Buffer.concat(writeDataset(d, EXPLICIT_LE)), EXPLICIT_LE);
    const item = again.items(T.CurrentRequestedProcedureEvidenceSequence)?.[0];
    assert.ok(item);
    assert.equal(item.string(T.PatientName), '');
    assert.equal(item.string(T.StudyInstanceUID), again.string(T.StudyInstanceUID));
    assert.ok(!Buffer.concat(writeDataset(d, EXPLICIT_LE)).includes('Doe^Jane'));
  });
});
