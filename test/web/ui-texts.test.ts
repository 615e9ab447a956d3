// The UI's pure helpers: search form → /tools/find query, upload answers and failures in words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFailure } from '../../web/src/failure-text.ts';
import { findQuery, wildcard } from '../../web/src/search-query.ts';
import { summarize } from '../../web/src/upload-answer.ts';

const empty = { name: '', id: '', from: '', to: '', modality: '', description: '', accession: '' };

test('search criteria: contains-match unless wildcards typed; date range; modality', () => {
  assert.equal(wildcard(' doe '), '*doe*');
  assert.equal(wildcard('DOE^J*'), 'DOE^J*');
  assert.deepEqual(findQuery(empty), {});
  assert.deepEqual(findQuery({ ...empty, name: 'doe', modality: 'RTSTRUCT', from: '2020-01-01', to: '2020-12-31' }), {
    PatientName: '*doe*',
    ModalitiesInStudy: 'RTSTRUCT',
    StudyDate: '20200101-20201231',
  });
  assert.equal(findQuery({ ...empty, from: '2020-01-01' }).StudyDate, '20200101-', 'open range');
  assert.equal(findQuery({ ...empty, from: '2020-01-01', to: '2020-01-01' }).StudyDate, '20200101');
});

test('upload answers: single file, ZIP list with reasons, HTTP refusals', () => {
  assert.deepEqual(summarize(200, { Status: 'Success', ID: 'x' }), { ok: true, text: 'Stored' });
  assert.deepEqual(summarize(200, { Status: 'AlreadyStored' }), { ok: true, text: 'Already in the archive' });
  assert.deepEqual(summarize(400, { Status: 'Failure', Message: 'not DICOM' }), { ok: false, text: 'Rejected: not DICOM' });
  assert.equal(summarize(400, { Status: 'Failure', Code: 'DICOM_PARSE', Message: 'truncated at offset 0' }).text, 'Rejected: not a readable DICOM file (truncated at offset 0)');
  const zip = summarize(200, [{ Status: 'Success' }, { Status: 'Failure', Message: 'bad' }, { Status: 'AlreadyStored' }]);
  assert.equal(zip.ok, false);
  assert.equal(zip.text, 'ZIP: 1 stored, 1 already in the archive, 1 rejected (bad)');
  assert.match(summarize(403, { error: 'AUTH_FORBIDDEN' }).text, /role does not allow/);
});

test('failures are sentences, with the server message when it has one', () => {
  assert.match(describeFailure(401, undefined), /sign in again/);
  assert.match(describeFailure(404, { Message: 'Unknown resource' }), /Not found: Unknown resource/);
  assert.match(describeFailure(413, {}), /larger than the server accepts/);
  assert.match(describeFailure(503, { message: 'storage unavailable' }), /could not complete this: storage unavailable/);
  assert.equal(describeFailure(400, { message: 'Level must be Patient' }), 'Level must be Patient');
});
