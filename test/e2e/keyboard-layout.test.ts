// The UI's quality bar from the issue: keyboard accessible (sign in, reach every page of the
// navigation and search with Tab and Enter only, with a visible focus) and usable on a laptop screen
// (no sideways scrolling at 1366x768 or 1024x768). Real server, Debian's Chromium.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, OUT, launchChromium } from './browsers.ts';
import { PASSWORD, startE2eServer, type E2eServer } from './e2e-server.ts';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install chromium); browser tests skipped`;

/** Presses Tab until the element matching `selector` has the focus (at most `max` presses). */
async function tabTo(page: Page, selector: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`${selector} not reachable with Tab`);
}

/** Whether the focused element shows a focus ring (outline or box-shadow not none). */
function focusVisible(page: Page): Promise<boolean> {
  return page.evaluate(`(() => {
    const s = getComputedStyle(document.activeElement);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  })()`) as Promise<boolean>;
}

describe('web UI: keyboard and laptop screens', { skip }, () => {
  let server: E2eServer;
  let browser: Browser;

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    server = await startE2eServer();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('sign in, move through every page of the navigation and search with the keyboard alone', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(`${server.url}/ui/`);
    await page.waitForSelector('#login-user');
    await tabTo(page, '#login-user');
    assert.ok(await focusVisible(page), 'the focused field shows where the focus is');
    await page.keyboard.type('u-admin');
    await page.keyboard.press('Tab');
    assert.ok(await page.evaluate(`document.activeElement?.id === 'login-pass'`), 'Tab goes from user to password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=user]');

    const links = (await page.$$eval('header nav a', (as) => as.map((a) => a.getAttribute('href')))) as string[];
    assert.ok(links.length >= 5, `navigation has the admin's pages (${links.join(' ')})`);
    for (const href of links) {
      await tabTo(page, `header nav a[href="${href}"]`);
      assert.ok(await focusVisible(page), `${href}: focus is visible`);
      await page.keyboard.press('Enter');
      await page.waitForFunction(`location.pathname === ${JSON.stringify(href)}`);
      await page.waitForSelector(`header nav a[href="${href}"][aria-current=page]`);
    }

    // Archive search: the first field of the search form, type, Enter submits.
    await page.goto(`${server.url}/ui/`);
    await page.waitForSelector('form input');
    await tabTo(page, 'main form input');
    await page.keyboard.type('*');
    const answer = page.waitForResponse((r) => r.url().endsWith('/tools/find'));
    await page.keyboard.press('Enter');
    assert.equal((await answer).status(), 200);
    await page.close();
  });

  test('no sideways scrolling on laptop screens, on every page of the navigation', async () => {
    for (const viewport of [{ width: 1366, height: 768 }, { width: 1024, height: 768 }]) {
      const page = await browser.newPage({ viewport });
      await page.goto(`${server.url}/ui/`);
      await page.waitForSelector('#login-user');
      await page.fill('#login-user', 'u-admin');
      await page.fill('#login-pass', PASSWORD);
      await page.click('form.login button[type=submit]');
      await page.waitForSelector('[data-testid=user]');
      const links = (await page.$$eval('header nav a', (as) => as.map((a) => a.getAttribute('href')))) as string[];
      for (const href of links) {
        await page.goto(`${server.url}${href}`);
        await page.waitForSelector('[data-testid=user]');
        await page.waitForLoadState('networkidle');
        const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
        assert.ok(overflow <= 1, `${href} at ${viewport.width}x${viewport.height}: ${overflow}px wider than the window`);
      }
      await page.screenshot({ path: join(OUT, `60-laptop-${viewport.width}.png`) });
      await page.close();
    }
  });
});
