// The conversion use case: inputs in, one result per output instance (or per failed input) out,
// lazily, so callers (CLI to a folder, HTTP upload to the archive) hold one volume at a time.
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { AppError, isAppError } from '../core/errors.ts';
import { decodeBmpPicture, isBmp } from './decode/bmp.ts';
import { decodeJpegPicture, isJpeg } from './decode/jpeg.ts';
import { openNifti } from './decode/nifti-volume.ts';
import { decodePngPicture, isPng } from './decode/png.ts';
import { decodeTiffPages, isTiff, type TiffPage } from './decode/tiff.ts';
import { imagePlane, niftiAffine, rasToLps } from './geometry.ts';
import { isNiftiName, type ConvertInput } from './inputs.ts';
import { pictureDataset, sliceDataset, volumeScDataset, type SeriesContext, type StudyContext } from './iod.ts';
import type { Attribute } from './metadata.ts';
import { encapsulatedPixelData, JPEG_BASELINE_TS, NATIVE_TS, nativePixelData, part10 } from './part10-out.ts';
import { convertError, MAX_PIXEL_BYTES, nativeBytes, type PixelFormat, type Picture } from './picture.ts';
import { newUid } from './uid.ts';
import { T } from '../dicom/index.ts';

export interface ConvertOptions {
  /** Patient/study attributes, merged already (see metadata.ts). */
  attributes?: Attribute[];
  /** NIfTI as CT or MR Image Storage (one instance per slice); default: one multi-frame SC per volume. */
  modality?: 'CT' | 'MR';
  frameOfReferenceUID?: string;
  /** TIFF pages: 'frames' (default) makes one multi-frame instance when all pages share a format. */
  tiffPages?: 'frames' | 'instances';
  burnedInAnnotation?: boolean;
  firstSeriesNumber?: number;
  now?: Date;
}

export interface ConvertedInstance {
  kind: 'instance';
  source: string;
  sopClassUID: string;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  transferSyntaxUID: string;
  /** Part 10 file, as chunks for writev. */
  chunks: Buffer[];
  byteLength: number;
}
export interface ConvertFailure { kind: 'error'; source: string; error: AppError }
/** One input finished (after its instances, or after its error). */
export interface InputDone { kind: 'done'; source: string; instances: number; warnings: string[] }
export type ConvertResult = ConvertedInstance | ConvertFailure | InputDone;

interface SeriesState extends SeriesContext { nextInstance: number }

export async function* convert(inputs: Iterable<ConvertInput> | AsyncIterable<ConvertInput>, options: ConvertOptions = {}): AsyncGenerator<ConvertResult> {
  const attributes = options.attributes ?? [];
  const givenStudy = attributes.find((a) => a.tag === T.StudyInstanceUID)?.value;
  // A FrameOfReferenceUID from a sidecar means the same as --frame-of-reference: it belongs to
  // the volume series (the SC IODs have no Frame of Reference module).
  const givenFrame = options.frameOfReferenceUID ?? attributes.find((a) => a.tag === T.FrameOfReferenceUID)?.value;
  const study: StudyContext = {
    attributes: attributes.filter((a) => a.tag !== T.StudyInstanceUID && a.tag !== T.FrameOfReferenceUID),
    studyInstanceUID: givenStudy !== undefined && givenStudy !== '' ? givenStudy : newUid(),
    isNew: givenStudy === undefined || givenStudy === '',
    now: options.now ?? new Date(),
  };
  const series = new Map<string, SeriesState>();
  let seriesNumber = options.firstSeriesNumber ?? 1;
  const seriesFor = (input: ConvertInput, modality: string, description: string): SeriesState => {
    const key = input.seriesKey ?? `own:${input.name}`;
    let s = series.get(key);
    if (!s) {
      s = { seriesInstanceUID: newUid(), seriesNumber: seriesNumber++, description, modality, nextInstance: 1 };
      if (modality !== 'OT') s.frameOfReferenceUID = givenFrame !== undefined && givenFrame !== '' ? givenFrame : newUid();
      series.set(key, s);
    }
    return s;
  };

  for await (const input of inputs) {
    let count = 0;
    const warnings: string[] = [];
    try {
      const stream = await input.open().catch((e: unknown) => {
        throw isAppError(e) ? e : convertError('IMPORT_UNREADABLE', input.name, `cannot be opened (${(e as Error).message})`, e);
      });
      const outputs = isNiftiName(input.name)
        ? convertNifti(input, stream, study, options, seriesFor, warnings)
        : convertPicture(input, await readAll(input.name, stream), study, options, seriesFor);
      for await (const out of outputs) {
        count++;
        yield out;
      }
    } catch (e) {
      const error = isAppError(e) ? e : convertError('CONVERT_INPUT_INVALID', input.name, `unexpected failure (${(e as Error).message})`, e);
      yield { kind: 'error', source: input.name, error };
    }
    yield { kind: 'done', source: input.name, instances: count, warnings };
  }
}

async function readAll(name: string, stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const c of stream) {
      total += (c as Buffer).length;
      if (total > MAX_PIXEL_BYTES) throw convertError('CONVERT_TOO_LARGE', name, `file larger than ${MAX_PIXEL_BYTES} bytes`);
      chunks.push(c as Buffer);
    }
  } catch (e) {
    if (isAppError(e)) throw e;
    throw convertError('IMPORT_UNREADABLE', name, `read failed (${(e as Error).message})`, e);
  }
  return Buffer.concat(chunks);
}

/** SeriesDescription from the file name alone: no folders (they often carry names or IDs), no extension. */
export function describe(name: string): string {
  const base = basename(name.split('!').pop() ?? name).replace(/\.nii\.gz$/i, '').replace(/\.[A-Za-z0-9]{1,5}$/, '');
  return base.replace(/[\\\u0000-\u001f]/g, ' ').slice(0, 64).trim();
}

type SeriesFor = (input: ConvertInput, modality: string, description: string) => SeriesState;

function instance(source: string, study: StudyContext, s: SeriesState, sopClassUID: string, sopInstanceUID: string, ts: string, chunks: Buffer[]): ConvertedInstance {
  return { kind: 'instance', source, sopClassUID, sopInstanceUID, seriesInstanceUID: s.seriesInstanceUID, studyInstanceUID: study.studyInstanceUID,
    transferSyntaxUID: ts, chunks, byteLength: chunks.reduce((n, c) => n + c.length, 0) };
}

function* convertPicture(input: ConvertInput, buf: Buffer, study: StudyContext, options: ConvertOptions, seriesFor: SeriesFor): Generator<ConvertedInstance> {
  const s = seriesFor(input, 'OT', describe(input.name));
  const emit = (pic: Picture): ConvertedInstance => {
    const uid = newUid();
    const ds = pictureDataset(study, s, { format: pic, frames: pic.frames, lossy: pic.lossy, instanceNumber: s.nextInstance++, sopInstanceUID: uid,
      burnedInAnnotation: options.burnedInAnnotation ?? true });
    const jpeg = pic.kind === 'jpeg';
    const px = pic.kind === 'jpeg' ? encapsulatedPixelData(pic.fragments) : nativePixelData(pic.pixels, pic.bitsAllocated);
    return instance(input.name, study, s, ds.string(T.SOPClassUID)!, uid, jpeg ? JPEG_BASELINE_TS : NATIVE_TS, part10(ds, jpeg ? JPEG_BASELINE_TS : NATIVE_TS, px));
  };
  if (isPng(buf)) return yield emit(decodePngPicture(input.name, buf));
  if (isJpeg(buf)) return yield emit(decodeJpegPicture(input.name, buf));
  if (isBmp(buf)) return yield emit(decodeBmpPicture(input.name, buf));
  if (isTiff(buf) || (buf.length >= 4 && (buf[2] === 43 || buf[3] === 43) && (buf[0] === 0x49 || buf[0] === 0x4d))) {
    if (options.tiffPages === 'instances') {
      for (const page of decodeTiffPages(input.name, buf)) yield emit(pageToPicture([page]));
      return;
    }
    const pages = [...decodeTiffPages(input.name, buf)];
    if (pages.every((p) => sameFormat(p, pages[0]))) return yield emit(pageToPicture(pages));
    for (const page of pages) yield emit(pageToPicture([page]));
    return;
  }
  throw convertError('CONVERT_UNSUPPORTED', input.name, 'not a PNG, JPEG, BMP, TIFF or NIfTI (.nii/.nii.gz) file');
}

function sameFormat(a: PixelFormat, b: PixelFormat): boolean {
  return a.rows === b.rows && a.columns === b.columns && a.samplesPerPixel === b.samplesPerPixel && a.bitsAllocated === b.bitsAllocated && a.photometric === b.photometric;
}

function pageToPicture(pages: TiffPage[]): Picture {
  const f = pages[0];
  const size = nativeBytes(f);
  const pixels = pages.length === 1 ? f.pixels : new Uint8Array(size * pages.length);
  if (pages.length > 1) pages.forEach((p, i) => pixels.set(p.pixels, i * size));
  return { rows: f.rows, columns: f.columns, samplesPerPixel: f.samplesPerPixel, bitsAllocated: f.bitsAllocated, bitsStored: f.bitsStored,
    photometric: f.photometric, frames: pages.length, lossy: false, kind: 'native', pixels };
}

async function* convertNifti(input: ConvertInput, stream: Readable, study: StudyContext, options: ConvertOptions, seriesFor: SeriesFor, warnings: string[]): AsyncGenerator<ConvertedInstance> {
  const nii = await openNifti(input.name, stream, /\.gz$/i.test(input.name));
  try {
    const h = nii.header;
    const [nx, ny, nz, nt] = h.dims;
    const affine = niftiAffine(h);
    const plane = imagePlane(rasToLps(affine.ras));
    if (affine.source === 'pixdim') warnings.push('no qform or sform: positions use voxel sizes only, origin 0');
    if (plane.sheared) warnings.push('sheared affine: in-plane orientation approximated, positions exact');
    const kind = options.modality ?? 'SC';
    const s = seriesFor(input, kind === 'SC' ? 'OT' : kind, describe(input.name));
    const format: PixelFormat = { rows: ny, columns: nx, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, photometric: 'MONOCHROME2' };
    const sliceBytes = nx * ny * 2;
    for await (const vol of nii.volumes()) {
      const rescale = { slope: vol.rescaleSlope, intercept: vol.rescaleIntercept, min: vol.min, max: vol.max };
      if (kind === 'SC') {
        const uid = newUid();
        const ds = volumeScDataset(study, s, { format, frames: nz, sopInstanceUID: uid, instanceNumber: s.nextInstance++, plane, rescale });
        yield instance(input.name, study, s, ds.string(T.SOPClassUID)!, uid, NATIVE_TS, part10(ds, NATIVE_TS, nativePixelData(vol.pixels, 16)));
        continue;
      }
      for (let k = 0; k < nz; k++) {
        const uid = newUid();
        const ds = sliceDataset(study, s, kind, { format, sopInstanceUID: uid, instanceNumber: vol.t * nz + k + 1, plane, slice: k, t: vol.t, nt, rescale });
        const px = vol.pixels.subarray(k * sliceBytes, (k + 1) * sliceBytes);
        yield instance(input.name, study, s, ds.string(T.SOPClassUID)!, uid, NATIVE_TS, part10(ds, NATIVE_TS, nativePixelData(px, 16)));
      }
    }
  } finally {
    await nii.close();
  }
}
