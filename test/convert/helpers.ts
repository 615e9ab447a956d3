import { Readable } from 'node:stream';
import { convert, type ConvertOptions, type ConvertResult, type ConvertedInstance, type ConvertFailure } from '../../src/convert/convert.ts';
import type { ConvertInput } from '../../src/convert/inputs.ts';
import { readPart10, T, type Dataset } from '../../src/dicom/index.ts';

export function memoryInput(name: string, buf: Uint8Array, seriesKey?: string): ConvertInput {
  const input: ConvertInput = { name, open: async () => Readable.from([Buffer.from(buf)]) };
  if (seriesKey !== undefined) input.seriesKey = seriesKey;
  return input;
}

export interface Run {
  instances: ConvertedInstance[];
  errors: ConvertFailure[];
  all: ConvertResult[];
}

export async function run(inputs: ConvertInput[], options: ConvertOptions = {}): Promise<Run> {
  const all: ConvertResult[] = [];
  for await (const r of convert(inputs, options)) all.push(r);
  return {
    all,
    instances: all.filter((r): r is ConvertedInstance => r.kind === 'instance'),
    errors: all.filter((r): r is ConvertFailure => r.kind === 'error'),
  };
}

export function datasetOf(i: ConvertedInstance): Dataset {
  return readPart10(Buffer.concat(i.chunks)).dataset;
}

/** Native pixel data bytes (without the pad byte). */
export function pixelBytes(ds: Dataset): Uint8Array {
  const b = ds.bytes(T.PixelData)!;
  const n = ds.number(T.Rows)! * ds.number(T.Columns)! * ds.number(T.SamplesPerPixel)! * (ds.number(T.BitsAllocated)! / 8) * (ds.number(T.NumberOfFrames) ?? 1);
  return b.subarray(0, n);
}

export function u16(b: Uint8Array): number[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length / 2 }, (_, i) => dv.getUint16(i * 2, true));
}
