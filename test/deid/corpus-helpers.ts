// Shared helpers for the corpus-wide de-identification tests: the synthetic-rt manifest, element
// lookup by manifest path, and byte scanning.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset } from '../../src/dicom/dataset.ts';
import { readPart10, type DicomFile } from '../../src/dicom/part10.ts';
import { parseTag } from '../../src/dicom/tag.ts';

export const CORPUS = new URL('../../../shared/corpus/', import.meta.url).pathname;
export const SYNTHETIC = join(CORPUS, 'synthetic-rt');

export interface PlantLocation {
  file: string;
  path: string;
  tag: string;
  vr: string;
  action: string;
  source: string;
  options?: Record<string, string>;
}
export interface Plant {
  id: string;
  kind: 'token' | 'uid' | 'date' | 'time' | 'datetime' | 'value' | 'text';
  value: string;
  patient: string;
  locations: PlantLocation[];
}
export interface ManifestFile {
  path: string;
  patient: string;
  study: string;
  modality: string;
  sop_instance_uid: string;
  dates: [string, string, string][];
}
export interface Manifest {
  patients: { key: string; studies: { key: string; StudyDate: string; day_offset: number }[] }[];
  files: ManifestFile[];
  plants: Plant[];
}

export function syntheticPresent(): boolean {
  return existsSync(join(SYNTHETIC, 'manifest.json.gz'));
}

export function loadManifest(): Manifest {
  return JSON.parse(gunzipSync(readFileSync(join(SYNTHETIC, 'manifest.json.gz'))).toString('utf8')) as Manifest;
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function readDicom(path: string): DicomFile {
  return readPart10(readFileSync(path));
}

/** Element values at a manifest path ("(0040,0275)[0].(0040,1001)", "meta:(0002,0016)"); undefined if absent. */
export function valuesAt(file: DicomFile, path: string): string[] | undefined {
  let ds: Dataset | undefined = path.startsWith('meta:') ? file.meta : file.dataset;
  const steps = path.replace(/^meta:/, '').split('.');
  for (let i = 0; i < steps.length; i++) {
    const m = /^(\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\))(?:\[(\d+)\])?$/.exec(steps[i]);
    if (!m || !ds) return undefined;
    const t = parseTag(m[1]);
    if (m[2] === undefined) {
      if (!ds.has(t)) return undefined;
      const vr = ds.vr(t);
      if (vr === 'OB' || vr === 'OW' || vr === 'UN') return [Buffer.from(ds.bytes(t) ?? []).toString('latin1')];
      return ds.strings(t);
    }
    ds = ds.items(t)?.[Number(m[2])];
  }
  return undefined;
}

/**
 * Whether `needle` occurs in `hay` as its own value: not preceded by a digit or '.', so a date or time
 * that happens to be a substring of a random new UID does not count.
 */
export function containsValue(hay: Buffer, needle: string, bounded: boolean): boolean {
  const n = Buffer.from(needle, 'latin1');
  for (let i = hay.indexOf(n); i >= 0; i = hay.indexOf(n, i + 1)) {
    if (!bounded) return true;
    const prev = i > 0 ? hay[i - 1] : 0x20;
    if (!((prev >= 0x30 && prev <= 0x39) || prev === 0x2e)) return true;
  }
  return false;
}
