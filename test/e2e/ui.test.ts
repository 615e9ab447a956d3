// End-to-end: the real server (auth, archive, REST, DICOMweb, UI) driven by Debian's Chromium
// through playwright-core. Signs in, searches, opens a study, checks the viewer draws the CT and
// the RTSTRUCT contours in their ROI colours where the structure set puts them, uploads a file
// and finds it, and checks a researcher is kept out of admin pages. Screenshots of every page go
// to test-output/e2e/ for a reviewer to look at.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { PIXEL_DATA, readPart10, T, type Dataset } from '../../src/dicom/index.ts';
import { CHROMIUM, FIXTURES, OUT, launchChromium, storeCt512 } from './browsers.ts';
import { PASSWORD, startE2eServer, type E2eServer } from './e2e-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RT_STUDY = fileURLToPath(new URL('../../../shared/corpus/synthetic-rt/dicom/P01/ST01', import.meta.url));
const hasRt = existsSync(RT_STUDY);

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUT, `${name}.png`) });
}

async function login(page: Page, url: string, user: string): Promise<void> {
  await page.goto(`${url}/ui/`);
  await page.waitForSelector('#login-user');
  await page.fill('#login-user', user);
  await page.fill('#login-pass', PASSWORD);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('[data-testid=user]');
}

/** RGBA of canvas pixels at the given device points (the viewer canvas is 1:1 with CSS pixels here). */
async function canvasPixels(page: Page, points: [number, number][]): Promise<number[][]> {
  return page.evaluate(`(() => {
    const c = document.querySelector('[data-testid=viewport]');
    const ctx = c.getContext('2d');
    return ${JSON.stringify(points)}.map(([x, y]) => Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data));
  })()`) as Promise<number[][]>;
}

/** Whether an RGB colour appears within r pixels of (x, y). */
async function colourNear(page: Page, x: number, y: number, rgb: number[], r = 3, tol = 40): Promise<boolean> {
  const pts: [number, number][] = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) pts.push([x + dx, y + dy]);
  const px = await canvasPixels(page, pts);
  return px.some((p) => Math.abs(p[0] - rgb[0]) <= tol && Math.abs(p[1] - rgb[1]) <= tol && Math.abs(p[2] - rgb[2]) <= tol);
}

/** The isodose band (fraction of the grid maximum: 0.95, 0.8, 0.6, 0.4, 0.2) of the dose voxel
 *  holding point p in the folder's RTDOSE (axial grid, native 16/32-bit pixels), or undefined. */
function doseBandAt(dir: string, p: [number, number, number]): number | undefined {
  const ds: Dataset = readPart10(readFileSync(join(dir, readdirSync(dir)[0]))).dataset;
  const ipp = ds.numbers(T.ImagePositionPatient);
  const ps = ds.numbers(T.PixelSpacing);
  const rows = ds.number(T.Rows)!;
  const cols = ds.number(T.Columns)!;
  const bits = ds.number(T.BitsAllocated)!;
  const offsets = ds.numbers(T.GridFrameOffsetVector);
  const raw = ds.bytes(PIXEL_DATA)!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const at = (i: number) => (bits === 32 ? view.getUint32(i * 4, true) : view.getUint16(i * 2, true));
  let max = 0;
  for (let i = 0; i < rows * cols * offsets.length; i++) max = Math.max(max, at(i));
  const z = offsets[0] === 0 ? p[2] - ipp[2] : p[2];
  const frame = offsets.reduce((best, o, i) => (Math.abs(o - z) < Math.abs(offsets[best] - z) ? i : best), 0);
  const c = Math.round((p[0] - ipp[0]) / ps[1]);
  const r = Math.round((p[1] - ipp[1]) / ps[0]);
  const f = at(frame * rows * cols + r * cols + c) / max;
  return [0.95, 0.8, 0.6, 0.4, 0.2].find((l) => f >= l);
}

/** A page-side predicate from source text. Passed as a function (run through the DevTools
 *  protocol), not a string: string predicates are eval()ed in the page, which our CSP forbids. */
function fn(expression: string): () => unknown {
  return new Function(`return (${expression});`) as () => unknown;
}

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install chromium); browser tests skipped`;

describe('web UI in Chromium', { skip }, () => {
  let server: E2eServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    server = await startE2eServer();
    if (hasRt) await server.importFiles(RT_STUDY);
    else {
      // Without the corpus: one 12-slice CT study made from a fixture, under a patient of its own so
      // the later upload and delete tests (which use the fixtures' own patients) find only theirs.
      await storeCt512(server, 12, { id: 'E2E-STACK', name: 'Stackfixture^Eve' });
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // Refusals the tests provoke (401 sign-in probe, 400 rejected upload, 403 researcher) are
      // logged by Chromium as failed loads; anything else (CSP violations, exceptions) is a bug.
      if (m.type() === 'error' && !/^Failed to load resource: .* status of 4\d\d/.test(m.text())) errors.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('sign-in page; wrong password is refused in words; the user and role are shown after sign-in', async () => {
    await page.goto(`${server.url}/ui/`);
    await page.waitForSelector('#login-user');
    assert.equal(await page.title(), 'dicomgate');
    await page.fill('#login-user', 'u-admin');
    await page.fill('#login-pass', 'wrong password');
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('.error');
    assert.match(await page.textContent('.error') ?? '', /wrong/i);
    await shot(page, '01-login');
    await login(page, server.url, 'u-admin');
    assert.equal(await page.textContent('[data-testid=user]'), 'u-admin');
    assert.equal(await page.textContent('[data-testid=roles]'), 'admin');
    // Nothing stored in the browser, and the URL holds no patient data.
    assert.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0);
  });

  test('archive: lists studies, searches by name and modality, date range excludes', async () => {
    await page.waitForSelector('[data-testid=studies]');
    await shot(page, '02-archive');
    assert.equal(await page.locator('[data-testid=studies] tbody tr').count(), 1);
    const name = (await page.textContent('[data-testid=studies] tbody tr td a'))!;
    // A fragment of the family name, lower case: contains-match, case-insensitive.
    await page.fill('#q-name', name.split(',')[0].slice(-5).toLowerCase());
    await page.selectOption('#q-modality', hasRt ? 'RTSTRUCT' : 'CT');
    await page.click('form.search button[type=submit]');
    await page.waitForSelector('[data-testid=result-count]:has-text("Studies 1–1")');
    assert.ok(!page.url().includes(name.split(',')[0]), 'search criteria never go into the URL');
    await page.fill('#q-from', '1900-01-01');
    await page.fill('#q-to', '1900-12-31');
    await page.click('form.search button[type=submit]');
    await page.waitForSelector('[data-testid=result-count]:has-text("No studies match")');
    await page.click('form.search button[type=reset]');
    await page.waitForSelector('[data-testid=studies] tbody tr');
  });

  test('study page: series with thumbnails drawn from frames', async () => {
    await page.click('[data-testid=studies] tbody tr td a');
    await page.waitForSelector('[data-testid=series]');
    assert.match(page.url(), /\/ui\/studies\/[0-9a-f-]{44}$/);
    // The first image series' thumbnail (server-rendered, or drawn from a frame) shows an image.
    await page.waitForFunction(fn(`(() => {
      const t = document.querySelector('.thumb');
      if (!t || (t.tagName === 'IMG' && !(t.complete && t.naturalWidth > 0))) return false;
      const c = document.createElement('canvas');
      c.width = c.height = 96;
      const ctx = c.getContext('2d');
      ctx.drawImage(t, 0, 0, 96, 96);
      const d = ctx.getImageData(0, 0, 96, 96).data;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 40) return true;
      return false;
    })()`), undefined, { timeout: 10_000 });
    await shot(page, '03-study');
    assert.ok((await page.locator('[data-testid=series] tbody tr').count()) >= 1);
    assert.equal(await page.locator('a:has-text("Download ZIP")').getAttribute('href'), `/studies/${page.url().split('/').pop()}/archive`);
    // The DICOMDIR media link answers a ZIP that holds a DICOMDIR (fetched with the page's session).
    const media = await page.locator('a:has-text("Download DICOMDIR media")').getAttribute('href');
    assert.equal(media, `/studies/${page.url().split('/').pop()}/media`);
    const zip = (await page.evaluate(fn(`fetch(${JSON.stringify(media)}).then(async (r) => ({ status: r.status, text: new TextDecoder('latin1').decode(await r.arrayBuffer()) }))`))) as { status: number; text: string };
    assert.equal(zip.status, 200);
    assert.ok(zip.text.startsWith('PK') && zip.text.includes('DICOMDIR'), 'a ZIP holding a DICOMDIR');
  });

  test('viewer: first image shown (time reported), canvas not blank, scrolling and window presets work', async (t) => {
    await page.click('a:has-text("Open in viewer")');
    await page.waitForSelector('.viewport[data-first-image-ms]', { timeout: 15_000 });
    const ms = Number(await page.getAttribute('.viewport', 'data-first-image-ms'));
    t.diagnostic(`first image after ${ms} ms`);
    const box = (await page.locator('[data-testid=viewport]').boundingBox())!;
    const grid: [number, number][] = [];
    for (let y = 0.2; y < 0.85; y += 0.05) for (let x = 0.2; x < 0.85; x += 0.05) grid.push([box.width * x, box.height * y]);
    const px = await canvasPixels(page, grid);
    const greys = new Set(px.map((p) => p[0]));
    assert.ok(greys.size > 3, `canvas shows an image (${greys.size} distinct values sampled)`);
    await shot(page, '04-viewer');
    const before = await page.getAttribute('.viewport', 'data-index');
    await page.locator('[data-testid=viewport]').focus();
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(fn(`document.querySelector('.viewport').dataset.drawn !== ${JSON.stringify(before)}`));
    await page.keyboard.press('ArrowUp');
    await page.waitForFunction(fn(`document.querySelector('.viewport').dataset.drawn === ${JSON.stringify(before)}`));
    if (hasRt) {
      await page.click('button:has-text("Lung")');
      await page.waitForSelector('[data-testid=vp-info]:has-text("W 1500 L -600")');
      await page.click('button:has-text("Soft tissue")');
    }
  });

  test('viewer: RTSTRUCT contours in their ROI colours at the places the structure set gives', { skip: hasRt ? false : 'corpus not present (../shared/corpus/synthetic-rt)' }, async () => {
    await page.waitForSelector('[data-testid=roi-legend] li');
    const sop = (await page.getAttribute('.viewport', 'data-sop'))!;
    // Independent of the UI code: read the CT slice and the RTSTRUCT from the files.
    const dir = (m: string) => join(RT_STUDY, m);
    const ctFile = readdirSync(dir('CT')).map((f) => readPart10(readFileSync(join(dir('CT'), f))).dataset).find((d) => d.string(T.SOPInstanceUID) === sop)!;
    const rs = readPart10(readFileSync(join(dir('RTSTRUCT'), readdirSync(dir('RTSTRUCT'))[0]))).dataset;
    const ipp = ctFile.numbers(T.ImagePositionPatient);
    const ps = ctFile.numbers(T.PixelSpacing);
    const rows = ctFile.number(T.Rows)!;
    const cols = ctFile.number(T.Columns)!;
    const box = (await page.locator('[data-testid=viewport]').boundingBox())!;
    // The viewer fits the image into the canvas, centred (zoom 1, no pan); axial, square pixels.
    const k = Math.min(box.width / cols, box.height / rows);
    const ox = box.width / 2 - (cols * k) / 2;
    const oy = box.height / 2 - (rows * k) / 2;
    const onSlice: { roi: number; color: number[]; pts: [number, number][]; patientCentre: [number, number, number] }[] = [];
    for (const rc of rs.items(T.ROIContourSequence) ?? []) {
      const color = rc.numbers(T.ROIDisplayColor);
      for (const c of rc.items(T.ContourSequence) ?? []) {
        const ref = c.items(T.ContourImageSequence)?.[0]?.string(T.ReferencedSOPInstanceUID);
        if (ref !== sop) continue;
        const d = c.numbers(T.ContourData);
        const n = d.length / 3;
        const patientCentre: [number, number, number] = [0, 1, 2].map((k) => d.filter((_, i) => i % 3 === k).reduce((x, y) => x + y, 0) / n) as [number, number, number];
        const pts: [number, number][] = [];
        for (let i = 0; i < d.length; i += 3) pts.push([ox + ((d[i] - ipp[0]) / ps[1] + 0.5) * k, oy + ((d[i + 1] - ipp[1]) / ps[0] + 0.5) * k]);
        onSlice.push({ roi: rc.number(T.ReferencedROINumber)!, color, pts, patientCentre });
      }
    }
    assert.ok(onSlice.length >= 2, 'the shown slice has contours');
    // The dose wash (RTDOSE shares the frame of reference): the centre of the smallest contour (the
    // target) is tinted red/orange (>= 80 % of the maximum); with the wash off it is CT grey again.
    const names = new Map((rs.items(T.StructureSetROISequence) ?? []).map((r) => [r.number(T.ROINumber), r.string(T.ROIName) ?? '']));
    const target = onSlice.find((c) => /^GTV/i.test(names.get(c.roi) ?? ''));
    assert.ok(target, 'the slice shows the GTV');
    const centre: [number, number] = [target.pts.reduce((a, q) => a + q[0], 0) / target.pts.length, target.pts.reduce((a, q) => a + q[1], 0) / target.pts.length];
    const wash = page.locator('label:has-text("Colour wash") input');
    assert.equal(await wash.count(), 1, 'the dose panel is shown');
    await page.waitForSelector('.viewport[data-dose=shown]');
    const [tinted] = await canvasPixels(page, [centre]);
    await wash.uncheck();
    await page.waitForSelector('.viewport[data-dose=none]');
    const [plain] = await canvasPixels(page, [centre]);
    assert.ok(Math.abs(plain[0] - plain[1]) < 12 && Math.abs(plain[1] - plain[2]) < 12, `grey without the wash: ${plain.join(',')}`);
    // Which isodose band the file puts there, read from the RTDOSE independently of the UI.
    const band = doseBandAt(join(RT_STUDY, 'RTDOSE'), target.patientCentre);
    assert.ok(band !== undefined, 'the target lies in the dose distribution');
    const colours: Record<string, number[]> = { '0.95': [255, 0, 0], '0.8': [255, 128, 0], '0.6': [255, 255, 0], '0.4': [0, 255, 0], '0.2': [0, 128, 255] };
    const a = 90 / 255;
    const expected = colours[String(band)].map((c, i) => plain[i] * (1 - a) + c * a);
    assert.ok(expected.slice(0, 3).every((v, i) => Math.abs(v - tinted[i]) <= 12), `dose band ${band} at the target centre: drawn ${tinted.join(',')}, expected ~${expected.map(Math.round).join(',')}`);
    for (const c of onSlice) {
      const step = Math.max(1, Math.floor(c.pts.length / 8));
      let hits = 0;
      let tried = 0;
      for (let i = 0; i < c.pts.length; i += step) {
        tried++;
        if (await colourNear(page, c.pts[i][0], c.pts[i][1], c.color)) hits++;
      }
      assert.ok(hits >= tried * 0.75, `ROI ${c.roi} colour ${c.color.join(',')} at ${hits}/${tried} contour points`);
    }
    await shot(page, '05-viewer-contours');
    // Hiding an ROI in the legend removes its colour from those places.
    const first = onSlice[0];
    await page.locator(`[data-testid=roi-legend] li[data-roi="${first.roi}"] input`).uncheck();
    await page.waitForTimeout(100);
    let still = 0;
    for (const p of first.pts.slice(0, 8)) if (await colourNear(page, p[0], p[1], first.color, 1, 10)) still++;
    assert.ok(still <= 2, `ROI ${first.roi} hidden (${still} of 8 points still in its colour)`);
    await page.locator(`[data-testid=roi-legend] li[data-roi="${first.roi}"] input`).check();
    assert.ok((await page.locator('[data-testid=plan] tbody tr').count()) >= 1, 'RTPLAN summary lists beams');
  });

  test('viewer: a second series side by side, drawn, then closed', { skip: hasRt ? false : 'corpus not present (needs a study with two image series)' }, async () => {
    await page.click('.series-list button:has-text("Side by side")');
    await page.waitForFunction(fn(`document.querySelectorAll('.viewport').length === 2 && document.querySelectorAll('.viewport')[1].dataset.drawn !== '-1'`));
    const second = page.locator('.viewport').nth(1);
    const box = (await second.boundingBox())!;
    const values = (await page.evaluate(`(() => {
      const c = document.querySelectorAll('[data-testid=viewport]')[1];
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i]);
      return seen.size;
    })()`)) as number;
    assert.ok(box.width > 200 && values > 3, `second pane shows an image (${values} grey values)`);
    await shot(page, '05b-viewer-side-by-side');
    await page.click('.series-list button:has-text("Close")');
    await page.waitForFunction(fn(`document.querySelectorAll('.viewport').length === 1`));
  });

  test('upload: a DICOM file is stored and then found in the archive', async () => {
    await page.goto(`${server.url}/ui/upload`);
    await page.waitForSelector('.dropzone');
    // The admin may choose any project or the archive as is; this test stores as is.
    assert.deepEqual(await page.$$eval('#up-dest option', (os) => os.map((o) => (o as unknown as { value: string }).value)), ['basic', 'longitudinal', '']);
    await page.selectOption('#up-dest', '');
    const file = join(FIXTURES, 'MR_small_padded.dcm');
    await page.setInputFiles('#pick-files', [file, join(FIXTURES, '..', 'README.md')]);
    await page.waitForSelector('[data-testid=upload-list] li.ok');
    await page.waitForSelector('[data-testid=upload-list] li.bad');
    assert.match((await page.textContent('[data-testid=upload-list] li.bad .outcome'))!, /Rejected|refused|not/i);
    // Conversion form: stores the picture, or says in words that the server cannot convert yet.
    await page.setInputFiles('#cv-files', join(ROOT, 'web/favicon.svg'));
    await page.fill('#cv-pid', 'CONVERT-TEST');
    await page.click('form.convert button[type=submit]');
    await page.waitForSelector('form.convert .error, form.convert .ok');
    const said = (await page.textContent('form.convert [aria-live]'))!;
    assert.match(said, /stored|not available|could not/i, said);
    await shot(page, '06-upload');
    const pid = readPart10(readFileSync(file)).dataset.string(T.PatientID)!;
    await page.click('nav a:has-text("Archive")');
    await page.fill('#q-id', pid);
    await page.click('form.search button[type=submit]');
    await page.waitForSelector('[data-testid=result-count]:has-text("Studies 1–1")');
  });

  test('upload into a project: stored de-identified (pseudonymous PatientID), found by its pseudonym', async () => {
    const file = join(FIXTURES, 'MR_small_implicit.dcm');
    const original = readPart10(readFileSync(file)).dataset;
    const studies = () => page.evaluate(`fetch('/studies', { credentials: 'same-origin' }).then((r) => r.json())`) as Promise<string[]>;
    const before = new Set(await studies());
    await page.goto(`${server.url}/ui/upload`);
    await page.waitForSelector('.dropzone');
    await page.selectOption('#up-dest', 'basic');
    await page.setInputFiles('#pick-files', [file]);
    await page.waitForSelector('[data-testid=upload-list] li.ok');
    assert.equal(await page.textContent('[data-testid=upload-list] li.ok .outcome'), 'Stored');
    await shot(page, '06b-upload-project');
    const added = (await studies()).filter((id) => !before.has(id));
    assert.equal(added.length, 1, 'one new study');
    const tags = (await page.evaluate(`(async () => {
      const inst = await (await fetch('/studies/${added[0]}/instances', { credentials: 'same-origin' })).json();
      return (await fetch('/instances/' + inst[0].ID + '/tags?simplify', { credentials: 'same-origin' })).json();
    })()`)) as Record<string, string>;
    assert.equal(tags.PatientIdentityRemoved, 'YES');
    assert.ok(tags.PatientID && tags.PatientID !== original.string(T.PatientID), `pseudonymous PatientID, got ${tags.PatientID}`);
    assert.notEqual(tags.PatientName, original.string(T.PatientName));
    assert.notEqual(tags.StudyInstanceUID, original.string(T.StudyInstanceUID));
    // The archive page finds it under its pseudonym.
    await page.click('nav a:has-text("Archive")');
    await page.fill('#q-id', tags.PatientID);
    await page.click('form.search button[type=submit]');
    await page.waitForSelector('[data-testid=result-count]:has-text("Studies 1–1")');
    assert.equal(await page.textContent('[data-testid=studies] tbody tr td:nth-child(2)'), tags.PatientID);
  });

  test('archive: a column header sorts on the server (OrderBy), both directions', async () => {
    await page.click('form.search button[type=reset]');
    await page.waitForSelector('[data-testid=studies] tbody tr');
    const ids = () => page.$$eval('[data-testid=studies] tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent ?? ''));
    assert.ok((await ids()).length >= 3, 'several studies to sort');
    const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    for (const direction of ['ASC', 'DESC']) {
      const request = page.waitForRequest((r) => r.url().endsWith('/tools/find') && r.method() === 'POST');
      await page.click('th button[data-sort=id]');
      const body = JSON.parse((await request).postData() ?? '{}') as { OrderBy?: unknown; Since?: number };
      assert.deepEqual(body.OrderBy, [{ Type: 'DicomTag', Key: 'PatientID', Direction: direction }]);
      assert.equal(body.Since, 0);
      await page.waitForSelector(`th[aria-sort=${direction === 'ASC' ? 'ascending' : 'descending'}] button[data-sort=id]`);
      await page.waitForSelector('[data-testid=studies] tbody tr');
      const shown = await ids();
      const sorted = [...shown].sort(byteOrder);
      assert.deepEqual(shown, direction === 'ASC' ? sorted : sorted.reverse(), `rows in the server's ${direction} order`);
    }
    await shot(page, '02b-archive-sorted');
  });

  test('study delete (admin): asks first, cancelling keeps it, confirming removes it', async () => {
    const pid = readPart10(readFileSync(join(FIXTURES, 'CT_small.dcm'))).dataset.string(T.PatientID)!;
    await server.importFiles(join(FIXTURES, 'CT_small.dcm'));
    await page.fill('#q-id', pid);
    await page.click('form.search button[type=submit]');
    await page.waitForSelector('[data-testid=result-count]:has-text("Studies 1–1")');
    await page.click('[data-testid=studies] tbody tr td a');
    await page.waitForSelector('[data-testid=series]');
    const prompts: string[] = [];
    page.once('dialog', (d) => (prompts.push(d.message()), void d.dismiss()));
    await page.click('button:has-text("Delete study")');
    assert.match(prompts[0] ?? '', /cannot be undone/);
    assert.ok(page.url().includes('/ui/studies/'), 'still on the study after cancelling');
    page.once('dialog', (d) => void d.accept());
    await page.click('button:has-text("Delete study")');
    await page.waitForSelector('form.search');
    await page.fill('#q-id', pid);
    await page.click('form.search button[type=submit]');
    await page.waitForSelector('[data-testid=result-count]:has-text("No studies match")');
  });

  test('jobs, system and audit pages render for an admin', async () => {
    // Start an asynchronous job through the API (de-identify the uploaded one-instance study).
    const pid = readPart10(readFileSync(join(FIXTURES, 'MR_small_padded.dcm'))).dataset.string(T.PatientID)!;
    const started = await page.evaluate(`(async () => {
      const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': /dicomgate_csrf=([^;]+)/.exec(document.cookie)[1] };
      const post = (url, body) => fetch(url, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) });
      const ids = await (await post('/tools/find', { Level: 'Study', Query: { PatientID: ${JSON.stringify(pid)} } })).json();
      return (await post('/studies/' + ids[0] + '/anonymize', { Asynchronous: true })).status;
    })()`);
    assert.equal(started, 200);
    await page.click('nav a:has-text("Jobs")');
    await page.waitForSelector('[data-testid=jobs] td:has-text("Success"), [data-testid=jobs] td:has-text("Failure")');
    assert.match((await page.textContent('[data-testid=jobs]'))!, /Anonymization/);
    await shot(page, '07-jobs');
    await page.click('nav a:has-text("System")');
    await page.waitForSelector('[data-testid=system]');
    assert.match((await page.textContent('[data-testid=system]'))!, /Instances/);
    await shot(page, '08-system');
    await page.click('nav a:has-text("Audit log")');
    await page.waitForSelector('[data-testid=audit] tbody tr');
    assert.match((await page.textContent('[data-testid=audit]'))!, /login/);
    await shot(page, '09-audit');
  });

  test('a researcher sees no upload or audit page and the audit API refuses them', async () => {
    await page.click('header button:has-text("Sign out")');
    await page.waitForSelector('#login-user');
    await login(page, server.url, 'u-researcher');
    await page.waitForSelector('[data-testid=studies]');
    assert.equal(await page.locator('nav a:has-text("Audit log")').count(), 0);
    assert.equal(await page.locator('nav a:has-text("Upload")').count(), 0);
    await page.click('[data-testid=studies] tbody tr td a');
    await page.waitForSelector('[data-testid=series]');
    assert.equal(await page.locator('button:has-text("Delete study")').count(), 0, 'no delete for a researcher');
    const status = await page.evaluate(`fetch('/audit', { credentials: 'same-origin' }).then((r) => r.status)`);
    assert.equal(status, 403);
    await page.goto(`${server.url}/ui/audit`);
    await page.waitForSelector('.error');
    await shot(page, '10-researcher-audit');
  });

  test('no script errors were reported by the page', () => {
    assert.deepEqual(errors, []);
  });
});

describe('web UI with authentication off (--dev)', { skip }, () => {
  test('opens straight on the archive as the dev user, no sign-in page', async () => {
    const server = await startE2eServer({ auth: false });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/ui/`);
      await page.waitForSelector('[data-testid=result-count]');
      assert.equal(await page.textContent('[data-testid=user]'), 'dev');
      assert.equal(await page.locator('header button:has-text("Sign out")').count(), 0);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

describe('viewer speed on a 512 x 512 CT', { skip }, () => {
  test('first image of a 120-slice 512² CT on screen: measured (target under a second on localhost)', async (t) => {
    const server = await startE2eServer({ auth: false });
    const browser = await launchChromium();
    try {
      await storeCt512(server, 120);
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${server.url}/ui/`);
      await page.click('[data-testid=studies] tbody tr td a');
      await page.waitForSelector('[data-testid=series]');
      const samples: number[] = [];
      // Twice: cold (server reads every file for the series metadata) and again.
      for (let i = 0; i < 2; i++) {
        await page.click('a:has-text("Open in viewer")');
        await page.waitForSelector('.viewport[data-first-image-ms]', { timeout: 15_000 });
        samples.push(Number(await page.getAttribute('.viewport', 'data-first-image-ms')));
        if (i === 0) await shot(page, '11-viewer-ct512');
        await page.goBack();
        await page.waitForSelector('[data-testid=series]');
      }
      // Reported, not asserted (no timed assertions on a shared CI machine); target < 1000 ms.
      t.diagnostic(`512² CT, 120 slices: first image after ${samples.join(' ms, then ')} ms (target < 1000 ms)`);
      assert.ok(samples.every((ms) => Number.isFinite(ms) && ms > 0));
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
