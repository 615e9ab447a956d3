// From frame bytes to screen: stored values (PS3.3 C.7.6.3) → modality values through the
// rescale (C.11.1) → grey levels through the VOI window (C.11.2.1.2, the linear function).
import type { Slice } from './geometry.ts';

/** Modality values of a native (uncompressed, little endian) greyscale frame. */
export function modalityValues(s: Slice, bytes: Uint8Array): Float32Array {
  const n = s.rows * s.columns;
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = n * (s.bitsAllocated / 8);
  if (bytes.byteLength < need) throw new Error(`frame has ${bytes.byteLength} bytes, ${need} expected`);
  // Bits above BitsStored may hold overlays or garbage: mask, then sign-extend (PS3.5 8.1.1).
  const shift = 32 - s.bitsStored;
  for (let i = 0; i < n; i++) {
    let v: number;
    if (s.bitsAllocated === 8) v = bytes[i];
    else if (s.bitsAllocated === 16) v = view.getUint16(i * 2, true);
    else v = view.getUint32(i * 4, true);
    v = s.pixelSigned ? (v << shift) >> shift : s.bitsStored < 32 ? v & ((1 << s.bitsStored) - 1) : v >>> 0;
    out[i] = v * s.slope + s.intercept;
  }
  return out;
}

/** A window that shows the whole range when the image names none. */
export function autoWindow(values: Float32Array): { center: number; width: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return { center: 0, width: 1 };
  return { center: (lo + hi) / 2, width: Math.max(hi - lo, 1) };
}

/** Greyscale RGBA pixels for a window; MONOCHROME1 is shown inverted (C.7.6.3.1.2). */
export function renderWindow(values: Float32Array, center: number, width: number, invert: boolean, out: Uint8ClampedArray): void {
  // PS3.3 C.11.2.1.2.1: y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255, clamped.
  const w = Math.max(width, 1);
  const lo = center - 0.5 - (w - 1) / 2;
  const scale = 255 / Math.max(w - 1, 1);
  for (let i = 0, j = 0; i < values.length; i++, j += 4) {
    let g = (values[i] - lo) * scale;
    g = g < 0 ? 0 : g > 255 ? 255 : g;
    if (invert) g = 255 - g;
    out[j] = out[j + 1] = out[j + 2] = g;
    out[j + 3] = 255;
  }
}

/** RGBA from native colour frames (RGB, interleaved or planar). */
export function renderRgb(s: Slice, bytes: Uint8Array, planar: boolean, out: Uint8ClampedArray): void {
  const n = s.rows * s.columns;
  for (let i = 0; i < n; i++) {
    out[i * 4] = planar ? bytes[i] : bytes[i * 3];
    out[i * 4 + 1] = planar ? bytes[n + i] : bytes[i * 3 + 1];
    out[i * 4 + 2] = planar ? bytes[2 * n + i] : bytes[i * 3 + 2];
    out[i * 4 + 3] = 255;
  }
}

export interface WindowPreset {
  name: string;
  center: number;
  width: number;
}

/** Common CT windows in Hounsfield units. */
export const CT_PRESETS: readonly WindowPreset[] = [
  { name: 'Soft tissue', center: 40, width: 400 },
  { name: 'Lung', center: -600, width: 1500 },
  { name: 'Bone', center: 400, width: 1800 },
  { name: 'Brain', center: 40, width: 80 },
  { name: 'Liver', center: 60, width: 160 },
];
