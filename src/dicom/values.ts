// Decoding and encoding of element values (PS3.5 6.2), without charset concerns (see charset.ts).
import { AppError } from '../core/errors.ts';
import type { VR } from './vr.ts';
import { binarySize, padByte } from './vr.ts';

/** Bytes as ISO 8859-1 text; ASCII values (nearly all) come out unchanged. */
export function latin1(b: Uint8Array): string {
  const n = b.length;
  if (n < 48) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  return Buffer.from(b.buffer, b.byteOffset, n).toString('latin1');
}

export function isAscii(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] >= 0x80 || b[i] === 0x1b) return false;
  return true;
}

/** Removes trailing padding (space or NUL; PS3.5 6.2) and, where insignificant, leading spaces. */
export function trimValue(s: string, leading: boolean): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 0x20 && c !== 0x00) break;
    end--;
  }
  let start = 0;
  if (leading) while (start < end && s.charCodeAt(start) === 0x20) start++;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Binary values of a numeric VR (US SS UL SL FL FD SV UV AT and the O* VRs). SV/UV beyond 2^53 lose precision. */
export function readBinaryNumbers(vr: VR, b: Uint8Array, le: boolean): number[] {
  const size = binarySize(vr);
  if (size === 0) return [];
  const n = Math.floor(b.length / size);
  const out = new Array<number>(n);
  const dv = view(b);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (vr) {
      case 'US': case 'OW': out[i] = dv.getUint16(o, le); break;
      case 'SS': out[i] = dv.getInt16(o, le); break;
      case 'UL': case 'OL': out[i] = dv.getUint32(o, le); break;
      case 'SL': out[i] = dv.getInt32(o, le); break;
      case 'FL': case 'OF': out[i] = dv.getFloat32(o, le); break;
      case 'FD': case 'OD': out[i] = dv.getFloat64(o, le); break;
      case 'SV': out[i] = Number(dv.getBigInt64(o, le)); break;
      case 'UV': case 'OV': out[i] = Number(dv.getBigUint64(o, le)); break;
      case 'AT': out[i] = ((dv.getUint16(o, le) << 16) | dv.getUint16(o + 2, le)) >>> 0; break;
      default: out[i] = NaN;
    }
  }
  return out;
}

export function encodeBinaryNumbers(vr: VR, values: readonly number[], le: boolean): Uint8Array {
  const size = binarySize(vr);
  if (size === 0) throw new AppError('DICOM_ENCODE', { detail: `VR ${vr} is not binary numeric` });
  const out = new Uint8Array(values.length * size);
  const dv = view(out);
  values.forEach((v, i) => {
    const o = i * size;
    switch (vr) {
      case 'US': case 'OW': dv.setUint16(o, v, le); break;
      case 'SS': dv.setInt16(o, v, le); break;
      case 'UL': case 'OL': dv.setUint32(o, v, le); break;
      case 'SL': dv.setInt32(o, v, le); break;
      case 'FL': case 'OF': dv.setFloat32(o, v, le); break;
      case 'FD': case 'OD': dv.setFloat64(o, v, le); break;
      case 'SV': dv.setBigInt64(o, BigInt(Math.trunc(v)), le); break;
      case 'UV': case 'OV': dv.setBigUint64(o, BigInt(Math.trunc(v)), le); break;
      case 'AT': dv.setUint16(o, v >>> 16, le); dv.setUint16(o + 2, v & 0xffff, le); break;
    }
  });
  return out;
}

/** DS is at most 16 bytes (PS3.5 Table 6.2-1): shortest form that round-trips, else reduced precision. */
export function formatDS(v: number): string {
  if (!Number.isFinite(v)) throw new AppError('DICOM_ENCODE', { detail: 'DS value is not finite' });
  if (Object.is(v, -0)) return '-0';
  let s = String(v);
  if (s.length <= 16) return s;
  for (let p = 15; p > 0; p--) {
    s = v.toPrecision(p).replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1').replace('e+', 'e');
    if (s.length <= 16) return s;
  }
  throw new AppError('DICOM_ENCODE', { detail: 'DS value cannot be written in 16 characters' });
}

export function formatIS(v: number): string {
  if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) throw new AppError('DICOM_ENCODE', { detail: 'IS value out of range' });
  return String(v);
}

/** Pads to even length with the VR's padding byte (PS3.5 7.1.1); returns the input if already even. */
export function padEven(b: Uint8Array, vr: VR): Uint8Array {
  if ((b.length & 1) === 0) return b;
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  out[b.length] = padByte(vr);
  return out;
}

export function asciiBytes(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

/** Byte-swaps each value of a binary VR (little ↔ big endian); other VRs are copied unchanged. */
export function swapBytes(vr: VR, b: Uint8Array): Uint8Array {
  const size = vr === 'AT' ? 2 : binarySize(vr);
  const out = Uint8Array.from(b);
  if (size <= 1) return out;
  const n = b.length - (b.length % size);
  for (let o = 0; o < n; o += size) for (let i = 0; i < size; i++) out[o + i] = b[o + size - 1 - i];
  return out;
}
