import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { T } from '../../src/dicom/index.ts';
import { makeBmp, makeTiff, type TiffPageSpec } from './make-inputs.ts';
import { datasetOf, memoryInput, pixelBytes, run, u16 } from './helpers.ts';

const W = 37; // odd width: exercises row padding (BMP) and odd pixel data length
const H = 23;
const gray8 = Array.from({ length: W * H }, (_, i) => (i * 7) % 256);
const gray16 = Array.from({ length: W * H }, (_, i) => (i * 977) % 65536);
const rgb8 = Array.from({ length: W * H * 3 }, (_, i) => (i * 13) % 256);

async function one(name: string, buf: Uint8Array) {
  const r = await run([memoryInput(name, buf)]);
  assert.equal(r.errors.length, 0, r.errors.map((e) => e.error.message).join());
  assert.equal(r.instances.length, 1);
  return datasetOf(r.instances[0]);
}

test('PNG 8-bit gray: pixels survive, Secondary Capture MONOCHROME2', async () => {
  const ds = await one('g.png', encodePng({ width: W, height: H, data: Uint8Array.from(gray8), depth: 8, channels: 1 }));
  assert.equal(ds.string(T.SOPClassUID), '1.2.840.10008.5.1.4.1.1.7');
  assert.equal(ds.string(T.PhotometricInterpretation), 'MONOCHROME2');
  assert.deepEqual([ds.number(T.Rows), ds.number(T.Columns)], [H, W]);
  assert.deepEqual(Array.from(pixelBytes(ds)), gray8);
});

test('PNG 16-bit gray keeps 16 bits', async () => {
  const ds = await one('g16.png', encodePng({ width: W, height: H, data: Uint16Array.from(gray16), depth: 16, channels: 1 }));
  assert.equal(ds.number(T.BitsStored), 16);
  assert.deepEqual(u16(pixelBytes(ds)), gray16);
});

test('PNG RGBA: alpha dropped, RGB kept', async () => {
  const rgba = new Uint8Array(W * H * 4);
  for (let p = 0; p < W * H; p++) { rgba.set(rgb8.slice(p * 3, p * 3 + 3), p * 4); rgba[p * 4 + 3] = p % 256; }
  const ds = await one('c.png', encodePng({ width: W, height: H, data: rgba, depth: 8, channels: 4 }));
  assert.equal(ds.string(T.PhotometricInterpretation), 'RGB');
  assert.equal(ds.number(T.PlanarConfiguration), 0);
  assert.deepEqual(Array.from(pixelBytes(ds)), rgb8);
});

test('PNG 16-bit RGB', async () => {
  const rgb16 = Array.from({ length: W * H * 3 }, (_, i) => (i * 4099) % 65536);
  const ds = await one('c16.png', encodePng({ width: W, height: H, data: Uint16Array.from(rgb16), depth: 16, channels: 3 }));
  assert.equal(ds.number(T.BitsAllocated), 16);
  assert.deepEqual(u16(pixelBytes(ds)), rgb16);
});

test('BMP 24-bit, 32-bit and 8-bit gray palette', async () => {
  const px = (x: number, y: number): [number, number, number] => [(x * 5) % 256, (y * 11) % 256, (x + y) % 256];
  const expected = Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => px(x, y))).flat(2);
  for (const bpp of [24, 32] as const) {
    const ds = await one(`p${bpp}.bmp`, makeBmp(W, H, bpp, px));
    assert.equal(ds.string(T.PhotometricInterpretation), 'RGB');
    assert.deepEqual(Array.from(pixelBytes(ds)), expected, `${bpp}-bit`);
  }
  const ds = await one('p8.bmp', makeBmp(W, H, 8, (x, y) => [gray8[y * W + x], 0, 0]));
  assert.equal(ds.string(T.PhotometricInterpretation), 'MONOCHROME2');
  assert.deepEqual(Array.from(pixelBytes(ds)), gray8);
});

test('BMP 8-bit colour palette expands to RGB', async () => {
  const pal = Array.from({ length: 256 }, (_, i) => [i, 255 - i, (i * 3) % 256] as [number, number, number]);
  const ds = await one('pal.bmp', makeBmp(W, H, 8, (x, y) => [gray8[y * W + x], 0, 0], pal));
  assert.equal(ds.string(T.PhotometricInterpretation), 'RGB');
  assert.deepEqual(Array.from(pixelBytes(ds)), gray8.flatMap((i) => pal[i]));
});

test('JPEG baseline is embedded unchanged as JPEG Baseline, metadata segments stripped', async () => {
  const rgba = new Uint8Array(W * H * 4).map((_, i) => (i * 31) % 256);
  const src = jpeg.encode({ width: W, height: H, data: rgba, comments: ['patient name here'] }, 85).data;
  assert.ok(src.includes(Buffer.from('patient name here')), 'source has the comment');
  const r = await run([memoryInput('photo.jpg', src)]);
  const inst = r.instances[0];
  assert.equal(inst.transferSyntaxUID, '1.2.840.10008.1.2.4.50');
  const ds = datasetOf(inst);
  assert.equal(ds.string(T.PhotometricInterpretation), 'YBR_FULL_422');
  assert.equal(ds.string(T.LossyImageCompression), '01');
  const frags = ds.fragments(T.PixelData)!;
  assert.equal(frags.length, 2); // offset table + one frame
  const embedded = Buffer.from(frags[1]);
  assert.ok(!embedded.includes(Buffer.from('patient name here')), 'COM segment removed');
  // Same entropy-coded data: decoding the embedded stream gives exactly the source's pixels.
  const a = jpeg.decode(src, { useTArray: true });
  const b = jpeg.decode(embedded, { useTArray: true });
  assert.deepEqual(Buffer.from(b.data), Buffer.from(a.data));
  const sos = src.indexOf(Buffer.from([0xff, 0xda]));
  assert.ok(embedded.includes(src.subarray(sos, src.length - 2)), 'scan bytes copied as they were');
});

test('non-baseline JPEG (extended, SOF1) is decoded and stored native', async () => {
  const rgba = new Uint8Array(W * H * 4).map((_, i) => (i * 31) % 256);
  const src = Buffer.from(jpeg.encode({ width: W, height: H, data: rgba }, 90).data);
  src[src.indexOf(Buffer.from([0xff, 0xc0])) + 1] = 0xc1; // same coding, extended sequential marker
  const r = await run([memoryInput('ext.jpg', src)]);
  const inst = r.instances[0];
  assert.equal(inst.transferSyntaxUID, '1.2.840.10008.1.2.1');
  const ds = datasetOf(inst);
  assert.equal(ds.string(T.PhotometricInterpretation), 'RGB');
  const dec = jpeg.decode(src, { useTArray: true, formatAsRGBA: false });
  assert.deepEqual(Buffer.from(pixelBytes(ds)), Buffer.from(dec.data));
});

const tiffCases: [string, Partial<TiffPageSpec>][] = [
  ['uncompressed strips', { compression: 1, rowsPerStrip: 5 }],
  ['LZW', { compression: 5, rowsPerStrip: 8 }],
  ['deflate + predictor', { compression: 8, predictor: 2 }],
  ['PackBits tiles', { compression: 32773, tile: 16 }],
  ['LZW tiles + predictor', { compression: 5, tile: 16, predictor: 2 }],
];

for (const [label, spec] of tiffCases) {
  test(`TIFF ${label}: 8-bit gray, 16-bit gray and RGB survive`, async () => {
    for (const [spp, bits, samples] of [[1, 8, gray8], [1, 16, gray16], [3, 8, rgb8]] as const) {
      const ds = await one('t.tif', makeTiff([{ width: W, height: H, spp, bits, samples: [...samples], ...spec }]));
      const got = bits === 16 ? u16(pixelBytes(ds)) : Array.from(pixelBytes(ds));
      assert.deepEqual(got, samples, `${spp}x${bits}`);
    }
  });
}

test('LZW with a table past 512 and 1024 entries (code width changes)', async () => {
  const noisy = Array.from({ length: 200 * 60 }, (_, i) => ((i * 2654435761) >>> 13) % 256);
  const ds = await one('n.tif', makeTiff([{ width: 200, height: 60, spp: 1, bits: 8, samples: noisy, compression: 5 }]));
  assert.deepEqual(Array.from(pixelBytes(ds)), noisy);
});

test('multi-page TIFF → one multi-frame SC (Word), or one instance per page', async () => {
  const pages = [0, 1, 2].map((p) => ({ width: W, height: H, spp: 1 as const, bits: 16 as const, samples: gray16.map((v) => (v + p * 1000) % 65536), compression: 8 as const }));
  const tif = makeTiff(pages);
  const ds = await one('stack.tif', tif);
  assert.equal(ds.string(T.SOPClassUID), '1.2.840.10008.5.1.4.1.1.7.3');
  assert.equal(ds.number(T.NumberOfFrames), 3);
  assert.deepEqual(u16(pixelBytes(ds)), pages.flatMap((p) => p.samples));
  const r = await run([memoryInput('stack.tif', tif)], { tiffPages: 'instances' });
  assert.equal(r.instances.length, 3);
  assert.equal(new Set(r.instances.map((i) => i.seriesInstanceUID)).size, 1);
  assert.deepEqual(u16(pixelBytes(datasetOf(r.instances[2]))), pages[2].samples);
});

test('pictures of one folder share a series; the study is shared by all', async () => {
  const png = encodePng({ width: W, height: H, data: Uint8Array.from(gray8), depth: 8, channels: 1 });
  const r = await run([memoryInput('a/1.png', png, 'dir:a'), memoryInput('a/2.png', png, 'dir:a'), memoryInput('b.png', png)]);
  assert.equal(r.instances.length, 3);
  assert.equal(r.instances[0].seriesInstanceUID, r.instances[1].seriesInstanceUID);
  assert.notEqual(r.instances[0].seriesInstanceUID, r.instances[2].seriesInstanceUID);
  assert.equal(new Set(r.instances.map((i) => i.studyInstanceUID)).size, 1);
  assert.deepEqual(r.instances.slice(0, 2).map((i) => datasetOf(i).number(T.InstanceNumber)), [1, 2]);
  assert.match(r.instances[0].sopInstanceUID, /^2\.25\.\d+$/);
});

test('PNG palette and 1-bit gray', async () => {
  const palette = Array.from({ length: 4 }, (_, i) => [i * 60, 255 - i * 60, 7]);
  const idx = Array.from({ length: W * H }, (_, i) => i % 4);
  const packed = new Uint8Array(H * Math.ceil((W * 2) / 8));
  idx.forEach((v, p) => { const y = Math.floor(p / W); const x = p % W; const bit = x * 2; packed[y * Math.ceil((W * 2) / 8) + (bit >> 3)] |= v << (6 - (bit & 7)); });
  const pal = await one('pal.png', encodePng({ width: W, height: H, data: packed, depth: 2, channels: 1, palette }));
  assert.equal(pal.string(T.PhotometricInterpretation), 'RGB');
  assert.deepEqual(Array.from(pixelBytes(pal)), idx.flatMap((i) => palette[i]));
  const rowBytes = Math.ceil(W / 8);
  const bits = new Uint8Array(H * rowBytes);
  const on = (x: number, y: number) => (x + y) % 3 === 0;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (on(x, y)) bits[y * rowBytes + (x >> 3)] |= 0x80 >> (x & 7);
  const mono = await one('bits.png', encodePng({ width: W, height: H, data: bits, depth: 1, channels: 1 }));
  assert.deepEqual(Array.from(pixelBytes(mono)), Array.from({ length: W * H }, (_, p) => (on(p % W, Math.floor(p / W)) ? 255 : 0)));
});

test('big-endian TIFF, 16-bit gray, WhiteIsZero inverted', async () => {
  // MM header; one IFD with 9 entries; 2x2 pixels stored uncompressed after it.
  const b = Buffer.alloc(8 + 2 + 9 * 12 + 4 + 8);
  b.write('MM', 0, 'latin1'); b.writeUInt16BE(42, 2); b.writeUInt32BE(8, 4);
  b.writeUInt16BE(9, 8);
  const data = 8 + 2 + 9 * 12 + 4;
  const entries: [number, number, number][] = [[256, 3, 2], [257, 3, 2], [258, 3, 16], [259, 3, 1], [262, 3, 0], [273, 4, data], [277, 3, 1], [278, 3, 2], [279, 4, 8]];
  entries.forEach(([tagNo, type, value], i) => {
    const e = 10 + i * 12;
    b.writeUInt16BE(tagNo, e); b.writeUInt16BE(type, e + 2); b.writeUInt32BE(1, e + 4);
    if (type === 3) b.writeUInt16BE(value, e + 8); else b.writeUInt32BE(value, e + 8);
  });
  [0, 1000, 65535, 40000].forEach((v, i) => b.writeUInt16BE(v, data + i * 2));
  const ds = await one('be.tif', b);
  assert.deepEqual(u16(pixelBytes(ds)), [65535, 64535, 0, 25535]);
});

test('JPEG: data appended after EOI is not embedded; a JPEG without EOI is refused', async () => {
  const rgba = new Uint8Array(W * H * 4).map((_, i) => (i * 17) % 256);
  const src = Buffer.from(jpeg.encode({ width: W, height: H, data: rgba }, 75).data);
  const trailer = Buffer.concat([Buffer.from('MOTION-PHOTO-DATA'), Buffer.from([0xff, 0xd9])]);
  const r = await run([memoryInput('with-trailer.jpg', Buffer.concat([src, trailer])), memoryInput('cut.jpg', src.subarray(0, src.length - 40))]);
  const frag = Buffer.from(datasetOf(r.instances[0]).fragments(T.PixelData)![1]);
  assert.ok(!frag.includes(Buffer.from('MOTION-PHOTO-DATA')));
  const end = frag[frag.length - 1] === 0 ? frag.length - 1 : frag.length; // even-length pad
  assert.deepEqual(frag.subarray(end - 2, end), Buffer.from([0xff, 0xd9]));
  assert.equal(end, src.length, 'the image itself is complete (jpeg-js writes no metadata to strip)');
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0].error.message, /cut\.jpg: JPEG truncated \(no EOI marker\)/);
});
