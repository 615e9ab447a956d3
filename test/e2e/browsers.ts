// What the browser tests share: where Debian's Chromium is, where screenshots and fixtures are, how
// Chromium is started, and a CT series stored into a test server.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { ct512Series } from './ct-512.ts';
import type { E2eServer } from './e2e-server.ts';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots of the pages, for a reviewer to look at. */
export const OUT = join(ROOT, 'test-output/e2e');
export const FIXTURES = join(ROOT, 'test/fixtures/dicom');
export const CT_SMALL = join(FIXTURES, 'CT_small.dcm');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** Stores a `slices`-slice 512² CT series (see ct-512.ts) made from CT_small.dcm; every slice must be stored. */
export async function storeCt512(server: E2eServer, slices: number, patient?: { id: string; name: string }): Promise<void> {
  for (const f of ct512Series(CT_SMALL, slices, patient)) {
    assert.equal((await server.ingest.ingest(f, { transport: 'import' })).status, 'stored');
  }
}
