// TIFF 6.0 → pages. Striped or tiled, chunky or planar, 8 or 16 bits unsigned, gray (BlackIsZero
// or WhiteIsZero), RGB (extra samples such as alpha dropped) or 8-bit palette; compression none,
// LZW, deflate or PackBits, with or without horizontal predictor. Reduced-resolution subfiles
// (thumbnails, pyramid levels) are skipped: they are copies of a full page.
import { checkDimensions, convertError, type PixelFormat } from '../picture.ts';
import { deflateDecode, lzwDecode, packBitsDecode } from './tiff-codecs.ts';

export interface TiffPage extends PixelFormat {
  /** 1-based page number among the IFDs of the file. */
  page: number;
  pixels: Uint8Array;
}

export function isTiff(b: Uint8Array): boolean {
  return b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42));
}

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };
const COMPRESSION_NAMES: Record<number, string> = { 2: 'CCITT RLE', 3: 'CCITT Group 3', 4: 'CCITT Group 4', 6: 'old-style JPEG', 7: 'JPEG',
  34712: 'JPEG 2000', 34887: 'LERC', 34925: 'LZMA', 50000: 'Zstandard', 50001: 'WebP' };

type Ifd = Map<number, number[]>;

class Reader {
  readonly dv: DataView;
  readonly le: boolean;
  constructor(readonly file: string, readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.le = b[0] === 0x49;
  }
  check(off: number, len: number, what: string): void {
    if (off < 0 || off + len > this.b.length) throw convertError('CONVERT_INPUT_INVALID', this.file, `TIFF ${what} at offset ${off} runs past the end of the file`);
  }
  u16(off: number): number { return this.dv.getUint16(off, this.le); }
  u32(off: number): number { return this.dv.getUint32(off, this.le); }

  readIfd(off: number): { ifd: Ifd; next: number } {
    this.check(off, 2, 'directory');
    const n = this.u16(off);
    this.check(off + 2, n * 12 + 4, 'directory');
    const ifd: Ifd = new Map();
    for (let e = 0; e < n; e++) {
      const p = off + 2 + e * 12;
      const tagNo = this.u16(p);
      const type = this.u16(p + 2);
      const count = this.u32(p + 4);
      const size = TYPE_SIZE[type];
      if (size === undefined || (type !== 3 && type !== 4 && type !== 1 && type !== 13)) continue; // only integer tags matter here
      const total = size * count;
      const at = total <= 4 ? p + 8 : this.u32(p + 8);
      this.check(at, total, `tag ${tagNo} value`);
      const vals: number[] = new Array(count);
      for (let k = 0; k < count; k++) vals[k] = type === 3 ? this.u16(at + 2 * k) : type === 1 ? this.b[at + k] : this.u32(at + 4 * k);
      ifd.set(tagNo, vals);
    }
    return { ifd, next: this.u32(off + 2 + n * 12) };
  }
}

/** Every full-resolution page of the file, decoded. Pages are yielded one by one so a caller
 *  writing one instance per page holds one page at a time. */
export function* decodeTiffPages(file: string, b: Uint8Array): Generator<TiffPage> {
  if (b.length >= 4 && (b[2] === 43 || b[3] === 43)) throw convertError('CONVERT_UNSUPPORTED', file, 'BigTIFF');
  if (!isTiff(b) || b.length < 8) throw convertError('CONVERT_INPUT_INVALID', file, 'not a TIFF file (bad header)');
  const r = new Reader(file, b);
  let off = r.u32(4);
  const seen = new Set<number>();
  let page = 0;
  let yielded = 0;
  while (off !== 0) {
    if (seen.has(off)) throw convertError('CONVERT_INPUT_INVALID', file, `TIFF directory chain loops at offset ${off}`);
    seen.add(off);
    const { ifd, next } = r.readIfd(off);
    page++;
    const subfile = ifd.get(254)?.[0] ?? 0;
    if ((subfile & 1) === 0) {
      yield decodePage(r, ifd, page);
      yielded++;
    }
    off = next;
  }
  if (yielded === 0) throw convertError('CONVERT_INPUT_INVALID', file, 'TIFF has no full-resolution page');
}

function decodePage(r: Reader, ifd: Ifd, page: number): TiffPage {
  const file = r.file;
  const where = `page ${page}`;
  const one = (t: number, dflt?: number): number => {
    const v = ifd.get(t)?.[0] ?? dflt;
    if (v === undefined) throw convertError('CONVERT_INPUT_INVALID', file, `TIFF ${where} lacks required tag ${t}`);
    return v;
  };
  const width = one(256);
  const height = one(257);
  const spp = one(277, 1);
  const bitsList = ifd.get(258) ?? [1];
  const bits = bitsList[0];
  const compression = one(259, 1);
  const photometric = one(262);
  const planar = one(284, 1);
  const predictor = one(317, 1);
  const sampleFormat = one(339, 1);
  checkDimensions(file, `TIFF ${where}`, [width, height, spp], bits === 16 ? 2 : 1);
  if (![1, 5, 8, 32946, 32773].includes(compression)) {
    throw convertError('CONVERT_UNSUPPORTED', file, `TIFF ${where} uses compression ${compression}${COMPRESSION_NAMES[compression] ? ` (${COMPRESSION_NAMES[compression]})` : ''}; supported: none, LZW, deflate, PackBits`);
  }
  if ((bits !== 8 && bits !== 16) || bitsList.some((x) => x !== bits)) throw convertError('CONVERT_UNSUPPORTED', file, `TIFF ${where} has ${bitsList.join('/')} bits per sample; supported: 8 or 16`);
  if (sampleFormat !== 1) throw convertError('CONVERT_UNSUPPORTED', file, `TIFF ${where} has sample format ${sampleFormat} (signed or floating point)`);
  if (predictor !== 1 && predictor !== 2) throw convertError('CONVERT_UNSUPPORTED', file, `TIFF ${where} uses predictor ${predictor}`);
  const color = photometric === 2 || photometric === 3;
  if (photometric > 3) throw convertError('CONVERT_UNSUPPORTED', file, `TIFF ${where} has photometric interpretation ${photometric} (only gray, RGB and palette)`);
  if ((photometric === 2 && spp < 3) || (photometric !== 2 && spp < 1)) throw convertError('CONVERT_INPUT_INVALID', file, `TIFF ${where} has ${spp} samples per pixel for photometric ${photometric}`);
  if (photometric === 3 && bits !== 8) throw convertError('CONVERT_UNSUPPORTED', file, `TIFF ${where} palette with ${bits} bits`);
  const bps = bits / 8;
  const keep = photometric === 2 ? 3 : 1; // samples kept per pixel; extra samples (alpha) dropped

  const tiled = ifd.has(322);
  const cw = tiled ? one(322) : width;
  const ch = tiled ? one(323) : Math.min(one(278, height), height);
  checkDimensions(file, `TIFF ${where} ${tiled ? 'tile' : 'strip'}`, [cw, ch], 1);
  const across = Math.ceil(width / cw);
  const down = Math.ceil(height / ch);
  const planes = planar === 2 ? spp : 1;
  const chunkSpp = planar === 2 ? 1 : spp;
  const offsets = ifd.get(tiled ? 324 : 273);
  const counts = ifd.get(tiled ? 325 : 279);
  if (!offsets || !counts || offsets.length < across * down * planes || counts.length < offsets.length) {
    throw convertError('CONVERT_INPUT_INVALID', file, `TIFF ${where} has ${offsets?.length ?? 0} ${tiled ? 'tile' : 'strip'} offsets for ${across * down * planes} ${tiled ? 'tiles' : 'strips'}`);
  }

  const out = new Uint8Array(width * height * keep * bps);
  const outDv = new DataView(out.buffer);
  for (let plane = 0; plane < planes; plane++) {
    for (let cy = 0; cy < down; cy++) {
      for (let cx = 0; cx < across; cx++) {
        const idx = plane * across * down + cy * across + cx;
        // The last strip may hold fewer rows; tiles are always full size (TIFF 6.0 section 15).
        const rowsHere = tiled ? ch : Math.min(ch, height - cy * ch);
        const rowBytes = cw * chunkSpp * bps;
        const expected = rowBytes * rowsHere;
        r.check(offsets[idx], counts[idx], `${where} ${tiled ? 'tile' : 'strip'} ${idx}`);
        const raw = r.b.subarray(offsets[idx], offsets[idx] + counts[idx]);
        const data = decompress(file, where, compression, raw, expected);
        if (data.length < expected) throw convertError('CONVERT_INPUT_INVALID', file, `TIFF ${where} ${tiled ? 'tile' : 'strip'} ${idx} holds ${data.length} bytes, expected ${expected}`);
        if (predictor === 2) undoPredictor(data, rowsHere, cw, chunkSpp, bps, r.le);
        const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        for (let y = 0; y < rowsHere; y++) {
          const oy = cy * ch + y;
          if (oy >= height) break;
          for (let x = 0; x < cw; x++) {
            const ox = cx * cw + x;
            if (ox >= width) break;
            for (let s = 0; s < chunkSpp; s++) {
              const sample = planar === 2 ? plane : s;
              if (sample >= keep) continue;
              const src = ((y * cw + x) * chunkSpp + s) * bps;
              const dst = ((oy * width + ox) * keep + sample) * bps;
              if (bps === 1) out[dst] = data[src];
              else outDv.setUint16(dst, dv.getUint16(src, r.le), true);
            }
          }
        }
      }
    }
  }
  if (photometric === 0) invert(out, bps);
  if (photometric === 3) return { page, ...expandPalette(file, where, ifd, out, width, height) };
  return { page, rows: height, columns: width, samplesPerPixel: color ? 3 : 1, bitsAllocated: bits as 8 | 16, bitsStored: bits,
    photometric: color ? 'RGB' : 'MONOCHROME2', pixels: out };
}

function decompress(file: string, where: string, compression: number, raw: Uint8Array, expected: number): Uint8Array {
  try {
    if (compression === 1) return raw;
    if (compression === 5) return lzwDecode(raw, expected);
    if (compression === 32773) return packBitsDecode(raw, expected);
    return deflateDecode(raw);
  } catch (e) {
    throw convertError('CONVERT_INPUT_INVALID', file, `TIFF ${where} data cannot be decompressed (${(e as Error).message})`, e);
  }
}

/** Predictor 2: each sample is stored as the difference from the same sample of the pixel to its left. */
function undoPredictor(data: Uint8Array, rows: number, cw: number, spp: number, bps: number, le: boolean): void {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let y = 0; y < rows; y++) {
    const row = y * cw * spp;
    for (let i = spp; i < cw * spp; i++) {
      if (bps === 1) data[row + i] = (data[row + i] + data[row + i - spp]) & 0xff;
      else dv.setUint16((row + i) * 2, (dv.getUint16((row + i) * 2, le) + dv.getUint16((row + i - spp) * 2, le)) & 0xffff, le);
    }
  }
}

/** WhiteIsZero → MONOCHROME2 by inverting, so every gray output has the same meaning. */
function invert(px: Uint8Array, bps: number): void {
  if (bps === 1) { for (let i = 0; i < px.length; i++) px[i] = 255 - px[i]; return; }
  const dv = new DataView(px.buffer, px.byteOffset, px.byteLength);
  for (let i = 0; i < px.length; i += 2) dv.setUint16(i, 65535 - dv.getUint16(i, true), true);
}

function expandPalette(file: string, where: string, ifd: Ifd, idx: Uint8Array, width: number, height: number): PixelFormat & { pixels: Uint8Array } {
  const map = ifd.get(320);
  if (!map || map.length < 3 * 256) throw convertError('CONVERT_INPUT_INVALID', file, `TIFF ${where} palette image without a 256-entry ColorMap`);
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < idx.length; p++) {
    const v = idx[p];
    out[p * 3] = map[v] >> 8;
    out[p * 3 + 1] = map[256 + v] >> 8;
    out[p * 3 + 2] = map[512 + v] >> 8;
  }
  return { rows: height, columns: width, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, photometric: 'RGB', pixels: out };
}
