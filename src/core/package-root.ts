// The package's root folder (where package.json is), found from this file's location, so paths
// to package files work from the TypeScript sources (src/...), tsc's output (dist/src/...) and the
// bundled CLI (dist/cli/..., dist/cli/chunks/...).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
    if (dirname(dir) === dir) throw new Error('dicomgate package root not found above ' + start);
  }
}

export const PACKAGE_ROOT: string = findRoot(dirname(fileURLToPath(import.meta.url)));
