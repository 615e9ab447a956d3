#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` builds): compiles src/ to dist/ with tsc, then writes
// dist/.build-stamp, which bin/dicomgate compares with the sources to decide whether dist/ is current.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(`${root}dist`, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build: tsc failed; bin/dicomgate will run the sources through tsx instead');
  process.exit(r.status ?? 1);
}
mkdirSync(`${root}dist`, { recursive: true });
writeFileSync(`${root}dist/.build-stamp`, new Date().toISOString() + '\n');
