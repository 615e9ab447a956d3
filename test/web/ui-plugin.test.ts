// The UI plugin: bundles web/src with esbuild, serves the assets under /ui/ with a strict CSP,
// falls back to index.html for app paths, and is public (no data behind it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { silentLogger } from '../../src/core/log.ts';
import { uiPlugin } from '../../src/http/ui/ui-plugin.ts';

async function app() {
  const a = Fastify();
  await a.register(uiPlugin, { logger: silentLogger });
  await a.ready();
  return a;
}

test('serves the shell, the bundle and the stylesheet, with no external URL anywhere', async () => {
  const a = await app();
  try {
    const html = await a.inject('/ui/');
    assert.equal(html.statusCode, 200);
    assert.match(html.headers['content-type'] as string, /text\/html/);
    assert.equal(html.headers['cache-control'], 'no-store');
    assert.match(html.headers['content-security-policy'] as string, /default-src 'self'/);
    assert.match(html.body, /<title>dicomgate<\/title>/);
    const js = await a.inject('/ui/app.js');
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /javascript/);
    assert.ok(js.body.length > 5000, 'bundle is not empty');
    const css = await a.inject('/ui/app.css');
    assert.equal(css.statusCode, 200);
    // Air-gapped sites: nothing may be loaded from another host.
    for (const body of [html.body, js.body, css.body]) assert.doesNotMatch(body, /(src|href)=["']?https?:\/\//i);
    assert.doesNotMatch(css.body, /url\(["']?https?:/i);
    // No browser storage (PHI rule).
    assert.doesNotMatch(js.body, /localStorage|sessionStorage|indexedDB/);
  } finally {
    await a.close();
  }
});

test('app paths fall back to index.html; unknown assets are 404; / redirects to /ui/', async () => {
  const a = await app();
  try {
    const page = await a.inject('/ui/studies/0a1b2c3d-00000000-00000000-00000000-00000000');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<div id="app"/);
    assert.equal((await a.inject('/ui/nothing.png')).statusCode, 404);
    const root = await a.inject('/');
    assert.equal(root.statusCode, 302);
    assert.equal(root.headers.location, '/ui/');
    assert.equal((await a.inject('/ui')).headers.location, '/ui/');
  } finally {
    await a.close();
  }
});

test('assets carry an ETag and answer 304 to a matching If-None-Match', async () => {
  const a = await app();
  try {
    const js = await a.inject('/ui/app.js');
    const etag = js.headers.etag as string;
    assert.ok(etag);
    const again = await a.inject({ url: '/ui/app.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
  } finally {
    await a.close();
  }
});

test('with OIDC configured, the shell tells the UI (meta tag, label escaped)', async () => {
  const a = Fastify();
  await a.register(uiPlugin, { logger: silentLogger, oidcLogin: { label: 'Hospital <SSO>' } });
  try {
    const html = (await a.inject('/ui/login')).body;
    assert.match(html, /<meta name="dicomgate-oidc-login" content="Hospital &#60;SSO&#62;">/);
  } finally {
    await a.close();
  }
});
