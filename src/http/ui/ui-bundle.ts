// Bundles the web UI (web/src, TypeScript) in memory with esbuild's JS API, once per process:
// `npm ci` is the only build step, nothing is checked in, and nothing is fetched at run time
// (air-gapped sites). Takes ~0.1-0.3 s; the result is cached by the caller.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../core/package-root.ts';

export interface UiAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** web/ at the repository root, next to src/. */
export const DEFAULT_WEB_ROOT = join(PACKAGE_ROOT, 'web');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

function asset(body: Buffer, name: string): UiAsset {
  const ext = name.slice(name.lastIndexOf('.'));
  const etag = '"' + createHash('sha256').update(body).digest('base64url').slice(0, 22) + '"';
  return { body, contentType: TYPES[ext] ?? 'application/octet-stream', etag };
}

/** Every file the UI serves, by name under the UI prefix ('index.html', 'app.js', 'app.css', ...). */
export async function bundleUi(webRoot: string = DEFAULT_WEB_ROOT, opts: { minify?: boolean } = {}): Promise<Map<string, UiAsset>> {
  // Imported lazily: servers started without the UI never load esbuild.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { app: join(webRoot, 'src/main.ts') },
    bundle: true,
    write: false,
    outdir: '/ui-out',
    format: 'esm',
    platform: 'browser',
    // Current Chromium and Firefox (the support matrix), with a little slack.
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: opts.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    tsconfig: join(webRoot, 'tsconfig.json'),
  });
  const out = new Map<string, UiAsset>();
  for (const f of result.outputFiles) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    out.set(name, asset(Buffer.from(f.contents), name));
  }
  out.set('index.html', asset(await readFile(join(webRoot, 'index.html')), 'index.html'));
  out.set('favicon.svg', asset(await readFile(join(webRoot, 'favicon.svg')), 'favicon.svg'));
  return out;
}
