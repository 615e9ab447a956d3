// Real RT data (../shared/corpus/rt-*) keeps its internal references after de-identification, and
// malformed inputs (pydicom's truncated files) are rejected with a reason, with nothing written.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { looksLikeDicom } from '../../src/dicom/part10.ts';
import { readFileSync } from 'node:fs';
import { collectTargets, unresolvedReferences } from '../../src/deid/reference-check.ts';
import { SqlitePseudonymStore } from '../../src/pseudonyms/sqlite/sqlite-pseudonym-store.ts';
import { runDeid } from '../../src/cli/commands/_deid-run.ts';
import type { FileResult } from '../../src/cli/commands/_deid-file.ts';
import { CORPUS, listFiles, readDicom } from '../deid/corpus-helpers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'dicomgate-deid-rt-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function deidFolder(input: string, name: string): Promise<{ out: string; results: Map<string, FileResult> }> {
  const out = join(scratch, name);
  mkdirSync(join(scratch, 'data'), { recursive: true });
  const store = new SqlitePseudonymStore(join(scratch, 'data', 'keys.sqlite'));
  await store.migrate();
  const results = new Map<string, FileResult>();
  try {
    await runDeid({ inputs: [input], outDir: out, projectName: 'basic', projects: {}, store, dryRun: false, workers: 0, onResult: (l, r) => results.set(l, r) });
  } finally {
    await store.close();
  }
  return { out, results };
}

// Referenced Study Sequence (0008,1110) is X/Z in Table E.1-1: the profile removes it (Type 3 in
// these IODs), so it is not one of the references that must survive.
const REMOVED_BY_PROFILE = /^\(0008,1110\)/;

function referenceCounts(files: string[]): { total: number; unresolved: Record<string, number> } {
  const datasets = files.filter((f) => looksLikeDicom(readFileSync(f))).map((f) => readDicom(f).dataset);
  const targets = collectTargets(datasets);
  const unresolved: Record<string, number> = {};
  let total = 0;
  for (const ds of datasets) {
    for (const u of unresolvedReferences(ds, targets).filter((x) => !REMOVED_BY_PROFILE.test(x.path))) unresolved[u.kind] = (unresolved[u.kind] ?? 0) + 1;
    // Count all references by checking against an empty target set.
    const none = { instances: new Set<string>(), series: new Set<string>(), studies: new Set<string>(), framesOfReference: new Set<string>() };
    total += unresolvedReferences(ds, none).filter((x) => !REMOVED_BY_PROFILE.test(x.path)).length;
  }
  return { total, unresolved };
}

for (const folder of ['rt-ibsi1-ct-phantom', 'rt-dvha-anon33345']) {
  const input = join(CORPUS, folder);
  describe(`deid keeps the references of ${folder}`, { skip: existsSync(input) ? false : 'corpus not present' }, () => {
    it('resolves exactly the references the input resolved', async () => {
      const before = referenceCounts(listFiles(input));
      const { out, results } = await deidFolder(input, folder);
      assert.ok([...results.values()].every((r) => r.kind === 'deidentified' || r.kind === 'skipped'));
      const afterCounts = referenceCounts(listFiles(out));
      assert.ok(before.total > 0);
      assert.deepEqual(afterCounts, before);
    });
  });
}

describe('malformed inputs', { skip: existsSync(join(CORPUS, 'pydicom')) ? false : 'corpus not present' }, () => {
  it('are rejected with a reason and nothing of them is written', async () => {
    const bad = ['MR_truncated.dcm', 'rtplan_truncated.dcm'].map((f) => join(CORPUS, 'pydicom', f));
    const { out, results } = await deidFolder(bad[0], 'bad-1');
    const r2 = await deidFolder(bad[1], 'bad-2');
    for (const r of [...results.values(), ...r2.results.values()]) {
      assert.equal(r.kind, 'rejected');
      assert.equal((r as { reason: string }).reason, 'parse-error');
    }
    assert.equal(existsSync(out) ? listFiles(out).length : 0, 0);
    assert.equal(existsSync(r2.out) ? listFiles(r2.out).length : 0, 0);
  });
});

describe('the pydicom corpus (transfer syntaxes, charsets, private and UN sequences)', { skip: existsSync(join(CORPUS, 'pydicom')) ? false : 'corpus not present' }, () => {
  it('ends every file de-identified, quarantined, rejected or skipped, and leaks no patient name or ID', async () => {
    const { results } = await deidFolder(join(CORPUS, 'pydicom'), 'pydicom');
    const kinds = new Map<string, number>();
    for (const r of results.values()) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
    // A file that threw (a bug) is tallied as failed and gets no result: every input must have one.
    assert.equal(results.size, listFiles(join(CORPUS, 'pydicom')).length);
    assert.ok((kinds.get('deidentified') ?? 0) > 50);
    for (const [input, r] of results) {
      if (r.kind !== 'deidentified' || !r.output) continue;
      const original = readDicom(input).dataset;
      const out = readFileSync(r.output);
      const again = readDicom(r.output).dataset;
      assert.equal(again.string(0x00120062), 'YES', input);
      for (const t of [0x00100010, 0x00100020]) {
        const v = original.string(t) ?? '';
        // Short values ("1", "ANON") also occur by chance in other bytes.
        if (v.length >= 6) assert.ok(!out.includes(Buffer.from(v, 'latin1')), `${input}: ${t.toString(16)} leaked`);
      }
    }
  });
});
