// Conformance with the dicomweb-client npm package (what OHIF uses): store, search, retrieve over a
// real socket. dicomweb-client speaks XMLHttpRequest; xhr2 provides it in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import XMLHttpRequest from 'xhr2';
import { api } from 'dicomweb-client';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { buildHarness } from './app-harness.ts';
import { memoryArchive } from './archive-fixture.ts';

const STUDY = '1.2.826.0.3.1';
const SERIES = '1.2.826.0.3.1.1';

function ab(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

test('dicomweb-client: storeInstances, searchForStudies/Series/Instances, retrieveInstance/Series, metadata', async () => {
  (globalThis as Record<string, unknown>).XMLHttpRequest = XMLHttpRequest;
  const archive = memoryArchive();
  const h = await buildHarness({ surfaces: { rest: archive.rest } });
  try {
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (h.app.server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}/dicom-web`;
    const files = [1, 2].map((n) => syntheticInstance({ patientId: 'PAT-C', studyInstanceUid: STUDY, seriesInstanceUid: SERIES, sopInstanceUid: `${SERIES}.${n}`, modality: 'CT', instanceNumber: n, size: 8 }));
    const uploader = new api.DICOMwebClient({ url, headers: { Authorization: h.basic('uploader') } });
    await uploader.storeInstances({ datasets: files.map(ab) });

    const client = new api.DICOMwebClient({ url, headers: { Authorization: h.basic('researcher') } });
    const studies = await client.searchForStudies({ queryParams: { PatientID: 'PAT-C' } });
    assert.equal(studies.length, 1);
    assert.deepEqual(studies[0]['0020000D'].Value, [STUDY]);
    const series = await client.searchForSeries({ studyInstanceUID: STUDY });
    assert.deepEqual(series.map((s) => s['00080060'].Value), [['CT']]);
    const instances = await client.searchForInstances({ studyInstanceUID: STUDY, seriesInstanceUID: SERIES });
    assert.equal(instances.length, 2);
    const one = await client.retrieveInstance({ studyInstanceUID: STUDY, seriesInstanceUID: SERIES, sopInstanceUID: `${SERIES}.2` });
    assert.ok(Buffer.from(one).equals(files[1]));
    const both = await client.retrieveSeries({ studyInstanceUID: STUDY, seriesInstanceUID: SERIES });
    assert.equal(both.length, 2);
    assert.ok(both.every((b) => files.some((f) => f.equals(Buffer.from(b)))));
    const meta = await client.retrieveSeriesMetadata({ studyInstanceUID: STUDY, seriesInstanceUID: SERIES });
    assert.equal(meta.length, 2);
    const anonymous = new api.DICOMwebClient({ url, verbose: false });
    await assert.rejects(anonymous.searchForStudies(), (e: { status?: number }) => e.status === 401);
  } finally {
    await h.close();
    await archive.close();
    delete (globalThis as Record<string, unknown>).XMLHttpRequest;
  }
});
