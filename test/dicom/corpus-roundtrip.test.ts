// Walks EVERY file of ../shared/corpus: DICOM files must round-trip unchanged (byte-identical, the
// transfer syntax is kept); malformed-on-purpose files must fail with DICOM_PARSE naming the
// offset; non-DICOM files (found by content) must fail the same typed way, never crash.
// A sample is also compared element by element with DCMTK's dcmdump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { looksLikeDicom, readPart10, writePart10 } from '../../src/dicom/part10.ts';
import type { Dataset } from '../../src/dicom/dataset.ts';
import { isAppError } from '../../src/core/errors.ts';
import { CORPUS, corpusPresent } from './fixtures.ts';

/** Malformed on purpose (see pydicom/README.txt), with the offset our error must name. */
const MALFORMED: Record<string, { offset: number; why: string }> = {
  'pydicom/MR_truncated.dcm': { offset: 1488, why: 'Pixel Data value cut short' },
  'pydicom/rtplan_truncated.dcm': { offset: 1410, why: 'file cut inside a sequence' },
  // Directory record offsets were removed without fixing lengths: the last item claims 24 bytes
  // more than the file holds. DCMTK reads it silently as far as it goes; we refuse partial results.
  'pydicom/dicomdirtests/DICOMDIR-nooffset': { offset: 10860, why: 'item length runs past end of file' },
  // CT_small.dcm's dataset cut one byte too early (a stray 0x20 first): dcmdump fails the same way.
  'pydicom/no_meta.dcm': { offset: 0, why: 'stray byte before the first element' },
};

function walkFiles(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walkFiles(p, out);
    else out.push(p);
  }
  return out;
}

const files = corpusPresent ? walkFiles(CORPUS, []) : [];

test('every corpus file round-trips, or fails with a typed error naming the offset', (t) => {
  if (!corpusPresent) return t.skip('corpus not present');
  const failures: string[] = [];
  let identical = 0;
  let malformed = 0;
  let nonDicom = 0;
  for (const path of files) {
    const rel = relative(CORPUS, path);
    const buf = readFileSync(path);
    const expected = MALFORMED[rel];
    const dicom = looksLikeDicom(buf);
    try {
      const f = readPart10(buf);
      if (expected || !dicom) {
        failures.push(`${rel}: read without error but should fail`);
        continue;
      }
      f.dataset.walk((ds, tg) => void ds.string(tg)); // every value decodable, any depth
      const out = Buffer.concat(writePart10(f));
      if (out.equals(buf)) identical++;
      else failures.push(`${rel}: rewritten bytes differ (${buf.length} → ${out.length})`);
    } catch (e) {
      if (!isAppError(e, 'DICOM_PARSE')) failures.push(`${rel}: untyped failure ${String(e)}`);
      else if (expected && !e.detail!.endsWith(`at offset ${expected.offset}`)) failures.push(`${rel}: wrong offset in "${e.detail}"`);
      else if (!expected && dicom) failures.push(`${rel}: ${e.detail}`);
      else if (expected) malformed++;
      else nonDicom++;
    }
  }
  t.diagnostic(`${files.length} files: ${identical} byte-identical, ${malformed} malformed on purpose, ${nonDicom} non-DICOM`);
  assert.deepEqual(failures, []);
  assert.equal(malformed, Object.keys(MALFORMED).length);
  assert.ok(identical > 400, `only ${identical} files round-tripped`);
});

/** "depth tag length" per element, the way dcmdump +L lists them (items and delimiters omitted).
 *  DCMTK sorts each dataset by tag (test-SR.dcm has an item out of order, which we keep as is) and
 *  reports odd lengths padded to even (we keep odd values as they are), so the listing does too. */
function ourListing(ds: Dataset, depth: number, out: string[]): string[] {
  for (const el of [...ds._els].sort((a, b) => a.tag - b.tag)) {
    const tagText = `(${(el.tag >>> 16).toString(16).padStart(4, '0')},${(el.tag & 0xffff).toString(16).padStart(4, '0')})`;
    const len = el.items || el.frags || el.vlen === 0xffffffff ? 'u/l' : String(el.vlen + (el.vlen & 1));
    out.push(`${depth} ${tagText} ${el.items && el.vlen !== 0xffffffff ? String(el.vlen) : len}`);
    if (el.items) for (const it of el.items) ourListing(it, depth + 2, out); // dcmdump indents the item line too
  }
  return out;
}

/** undefined when dcmdump itself cannot read the file. */
function dcmdumpListing(path: string): string[] | undefined {
  let text: string;
  try {
    text = execFileSync('dcmdump', ['+L', '-q', path], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  // Text values with line breaks continue on the next lines: join them back to their element.
  const lines: string[] = [];
  for (const line of text.replace(/\r/g, ' ').split('\n')) {
    const prev = lines[lines.length - 1];
    const open = prev !== undefined && /^ *\([0-9a-f]{4},/.test(prev) && !/#\s*(u\/l|\d+), *\d+ [A-Za-z][^#]*$/.test(prev);
    if (open) lines[lines.length - 1] += ' ' + line;
    else lines.push(line);
  }
  const out: string[] = [];
  for (const line of lines) {
    const m = /^( *)\(([0-9a-f]{4},[0-9a-f]{4})\) .*#\s*(u\/l|\d+), *\d+ [A-Za-z][^#]*$/.exec(line);
    if (!m || m[2].startsWith('fffe,')) continue;
    out.push(`${m[1].length / 2} (${m[2]}) ${m[3]}`);
  }
  return out;
}

test('element sets match dcmdump on a sample of corpus files', (t) => {
  if (!corpusPresent) return t.skip('corpus not present');
  try {
    execFileSync('dcmdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return t.skip('dcmdump not installed');
  }
  const perFolder = new Map<string, number>();
  const sample = files.filter((p) => {
    const rel = relative(CORPUS, p);
    if (MALFORMED[rel] || !looksLikeDicom(readFileSync(p))) return false;
    const folder = rel.split('/').slice(0, -1).join('/');
    const n = perFolder.get(folder) ?? 0;
    perFolder.set(folder, n + 1);
    return rel.split('/').length === 2 || n < 3; // all top-level pydicom files, 3 per other folder
  });
  const mismatches: string[] = [];
  const dcmtkFailed: string[] = [];
  for (const p of sample) {
    const f = readPart10(readFileSync(p));
    const ours = f.hadMeta ? ourListing(f.meta, 0, []) : [];
    ourListing(f.dataset, 0, ours);
    const theirs = dcmdumpListing(p);
    if (!theirs) {
      dcmtkFailed.push(relative(CORPUS, p));
      continue;
    }
    if (ours.join('\n') !== theirs.join('\n')) {
      const i = ours.findIndex((l, k) => l !== theirs[k]);
      mismatches.push(`${relative(CORPUS, p)}: line ${i}: ours "${ours[i]}" dcmdump "${theirs[i]}"`);
    }
  }
  t.diagnostic(`${sample.length} files compared with dcmdump; dcmdump cannot read: ${dcmtkFailed.join(', ')}`);
  assert.deepEqual(mismatches, []);
});
