// The stock CTP script (../shared/reference/ctp-DicomAnonymizer.script) imports without unsupported
// constructs and runs on the corpus. On the synthetic RT patients, whose PHI is planted as
// PHITOKEN- strings, it counts what survives with CTP's sequence rule (strict) and with
// dicomgate's default (script applied inside sequences too).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readPart10, writeDataset } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { MemoryCtpKeys } from '../../src/deid/ctp/ctp-keys.ts';
import { ctpHashUid } from '../../src/deid/ctp/ctp-functions.ts';
import { applyCtpRecipe } from '../../src/deid/ctp/interpret.ts';
import { importCtpScript } from '../../src/deid/ctp/recipe.ts';

const SCRIPT = fileURLToPath(new URL('../../../shared/reference/ctp-DicomAnonymizer.script', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));

function files(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) files(p, out);
    else if (n.endsWith('.dcm')) out.push(p);
  }
  return out;
}

describe('stock CTP script', () => {
  it('imports: no unsupported construct; warnings carry lines', (t) => {
    if (!existsSync(SCRIPT)) return t.skip('reference script not present');
    const { recipe, report } = importCtpScript(readFileSync(SCRIPT, 'utf8'));
    assert.deepEqual(report.unsupported, []);
    assert.equal(recipe.params.get('UIDROOT'), '1.2.840.113654.2.70.1');
    assert.equal(recipe.removePrivateGroups, true);
    assert.equal(recipe.removeUnspecified, false);
    assert.ok(recipe.elements.size > 250, `${recipe.elements.size} enabled element scripts`);
    assert.ok(report.warnings.every((w) => w.line > 0));
    console.log(`# stock script: ${recipe.elements.size} element scripts, ${report.warnings.length} warnings, e.g. ${report.warnings[0]?.line}: ${report.warnings[0]?.message}`);
  });

  it('runs on every readable corpus file; synthetic PHI tokens: strict vs default', async (t) => {
    if (!existsSync(SCRIPT) || !existsSync(CORPUS)) return t.skip('corpus not present');
    const { recipe } = importCtpScript(readFileSync(SCRIPT, 'utf8'));
    const keys = new MemoryCtpKeys();
    const counts = { files: 0, unreadable: 0, deidentified: 0, other: 0 };
    const leaks = { strict: 0, default: 0 };
    const unprocessed = new Set<string>();
    for (const f of files(CORPUS)) {
      const buf = readFileSync(f);
      for (const strict of [true, false]) {
        let file;
        try {
          file = readPart10(buf);
        } catch {
          if (strict) counts.unreadable++;
          break;
        }
        const ds = file.dataset;
        const origSop = ds.string(T.SOPInstanceUID);
        const origPid = ds.string(T.PatientID);
        const out = await applyCtpRecipe(ds, recipe, { keys, strictSequences: strict, meta: file.meta });
        if (strict) counts.files++;
        if (out.kind !== 'deidentified') {
          if (strict) counts.other++;
          continue;
        }
        if (strict) counts.deidentified++;
        out.sequencesWithoutProcess.forEach((p) => unprocessed.add(p.replace(/\[\d+\]/g, '[]')));
        if (origSop) assert.equal(ds.string(T.SOPInstanceUID), ctpHashUid('1.2.840.113654.2.70.1', origSop), f);
        if (origPid && origPid.trim() !== '') assert.notEqual(ds.string(T.PatientID), origPid, f);
        if (f.includes('synthetic-rt')) {
          const bytes = Buffer.concat(writeDataset(ds, '1.2.840.10008.1.2.1'));
          const n = bytes.toString('latin1').split('PHITOKEN-').length - 1;
          if (strict) leaks.strict += n;
          else leaks.default += n;
        }
      }
    }
    console.log(`# corpus: ${JSON.stringify(counts)}; PHITOKEN occurrences left in synthetic-rt: strict ${leaks.strict}, default ${leaks.default}`);
    console.log(`# sequences without @process(): ${[...unprocessed].slice(0, 8).join(' ')} (${unprocessed.size} distinct)`);
    assert.ok(counts.deidentified > 300);
    assert.ok(leaks.default <= leaks.strict, 'applying the script inside sequences never leaks more');
  });
});
