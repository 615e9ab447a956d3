// Windows BMP → Picture. Uncompressed 1/4/8-bit palette, 16/24/32-bit (BI_RGB or BI_BITFIELDS),
// bottom-up or top-down. A palette of grays gives MONOCHROME2, anything else RGB. RLE is refused.
import { checkDimensions, convertError, type Picture } from '../picture.ts';

export function isBmp(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export function decodeBmpPicture(file: string, b: Uint8Array): Picture {
  if (!isBmp(b)) throw convertError('CONVERT_INPUT_INVALID', file, 'not a BMP file (no "BM" signature)');
  if (b.length < 26) throw convertError('CONVERT_INPUT_INVALID', file, 'BMP header truncated');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const dibSize = dv.getUint32(14, true);
  const core = dibSize === 12;
  if (!core && dibSize < 40) throw convertError('CONVERT_INPUT_INVALID', file, `unknown BMP header size ${dibSize}`);
  if (14 + dibSize > b.length) throw convertError('CONVERT_INPUT_INVALID', file, 'BMP header truncated');
  const width = core ? dv.getUint16(18, true) : dv.getInt32(18, true);
  const rawHeight = core ? dv.getInt16(22, true) : dv.getInt32(22, true);
  const bpp = dv.getUint16(core ? 24 : 28, true);
  const compression = core ? BI_RGB : dv.getUint32(30, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  checkDimensions(file, 'BMP image', [width, height], 3);
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw convertError('CONVERT_UNSUPPORTED', file, `BMP with ${bpp} bits per pixel`);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw convertError('CONVERT_UNSUPPORTED', file, `BMP compression ${compression} (RLE, JPEG or PNG inside BMP)`);
  }
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > b.length) throw convertError('CONVERT_INPUT_INVALID', file, `BMP pixel data truncated (needs ${stride * height} bytes at offset ${dataOffset})`);
  const rowAt = (y: number) => dataOffset + (topDown ? y : height - 1 - y) * stride;

  if (bpp <= 8) {
    const entry = core ? 3 : 4;
    const used = core ? 0 : dv.getUint32(46, true);
    const count = used === 0 ? 1 << bpp : Math.min(used, 256);
    const palStart = 14 + dibSize;
    if (palStart + count * entry > dataOffset) throw convertError('CONVERT_INPUT_INVALID', file, 'BMP palette overlaps the pixel data');
    const pal: number[][] = [];
    for (let i = 0; i < count; i++) { const p = palStart + i * entry; pal.push([b[p + 2], b[p + 1], b[p]]); }
    const gray = pal.every(([r, g, bl]) => r === g && g === bl);
    const spp = gray ? 1 : 3;
    const out = new Uint8Array(width * height * spp);
    const mask = (1 << bpp) - 1;
    for (let y = 0; y < height; y++) {
      const row = rowAt(y);
      for (let x = 0; x < width; x++) {
        const bit = x * bpp;
        const idx = (b[row + (bit >> 3)] >> (8 - bpp - (bit & 7))) & mask;
        const c = pal[idx] ?? [0, 0, 0];
        const o = (y * width + x) * spp;
        if (gray) out[o] = c[0]; else { out[o] = c[0]; out[o + 1] = c[1]; out[o + 2] = c[2]; }
      }
    }
    return picture(width, height, spp, out);
  }

  const masks = bitMasks(dv, bpp, compression, dibSize);
  const out = new Uint8Array(width * height * 3);
  const bytes = bpp / 8;
  for (let y = 0; y < height; y++) {
    const row = rowAt(y);
    for (let x = 0; x < width; x++) {
      const p = row + x * bytes;
      const v = bpp === 24 ? b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) : bpp === 16 ? dv.getUint16(p, true) : dv.getUint32(p, true);
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = extract(v, masks[c]);
    }
  }
  return picture(width, height, 3, out);
}

function picture(width: number, height: number, spp: 1 | 3, pixels: Uint8Array): Picture {
  return { rows: height, columns: width, samplesPerPixel: spp, bitsAllocated: 8, bitsStored: 8,
    photometric: spp === 1 ? 'MONOCHROME2' : 'RGB', frames: 1, lossy: false, kind: 'native', pixels };
}

/** Red, green, blue masks: from the header for BI_BITFIELDS, else the defaults (5-5-5 for 16-bit). */
function bitMasks(dv: DataView, bpp: number, compression: number, dibSize: number): number[] {
  if (compression !== BI_RGB) {
    // V4/V5 headers hold the masks inside; BITMAPINFOHEADER is followed by them.
    const at = 14 + 40;
    if (dibSize >= 52 || at + 12 <= dv.byteLength) return [dv.getUint32(at, true), dv.getUint32(at + 4, true), dv.getUint32(at + 8, true)];
  }
  if (bpp === 16) return [0x7c00, 0x03e0, 0x001f];
  return [0xff0000, 0x00ff00, 0x0000ff];
}

/** A masked channel scaled to 0..255. */
function extract(v: number, mask: number): number {
  if (mask === 0) return 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  const raw = (v & mask) >>> shift;
  return max === 255 ? raw : Math.round((raw * 255) / max);
}
