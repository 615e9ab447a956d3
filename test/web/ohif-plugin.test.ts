// The OHIF plugin over a miniature dist folder: index.html moved under /ohif/ without inline
// script, the generated app-config.js pointing at this server's /dicom-web, webpack's public path
// patched in bundles, path traversal refused, the "not installed" answer, and the same login as the
// rest of the server (401 for scripts, 303 to the sign-in page for a browser, 403 for an uploader).
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ohifAppConfig, ohifPlugin, patchPublicPath, rewriteOhifIndex } from '../../src/http/ui/ohif-plugin.ts';
import { shellWithSettings } from '../../src/http/ui/ui-plugin.ts';
import { buildHarness } from '../http/app-harness.ts';

const INDEX = '<!doctype html><html><head><script>console.time("scriptToView"),window.PUBLIC_URL="/"</script><link rel="manifest" href="/manifest.json"><script rel="preload" as="script" src="/app-config.js"></script><title>OHIF Viewer</title><script>function browserImportFunction(n){return import(n)}window.PUBLIC_URL="/"</script><script defer src="/app.bundle.abc.js"></script><link href="/app.bundle.css" rel="stylesheet"></head><body><div id="root"></div></body></html>';

function fakeDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dicomgate-ohif-test-'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'app.bundle.abc.js'), 'x;__webpack_require__.p = "/";y;');
  writeFileSync(join(dir, 'plain.js'), 'console.log(1)');
  writeFileSync(join(dir, 'codec.wasm'), Buffer.from([0, 97, 115, 109]));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'logo.svg'), '<svg/>');
  writeFileSync(join(dir, 'sw.js'), 'self.skipWaiting()');
  return dir;
}

test('index.html: assets under /ohif/, the inline scripts replaced by one served file, no external URL', () => {
  const out = rewriteOhifIndex(INDEX);
  assert.doesNotMatch(out, /<script>/);
  assert.match(out, /<script src="\/ohif\/dicomgate-boot.js"><\/script>/);
  assert.match(out, /src="\/ohif\/app-config.js"/);
  assert.match(out, /src="\/ohif\/app.bundle.abc.js"/);
  assert.match(out, /href="\/ohif\/app.bundle.css"/);
  assert.doesNotMatch(out, /(src|href)="\/(?!ohif\/)/);
  assert.equal(patchPublicPath(Buffer.from('a;__webpack_require__.p = "/";b')).toString(), 'a;__webpack_require__.p = "/ohif/";b');
  const same = Buffer.from('no runtime here');
  assert.equal(patchPublicPath(same), same);
});

test('app-config.js: one DICOMweb data source on this origin, router under /ohif, nothing external', () => {
  const js = ohifAppConfig('/dicom-web');
  const window = { location: { origin: 'http://pacs.local:8042' } } as { location: { origin: string }; config?: Record<string, unknown> };
  new Function('window', js)(window);
  const c = window.config as { routerBasename: string; defaultDataSourceName: string; dataSources: { sourceName: string; configuration: Record<string, unknown> }[] };
  assert.equal(c.routerBasename, '/ohif');
  assert.equal(c.dataSources.length, 1);
  assert.equal(c.defaultDataSourceName, c.dataSources[0].sourceName);
  assert.equal(c.dataSources[0].configuration.qidoRoot, 'http://pacs.local:8042/dicom-web');
  assert.equal(c.dataSources[0].configuration.wadoRoot, 'http://pacs.local:8042/dicom-web');
  assert.doesNotMatch(js, /https?:\/\//);
});

test('the UI shell announces OHIF only when it is installed', () => {
  const html = Buffer.from('<html><head></head></html>');
  assert.equal(shellWithSettings(html, {}), html);
  assert.match(shellWithSettings(html, { ohif: true }).toString(), /<meta name="dicomgate-ohif" content="\/ohif\/">/);
});

test('/ohif/ behind the login: served to readers, 401 to scripts, 303 to the sign-in page for browsers, 403 to an uploader', async () => {
  const dir = fakeDist();
  const h = await buildHarness({ extra: async (app) => void (await app.register(ohifPlugin, { dir })) });
  try {
    const reader = { authorization: h.basic('researcher') };
    const page = await h.app.inject({ url: '/ohif/viewer?StudyInstanceUIDs=1.2.3', headers: reader });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(page.headers['content-security-policy'] as string, /script-src 'self' 'wasm-unsafe-eval'/);
    assert.match(page.body, /\/ohif\/dicomgate-boot.js/);
    const cfg = await h.app.inject({ url: '/ohif/app-config.js', headers: reader });
    assert.match(cfg.body, /routerBasename: "\/ohif"/);
    const boot = await h.app.inject({ url: '/ohif/dicomgate-boot.js', headers: reader });
    assert.match(boot.body, /window.PUBLIC_URL = "\/ohif\/"/);
    const bundle = await h.app.inject({ url: '/ohif/app.bundle.abc.js', headers: reader });
    assert.equal(bundle.body, 'x;__webpack_require__.p = "/ohif/";y;');
    assert.equal((await h.app.inject({ url: '/ohif/plain.js', headers: reader })).body, 'console.log(1)');
    const wasm = await h.app.inject({ url: '/ohif/codec.wasm', headers: reader });
    assert.equal(wasm.headers['content-type'], 'application/wasm');
    const svg = await h.app.inject({ url: '/ohif/assets/logo.svg', headers: reader });
    assert.equal(svg.statusCode, 200);
    assert.equal((await h.app.inject({ url: '/ohif/assets/logo.svg', headers: { ...reader, 'if-none-match': svg.headers.etag as string } })).statusCode, 304);
    // No service worker (it would cache images), nothing outside the folder, no dot-files.
    assert.equal((await h.app.inject({ url: '/ohif/sw.js', headers: reader })).statusCode, 404);
    const outside = join(dir, '..', `${dir.split('/').pop()}-secret.js`);
    writeFileSync(outside, 'secret');
    try {
      for (const url of [`/ohif/..%2f${outside.split('/').pop()}`, `/ohif/assets/..%2f..%2f${outside.split('/').pop()}`]) {
        const r = await h.app.inject({ url, headers: reader });
        assert.equal(r.statusCode, 404, url);
        assert.notEqual(r.body, 'secret');
      }
    } finally {
      rmSync(outside);
    }
    assert.equal((await h.app.inject({ url: '/ohif/missing.js', headers: reader })).statusCode, 404);

    assert.equal((await h.app.inject({ url: '/ohif/app-config.js' })).statusCode, 401);
    const browser = await h.app.inject({ url: '/ohif/', headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(browser.statusCode, 303);
    assert.equal(browser.headers.location, '/ui/login');
    assert.equal(browser.headers['www-authenticate'], undefined);
    assert.equal((await h.app.inject({ url: '/ohif/', headers: { authorization: h.basic('uploader') } })).statusCode, 403);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without an installed OHIF, /ohif/ says how to install it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dicomgate-ohif-none-'));
  const h = await buildHarness({ extra: async (app) => void (await app.register(ohifPlugin, { dir })) });
  try {
    const r = await h.app.inject({ url: '/ohif/', headers: { authorization: h.basic('researcher') } });
    assert.equal(r.statusCode, 404);
    assert.match(r.body, /npm run ohif:install/);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
