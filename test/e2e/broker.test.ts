// End-to-end for the Projects and Honest broker pages: the HTTP server (auth, REST, broker, projects,
// UI) on port 0 over the broker test adapters (in-memory archive and key database, scratch quarantine),
// driven by Debian's Chromium. startServer() does not pass the broker deps yet (main.ts wiring is the
// lead's), so this builds the server with buildHttpServer the way startServer does.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { AuditLog } from '../../src/auth/audit-log.ts';
import { AuthService } from '../../src/auth/auth-service.ts';
import { openSqliteAuth, type SqliteAuth } from '../../src/auth/open-sqlite-auth.ts';
import { ROLES } from '../../src/auth/roles.ts';
import { silentLogger } from '../../src/core/log.ts';
import { buildHttpServer } from '../../src/http/server.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { brokerSetup, type BrokerSetup } from '../http/broker-harness.ts';
import { CHROMIUM, OUT, launchChromium } from './browsers.ts';
import { PASSWORD } from './e2e-server.ts';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install chromium); browser tests skipped`;
const MRN = 'MRN-E2E-31';

const instance = (n: number, modality = 'CT', patientId = MRN, study = '1.2.826.0.9.31') =>
  syntheticInstance({ patientId, patientName: 'Tester^Eve', studyInstanceUid: study, seriesInstanceUid: `${study}.1`, sopInstanceUid: `${study}.1.${n}`, modality, size: 8, instanceNumber: n, studyDate: '20230405' });

async function login(page: Page, url: string, user: string): Promise<void> {
  await page.goto(`${url}/ui/login`);
  await page.waitForSelector('#login-user');
  await page.fill('#login-user', user);
  await page.fill('#login-pass', PASSWORD);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('[data-testid=user]');
}

describe('Projects and Honest broker pages in Chromium', { skip }, () => {
  let setup: BrokerSetup;
  let auth: SqliteAuth;
  let app: FastifyInstance;
  let url: string;
  let browser: Browser;
  let pseudonym: string;
  const errors: string[] = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    setup = await brokerSetup();
    auth = openSqliteAuth(':memory:');
    const service = new AuthService({ store: auth.users });
    for (const role of ROLES) await service.addUser(`u-${role}`, PASSWORD, [role], ['*']);
    const audit = new AuditLog({ store: auth.audit, file: null, logger: silentLogger });
    app = await buildHttpServer({
      logger: silentLogger,
      health: async () => ({ status: 'ok', version: 'e2e', uptimeSeconds: 0, checks: {} }),
      surfaces: { auth: { enabled: true, service, audit }, ...setup.surfaces },
      ui: {},
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    // One patient with keys (through the gateway), one quarantined ultrasound, one identified study for the preview.
    const stored = await setup.gateway.process(instance(1), setup.project('lung')!, { transport: 'import' });
    assert.equal(stored.status, 'stored');
    pseudonym = (await setup.keys.listPatients('lung'))[0].pseudonym.patientId;
    assert.equal((await setup.gateway.process(instance(2, 'US'), setup.project('lung')!, { transport: 'import' })).status, 'quarantined');
    await setup.surfaces.rest!.archive.ingest.ingest(instance(1, 'CT', 'MRN-PREVIEW', '1.2.826.0.9.32'), { transport: 'import' });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    auth?.close();
    await setup?.close();
  });

  async function newPage(): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource: .* status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
    return page;
  }

  test('broker: lookup both ways, patient list, quarantine release; the page says it is audited', async () => {
    const page = await newPage();
    await login(page, url, 'u-broker');
    await page.click('nav a:has-text("Honest broker")');
    await page.waitForSelector('[data-testid=audit-note]');
    assert.match((await page.textContent('[data-testid=audit-note]'))!, /recorded in the audit log/);
    await page.selectOption('#b-project', 'lung');
    await page.fill('#b-pseudonym', pseudonym);
    await page.click('#b-by-pseudonym button[type=submit]');
    await page.waitForSelector('[data-testid=found-original]');
    assert.equal(await page.textContent('[data-testid=found-original]'), MRN);
    assert.equal(await page.locator('[data-testid=found-studies] a').count(), 1, 'the patient\'s study in the archive, linked');
    await page.fill('#b-original', MRN);
    await page.click('#b-by-original button[type=submit]');
    await page.waitForSelector(`[data-testid=found-pseudonym]:has-text("${pseudonym}")`);
    assert.ok(!page.url().includes(MRN) && !page.url().includes(pseudonym), 'no key in the URL');
    await page.click('section[aria-label=Patients] button[type=submit]');
    await page.waitForSelector('[data-testid=patients] tbody tr');
    assert.match((await page.textContent('[data-testid=patients]'))!, new RegExp(MRN));
    await page.waitForSelector('[data-testid=quarantine] tbody tr');
    await page.screenshot({ path: join(OUT, '20-broker.png'), fullPage: true });
    await page.check('[data-testid=quarantine] tbody tr input[type=checkbox]');
    await page.click('[data-testid=quarantine] tbody tr button:has-text("Release")');
    await page.waitForSelector('[data-testid=quarantine-empty]');
    assert.deepEqual(await setup.quarantine.list(), []);
    assert.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0);
  });

  test('projects: settings, and the broker previews de-identification of a study (before -> after)', async () => {
    const page = await newPage();
    await login(page, url, 'u-broker');
    await page.click('nav a:has-text("Projects")');
    await page.waitForSelector('[data-testid=projects] tbody tr');
    await page.click('[data-testid=projects] button:has-text("lung")');
    await page.waitForSelector('[data-testid=project-detail]:has-text("StudyDescription")');
    await page.selectOption('#pv-project', 'lung');
    await page.fill('#pv-name', 'tester');
    await page.click('button:has-text("Find studies")');
    await page.waitForSelector('#pv-study option:has-text("Tester")', { state: 'attached' });
    await page.selectOption('#pv-study', (await page.getAttribute('#pv-study option:has-text("Tester")', 'value'))!);
    await page.click('#pv-run');
    await page.waitForSelector('[data-testid=preview] tr[data-keyword=PatientName]');
    const cells = await page.locator('[data-testid=preview] tr[data-keyword=PatientName] td').allTextContents();
    assert.equal(cells[2], 'Tester^Eve');
    assert.ok(cells[3] === pseudonym + '^' || cells[3] === '<new pseudonym>', `after: ${cells[3]}`);
    assert.equal(cells[4], 'replaced');
    await page.screenshot({ path: join(OUT, '21-projects-preview.png'), fullPage: true });
  });

  test('a researcher has no broker entry, the broker API refuses them, and the preview is not offered', async () => {
    const page = await newPage();
    await login(page, url, 'u-researcher');
    assert.equal(await page.locator('nav a:has-text("Honest broker")').count(), 0);
    const status = await page.evaluate(() => fetch('/broker/quarantine', { credentials: 'same-origin' }).then((r) => r.status));
    assert.equal(status, 403);
    await page.click('nav a:has-text("Projects")');
    await page.waitForSelector('[data-testid=projects] tbody tr');
    assert.equal(await page.locator('#pv-run').count(), 0);
    await page.goto(`${url}/ui/broker`);
    await page.waitForSelector('.error');
    await page.screenshot({ path: join(OUT, '22-researcher-broker.png') });
  });

  test('an administrator is not a broker by default: no entry, and the API refuses', async () => {
    const page = await newPage();
    await login(page, url, 'u-admin');
    assert.equal(await page.locator('nav a:has-text("Honest broker")').count(), 0);
    const status = await page.evaluate(() => fetch('/broker/quarantine', { credentials: 'same-origin' }).then((r) => r.status));
    assert.equal(status, 403);
  });

  test('no script errors were reported by the pages', () => {
    assert.deepEqual(errors, []);
  });
});
