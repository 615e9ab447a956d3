// Retain Safe Private Option (PS3.15 E.3.10) against the Table E.3.10-1 list, through Part-10 bytes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newDicomFile, readPart10, writePart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { deidentifyPart10 } from '../../src/deid/deidentify-part10.ts';
import { compileProject, resolveProject, type ProjectConfig } from '../../src/deid/project.ts';
import { privateKeyString, SAFE_PRIVATE } from '../../src/deid/safe-private.ts';
import { CT, FakePseudonymizer, object } from './helpers.ts';

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** A CT whose GE block sits at (0019,0011), so its elements are (0019,11xx), not the usual 10xx. */
function geCt(syntax: string): Uint8Array {
  const d = object(
    CT,
    [0x00190011, 'LO', 'GEMS_ACQU_01 '], // trailing pad as written by scanners
    [0x00191123, 'DS', '39.375'], // Table Speed: E.3.10-1
    [0x00191127, 'DS', '0.8'], // Rotation Speed: E.3.10-1
    [0x00191110, 'LO', 'Doe^Jane'], // not on the table
    [0x00430010, 'LO', 'GEMS_PARM_01'],
    [0x00431027, 'SH', '1.375:1'], // Scan Pitch Ratio: E.3.10-1
    [0x00090010, 'LO', 'GEMS_IDEN_01'],
    [0x00091002, 'SH', 'SCANNER-ROOM-7'], // GE identification group: never safe
  );
  return Buffer.concat(writePart10(newDicomFile(d, syntax)));
}

async function deidBytes(bytes: Uint8Array, project: string | ProjectConfig) {
  const proj = typeof project === 'string' ? resolveProject(project) : compileProject('custom', project);
  const out = await deidentifyPart10(bytes, proj, new FakePseudonymizer());
  assert.equal(out.kind, 'deidentified', out.kind === 'deidentified' ? '' : JSON.stringify(out));
  if (out.kind !== 'deidentified') throw new Error('unreachable');
  return readPart10(Buffer.concat(out.chunks)).dataset;
}

describe('Retain Safe Private Option (Table E.3.10-1)', () => {
  for (const syntax of [EXPLICIT_LE, IMPLICIT_LE]) {
    it(`keeps listed private attributes and their creators only with the option (${syntax})`, async () => {
      const withOption = await deidBytes(geCt(syntax), { options: { retainSafePrivate: true } });
      assert.equal(withOption.string(0x00190011), 'GEMS_ACQU_01');
      assert.equal(withOption.string(0x00191123), '39.375');
      assert.equal(withOption.string(0x00191127), '0.8');
      assert.equal(withOption.string(0x00430010), 'GEMS_PARM_01');
      assert.equal(withOption.string(0x00431027), '1.375:1');
      assert.equal(withOption.has(0x00191110), false, 'unlisted element of a listed creator');
      assert.equal(withOption.has(0x00091002), false, 'unlisted creator');
      assert.equal(withOption.has(0x00090010), false, 'creator with nothing kept');

      const without = await deidBytes(geCt(syntax), 'basic');
      const privates = without.tags().filter((t) => (t >>> 16) % 2 === 1);
      assert.deepEqual(privates, []);
      assert.equal(without.string(T.PatientIdentityRemoved), 'YES');
    });
  }

  it('keeps nothing for an element number that belongs to another creator in the table', async () => {
    // (0019,xx23) is safe for GEMS_ACQU_01 only; under SIEMENS MR HEADER it is not listed.
    const d = object(CT, [0x00190010, 'LO', 'SIEMENS MR HEADER'], [0x00191023, 'DS', '1'], [0x0019100c, 'IS', '1000']);
    const out = await deidBytes(Buffer.concat(writePart10(newDicomFile(d, EXPLICIT_LE))), { options: { retainSafePrivate: true } });
    assert.equal(out.has(0x00191023), false);
    assert.equal(out.string(0x0019100c), '1000');
  });
});

describe('SAFE_PRIVATE data', () => {
  const keys = SAFE_PRIVATE.map(privateKeyString);

  it('has no duplicates, odd groups and element bytes only', () => {
    assert.equal(new Set(keys).size, keys.length);
    for (const k of SAFE_PRIVATE) {
      assert.equal(k.group % 2, 1, privateKeyString(k));
      assert.ok(k.element >= 0 && k.element <= 0xff, privateKeyString(k));
      assert.equal(k.creator, k.creator.trim());
    }
  });

  it('holds rows of every vendor section of the table', () => {
    const sample: [string, number, number][] = [
      ['Philips PET Private Group', 0x7053, 0x00], // SUV factor
      ['ELSCINT1', 0x00e1, 0x21], // DLP
      ['GEMS_ACQU_01', 0x0019, 0x9e], // internal pulse sequence name
      ['GEMS_PARM_01', 0x0043, 0x39], // slop_int (b value)
      ['GEMS_HELIOS_01', 0x0045, 0x02],
      ['GEIIS PACS', 0x0903, 0x12],
      ['Philips Imaging DD 001', 0x2001, 0x03], // diffusion b-factor
      ['Philips MR Imaging DD 001', 0x2005, 0x0e], // scale slope
      ['SIEMENS MR HEADER', 0x0019, 0x27], // b matrix
      ['HOLOGIC, Inc.', 0x7e01, 0x12],
      ['NQLeft', 0x0199, 0x0a],
      ['SIEMENS Ultrasound SC2000', 0x0129, 0x30],
    ];
    for (const [creator, group, element] of sample) assert.ok(keys.includes(privateKeyString({ creator, group, element })), `${creator} ${group.toString(16)} ${element.toString(16)}`);
    // Not on the table (the earlier hand-written list had them).
    assert.equal(keys.includes(privateKeyString({ creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0a })), false);
    assert.equal(keys.includes(privateKeyString({ creator: 'SIEMENS Ultrasound SC2000', group: 0x0119, element: 0x0a })), false);
  });
});
