// Fetches what the viewer shows through DICOMweb only: series/instance metadata (WADO-RS
// /metadata, DICOM JSON) and pixel frames (WADO-RS /frames, uncompressed little endian as
// stored; baseline JPEG frames are decoded by the browser).
import { request } from '../api.ts';
import type { JsonDataset } from './dicom-json.ts';
import type { Slice } from './geometry.ts';
import { parseMultipart } from './multipart.ts';
import { modalityValues, renderRgb } from './pixels.ts';

const DW = '/dicom-web';
const JSON_ACCEPT = { Accept: 'application/dicom+json' };
// Any frame as stored: raw bytes for native syntaxes, the compressed bitstream otherwise.
const FRAME_ACCEPT = { Accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' };

export async function seriesMetadata(study: string, series: string): Promise<JsonDataset[]> {
  return (await request('GET', `${DW}/studies/${study}/series/${series}/metadata`, { headers: JSON_ACCEPT })).json() as Promise<JsonDataset[]>;
}

export async function instanceMetadata(study: string, series: string, sop: string): Promise<JsonDataset> {
  const list = (await (await request('GET', `${DW}/studies/${study}/series/${series}/instances/${sop}/metadata`, { headers: JSON_ACCEPT })).json()) as JsonDataset[];
  return list[0];
}

/** QIDO-RS instance list of a series (index only, cheap). */
export async function seriesInstances(study: string, series: string): Promise<JsonDataset[]> {
  return (await request('GET', `${DW}/studies/${study}/series/${series}/instances`, { headers: JSON_ACCEPT })).json() as Promise<JsonDataset[]>;
}

export interface RawFrame {
  bytes: Uint8Array;
  mediaType: string;
}

export async function fetchFrames(study: string, series: string, sop: string, frames: number[]): Promise<RawFrame[]> {
  const res = await request('GET', `${DW}/studies/${study}/series/${series}/instances/${sop}/frames/${frames.join(',')}`, { headers: FRAME_ACCEPT });
  const body = new Uint8Array(await res.arrayBuffer());
  return parseMultipart(body, res.headers.get('content-type') ?? '').map((p) => ({ bytes: p.body, mediaType: (p.headers['content-type'] ?? 'application/octet-stream').split(';')[0].trim() }));
}

/** A decoded frame: modality values for greyscale, RGBA for colour. */
export interface Decoded {
  values?: Float32Array;
  rgba?: Uint8ClampedArray;
}

export async function decodeFrame(s: Slice, f: RawFrame): Promise<Decoded> {
  const colour = s.samplesPerPixel === 3;
  if (f.mediaType === 'application/octet-stream') {
    if (!colour) return { values: modalityValues(s, f.bytes) };
    const rgba = new Uint8ClampedArray(s.rows * s.columns * 4);
    renderRgb(s, f.bytes, false, rgba);
    return { rgba };
  }
  if (f.mediaType === 'image/jpeg' || f.mediaType === 'image/png') {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([f.bytes as BlobPart], { type: f.mediaType }));
    } catch {
      throw new Error('This image is compressed in a way the browser cannot decode (for example JPEG Lossless).');
    }
    const c = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    if (colour) return { rgba };
    const values = new Float32Array(bitmap.width * bitmap.height);
    for (let i = 0; i < values.length; i++) values[i] = rgba[i * 4] * s.slope + s.intercept;
    return { values };
  }
  throw new Error(`This image is stored as ${f.mediaType}, which the viewer cannot show.`);
}
