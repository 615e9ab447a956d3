import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mediaTypeParams, multipartLength, multipartStream, readMultipart, type PartHeaders } from '../../src/http/dicomweb/multipart.ts';

async function collect(body: Buffer, boundary: string, chunkSize: number): Promise<{ headers: PartHeaders; data: Buffer }[]> {
  const parts: { headers: PartHeaders; data: Buffer }[] = [];
  async function* chunks() {
    for (let i = 0; i < body.length; i += chunkSize) yield body.subarray(i, i + chunkSize);
  }
  await readMultipart(chunks(), boundary, async (headers) => {
    const got: Buffer[] = [];
    return {
      write: async (c) => {
        got.push(Buffer.from(c));
      },
      end: async () => {
        parts.push({ headers, data: Buffer.concat(got) });
      },
    };
  });
  return parts;
}

test('multipart round trip at every chunk size, including bodies that contain CRLF and dashes', async () => {
  const payloads = [randomBytes(1000), Buffer.from('\r\n--notquite\r\n--'), Buffer.alloc(0), randomBytes(70_000)];
  const boundary = 'b0undary';
  const stream = multipartStream(boundary, payloads.map((p) => ({ contentType: 'application/dicom', contentLength: p.length, body: () => p })));
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  for (const size of [1, 2, 7, 13, 64, 4096, body.length]) {
    const parts = await collect(body, boundary, size);
    assert.equal(parts.length, payloads.length, `chunk ${size}`);
    parts.forEach((p, i) => {
      assert.ok(p.data.equals(payloads[i]), `part ${i} at chunk ${size}`);
      assert.equal(p.headers['content-type'], 'application/dicom');
    });
  }
});

test('preamble, transport padding and a missing closing boundary', async () => {
  const body = Buffer.from('preamble text\r\n--xyz  \r\nContent-Type: a/b\r\n\r\nHELLO\r\n--xyz--\r\nepilogue');
  const parts = await collect(body, 'xyz', 5);
  assert.deepEqual(parts.map((p) => p.data.toString()), ['HELLO']);
  await assert.rejects(collect(Buffer.from('--xyz\r\n\r\nabc'), 'xyz', 3), /closing boundary/);
});

test('media type parameters, quoted', () => {
  assert.deepEqual(mediaTypeParams('Multipart/Related; type="application/dicom"; boundary="a;b"'), { type: 'multipart/related', params: { type: 'application/dicom', boundary: 'a;b' } });
});

test('multipartLength is the exact byte length of multipartStream (sent as Content-Length by WADO-RS)', async () => {
  const boundary = 'b-123';
  for (const sizes of [[], [0], [5], [1000, 3, 70_000]]) {
    const parts = sizes.map((n, i) => {
      const body = randomBytes(n);
      return { contentType: 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1', contentLength: n, location: `http://x/instances/${i}`, body: () => body };
    });
    const chunks: Buffer[] = [];
    for await (const c of multipartStream(boundary, parts)) chunks.push(c as Buffer);
    const all = Buffer.concat(chunks);
    assert.equal(multipartLength(boundary, parts), all.length, `sizes ${sizes.join(',')}`);
    // The same body reads back part for part.
    const seen: number[] = [];
    await readMultipart((async function* () { yield all; })(), boundary, async () => {
      let n = 0;
      return { write: async (c) => void (n += c.length), end: async () => void seen.push(n) };
    });
    assert.deepEqual(seen, sizes);
  }
  assert.equal(multipartLength(boundary, [{ contentType: 'x' }]), undefined, 'unknown part length: no total');
});
