// Writes a synthetic CT series as files: node --import tsx test/helpers/write-synthetic-series.ts <dir> <count> [size=512] [seed]
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syntheticSeries } from './synthetic-dicom.ts';

export async function writeSyntheticSeries(dir: string, count: number, size = 512, seed = '424242'): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files = syntheticSeries(seed, count, { size });
  const paths = files.map((_, i) => join(dir, `slice-${String(i + 1).padStart(5, '0')}.dcm`));
  await Promise.all(files.map((f, i) => writeFile(paths[i], f)));
  return paths;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, count, size, seed] = process.argv.slice(2);
  await writeSyntheticSeries(dir, Number(count), size === undefined ? 512 : Number(size), seed);
}
