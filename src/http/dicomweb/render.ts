// Rendering of native (uncompressed) frames to 8-bit images for /rendered and /thumbnail
// (PS3.18 8.3.5.1 "Rendered media types" and 8.3.5.1.3 window/viewport parameters):
// Modality LUT (RescaleSlope/Intercept), then a linear VOI window (PS3.3 C.11.2.1.2.1) from the
// request, the dataset's first WindowCenter/Width, or the frame's min-max; MONOCHROME1 inverted.
// RGB (PlanarConfiguration 0 or 1, 8-bit) is passed through. Compressed frames are not decoded.
import { AppError } from '../../core/errors.ts';
import type { Dataset } from '../../dicom/index.ts';

export interface RenderedImage {
  width: number;
  height: number;
  /** 1 (gray) or 3 (RGB) channels, 8 bits each. */
  channels: 1 | 3;
  data: Uint8Array;
}

export interface RenderOptions {
  /** PS3.18 "window=center,width,function" (function: linear, linear-exact, sigmoid: all treated as linear). */
  window?: { center: number; width: number };
  /** Largest output size; the aspect ratio is kept (PS3.18 "viewport=vw,vh"). */
  viewport?: { width: number; height: number };
}

const n = (ds: Dataset, t: number) => ds.number(t);

function samples(ds: Dataset, frame: Buffer): Float64Array {
  const bits = n(ds, 0x00280100) ?? 16;
  const signed = (n(ds, 0x00280103) ?? 0) === 1;
  const count = Math.floor((frame.length * 8) / bits);
  const out = new Float64Array(count);
  if (bits === 8) for (let i = 0; i < count; i++) out[i] = signed ? frame.readInt8(i) : frame[i];
  else if (bits === 16) for (let i = 0; i < count; i++) out[i] = signed ? frame.readInt16LE(i * 2) : frame.readUInt16LE(i * 2);
  else if (bits === 32) for (let i = 0; i < count; i++) out[i] = signed ? frame.readInt32LE(i * 4) : frame.readUInt32LE(i * 4);
  else throw new AppError('DICOM_UNSUPPORTED_TS', { detail: `rendering BitsAllocated ${bits}` });
  // BitsStored < BitsAllocated: mask the high bits (PS3.5 8.1.1), sign-extending when signed.
  const stored = n(ds, 0x00280101) ?? bits;
  if (stored < bits && bits <= 16) {
    const mask = (1 << stored) - 1;
    const sign = 1 << (stored - 1);
    for (let i = 0; i < count; i++) {
      let v = (out[i] < 0 ? out[i] + (1 << bits) : out[i]) & mask;
      if (signed && v & sign) v -= 1 << stored;
      out[i] = v;
    }
  }
  return out;
}

function resize(img: RenderedImage, vp: RenderOptions['viewport']): RenderedImage {
  if (!vp || (vp.width >= img.width && vp.height >= img.height)) return img;
  const scale = Math.min(vp.width / img.width, vp.height / img.height);
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const out = new Uint8Array(w * h * img.channels);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(img.height - 1, Math.floor(y / scale));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(img.width - 1, Math.floor(x / scale));
      for (let c = 0; c < img.channels; c++) out[(y * w + x) * img.channels + c] = img.data[(sy * img.width + sx) * img.channels + c];
    }
  }
  return { width: w, height: h, channels: img.channels, data: out };
}

export function renderFrame(ds: Dataset, frame: Buffer, opts: RenderOptions = {}): RenderedImage {
  const width = n(ds, 0x00280011) ?? 0;
  const height = n(ds, 0x00280010) ?? 0;
  const photometric = (ds.string(0x00280004) ?? 'MONOCHROME2').trim();
  const spp = n(ds, 0x00280002) ?? 1;
  if (spp === 3 && photometric === 'RGB') {
    if ((n(ds, 0x00280100) ?? 8) !== 8) throw new AppError('DICOM_UNSUPPORTED_TS', { detail: 'rendering RGB with more than 8 bits' });
    const data = new Uint8Array(width * height * 3);
    const planar = (n(ds, 0x00280006) ?? 0) === 1;
    const plane = width * height;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) data[i * 3 + c] = planar ? frame[c * plane + i] : frame[i * 3 + c];
    }
    return resize({ width, height, channels: 3, data }, opts.viewport);
  }
  if (spp !== 1 || !photometric.startsWith('MONOCHROME')) throw new AppError('DICOM_UNSUPPORTED_TS', { detail: `rendering ${photometric}` });
  const px = samples(ds, frame);
  const slope = n(ds, 0x00281053) ?? 1;
  const intercept = n(ds, 0x00281052) ?? 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < px.length; i++) {
    px[i] = px[i] * slope + intercept;
    if (px[i] < min) min = px[i];
    if (px[i] > max) max = px[i];
  }
  const center = opts.window?.center ?? n(ds, 0x00281050) ?? (min + max) / 2;
  const widthW = Math.max(1, opts.window?.width ?? n(ds, 0x00281051) ?? Math.max(1, max - min));
  const invert = photometric === 'MONOCHROME1';
  const data = new Uint8Array(width * height);
  // PS3.3 C.11.2.1.2.1 linear function.
  const lo = center - 0.5 - (widthW - 1) / 2;
  const hi = center - 0.5 + (widthW - 1) / 2;
  for (let i = 0; i < data.length && i < px.length; i++) {
    const x = px[i];
    const v = x <= lo ? 0 : x > hi ? 255 : ((x - (center - 0.5)) / (widthW - 1) + 0.5) * 255;
    data[i] = invert ? 255 - Math.round(v) : Math.round(v);
  }
  return resize({ width, height, channels: 1, data }, opts.viewport);
}
