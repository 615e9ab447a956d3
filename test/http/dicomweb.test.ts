// DICOMweb: STOW-RS in, QIDO-RS search, WADO-RS retrieve and metadata out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { multipartStream, readMultipart, mediaTypeParams } from '../../src/http/dicomweb/multipart.ts';
import { withMemoryArchive } from './archive-fixture.ts';

const STUDY = '1.2.826.0.2.1';
const SERIES = '1.2.826.0.2.1.1';

function inst(n: number, over: Partial<Parameters<typeof syntheticInstance>[0]> = {}) {
  return syntheticInstance({ patientId: 'PAT-W', studyInstanceUid: STUDY, seriesInstanceUid: SERIES, sopInstanceUid: `${SERIES}.${n}`, modality: 'MR', instanceNumber: n, size: 4, ...over });
}

async function multipartBody(parts: Buffer[], type = 'application/dicom'): Promise<{ body: Buffer; contentType: string }> {
  const boundary = 'stow-test-boundary';
  const chunks: Buffer[] = [];
  for await (const c of multipartStream(boundary, parts.map((p) => ({ contentType: type, body: () => p })))) chunks.push(c as Buffer);
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

async function parts(payload: Buffer, contentType: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  async function* one() {
    yield payload;
  }
  await readMultipart(one(), mediaTypeParams(contentType).params.boundary, async () => {
    const got: Buffer[] = [];
    return { write: async (c) => void got.push(Buffer.from(c)), end: async () => void out.push(Buffer.concat(got)) };
  });
  return out;
}

test('STOW-RS: stored and failed parts answered per PS3.18 (202), study mismatch 409, wrong role 403', async () => {
  await withMemoryArchive(async (h) => {
    const up = { authorization: h.basic('uploader') };
    const { body, contentType } = await multipartBody([inst(1), Buffer.from('garbage, not DICOM'), inst(2)]);
    const r = await h.app.inject({ method: 'POST', url: '/dicom-web/studies', headers: { ...up, 'content-type': contentType }, payload: body });
    assert.equal(r.statusCode, 202, r.body);
    assert.match(String(r.headers['content-type']), /application\/dicom\+json/);
    const json = r.json();
    assert.deepEqual(json['00081199'].Value.map((i: Record<string, { Value: string[] }>) => i['00081155'].Value[0]), [`${SERIES}.1`, `${SERIES}.2`]);
    assert.match(json['00081199'].Value[0]['00081190'].Value[0], new RegExp(`/dicom-web/studies/${STUDY}/series/${SERIES}/instances/${SERIES}.1$`));
    assert.deepEqual(json['00081198'].Value[0]['00081197'], { vr: 'US', Value: [0xc000] });

    const other = await multipartBody([inst(3)]);
    const mismatch = await h.app.inject({ method: 'POST', url: '/dicom-web/studies/9.9.9', headers: { ...up, 'content-type': other.contentType }, payload: other.body });
    assert.equal(mismatch.statusCode, 409);
    assert.deepEqual(mismatch.json()['00081198'].Value[0]['00081197'].Value, [0xa900]);
    const good = await h.app.inject({ method: 'POST', url: `/dicom-web/studies/${STUDY}`, headers: { ...up, 'content-type': other.contentType }, payload: other.body });
    assert.equal(good.statusCode, 200);
    const wrongType = await h.app.inject({ method: 'POST', url: '/dicom-web/studies', headers: { ...up, 'content-type': 'application/dicom' }, payload: inst(4) });
    assert.equal(wrongType.statusCode, 415);
    const researcher = await h.app.inject({ method: 'POST', url: '/dicom-web/studies', headers: { authorization: h.basic('researcher'), 'content-type': contentType }, payload: body });
    assert.equal(researcher.statusCode, 403);
    assert.equal((await h.audit.list({ action: 'upload' })).length, 5);
  });
});

test('QIDO-RS searches and WADO-RS retrieves what STOW stored', async () => {
  await withMemoryArchive(async (h) => {
    const { body, contentType } = await multipartBody([inst(1), inst(2), inst(3, { seriesInstanceUid: `${SERIES}9`, sopInstanceUid: `${SERIES}9.1`, modality: 'RTDOSE' })]);
    const stow = await h.app.inject({ method: 'POST', url: '/dicom-web/studies', headers: { authorization: h.basic('uploader'), 'content-type': contentType }, payload: body });
    assert.equal(stow.statusCode, 200);
    const auth = { authorization: h.basic('researcher') };
    const q = async (url: string) => {
      const r = await h.app.inject({ url, headers: { ...auth, accept: 'application/dicom+json' } });
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      return r.json() as Record<string, { vr: string; Value?: unknown[] }>[];
    };
    const studies = await q('/dicom-web/studies?PatientID=PAT-W');
    assert.equal(studies.length, 1);
    assert.deepEqual(studies[0]['0020000D'], { vr: 'UI', Value: [STUDY] });
    assert.deepEqual(studies[0]['00201208'], { vr: 'IS', Value: [3] });
    assert.deepEqual((studies[0]['00080061'].Value as string[]).sort(), ['MR', 'RTDOSE']);
    assert.match(String(studies[0]['00081190'].Value![0]), new RegExp(`/dicom-web/studies/${STUDY}$`));
    assert.deepEqual(await q('/dicom-web/studies?PatientID=NOBODY'), []);
    assert.equal((await q(`/dicom-web/studies/${STUDY}/series`)).length, 2);
    assert.equal((await q(`/dicom-web/studies/${STUDY}/series?Modality=MR`)).length, 1);
    assert.equal((await q(`/dicom-web/studies/${STUDY}/series/${SERIES}/instances`)).length, 2);
    assert.equal((await q('/dicom-web/instances?limit=1&offset=1')).length, 1);
    assert.equal((await q('/dicom-web/series?Modality=RTDOSE&includefield=all')).length, 1);

    const series = await h.app.inject({ url: `/dicom-web/studies/${STUDY}/series/${SERIES}`, headers: { ...auth, accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } });
    assert.equal(series.statusCode, 200);
    const files = await parts(series.rawPayload, String(series.headers['content-type']));
    assert.equal(files.length, 2);
    assert.ok(files.some((f) => f.equals(inst(1))) && files.some((f) => f.equals(inst(2))));
    const one = await h.app.inject({ url: `/dicom-web/studies/${STUDY}/series/${SERIES}/instances/${SERIES}.2`, headers: auth });
    assert.ok((await parts(one.rawPayload, String(one.headers['content-type'])))[0].equals(inst(2)));
    const study = await h.app.inject({ url: `/dicom-web/studies/${STUDY}`, headers: auth });
    assert.equal((await parts(study.rawPayload, String(study.headers['content-type']))).length, 3);
    const jpeg = await h.app.inject({ url: `/dicom-web/studies/${STUDY}`, headers: { ...auth, accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50' } });
    assert.equal(jpeg.statusCode, 406);
    assert.equal(jpeg.json().error, 'NOT_ACCEPTABLE');
    // Several acceptable ranges: any one the stored objects are in will do (no transcoding needed).
    // (The synthetic instances are Explicit VR Little Endian.)
    const either = await h.app.inject({ url: `/dicom-web/studies/${STUDY}`, headers: { ...auth, accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50, multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1' } });
    assert.equal(either.statusCode, 200, either.body.slice(0, 200));
    const png = await h.app.inject({ url: `/dicom-web/studies/${STUDY}`, headers: { ...auth, accept: 'image/png' } });
    assert.equal(png.statusCode, 406);
    const missing = await h.app.inject({ url: '/dicom-web/studies/7.7.7', headers: auth });
    assert.equal(missing.statusCode, 404);

    const meta = await h.app.inject({ url: `/dicom-web/studies/${STUDY}/series/${SERIES}/metadata`, headers: auth });
    assert.equal(meta.statusCode, 200);
    const md = meta.json() as Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string }>[];
    assert.equal(md.length, 2);
    assert.deepEqual(md.map((m) => m['00080018'].Value![0]).sort(), [`${SERIES}.1`, `${SERIES}.2`]);
    const downloads = await h.audit.list({ action: 'download' });
    assert.deepEqual(downloads.map((d) => d.detail?.instances), [2, 1, 3, 3, 2]);
  });
});

test('frames (native and encapsulated), bulkdata and WADO-URI', async () => {
  const { readFileSync } = await import('node:fs');
  const { readPart10, PIXEL_DATA } = await import('../../src/dicom/index.ts');
  await withMemoryArchive(async (h) => {
    const ct = inst(1, { size: 32 });
    const j2k = readFileSync(new URL('../fixtures/dicom/JPEG2000.dcm', import.meta.url));
    const { body, contentType } = await multipartBody([ct, j2k]);
    assert.equal((await h.app.inject({ method: 'POST', url: '/dicom-web/studies', headers: { authorization: h.basic('uploader'), 'content-type': contentType }, payload: body })).statusCode, 200);
    const auth = { authorization: h.basic('researcher') };
    const base = `/dicom-web/studies/${STUDY}/series/${SERIES}/instances/${SERIES}.1`;
    const native = await h.app.inject({ url: `${base}/frames/1`, headers: { ...auth, accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' } });
    assert.equal(native.statusCode, 200, native.body);
    const [frame] = await parts(native.rawPayload, String(native.headers['content-type']));
    const px = readPart10(ct).dataset.bytes(PIXEL_DATA)!;
    assert.ok(frame.equals(Buffer.from(px)), '32x32x16-bit frame = the pixel data');
    assert.equal((await h.app.inject({ url: `${base}/frames/2`, headers: auth })).statusCode, 404);
    assert.equal((await h.app.inject({ url: `${base}/frames/x`, headers: auth })).statusCode, 400);

    const jds = readPart10(j2k).dataset;
    const jbase = `/dicom-web/studies/${jds.string(0x0020000d)}/series/${jds.string(0x0020000e)}/instances/${jds.string(0x00080018)}`;
    const enc = await h.app.inject({ url: `${jbase}/frames/1`, headers: { ...auth, accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' } });
    assert.equal(enc.statusCode, 200, enc.body);
    assert.match(String(enc.headers['content-type']), /type="image\/jp2"/);
    const [jframe] = await parts(enc.rawPayload, String(enc.headers['content-type']));
    const frags = jds.fragments(PIXEL_DATA)!.slice(1);
    assert.ok(jframe.equals(Buffer.concat(frags.map((f) => Buffer.from(f)))));
    const wrongTs = await h.app.inject({ url: `${jbase}/frames/1`, headers: { ...auth, accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1' } });
    assert.equal(wrongTs.statusCode, 406);

    const meta = (await h.app.inject({ url: `${base}/metadata`, headers: auth })).json()[0];
    const uri = String(meta['7FE00010'].BulkDataURI);
    assert.match(uri, /\/bulkdata\/7FE00010$/);
    const bulk = await h.app.inject({ url: new URL(uri).pathname, headers: auth });
    assert.equal(bulk.statusCode, 200);
    assert.ok((await parts(bulk.rawPayload, String(bulk.headers['content-type'])))[0].equals(Buffer.from(px)));

    const uriUrl = `/wado?requestType=WADO&studyUID=${STUDY}&seriesUID=${SERIES}&objectUID=${SERIES}.1&contentType=application/dicom`;
    const wado = await h.app.inject({ url: uriUrl, headers: auth });
    assert.equal(wado.statusCode, 200);
    assert.ok(wado.rawPayload.equals(ct));
    const jpegUri = await h.app.inject({ url: uriUrl.replace('application/dicom', 'image/jpeg'), headers: auth });
    assert.equal(jpegUri.statusCode, 200);
    assert.equal(jpegUri.headers['content-type'], 'image/jpeg');
    assert.deepEqual([...jpegUri.rawPayload.subarray(0, 2)], [0xff, 0xd8]);
    assert.equal((await h.app.inject({ url: uriUrl.replace('application/dicom', 'text/html'), headers: auth })).statusCode, 406);

    const { decode } = await import('fast-png');
    const rendered = await h.app.inject({ url: `${base}/rendered?viewport=16,16`, headers: { ...auth, accept: 'image/png' } });
    assert.equal(rendered.statusCode, 200, rendered.body);
    const png = decode(rendered.rawPayload);
    assert.deepEqual([png.width, png.height, png.channels], [16, 16, 1]);
    const thumb = await h.app.inject({ url: `/dicom-web/studies/${STUDY}/series/${SERIES}/thumbnail`, headers: auth });
    assert.equal(thumb.statusCode, 200);
    assert.equal(thumb.headers['content-type'], 'image/jpeg');
    const compressed = await h.app.inject({ url: `${jbase}/rendered`, headers: auth });
    assert.equal(compressed.statusCode, 415, 'compressed frames are not decoded');
    assert.equal((await h.app.inject({ url: `${base}/rendered`, headers: { ...auth, accept: 'image/gif' } })).statusCode, 406);
    assert.equal((await h.app.inject({ url: uriUrl })).statusCode, 401);
  });
});

test('bulkValue follows sequence paths', async () => {
  const { bulkValue, bulkPath } = await import('../../src/http/dicomweb/wado.ts');
  const { Dataset } = await import('../../src/dicom/index.ts');
  const item = new Dataset();
  const root = new Dataset();
  root.setItems(0x00081115, [item]);
  item.setBytes(0x00091010, 'OB', new Uint8Array([1, 2, 3, 4]));
  assert.equal(bulkPath('(0008,1115)[0].(0009,1010)'), '00081115/0/00091010');
  assert.deepEqual([...bulkValue(root, '00081115/0/00091010')!], [1, 2, 3, 4]);
  assert.equal(bulkValue(root, '00081115/1/00091010'), undefined);
});

test('STOW-RS with more parts than are finished at once: every part answered, in the order sent', async () => {
  await withMemoryArchive(async (h) => {
    // Parts are stored while the next ones are read (up to 8 at a time): the answer must still
    // list each part once, in request order, with failures and duplicates where they were.
    const sent = Array.from({ length: 20 }, (_, i) => (i === 7 ? Buffer.from('garbage, not DICOM') : i === 13 ? inst(2) : inst(i)));
    const { body, contentType } = await multipartBody(sent);
    const r = await h.app.inject({ method: 'POST', url: '/dicom-web/studies', headers: { authorization: h.basic('uploader'), 'content-type': contentType }, payload: body });
    assert.equal(r.statusCode, 202, r.body);
    const json = r.json();
    const expected = sent.map((_, i) => i).filter((i) => i !== 7).map((i) => `${SERIES}.${i === 13 ? 2 : i}`);
    assert.deepEqual(json['00081199'].Value.map((i: Record<string, { Value: string[] }>) => i['00081155'].Value[0]), expected);
    assert.equal(json['00081198'].Value.length, 1);
    const found = await h.app.inject({ url: `/dicom-web/studies/${STUDY}/instances`, headers: { authorization: h.basic('researcher') } });
    assert.equal(found.json().length, 18, '19 stored parts, one of them a duplicate');
  });
});
