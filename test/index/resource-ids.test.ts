import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isAppError } from '../../src/core/errors.ts';
import { isResourceId, orthancHash, resourceIds } from '../../src/index/resource-ids.ts';

describe('Orthanc resource ids', () => {
  it('formats SHA-1 as five 8-hex groups (FIPS 180 test vector, as in Orthanc Toolbox tests)', () => {
    assert.equal(orthancHash('The quick brown fox jumps over the lazy dog'), '2fd4e1c6-7a2d28fc-ed849ee1-bb76e739-1b93eb12');
    assert.equal(orthancHash('abc'), 'a9993e36-4706816a-ba3e2571-7850c26c-9cd0d89d');
  });

  it('an empty PatientID gives the id Orthanc shows for anonymous patients', () => {
    const ids = resourceIds({ patientId: undefined, studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4' });
    assert.equal(ids.patient, 'da39a3ee-5e6b4b0d-3255bfef-95601890-afd80709');
    assert.equal(ids.study, orthancHash('|1.2'));
  });

  it('chains PatientID|Study|Series|SOP with pipes', () => {
    const ids = resourceIds({ patientId: 'P1', studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4' });
    const sha = (s: string) => createHash('sha1').update(s).digest('hex');
    assert.equal(ids.patient.replaceAll('-', ''), sha('P1'));
    assert.equal(ids.study.replaceAll('-', ''), sha('P1|1.2'));
    assert.equal(ids.series.replaceAll('-', ''), sha('P1|1.2|1.2.3'));
    assert.equal(ids.instance.replaceAll('-', ''), sha('P1|1.2|1.2.3|1.2.3.4'));
    for (const id of Object.values(ids)) assert.ok(isResourceId(id), id);
    assert.equal(isResourceId('P1'), false);
  });

  it('requires the three UIDs', () => {
    assert.throws(
      () => resourceIds({ patientId: 'P', studyInstanceUid: '1', seriesInstanceUid: '', sopInstanceUid: '2' }),
      (e) => isAppError(e, 'DICOM_MISSING_UID') && /SeriesInstanceUID/.test((e as Error).message),
    );
  });
});
