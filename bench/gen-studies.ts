// Generates many small studies (16x16 8-bit images, ~1.5 KB a file) with varied PatientName,
// PatientID, StudyDate and Modality, so wildcard and date-range queries select realistic subsets.
// Deterministic (seeded), written with a tiny self-contained encoder (like gen-ct.ts) so the input
// does not depend on the code it measures.
// Usage: node --import tsx bench/gen-studies.ts <out-dir> [studies=5000] [instancesPerStudy=2]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileMeta, monochrome2, part10, str, type El } from './tiny-dicom.ts';

const CONSONANTS = 'BCDFGHKLMNPRSTVWZ';
const VOWELS = 'AEIOU';
const GIVEN = ['ANNA', 'BEN', 'CARLA', 'DAVID', 'EVA', 'FRANK', 'GINA', 'HUGO', 'IRIS', 'JONAS', 'KIM', 'LEA'];
export const MODALITIES = ['CT', 'MR', 'CR', 'US', 'DX', 'MG', 'PT'];
export const FIRST_YEAR = 2015;
export const YEARS = 10;

/** mulberry32: a small seeded PRNG, so every run (and every server) gets the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function surnamePrefixes(): string[] {
  return [...CONSONANTS].flatMap((c) => [...VOWELS].map((v) => c + v));
}

export interface GeneratedStudies {
  files: string[];
  patientIds: string[];
  studyUids: string[];
}

/** `studies` studies of one series each, `perStudy` instances per series, about 0.6 studies per patient. */
export function generateStudies(outDir: string, studies: number, perStudy: number, seed = 42): GeneratedStudies {
  mkdirSync(outDir, { recursive: true });
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const root = `2.25.${seed}${Date.now() % 1_000_000}`;
  const patients = Math.max(1, Math.round(studies * 0.6));
  const names: string[] = [];
  const patientIds: string[] = [];
  for (let p = 0; p < patients; p++) {
    const surname = pick([...CONSONANTS]) + pick([...VOWELS]) + pick([...CONSONANTS]) + pick([...VOWELS]) + pick([...CONSONANTS]);
    names.push(`${surname}^${pick(GIVEN)}`);
    patientIds.push(`P${String(100000 + p)}`);
  }
  const pixels = Buffer.alloc(16 * 16);
  const files: string[] = [];
  const studyUids: string[] = [];
  for (let s = 0; s < studies; s++) {
    const p = Math.floor(rnd() * patients);
    const day = Math.floor(rnd() * 365 * YEARS);
    const d = new Date(Date.UTC(FIRST_YEAR, 0, 1) + day * 86_400_000);
    const date = d.toISOString().slice(0, 10).replaceAll('-', '');
    const modality = pick(MODALITIES);
    const study = `${root}.${s + 1}`;
    const series = `${study}.1`;
    studyUids.push(study);
    const dir = join(outDir, String(Math.floor(s / 500)).padStart(3, '0'));
    if (s % 500 === 0) mkdirSync(dir, { recursive: true });
    for (let n = 1; n <= perStudy; n++) {
      const sop = `${series}.${n}`;
      const sopClass = '1.2.840.10008.5.1.4.1.1.7'; // Secondary Capture
      pixels[0] = n & 0xff;
      const ds: El[] = [
        [0x0008, 0x0005, 'CS', str('ISO_IR 100', 'CS')],
        [0x0008, 0x0016, 'UI', str(sopClass, 'UI')],
        [0x0008, 0x0018, 'UI', str(sop, 'UI')],
        [0x0008, 0x0020, 'DA', str(date, 'DA')],
        [0x0008, 0x0030, 'TM', str('101500', 'TM')],
        [0x0008, 0x0050, 'SH', str(`A${s + 1}`, 'SH')],
        [0x0008, 0x0060, 'CS', str(modality, 'CS')],
        [0x0008, 0x0090, 'PN', str('Referrer^Bench', 'PN')],
        [0x0008, 0x1030, 'LO', str(`Study ${s % 50}`, 'LO')],
        [0x0008, 0x103e, 'LO', str(`Series ${modality}`, 'LO')],
        [0x0010, 0x0010, 'PN', str(names[p], 'PN')],
        [0x0010, 0x0020, 'LO', str(patientIds[p], 'LO')],
        [0x0010, 0x0030, 'DA', str(`19${50 + (p % 50)}0101`, 'DA')],
        [0x0010, 0x0040, 'CS', str(p % 2 ? 'F' : 'M', 'CS')],
        [0x0020, 0x000d, 'UI', str(study, 'UI')],
        [0x0020, 0x000e, 'UI', str(series, 'UI')],
        [0x0020, 0x0010, 'SH', str(String(s + 1), 'SH')],
        [0x0020, 0x0011, 'IS', str('1', 'IS')],
        [0x0020, 0x0013, 'IS', str(String(n), 'IS')],
        ...monochrome2(16, 16, 8, 8, false),
        [0x7fe0, 0x0010, 'OB', pixels],
      ];
      const file = join(dir, `S${s + 1}_${n}.dcm`);
      writeFileSync(file, part10(fileMeta(sopClass, sop), ds));
      files.push(file);
    }
  }
  return { files, patientIds, studyUids };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [out, studies, per] = process.argv.slice(2);
  if (!out) {
    console.error('usage: gen-studies.ts <out-dir> [studies=5000] [instancesPerStudy=2]');
    process.exit(2);
  }
  const g = generateStudies(out, Number(studies ?? 5000), Number(per ?? 2));
  console.log(`wrote ${g.files.length} files to ${out}`);
}
