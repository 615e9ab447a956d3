// OHIF (the prebuilt @ohif/app, installed with `npm run ohif:install`) served by dicomgate under
// /ohif/ behind the same login: a reader's session opens it, OHIF's study list comes from our
// DICOMweb, a study opens in its viewer with an image drawn, and nothing is fetched from elsewhere.
// Skipped with a message when OHIF or Chromium is not installed.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decode } from 'fast-png';
import type { Browser, Page } from 'playwright-core';
import { DEFAULT_OHIF_DIR, ohifInstalled } from '../../src/http/ui/ohif-plugin.ts';
import { CHROMIUM, OUT, launchChromium, storeCt512 } from './browsers.ts';
import { PASSWORD, startE2eServer, type E2eServer } from './e2e-server.ts';

const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not installed; OHIF browser test skipped`
  : !ohifInstalled(DEFAULT_OHIF_DIR)
    ? 'OHIF is not installed (npm run ohif:install); OHIF browser test skipped'
    : false;

describe('OHIF served by dicomgate, in Chromium', { skip }, () => {
  let server: E2eServer;
  let browser: Browser;
  let page: Page;
  const foreign: string[] = [];
  const errors: string[] = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    server = await startE2eServer();
    await storeCt512(server, 8, { id: 'OHIF-1', name: 'Ohiftest^Olga' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !/^(data|blob):/.test(r.url())) foreign.push(r.url());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/.test(m.text())) errors.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('without a session /ohif/ sends the browser to the sign-in page; scripts get 401', async () => {
    await page.goto(`${server.url}/ohif/`);
    await page.waitForSelector('#login-user');
    assert.match(page.url(), /\/ui\/login$/);
    const res = await fetch(`${server.url}/ohif/app-config.js`);
    assert.equal(res.status, 401);
  });

  test('after sign-in: OHIF lists the study from /dicom-web, opens it and draws an image', async (t) => {
    await page.fill('#login-user', 'u-researcher');
    await page.fill('#login-pass', PASSWORD);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('[data-testid=studies] tbody tr');
    // The study page links to OHIF (it is installed).
    await page.click('[data-testid=studies] tbody tr td a');
    const link = page.locator('[data-testid=open-ohif]');
    await link.waitFor();
    const viewerHref = (await link.getAttribute('href'))!;
    assert.match(viewerHref, /^\/ohif\/viewer\?StudyInstanceUIDs=[\d.]+$/);
    await page.screenshot({ path: join(OUT, '31-study-open-in-ohif.png') });

    const t0 = Date.now();
    const qido = page.waitForRequest((r) => r.url().startsWith(`${server.url}/dicom-web/studies`));
    await page.goto(`${server.url}/ohif/`);
    await qido;
    await page.waitForSelector('text=Ohiftest', { timeout: 60_000 });
    t.diagnostic(`OHIF study list shown ${Date.now() - t0} ms after navigation`);
    await page.screenshot({ path: join(OUT, '30-ohif-study-list.png') });

    // The viewer: the CT drawn (sampled from a screenshot: a WebGL canvas cannot be read back).
    await page.goto(`${server.url}${viewerHref}`);
    const canvas = page.locator('canvas').first();
    await canvas.waitFor({ timeout: 60_000 });
    let distinct = 0;
    for (let i = 0; i < 60 && distinct <= 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const png = decode(await canvas.screenshot());
      const greys = new Set<number>();
      for (let y = Math.floor(png.height * 0.3); y < png.height * 0.7; y += 7) for (let x = Math.floor(png.width * 0.3); x < png.width * 0.7; x += 7) greys.add(png.data[(y * png.width + x) * png.channels]);
      distinct = greys.size;
    }
    await page.screenshot({ path: join(OUT, '32-ohif-viewer.png') });
    assert.ok(distinct > 3, `OHIF's viewport shows an image (${distinct} distinct grey values sampled)`);
    assert.deepEqual(foreign, [], 'nothing fetched from other origins');
    assert.deepEqual(errors, []);
  });
});
