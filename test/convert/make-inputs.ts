// Writers for small test inputs, so every fixture is made by the tests themselves.
import { deflateSync, gzipSync } from 'node:zlib';

export function makeBmp(width: number, height: number, bpp: 8 | 24 | 32, pixel: (x: number, y: number) => [number, number, number], palette?: [number, number, number][]): Buffer {
  const stride = Math.ceil((width * bpp) / 32) * 4;
  const palBytes = bpp === 8 ? 256 * 4 : 0;
  const off = 14 + 40 + palBytes;
  const b = Buffer.alloc(off + stride * height);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(off, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22); // bottom-up
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(bpp, 28);
  if (bpp === 8) {
    const pal = palette ?? Array.from({ length: 256 }, (_, i) => [i, i, i] as [number, number, number]);
    pal.forEach(([r, g, bl], i) => { b[54 + i * 4] = bl; b[55 + i * 4] = g; b[56 + i * 4] = r; });
  }
  for (let y = 0; y < height; y++) {
    const row = off + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const [r, g, bl] = pixel(x, y);
      if (bpp === 8) b[row + x] = r; // r is the palette index
      else { const p = row + x * (bpp / 8); b[p] = bl; b[p + 1] = g; b[p + 2] = r; if (bpp === 32) b[p + 3] = 255; }
    }
  }
  return b;
}

export interface TiffPageSpec {
  width: number;
  height: number;
  spp: 1 | 3;
  bits: 8 | 16;
  /** Samples, row-major, interleaved, as numbers. */
  samples: number[];
  compression?: 1 | 5 | 8 | 32773 | 7;
  tile?: number;
  rowsPerStrip?: number;
  predictor?: 1 | 2;
}

/** A little-endian TIFF with the given pages (chunky). */
export function makeTiff(pages: TiffPageSpec[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x49, 0x49, 42, 0, 0, 0, 0, 0])];
  let size = 8;
  const add = (b: Buffer): number => { const at = size; parts.push(b); size += b.length; if (b.length & 1) { parts.push(Buffer.alloc(1)); size++; } return at; };
  const ifdOffsets: number[] = [];
  const ifdPatches: { at: number; buf: Buffer }[] = [];
  for (const p of pages) {
    const bps = p.bits / 8;
    const raw = Buffer.alloc(p.width * p.height * p.spp * bps);
    p.samples.forEach((v, i) => (bps === 1 ? raw.writeUInt8(v, i) : raw.writeUInt16LE(v, i * 2)));
    const cw = p.tile ?? p.width;
    const ch = p.tile ?? p.rowsPerStrip ?? p.height;
    const across = Math.ceil(p.width / cw);
    const down = Math.ceil(p.height / ch);
    const offs: number[] = [];
    const counts: number[] = [];
    for (let cy = 0; cy < down; cy++) for (let cx = 0; cx < across; cx++) {
      const rows = p.tile ? ch : Math.min(ch, p.height - cy * ch);
      const chunk = Buffer.alloc(cw * rows * p.spp * bps);
      for (let y = 0; y < rows; y++) for (let x = 0; x < cw; x++) {
        const ox = cx * cw + x; const oy = cy * ch + y;
        if (ox >= p.width || oy >= p.height) continue;
        raw.copy(chunk, (y * cw + x) * p.spp * bps, (oy * p.width + ox) * p.spp * bps, (oy * p.width + ox + 1) * p.spp * bps);
      }
      if (p.predictor === 2) predict(chunk, rows, cw, p.spp, bps);
      const enc = encode(chunk, p.compression ?? 1);
      offs.push(add(enc)); counts.push(enc.length);
    }
    const entries: [number, number, number[]][] = [
      [256, 4, [p.width]], [257, 4, [p.height]], [258, 3, Array(p.spp).fill(p.bits)], [259, 3, [p.compression ?? 1]],
      [262, 3, [p.spp === 3 ? 2 : 1]], [277, 3, [p.spp]], [284, 3, [1]],
    ];
    if (p.predictor === 2) entries.push([317, 3, [2]]);
    if (p.tile) entries.push([322, 4, [cw]], [323, 4, [ch]], [324, 4, offs], [325, 4, counts]);
    else entries.push([273, 4, offs], [278, 4, [ch]], [279, 4, counts]);
    entries.sort((a, b) => a[0] - b[0]);
    const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
    ifd.writeUInt16LE(entries.length, 0);
    const extra: { entry: number; data: Buffer }[] = [];
    entries.forEach(([tag, type, vals], i) => {
      const e = 2 + i * 12;
      ifd.writeUInt16LE(tag, e); ifd.writeUInt16LE(type, e + 2); ifd.writeUInt32LE(vals.length, e + 4);
      const sz = type === 3 ? 2 : 4;
      const data = Buffer.alloc(vals.length * sz);
      vals.forEach((v, k) => (sz === 2 ? data.writeUInt16LE(v, k * 2) : data.writeUInt32LE(v, k * 4)));
      if (data.length <= 4) data.copy(ifd, e + 8); else extra.push({ entry: e, data });
    });
    for (const x of extra) ifd.writeUInt32LE(add(x.data), x.entry + 8);
    const at = add(ifd);
    ifdOffsets.push(at);
    ifdPatches.push({ at, buf: ifd });
  }
  const out = Buffer.concat(parts);
  out.writeUInt32LE(ifdOffsets[0], 4);
  ifdPatches.forEach(({ at, buf }, i) => out.writeUInt32LE(ifdOffsets[i + 1] ?? 0, at + buf.length - 4));
  return out;
}

function predict(chunk: Buffer, rows: number, cw: number, spp: number, bps: number): void {
  for (let y = 0; y < rows; y++) for (let i = cw * spp - 1; i >= spp; i--) {
    const a = (y * cw * spp + i) * bps; const b = (y * cw * spp + i - spp) * bps;
    if (bps === 1) chunk[a] = (chunk[a] - chunk[b]) & 0xff; else chunk.writeUInt16LE((chunk.readUInt16LE(a) - chunk.readUInt16LE(b)) & 0xffff, a);
  }
}

function encode(b: Buffer, compression: number): Buffer {
  if (compression === 8) return deflateSync(b);
  if (compression === 32773) return packBits(b);
  if (compression === 5) return lzw(b);
  return b; // 1, and 7 (a lie, to test the refusal)
}

function packBits(b: Buffer): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < b.length) {
    let run = 1;
    while (i + run < b.length && run < 128 && b[i + run] === b[i]) run++;
    if (run >= 2) { out.push(257 - run, b[i]); i += run; continue; }
    let lit = 1;
    while (i + lit < b.length && lit < 128 && !(i + lit + 1 < b.length && b[i + lit] === b[i + lit + 1])) lit++;
    out.push(lit - 1, ...b.subarray(i, i + lit));
    i += lit;
  }
  return Buffer.from(out);
}

/** TIFF LZW encoder (MSB-first, early change), the mirror of the decoder. */
function lzw(b: Buffer): Buffer {
  const out: number[] = [];
  let acc = 0; let nacc = 0; let width = 9;
  const emit = (code: number) => { acc = (acc << width) | code; nacc += width; while (nacc >= 8) { out.push((acc >>> (nacc - 8)) & 0xff); nacc -= 8; } acc &= (1 << nacc) - 1; };
  let dict = new Map<string, number>();
  let next = 258;
  const code = (s: string) => (s.length === 1 ? s.charCodeAt(0) : dict.get(s)!);
  emit(256);
  let w = '';
  for (const c of b) {
    const ch = String.fromCharCode(c);
    if (w === '') { w = ch; continue; }
    const wc = w + ch;
    if (dict.has(wc)) { w = wc; continue; }
    emit(code(w));
    dict.set(wc, next++);
    if (next === 1 << width && width < 12) width++;
    if (next >= 4094) { emit(256); dict = new Map(); next = 258; width = 9; }
    w = ch;
  }
  if (w !== '') emit(code(w));
  emit(257);
  if (nacc > 0) out.push((acc << (8 - nacc)) & 0xff);
  return Buffer.from(out);
}

export interface NiftiSpec {
  version?: 1 | 2;
  dims: number[]; // nx, ny, nz[, nt]
  datatype: 2 | 4 | 8 | 16 | 256 | 512 | 768 | 64;
  values: number[];
  pixdim?: number[]; // [qfac, dx, dy, dz]
  sform?: number[][]; // 3x4, sets sform_code 1
  qform?: { quatern: [number, number, number]; offset: [number, number, number] };
  sclSlope?: number;
  sclInter?: number;
  gzip?: boolean;
}

const SIZES: Record<number, number> = { 2: 1, 4: 2, 8: 4, 16: 4, 256: 1, 512: 2, 768: 4, 64: 8 };

export function makeNifti(s: NiftiSpec): Buffer {
  const v2 = s.version === 2;
  const hsize = v2 ? 540 : 348;
  const voxOffset = v2 ? 544 : 352;
  const h = Buffer.alloc(voxOffset);
  const pix = s.pixdim ?? [1, 1, 1, 1];
  if (!v2) {
    h.writeInt32LE(348, 0);
    h.writeInt16LE(s.dims.length, 40);
    s.dims.forEach((d, i) => h.writeInt16LE(d, 42 + 2 * i));
    h.writeInt16LE(s.datatype, 70); h.writeInt16LE(SIZES[s.datatype] * 8, 72);
    pix.forEach((p, i) => h.writeFloatLE(p, 76 + 4 * i));
    h.writeFloatLE(voxOffset, 108); h.writeFloatLE(s.sclSlope ?? 0, 112); h.writeFloatLE(s.sclInter ?? 0, 116);
    h.writeUInt8(2, 123); // mm
    if (s.qform) { h.writeInt16LE(1, 252); s.qform.quatern.forEach((q, i) => h.writeFloatLE(q, 256 + 4 * i)); s.qform.offset.forEach((q, i) => h.writeFloatLE(q, 268 + 4 * i)); }
    if (s.sform) { h.writeInt16LE(1, 254); s.sform.forEach((row, r) => row.forEach((v, c) => h.writeFloatLE(v, 280 + 16 * r + 4 * c))); }
    h.write('n+1\0', 344, 'latin1');
  } else {
    h.writeInt32LE(540, 0);
    h.write('n+2\0\r\n\x1a\n', 4, 'latin1');
    h.writeInt16LE(s.datatype, 12); h.writeInt16LE(SIZES[s.datatype] * 8, 14);
    h.writeBigInt64LE(BigInt(s.dims.length), 16);
    s.dims.forEach((d, i) => h.writeBigInt64LE(BigInt(d), 24 + 8 * i));
    pix.forEach((p, i) => h.writeDoubleLE(p, 104 + 8 * i));
    h.writeBigInt64LE(BigInt(voxOffset), 168); h.writeDoubleLE(s.sclSlope ?? 0, 176); h.writeDoubleLE(s.sclInter ?? 0, 184);
    h.writeInt32LE(2, 500);
    if (s.qform) { h.writeInt32LE(1, 344); s.qform.quatern.forEach((q, i) => h.writeDoubleLE(q, 352 + 8 * i)); s.qform.offset.forEach((q, i) => h.writeDoubleLE(q, 376 + 8 * i)); }
    if (s.sform) { h.writeInt32LE(1, 348); s.sform.forEach((row, r) => row.forEach((v, c) => h.writeDoubleLE(v, 400 + 32 * r + 8 * c))); }
  }
  void hsize;
  const size = SIZES[s.datatype];
  const data = Buffer.alloc(s.values.length * size);
  s.values.forEach((v, i) => {
    const o = i * size;
    switch (s.datatype) {
      case 2: data.writeUInt8(v, o); break;
      case 256: data.writeInt8(v, o); break;
      case 4: data.writeInt16LE(v, o); break;
      case 512: data.writeUInt16LE(v, o); break;
      case 8: data.writeInt32LE(v, o); break;
      case 768: data.writeUInt32LE(v, o); break;
      case 16: data.writeFloatLE(v, o); break;
      case 64: data.writeDoubleLE(v, o); break;
    }
  });
  const file = Buffer.concat([h, data]);
  return s.gzip ? gzipSync(file) : file;
}

/** The same NIfTI-1 file in big-endian byte order (numeric header fields and voxels swapped). */
export function niftiToBigEndian(le: Buffer, voxelSize: number): Buffer {
  const b = Buffer.from(le);
  const fields: [number, number, number][] = [[0, 4, 1], [32, 4, 1], [36, 2, 1], [40, 2, 8], [56, 4, 3], [68, 2, 4], [76, 4, 8], [108, 4, 3],
    [120, 2, 1], [124, 4, 6], [252, 2, 2], [256, 4, 6], [280, 4, 12]];
  for (const [off, size, count] of fields) swapRange(b.subarray(off, off + size * count), size);
  const voxOffset = le.readFloatLE(108);
  if (voxelSize > 1) swapRange(b.subarray(voxOffset), voxelSize);
  return b;
}

function swapRange(b: Buffer, size: number): void {
  if (size === 2) b.swap16(); else if (size === 4) b.swap32(); else if (size === 8) b.swap64();
}
