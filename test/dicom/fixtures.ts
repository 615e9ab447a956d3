// Paths of the DICOM core's fixtures and of the shared corpus (skipped when absent).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/dicom/', import.meta.url));
export const CORPUS = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));
export const corpusPresent = existsSync(CORPUS);

export function fixture(name: string): Buffer {
  return readFileSync(FIXTURES + name);
}
