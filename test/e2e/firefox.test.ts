// Firefox smoke test: Debian's firefox-esr driven by puppeteer-core over WebDriver BiDi (stock
// Firefox speaks BiDi since 128; playwright-core needs its own patched Firefox build). Signs in,
// lists the archive, opens a study and checks the viewer's canvas shows an image.
// Skipped with a message when /usr/bin/firefox-esr is not installed (apt-get install firefox-esr).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { OUT, storeCt512 } from './browsers.ts';
import { PASSWORD, startE2eServer, type E2eServer } from './e2e-server.ts';

const FIREFOX = '/usr/bin/firefox-esr';

const skip = existsSync(FIREFOX) ? false : `${FIREFOX} not installed (apt-get install firefox-esr); Firefox smoke test skipped`;

describe('web UI in Firefox (firefox-esr, WebDriver BiDi)', { skip }, () => {
  let server: E2eServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    server = await startE2eServer();
    await storeCt512(server, 10, { id: 'FF-1', name: 'Foxtest^Fiona' });
    browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      // The sign-in probe's 401 is expected; script errors and CSP reports are not.
      if (m.type() === 'error' && !/401|Unauthorized/.test(m.text())) errors.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('sign in, archive list, study page, viewer canvas shows the CT', async (t) => {
    t.diagnostic(`browser ${await browser.version()}`);
    await page.goto(`${server.url}/ui/`);
    await page.waitForSelector('#login-user');
    await page.type('#login-user', 'u-researcher');
    await page.type('#login-pass', PASSWORD);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('[data-testid=studies] tbody tr');
    assert.equal(await page.$eval('[data-testid=user]', (e) => e.textContent), 'u-researcher');
    assert.equal(await page.$eval('[data-testid=studies] tbody tr td a', (e) => e.textContent), 'Foxtest, Fiona');
    await page.screenshot({ path: join(OUT, '50-firefox-archive.png') });

    await page.click('[data-testid=studies] tbody tr td a');
    await page.waitForSelector('[data-testid=series] tbody tr');
    assert.match(page.url(), /\/ui\/studies\/[0-9a-f-]{44}$/);
    await page.screenshot({ path: join(OUT, '51-firefox-study.png') });

    await page.click('a.button.primary');
    await page.waitForSelector('.viewport[data-first-image-ms]', { timeout: 20_000 });
    t.diagnostic(`first image after ${await page.evaluate(`document.querySelector('.viewport').dataset.firstImageMs`)} ms`);
    // Page-side code as text: the test's tsconfig has no DOM types.
    const greys = (await page.evaluate(`(() => {
      const c = document.querySelector('[data-testid=viewport]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let y = Math.floor(c.height * 0.2); y < c.height * 0.8; y += 9) for (let x = Math.floor(c.width * 0.2); x < c.width * 0.8; x += 9) seen.add(d[(y * c.width + x) * 4]);
      return seen.size;
    })()`)) as number;
    assert.ok(greys > 3, `the canvas shows an image (${greys} distinct grey values sampled)`);
    await page.screenshot({ path: join(OUT, '52-firefox-viewer.png') });
    assert.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0);
    assert.deepEqual(errors, []);
  });
});
