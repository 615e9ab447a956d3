// POST /tools/convert through the real server: a picture becomes an archived DICOM instance with the
// given patient attributes; with a project it is de-identified on the way in; bad files are reported
// by name while the others still convert; uploads over the limit are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { startServer } from '../../src/main.ts';
import { makeBmp } from '../convert/make-inputs.ts';
import { startServerWith } from '../helpers/serve.ts';

async function withServer(fn: (base: string, server: Awaited<ReturnType<typeof startServer>>) => Promise<void>, uploadLimitMiB = 64): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dg-convert-route-'));
  // `photos` accepts secondary captures, which the basic profile quarantines (they may carry burned-in text).
  const server = await startServerWith(dir, { http: { uploadLimitMiB }, projects: { photos: { burnedIn: { accept: true } } } });
  try {
    await fn(`http://127.0.0.1:${server.httpPort}`, server);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const bmp = makeBmp(16, 8, 24, (x, y) => [x * 10, y * 20, 7]);

test('a BMP and a broken PNG: one instance archived with the attributes, one error naming the file', async () => {
  await withServer(async (base, server) => {
    const form = new FormData();
    form.append('file', new Blob([bmp]), 'scan.bmp');
    form.append('file', new Blob([Buffer.from('\x89PNG\r\n\x1a\nnot really')]), 'broken.png');
    form.append('attributes', JSON.stringify({ PatientID: 'CONV001', PatientName: 'Convert^Test', StudyDescription: 'photos' }));
    form.append('burnedInAnnotation', 'no');
    const res = await fetch(`${base}/tools/convert`, { method: 'POST', body: form });
    assert.equal(res.status, 202, 'some stored, some failed');
    const a = (await res.json()) as { instances: { ID: string; Status: string }[]; errors: { source: string; message: string }[] };
    assert.equal(a.instances.length, 1);
    assert.equal(a.instances[0].Status, 'Success');
    assert.equal(a.errors.length, 1);
    assert.equal(a.errors[0].source, 'broken.png');
    const file = await fetch(`${base}/instances/${a.instances[0].ID}/file`);
    assert.equal(file.status, 200);
    const ds = readPart10(Buffer.from(await file.arrayBuffer())).dataset;
    assert.equal(ds.string(T.PatientID), 'CONV001');
    assert.equal(ds.number(T.Columns), 16);
    assert.equal((await server.archive.index.statistics()).instances, 1);
  });
});

test('with a project the converted instance is de-identified before it is archived, or quarantined', async () => {
  await withServer(async (base, server) => {
    const send = (project: string) => {
      const form = new FormData();
      form.append('file', new Blob([bmp]), 'scan.bmp');
      form.append('attributes', JSON.stringify({ PatientID: 'CONV002', PatientName: 'Identifiable^Person' }));
      form.append('burnedInAnnotation', 'no');
      form.append('project', project);
      return fetch(`${base}/tools/convert`, { method: 'POST', body: form });
    };
    const qr = await send('basic');
    assert.equal(qr.status, 409, 'nothing stored');
    const q = (await qr.json()) as { instances: { ID: string | null; Status: string }[]; message: string };
    assert.deepEqual(q.instances.map((i) => i.Status), ['Quarantined']);
    assert.match(q.message, /could not be converted or stored: Quarantined \(burned-in/);
    assert.equal((await server.archive.index.statistics()).instances, 0, 'nothing quarantined reaches the archive');
    const res = await send('photos');
    const a = (await res.json()) as { instances: { ID: string; Status: string }[] };
    assert.equal(res.status, 200, JSON.stringify(a));
    assert.equal(a.instances[0].Status, 'Success', JSON.stringify(a));
    const ds = readPart10(Buffer.from(await (await fetch(`${base}/instances/${a.instances[0].ID}/file`)).arrayBuffer())).dataset;
    assert.equal(ds.string(T.PatientIdentityRemoved), 'YES');
    assert.notEqual(ds.string(T.PatientID), 'CONV002');
    assert.doesNotMatch(ds.string(T.PatientName) ?? '', /Identifiable/);
  });
});

test('bad requests: not multipart, unknown project, unknown keyword, over the upload limit', async () => {
  await withServer(async (base) => {
    assert.equal((await fetch(`${base}/tools/convert`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status, 415);
    const p = new FormData();
    p.append('file', new Blob([bmp]), 'a.bmp');
    p.append('project', 'no-such-project');
    assert.equal((await fetch(`${base}/tools/convert`, { method: 'POST', body: p })).status, 403);
    const k = new FormData();
    k.append('file', new Blob([bmp]), 'a.bmp');
    k.append('attributes', JSON.stringify({ NotAKeyword: 'x' }));
    const kr = await fetch(`${base}/tools/convert`, { method: 'POST', body: k });
    assert.equal(kr.status, 400);
    assert.match(JSON.stringify(await kr.json()), /NotAKeyword/);
    const big = new FormData();
    big.append('file', new Blob([Buffer.alloc(2 * 1024 * 1024)]), 'big.bmp');
    assert.equal((await fetch(`${base}/tools/convert`, { method: 'POST', body: big })).status, 413);
  }, 1);
});
