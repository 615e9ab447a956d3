import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/dicom/dataset.ts';
import { T } from '../../src/dicom/tag.ts';
import { deidentify } from '../../src/deid/engine.ts';
import { compileProject, resolveProject, type ProjectConfig } from '../../src/deid/project.ts';
import { COMPREHENSIVE_SR, CT, ds, FakePseudonymizer, object, RTSTRUCT } from './helpers.ts';

async function run(d: Dataset, project: string | ProjectConfig = 'basic', p = new FakePseudonymizer()) {
  const proj = typeof project === 'string' ? resolveProject(project) : compileProject('custom', project);
  const out = await deidentify({ dataset: d, project: proj, pseudonymizer: p });
  return { out, d, p };
}

async function deid(d: Dataset, project: string | ProjectConfig = 'basic', p = new FakePseudonymizer()): Promise<Dataset> {
  const { out } = await run(d, project, p);
  assert.equal(out.kind, 'deidentified', out.kind === 'deidentified' ? '' : JSON.stringify(out));
  return d;
}

describe('deidentify: Table E.1-1 actions and attribute Type', () => {
  it('replaces PatientID and PatientName by the pseudonym and records the method', async () => {
    const d = await deid(object(CT));
    assert.equal(d.string(T.PatientID), 'P1');
    assert.equal(d.string(T.PatientName), 'P1^');
    assert.equal(d.string(T.PatientIdentityRemoved), 'YES');
    assert.match(d.string(T.DeidentificationMethod) ?? '', /basic/);
    assert.deepEqual(d.items(T.DeidentificationMethodCodeSequence)?.map((i) => i.string(T.CodeValue)), ['113100']);
    assert.equal(d.string(T.LongitudinalTemporalInformationModified), 'REMOVED');
  });

  it("records each project's own method when objects of two projects alternate (the values are worked out once per project)", async () => {
    const basic = resolveProject('basic');
    const longitudinal = resolveProject('longitudinal');
    for (let i = 0; i < 2; i++) {
      for (const [proj, codes, temporal] of [
        [basic, ['113100'], 'REMOVED'],
        [longitudinal, ['113100', '113107', '113108'], 'MODIFIED'],
      ] as const) {
        const d = object(CT);
        const out = await deidentify({ dataset: d, project: proj, pseudonymizer: new FakePseudonymizer() });
        assert.equal(out.kind, 'deidentified');
        assert.deepEqual(d.items(T.DeidentificationMethodCodeSequence)?.map((it) => it.string(T.CodeValue)), codes);
        assert.equal(d.string(T.LongitudinalTemporalInformationModified), temporal);
        assert.match(d.string(T.DeidentificationMethod) ?? '', new RegExp(`dicomgate ${proj.name} `));
      }
    }
  });

  it('X removes a Type 3 attribute, empties a Type 2 one and dummies a Type 1 one', async () => {
    // Operators' Name (X/Z/D) is Type 2 in the RT Series module, Type 3 in General Series.
    const ct = await deid(object(CT, [T.OperatorsName, 'PN', 'Smith'], [T.InstitutionName, 'LO', 'Hosp']));
    assert.equal(ct.has(T.OperatorsName), false);
    assert.equal(ct.has(T.InstitutionName), false);
    const rs = await deid(object(RTSTRUCT, [T.OperatorsName, 'PN', 'Smith'], [T.StructureSetDate, 'DA', '20200101']));
    assert.equal(rs.has(T.OperatorsName), true);
    assert.equal(rs.string(T.OperatorsName), '');
    assert.equal(rs.bytes(T.StructureSetDate)?.length, 0);
    // Content Date (Z/D) is Type 1 in SR documents: a dummy date, not an empty one.
    const sr = await deid(object(COMPREHENSIVE_SR, [T.ContentDate, 'DA', '20200101'], [T.ContentTime, 'TM', '101010']));
    assert.equal(sr.string(T.ContentDate), '19000101');
    assert.equal(sr.string(T.ContentTime), '000000');
  });

  it('Z empties, D replaces with a dummy, U remaps UIDs consistently everywhere', async () => {
    const d = await deid(
      object(
        CT,
        [T.AccessionNumber, 'SH', 'ACC1'],
        [T.FrameOfReferenceUID, 'UI', '1.2.3.4.9'],
        [T.ReferencedImageSequence, 'SQ', [ds([T.ReferencedSOPClassUID, 'UI', CT], [T.ReferencedSOPInstanceUID, 'UI', '1.2.3.4.1'])]],
        [T.SourceImageSequence, 'SQ', [ds([T.ReferencedSOPClassUID, 'UI', CT], [T.ReferencedSOPInstanceUID, 'UI', '1.2.3.4.1'])]],
      ),
    );
    assert.equal(d.bytes(T.AccessionNumber)?.length, 0);
    const sop = d.string(T.SOPInstanceUID);
    assert.match(sop ?? '', /^9\.\d+$/);
    // X/Z/U*: the reference survives, through the same map.
    assert.equal(d.items(T.ReferencedImageSequence)?.[0].string(T.ReferencedSOPInstanceUID), sop);
    assert.equal(d.items(T.SourceImageSequence)?.[0].string(T.ReferencedSOPInstanceUID), sop);
    assert.equal(d.items(T.ReferencedImageSequence)?.[0].string(T.ReferencedSOPClassUID), CT);
    assert.equal(d.string(T.SOPClassUID), CT);
  });

  it('never replaces well-known UIDs and asks the pseudonymizer once, for each UID once', async () => {
    const p = new FakePseudonymizer();
    const d = await deid(
      object(CT, [T.ReferencedSOPSequence, 'SQ', [ds([T.ReferencedSOPClassUID, 'UI', '1.2.840.10008.3.1.2.3.1'], [T.ReferencedSOPInstanceUID, 'UI', '1.2.840.10008.1.2'])]]),
      'basic',
      p,
    );
    assert.equal(d.items(T.ReferencedSOPSequence)?.[0].string(T.ReferencedSOPInstanceUID), '1.2.840.10008.1.2');
    assert.equal(p.requests.length, 1);
    assert.deepEqual([...p.requests[0].uids].sort(), ['1.2.3.4.1', '1.2.3.4.2', '1.2.3.4.3']);
  });

  it('applies the table at every depth, including unlisted sequences', async () => {
    const d = await deid(
      object(
        CT,
        // An unlisted sequence holding identifying attributes (as vendors do).
        [T.AnatomicRegionSequence, 'SQ', [ds([T.CodeValue, 'SH', 'T-D3000'], [T.PatientBirthDate, 'DA', '19500101'], [T.InstitutionName, 'LO', 'Hosp'])]],
        [T.OtherPatientIDsSequence, 'SQ', [ds([T.PatientID, 'LO', 'OTHER-1'])]],
      ),
    );
    const item = d.items(T.AnatomicRegionSequence)?.[0];
    assert.equal(item?.string(T.CodeValue), 'T-D3000');
    assert.equal(item?.string(T.PatientBirthDate), '');
    assert.equal(item?.has(T.InstitutionName), false);
    assert.equal(d.has(T.OtherPatientIDsSequence), false);
  });

  it('removes private attributes and their creators unless safe-listed or kept by the project', async () => {
    const build = () =>
      object(
        CT,
        [0x00190010, 'LO', 'SIEMENS MR HEADER'],
        [0x0019100c, 'IS', '1000'], // B value: safe (E.3.10-1)
        [0x00191010, 'LO', 'secret'],
        [0x00290010, 'LO', 'ACME 1.0'],
        [0x00291001, 'SQ', [ds([T.PatientName, 'PN', 'Doe^Jane'], [T.ReferencedSOPInstanceUID, 'UI', '1.2.3.4.2'])]],
      );
    const plain = await deid(build());
    assert.deepEqual(plain.tags().filter((t) => t >>> 16 === 0x19 || t >>> 16 === 0x29), []);
    const safe = await deid(build(), { options: { retainSafePrivate: true } });
    assert.equal(safe.string(0x0019100c), '1000');
    assert.equal(safe.has(0x00190010), true);
    assert.equal(safe.has(0x00191010), false);
    assert.equal(safe.has(0x00290010), false);
    // A kept private sequence is still de-identified inside.
    const kept = await deid(build(), { privateKeep: ['(0029,"ACME 1.0",01)'] });
    const item = kept.items(0x00291001)?.[0];
    assert.equal(item?.string(T.PatientName), '');
    assert.equal(item?.string(T.ReferencedSOPInstanceUID), kept.string(T.StudyInstanceUID));
  });

  it('removes overlay and curve groups at the top level, including attributes the table does not list', async () => {
    const d = await deid(
      object(CT, [0x60000010, 'US', '2'], [0x60000022, 'LO', 'name on overlay'], [0x60003000, 'OW', '1'], [0x60004000, 'LT', 'comment'], [0x50000005, 'US', '1']),
    );
    assert.deepEqual(d.tags().filter((t) => (t >>> 24) === 0x60 || (t >>> 24) === 0x50), []);
    const g = await deid(object(CT, [0x60000010, 'US', '2'], [0x60000022, 'LO', 'name'], [0x60003000, 'OW', '1']), { options: { cleanGraphics: true } });
    assert.equal(g.has(0x60000010), true);
    assert.equal(g.has(0x60000022), false);
  });

  it('makes the free text of a D sequence dummy but keeps its codes (SR content)', async () => {
    const d = await deid(
      object(COMPREHENSIVE_SR, [
        T.ContentSequence,
        'SQ',
        [
          ds(
            [T.RelationshipType, 'CS', 'CONTAINS'],
            [T.ValueType, 'CS', 'TEXT'],
            [T.ConceptNameCodeSequence, 'SQ', [ds([T.CodeValue, 'SH', '121071'], [T.CodingSchemeDesignator, 'SH', 'DCM'], [T.CodeMeaning, 'LO', 'Finding'])]],
            [T.TextValue, 'UT', 'Jane Doe has a nodule'],
          ),
        ],
      ]),
    );
    const item = d.items(T.ContentSequence)?.[0];
    assert.equal(item?.string(T.TextValue), 'ANONYMIZED');
    assert.equal(item?.items(T.ConceptNameCodeSequence)?.[0].string(T.CodeMeaning), 'Finding');
    assert.equal(item?.string(T.ValueType), 'TEXT');
  });
});

describe('deidentify: options and project settings', () => {
  it('longitudinal shifts DA and DT (keeping time and UTC offset), keeps TM and patient characteristics', async () => {
    const d = await deid(
      object(
        CT,
        [T.StudyDate, 'DA', '20200305'],
        [T.StudyTime, 'TM', '101010'],
        [T.AcquisitionDateTime, 'DT', '20200305101010.5+0100'],
        [T.PatientBirthDate, 'DA', '19500101'],
        [T.PatientSex, 'CS', 'F'],
        [T.PatientAge, 'AS', '070Y'],
      ),
      'longitudinal',
    );
    assert.equal(d.string(T.StudyDate), '20200224');
    assert.equal(d.string(T.StudyTime), '101010');
    assert.equal(d.string(T.AcquisitionDateTime), '20200224101010.5+0100');
    assert.equal(d.bytes(T.PatientBirthDate)?.length, 0); // Z, no option column
    assert.equal(d.string(T.PatientSex), 'F');
    assert.equal(d.string(T.PatientAge), '070Y');
    assert.equal(d.string(T.LongitudinalTemporalInformationModified), 'MODIFIED');
    assert.deepEqual(d.items(T.DeidentificationMethodCodeSequence)?.map((i) => i.string(T.CodeValue)), ['113100', '113107', '113108']);
  });

  it('retain options keep what their column marks K', async () => {
    const d = await deid(object(CT, [T.StationName, 'SH', 'CT01'], [T.InstitutionName, 'LO', 'Hosp']), {
      options: { retainDeviceIdentity: true, retainInstitutionIdentity: true, retainUIDs: true },
    });
    assert.equal(d.string(T.StationName), 'CT01');
    assert.equal(d.string(T.InstitutionName), 'Hosp');
    assert.equal(d.string(T.SOPInstanceUID), '1.2.3.4.1');
  });

  it('clean descriptors removes the patient\'s own identifiers from the text', async () => {
    const d = await deid(object(CT, [T.StudyDescription, 'LO', 'CT chest for Jane Doe MRN-77']), { options: { cleanDescriptors: true } });
    assert.equal(d.string(T.StudyDescription), 'CT chest for *** *** ***');
  });

  it('per-tag overrides win over the profile, and keep-list mode drops unlisted attributes', async () => {
    const d = await deid(object(CT, [T.StudyDescription, 'LO', 'Keep me'], [T.InstitutionName, 'LO', 'Hosp'], [T.BodyPartExamined, 'CS', 'CHEST']), {
      overrides: { StudyDescription: 'keep', '(0008,0080)': { replace: 'SITE-7' } },
    });
    assert.equal(d.string(T.StudyDescription), 'Keep me');
    assert.equal(d.string(T.InstitutionName), 'SITE-7');
    assert.equal(d.string(T.BodyPartExamined), 'CHEST');
    // Keep-list mode: unlisted text goes unless listed; numbers and codes stay; Type 2 text is emptied.
    const k = await deid(
      object(CT, [T.BodyPartExamined, 'CS', 'CHEST'], [T.SliceThickness, 'DS', '3'], [T.SoftwareVersions, 'LO', 'v1 by J. Doe'], [T.ConvolutionKernel, 'SH', 'B30f'], [T.Manufacturer, 'LO', 'ACME']),
      { unlistedAttributes: 'keep-list', keepList: ['ConvolutionKernel'] },
    );
    assert.equal(k.string(T.BodyPartExamined), 'CHEST');
    assert.equal(k.string(T.SliceThickness), '3');
    assert.equal(k.has(T.SoftwareVersions), false);
    assert.equal(k.string(T.ConvolutionKernel), 'B30f');
    assert.equal(k.string(T.Manufacturer), '');
  });

  it('rejects invalid project settings with every problem listed', () => {
    assert.throws(() => compileProject('x', { dateShiftDays: [-5, 5], pseudonym: { idPattern: 'FIXED' }, options: { nope: true } as never }), (e: Error) => {
      assert.match(e.message, /dateShiftDays/);
      assert.match(e.message, /idPattern/);
      assert.match(e.message, /nope/);
      return true;
    });
    assert.throws(() => resolveProject('missing'), /Unknown de-identification project/);
  });
});

describe('deidentify: outcomes', () => {
  it('quarantines burned-in annotation and secondary captures unless the project accepts them', async () => {
    const burned = await run(object(CT, [T.BurnedInAnnotation, 'CS', 'YES']));
    assert.equal(burned.out.kind, 'quarantined');
    assert.equal((burned.out as { reason: string }).reason, 'burned-in-annotation');
    const sc = await run(object('1.2.840.10008.5.1.4.1.1.7'));
    assert.equal((sc.out as { reason: string }).reason, 'burned-in-modality');
    const us = await run(object(CT, [T.Modality, 'CS', 'US']));
    assert.equal(us.out.kind, 'quarantined');
    const ok = await run(object('1.2.840.10008.5.1.4.1.1.7'), { burnedIn: { accept: true } });
    assert.equal(ok.out.kind, 'deidentified');
  });

  it('rejects objects without their identifying UIDs', async () => {
    const d = object(CT);
    d.remove(T.SeriesInstanceUID);
    const { out } = await run(d);
    assert.deepEqual(out, { kind: 'rejected', reason: 'missing-uid', detail: 'SeriesInstanceUID missing' });
  });

  it('fixes the file meta: new MediaStorageSOPInstanceUID, no source AE titles', async () => {
    const meta = ds([0x00020002, 'UI', CT], [0x00020003, 'UI', '1.2.3.4.1'], [0x00020010, 'UI', '1.2.840.10008.1.2.1'], [0x00020016, 'AE', 'HOSPITAL_PACS']);
    const d = object(CT);
    const out = await deidentify({ dataset: d, meta, project: resolveProject('basic'), pseudonymizer: new FakePseudonymizer() });
    assert.equal(out.kind, 'deidentified');
    assert.equal(meta.string(0x00020003), d.string(T.SOPInstanceUID));
    assert.equal(meta.has(0x00020016), false);
  });

  it('explains per attribute what it did (dry run) without values', async () => {
    const { out } = await run(object(CT, [T.InstitutionName, 'LO', 'Hosp']));
    assert.equal(out.kind, 'deidentified');
    const proj = resolveProject('basic');
    const d = object(CT, [T.InstitutionName, 'LO', 'Hosp']);
    const explained = await deidentify({ dataset: d, project: proj, pseudonymizer: new FakePseudonymizer(), explain: true });
    assert.equal(explained.kind, 'deidentified');
    const changes = explained.kind === 'deidentified' ? (explained.changes ?? []) : [];
    assert.ok(changes.some((c) => c.path === '(0008,0080)' && c.action === 'removed'));
    assert.ok(!JSON.stringify(changes).includes('Hosp'));
  });
});

describe('deidentify: Clean Pixel Data with project regions', () => {
  it('blanks the configured rectangle of native pixel data for the matching device', async () => {
    const sc = '1.2.840.10008.5.1.4.1.1.7';
    const d = object(sc, [T.Manufacturer, 'LO', 'ACME'], [T.ManufacturerModelName, 'LO', 'Cam 1'], [T.Rows, 'US', '4'], [T.Columns, 'US', '4'], [T.BitsAllocated, 'US', '8'], [T.SamplesPerPixel, 'US', '1']);
    d.setBytes(T.PixelData, 'OB', Uint8Array.from({ length: 16 }, (_, i) => i + 1));
    const project: ProjectConfig = {
      options: { cleanPixelData: true },
      burnedIn: { regions: [{ manufacturer: 'ACME', model: 'Cam 1', rows: 4, columns: 4, regions: [[1, 1, 2, 2]] }] },
    };
    await deid(d, project);
    assert.deepEqual([...(d.bytes(T.PixelData) ?? [])], [1, 2, 3, 4, 5, 0, 0, 8, 9, 0, 0, 12, 13, 14, 15, 16]);
    assert.ok(d.items(T.DeidentificationMethodCodeSequence)?.some((i) => i.string(T.CodeValue) === '113101'));
    // Another model: no rule, so quarantine.
    const other = object(sc, [T.Manufacturer, 'LO', 'ACME'], [T.ManufacturerModelName, 'LO', 'Cam 2'], [T.Rows, 'US', '4'], [T.Columns, 'US', '4']);
    assert.equal((await run(other, project)).out.kind, 'quarantined');
  });

  it('shifts or removes dates in kept private attributes with the dates policy', async () => {
    const build = () => object(CT, [0x00290010, 'LO', 'ACME 1.0'], [0x00291002, 'DA', '20200305']);
    const keep = { privateKeep: ['(0029,"ACME 1.0",02)'] };
    assert.equal((await deid(build(), keep)).has(0x00291002), false);
    assert.equal((await deid(build(), { ...keep, extends: 'longitudinal' })).string(0x00291002), '20200224');
  });
});
