import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32, tableCrc32, zipStream } from '../../src/http/rest/zip-writer.ts';
import { zipEntries } from '../../src/http/rest/zip-entries.ts';

test('crc32 matches the reference value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('a streamed ZIP reads back entry by entry with yauzl', async () => {
  const files = [randomBytes(10), Buffer.alloc(0), randomBytes(100_000)];
  async function* chunks(b: Buffer) {
    for (let i = 0; i < b.length; i += 4096) yield b.subarray(i, i + 4096);
  }
  const out: Buffer[] = [];
  for await (const c of zipStream(files.map((f, i) => ({ name: `d/${i}.dcm`, data: () => chunks(f) })))) out.push(c as Buffer);
  const back: Buffer[] = [];
  for await (const e of zipEntries(Buffer.concat(out), 1 << 20)) back.push(e);
  assert.equal(back.length, 3);
  back.forEach((b, i) => assert.ok(b.equals(files[i])));
});

test('crc32 continues a running value across chunks like one pass', () => {
  const data = Buffer.from('The quick brown fox jumps over the lazy dog, twice over: '.repeat(50));
  const whole = crc32(data);
  assert.equal(whole, crc32(data.subarray(1000), crc32(data.subarray(0, 1000))));
  assert.equal(crc32(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x414fa339);
});

test('the table fallback (Node < 20.15) agrees with the native crc32', () => {
  const data = randomBytes(100_000);
  assert.equal(tableCrc32(data), crc32(data));
  assert.equal(tableCrc32(data.subarray(500), tableCrc32(data.subarray(0, 500))), crc32(data));
});
