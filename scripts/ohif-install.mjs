#!/usr/bin/env node
// Opt-in: puts the prebuilt OHIF v3 viewer (the npm package @ohif/app, its dist/ only) in
// vendor/ohif/, where the server serves it under /ohif/ (src/http/ui/ohif-plugin.ts).
// Not a dependency: `npm install @ohif/app` would pull its ~60 build-time packages (React, webpack
// loaders, codecs) that the prebuilt dist does not need, and the dist is ~200 MB unpacked.
// `npm pack` fetches only the package tarball through npm's own client and cache, and its integrity
// is checked here against the pinned hash before anything is unpacked.
// Pruned by default (--full keeps them): source maps, the ONNX runtime (ort/, AI segmentation
// models OHIF would fetch from the internet anyway) and the slide-microscopy viewer.
// Usage: npm run ohif:install [-- --full]
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OHIF_VERSION = '3.13.2';
const INTEGRITY = 'sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==';

const root = new URL('..', import.meta.url).pathname;
const target = join(root, 'vendor', 'ohif');
const full = process.argv.includes('--full');
const t0 = Date.now();

if (existsSync(join(target, 'VERSION')) && readFileSync(join(target, 'VERSION'), 'utf8').trim() === `${OHIF_VERSION}${full ? ' full' : ''}`) {
  console.log(`ohif: ${OHIF_VERSION} already in vendor/ohif`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'dicomgate-ohif-'));
try {
  const out = execFileSync('npm', ['pack', `@ohif/app@${OHIF_VERSION}`, '--pack-destination', work, '--json', '--silent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const [info] = JSON.parse(out);
  const tgz = join(work, info.filename);
  const hash = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
  if (hash !== INTEGRITY) throw new Error(`@ohif/app@${OHIF_VERSION}: integrity ${hash} is not the pinned ${INTEGRITY}`);
  execFileSync('tar', ['-xzf', tgz, '-C', work, 'package/dist'], { stdio: 'inherit' });
  const dist = join(work, 'package', 'dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error('the package has no dist/index.html');
  let pruned = 0;
  if (!full) {
    const drop = (p) => {
      pruned += du(p);
      rmSync(p, { recursive: true, force: true });
    };
    for (const d of ['ort', 'dicom-microscopy-viewer']) if (existsSync(join(dist, d))) drop(join(dist, d));
    for (const f of walk(dist)) if (f.endsWith('.map')) drop(f);
  }
  writeFileSync(join(dist, 'VERSION'), `${OHIF_VERSION}${full ? ' full' : ''}\n`);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(root, 'vendor'), { recursive: true });
  renameSync(dist, target);
  console.log(`ohif: @ohif/app ${OHIF_VERSION} in vendor/ohif: ${(du(target) / 1e6).toFixed(1)} MB (${(pruned / 1e6).toFixed(1)} MB pruned), download ${(statSync(tgz).size / 1e6).toFixed(1)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}
function du(p) {
  return statSync(p).isDirectory() ? walk(p).reduce((a, f) => a + statSync(f).size, 0) : statSync(p).size;
}
