// End-to-end, real server + Chromium: the users-and-tokens page (admin and self-service), the Jobs
// page's pause / resume / retry on a real route job to a DICOM peer that is down and then up
// (DCMTK storescp), the dead-letter list and destination status (GET /routes, Test button), and the study page's "Send to…".
// Screenshots go to test-output/e2e/4x-*.png. Skipped without /usr/bin/chromium or DCMTK.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { freePort, runDcmtk, waitForPort } from '../helpers/dcmtk.ts';
import { CHROMIUM, CT_SMALL, OUT, launchChromium } from './browsers.ts';
import { ct512Series } from './ct-512.ts';
import { PASSWORD, startE2eServer, type E2eServer } from './e2e-server.ts';

const hasDcmtk = spawnSync('storescu', ['--version']).status === 0;

const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} not installed; browser tests skipped` : !hasDcmtk ? 'DCMTK not installed; skipped' : false;

describe('admin pages in Chromium: users and tokens, jobs, send', { skip }, () => {
  let server: E2eServer;
  let browser: Browser;
  let page: Page;
  let destPort: number;
  let scp: ChildProcess | undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'dicomgate-e2e-admin-'));
  const errors: string[] = [];

  async function login(p: Page, user: string, password = PASSWORD): Promise<void> {
    await p.goto(`${server.url}/ui/login`);
    await p.waitForSelector('#login-user');
    await p.fill('#login-user', user);
    await p.fill('#login-pass', password);
    await p.click('form.login button[type=submit]');
    await p.waitForSelector('[data-testid=user]');
  }
  async function logout(p: Page): Promise<void> {
    await p.click('header button:has-text("Sign out")');
    await p.waitForSelector('#login-user');
  }

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    // The destination's port is chosen now and nothing listens on it until the retry test.
    destPort = await freePort();
    server = await startE2eServer({
      configure: (c) => ({
        ...c,
        // The same listener is also a DICOM peer (Orthanc's /modalities) for the study page's "Send to…".
        // storescu (calling AE STORESCU) sends without a user identity: it must be a known calling AE.
        dicom: { ...c.dicom, peers: [{ aet: 'STORESCP', host: '127.0.0.1', port: destPort }], allowedCallingAets: ['STORESCU'] },
        destinations: { PACS_Y: { kind: 'dicom', aet: 'STORESCP', host: '127.0.0.1', port: destPort } },
        pipelines: { routed: { intake: { calledAe: 'ROUTE_IN' }, stages: [{ store: true }, { route: { destination: 'PACS_Y', trigger: 'instance' } }] } },
        // Two tries, the second only by hand (backoff far beyond the test): the job waits in Retry.
        jobs: { ...c.jobs, concurrency: 1, maxAttempts: 2, backoffInitialSeconds: 3600, backoffMaxSeconds: 3600 },
      }),
    });
    const [file] = ct512Series(CT_SMALL, 1, { id: 'ROUTE-1', name: 'Routed^Rita' });
    const f = join(scratch, 'ct.dcm');
    writeFileSync(f, file);
    const r = await runDcmtk('storescu', ['-aec', 'ROUTE_IN', '127.0.0.1', String(server.dicomPort), f]);
    assert.equal(r.code, 0, r.stderr);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => void d.accept());
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource: .* status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
  });

  after(async () => {
    scp?.kill('SIGTERM');
    await browser?.close();
    await server?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('users: the admin lists, adds, resets, disables, and revokes another user\'s token', async () => {
    // u-researcher makes a token for a script (Basic auth, as a script would).
    const basic = `Basic ${Buffer.from(`u-researcher:${PASSWORD}`).toString('base64')}`;
    const made = await fetch(`${server.url}/auth/tokens`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'pydicer laptop' }) });
    assert.equal(made.status, 201);
    const { token } = (await made.json()) as { token: string };
    assert.equal((await fetch(`${server.url}/statistics`, { headers: { authorization: `Bearer ${token}` } })).status, 200);

    await login(page, 'u-admin');
    await page.click('nav a:has-text("Users")');
    await page.waitForSelector('[data-testid=users] [data-user=u-researcher]');
    assert.equal(await page.locator('[data-testid=users] tbody tr').count(), 4);

    await page.fill('#u-name', 'newbie');
    await page.fill('#u-pass', 'first long password');
    await page.check('#u-role-uploader');
    await page.uncheck('#u-role-researcher');
    await page.fill('#u-projects', 'lung, prostate');
    await page.click('[data-testid=add-user] button[type=submit]');
    await page.waitForSelector('[data-testid=users] [data-user=newbie]');
    assert.equal(await page.textContent('[data-user=newbie] td:nth-child(2)'), 'uploader');
    assert.equal(await page.textContent('[data-user=newbie] td:nth-child(3)'), 'lung, prostate');

    // The researcher's token, seen and revoked by the admin; it stops working at once.
    await page.click('[data-user=u-researcher] button');
    await page.waitForSelector('[data-testid=user-tokens] td:has-text("pydicer laptop")');
    await page.screenshot({ path: join(OUT, '40-users.png'), fullPage: true });
    await page.click('[data-testid=user-tokens] button:has-text("Revoke")');
    await page.waitForSelector('[data-testid=user-tokens] td:has-text("revoked")');
    assert.equal((await fetch(`${server.url}/statistics`, { headers: { authorization: `Bearer ${token}` } })).status, 401);

    // Reset newbie's password, then disable the account: the new password works only before.
    await page.click('[data-user=newbie] button');
    await page.waitForSelector('[data-testid=user-panel] h2:has-text("User newbie")');
    await page.fill('#e-pass', 'second long password');
    await page.click('[data-testid=reset-password] button');
    await page.waitForSelector('[data-testid=user-result]:has-text("Password of newbie changed")');
    const nb = (pw: string) => fetch(`${server.url}/auth/me`, { headers: { authorization: `Basic ${Buffer.from(`newbie:${pw}`).toString('base64')}` } }).then((r) => r.status);
    assert.equal(await nb('second long password'), 200);
    assert.equal(await nb('first long password'), 401);
    await page.click('[data-testid=toggle-disabled]');
    await page.waitForSelector('[data-user=newbie] td:has-text("disabled")');
    assert.equal(await nb('second long password'), 401);
    await page.click('[data-testid=delete-user]');
    await page.waitForSelector('[data-testid=users] [data-user=newbie]', { state: 'detached' });
    await logout(page);
  });

  test('tokens: a researcher makes one (shown once, works as Bearer) and has no user admin', async () => {
    await login(page, 'u-researcher');
    assert.equal(await page.locator('nav a:has-text("Users")').count(), 0);
    await page.click('nav a:has-text("API tokens")');
    await page.waitForSelector('[data-testid=my-tokens]');
    await page.fill('#tok-name', 'notebook');
    await page.fill('#tok-days', '30');
    await page.click('[data-testid=token-form] button[type=submit]');
    const secret = await page.locator('[data-testid=token-secret]').inputValue();
    assert.match(secret, /\S{20,}/);
    await page.waitForSelector('[data-testid=my-tokens] td:has-text("notebook")');
    await page.screenshot({ path: join(OUT, '41-my-tokens.png'), fullPage: true });
    assert.equal((await fetch(`${server.url}/statistics`, { headers: { authorization: `Bearer ${secret}` } })).status, 200);
    assert.equal((await fetch(`${server.url}/auth/users`, { headers: { authorization: `Bearer ${secret}` } })).status, 403);
    // Shown once: reopening the page shows the token's name, never its secret.
    await page.click('nav a:has-text("Archive")');
    await page.click('nav a:has-text("API tokens")');
    await page.waitForSelector('[data-testid=my-tokens] td:has-text("notebook")');
    assert.ok(!(await page.content()).includes(secret));
    assert.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0);
    await logout(page);
  });

  test('jobs: a route job to a peer that is down waits, is paused and resumed, dead-letters, and a retry delivers it', async (t) => {
    await login(page, 'u-admin');
    await page.click('nav a:has-text("Jobs")');
    await page.waitForSelector('[data-testid=destinations] td:has-text("PACS_Y")');
    const row = page.locator('[data-testid=jobs] tbody tr', { hasText: 'route:PACS_Y' }).first();
    await row.locator('[data-testid=job-state]:has-text("Retry")').waitFor({ timeout: 20_000 });
    const id = (await row.getAttribute('data-job'))!;
    const state = (s: string) => page.waitForSelector(`[data-job="${id}"] [data-testid=job-state]:has-text("${s}")`, { timeout: 20_000 });
    await page.screenshot({ path: join(OUT, '42-jobs-retry.png'), fullPage: true });

    await page.click(`[data-job="${id}"] button[data-action=pause]`);
    await state('Paused');
    await page.click(`[data-job="${id}"] button[data-action=resume]`);
    // Resumed, it tries at once; the peer is still down and that was the last try: a dead letter.
    await state('Failure');
    await page.waitForSelector(`[data-testid=dead-letters] td:has-text("PACS_Y")`);
    const dead = page.locator(`[data-testid=dead-letters] tr[data-dead-letter="${id}"]`);
    assert.equal(await dead.locator('td:nth-child(3)').textContent(), '1');
    assert.equal(await dead.locator('td:nth-child(4)').textContent(), '2 / 2');
    const dest = page.locator('[data-testid=destinations] tr[data-destination=PACS_Y]');
    assert.equal(await dest.locator('[data-testid=dead-count]').textContent(), '1');
    // Test while the peer is down: the verdict in words (C-ECHO cannot connect).
    await dest.locator('button[data-action=test]').click();
    const verdict = page.locator('[data-testid=route-test-result]');
    await page.waitForSelector('[data-testid=route-test-result]:has-text("PACS_Y does not work")');
    t.diagnostic(`test while down: ${await verdict.textContent()}`);
    await page.screenshot({ path: join(OUT, '43-jobs-dead-letter.png'), fullPage: true });

    // The peer comes up; the test passes; Retry sends the job again from its first item.
    const received = join(scratch, 'received');
    mkdirSync(received);
    scp = spawn('storescp', ['-aet', 'STORESCP', '-od', received, '+xa', '-uf', String(destPort)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
    await waitForPort(destPort);
    await dest.locator('button[data-action=test]').click();
    await page.waitForSelector('[data-testid=route-test-result]:has-text("PACS_Y works: the peer answered C-ECHO")');
    const t0 = Date.now();
    await dead.locator('button[data-action=retry]').click();
    await state('Success');
    t.diagnostic(`retried job delivered ${Date.now() - t0} ms after the click`);
    assert.equal(readdirSync(received).length, 1);
    await page.waitForSelector('[data-testid=destinations] tr[data-destination=PACS_Y] [data-testid=dead-count]:has-text("0")');
    await page.waitForSelector('text=Nothing is waiting for a retry by hand.');
    await page.screenshot({ path: join(OUT, '44-jobs-retried.png'), fullPage: true });
    // A finished job offers no actions.
    assert.equal(await page.locator(`[data-job="${id}"] button`).count(), 0);
  });

  test('study page: "Send to…" a DICOM peer (stored, synchronously) and a route destination (queued job, delivered)', async () => {
    await page.click('nav a:has-text("Archive")');
    await page.click('[data-testid=studies] tbody tr td a');
    await page.click('[data-testid=send] summary');
    await page.waitForSelector('#send-peer:not([disabled])');
    // Peers of dicom.peers and DICOM destinations, by name.
    assert.ok((await page.locator('#send-peer option').allTextContents()).includes('STORESCP'));
    await page.selectOption('#send-peer', 'STORESCP');
    await page.click('[data-testid=send-peer] button');
    await page.waitForSelector('[data-testid=send-result]:has-text("STORESCP (STORESCP) stored 1 instance.")', { timeout: 20_000 });

    await page.fill('#send-dest', 'PACS_Y');
    await page.click('[data-testid=send-destination] button');
    const queued = await page.waitForSelector('[data-testid=send-result]:has-text("Sending to PACS_Y queued")');
    await page.screenshot({ path: join(OUT, '45-study-send.png'), fullPage: true });
    const id = /\(job (\d+)\)/.exec((await queued.textContent())!)![1];
    await page.click('[data-testid=send-result] a:has-text("Jobs page")');
    await page.waitForSelector(`[data-job="${id}"] [data-testid=job-state]:has-text("Success")`, { timeout: 20_000 });

    // An unknown destination is refused in words.
    await page.goBack();
    await page.click('[data-testid=send] summary');
    await page.fill('#send-dest', 'NOWHERE');
    await page.click('[data-testid=send-destination] button');
    const alert = await page.waitForSelector('[data-testid=send] [role=alert]');
    assert.match((await alert.textContent())!, /NOWHERE/);
    assert.deepEqual(errors, []);
  });
});
