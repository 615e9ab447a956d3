#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` builds): compiles src/ to dist/src with tsc, bundles the
// CLI from that output into dist/cli with esbuild, then writes dist/.build-stamp, which bin/dicomgate
// compares with the sources to decide whether dist/ is current.
//
// Why a bundle: Node's ESM loader resolves, reads and links each module on its own. `deid --help` loads
// ~55 of them, and a one-file `deid` took 0.29-0.31 s from dist/src against 0.24-0.26 s from a bundle (6
// runs each). A `deid` run of 1000 slices has no other fixed cost as large. The bundle keeps the CLI's
// layout: dist/cli/main.js, one entry per command in dist/cli/commands/ (main.ts lists that folder and
// loads a command only when it runs), the `deid` worker, and shared code in dist/cli/chunks/. npm
// packages stay external (native addons and their own files).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(`${root}dist`, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build: tsc failed; bin/dicomgate will run the sources through tsx instead');
  process.exit(r.status ?? 1);
}

const cli = `${root}dist/src/cli`;
const commands = readdirSync(`${cli}/commands`)
  .filter((f) => f.endsWith('.js') && (!f.startsWith('_') || f === '_deid-worker.js'))
  .map((f) => `${cli}/commands/${f}`);
const { build } = await import('esbuild');
try {
  await build({
    entryPoints: [`${cli}/main.js`, ...commands],
    outdir: `${root}dist/cli`,
    outbase: cli,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
    logLevel: 'warning',
  });
} catch (e) {
  console.error(`build: bundling the CLI failed (${e.message}); bin/dicomgate will run the sources through tsx instead`);
  process.exit(1);
}
writeFileSync(`${root}dist/.build-stamp`, new Date().toISOString() + '\n');
