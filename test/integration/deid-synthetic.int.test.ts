// The must-pass corpus test of issue 4: synthetic-rt de-identified with `basic` and `longitudinal`
// leaks none of its planted identifiers (bytes, elements at any depth, file and folder names), keeps
// every reference resolvable, and is longitudinally consistent and reproducible.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { T } from '../../src/dicom/tag.ts';
import { collectTargets, unresolvedReferences } from '../../src/deid/reference-check.ts';
import { SqlitePseudonymStore } from '../../src/pseudonyms/sqlite/sqlite-pseudonym-store.ts';
import { runDeid, type DeidSummary } from '../../src/cli/commands/_deid-run.ts';
import { containsValue, listFiles, loadManifest, readDicom, SYNTHETIC, syntheticPresent, valuesAt, type Manifest, type Plant, type PlantLocation } from '../deid/corpus-helpers.ts';

const present = syntheticPresent();
const hasDciodvfy = (() => {
  try {
    execFileSync('dciodvfy', ['-version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status !== undefined; // exists but exits non-zero
  }
})();

/** dciodvfy "Error" lines with values, tags' values and UIDs folded, so input and output compare. */
function dciodvfyErrors(file: string): Set<string> {
  // dciodvfy exits non-zero when it finds errors and writes them to stderr: collect both streams.
  const out = execFileSync('sh', ['-c', 'dciodvfy "$1" 2>&1 || true', 'sh', file], { encoding: 'latin1' });
  return new Set(
    out
      .split('\n')
      .filter((l) => l.startsWith('Error'))
      .map((l) => l.replace(/<[^>]*>/g, '<>').replace(/\[[^\]]*\]/g, '[]')),
  );
}
const scratch = mkdtempSync(join(tmpdir(), 'dicomgate-deid-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  out: string;
  summary: DeidSummary;
  /** manifest file path (relative to synthetic-rt/dicom) -> output file */
  outputs: Map<string, string>;
}

async function deid(project: string, name: string, dataDir: string, workers: number, projects: Record<string, unknown> = {}): Promise<Run> {
  const out = join(scratch, name);
  mkdirSync(dataDir, { recursive: true });
  const store = new SqlitePseudonymStore(join(dataDir, 'keys.sqlite'));
  await store.migrate();
  const outputs = new Map<string, string>();
  try {
    const summary = await runDeid({
      inputs: [join(SYNTHETIC, 'dicom')],
      outDir: out,
      projectName: project,
      projects,
      store,
      dryRun: false,
      workers,
      onResult: (label, r) => {
        if (r.kind === 'deidentified' && r.output) outputs.set(relative(join(SYNTHETIC, 'dicom'), label), r.output);
      },
    });
    return { out, summary, outputs };
  } finally {
    await store.close();
  }
}

// Options a project enables, by the manifest's option column names.
const LONGITUDINAL_ALLOWS = (p: Plant, l: PlantLocation): boolean =>
  l.options?.rtnPatCharsOpt === 'K' || (l.options?.rtnLongModifDatesOpt === 'C' && (p.kind === 'time' || p.kind === 'value'));

const dayOf = (d: string) => Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8));
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');

/**
 * With modified dates, every date of a patient moves by one random shift, so another real date of the
 * same patient may land exactly on a planted value (an interval between two of its dates equal to the
 * shift): that value in the output is then a shifted date, not the planted one. Returns, per output
 * file, the set of such shifted dates of its patient (whatever the byte scan finds outside that set is
 * a leak; the element-level check below still looks at every planted location itself).
 */
function shiftedDatesByOutput(run: Run, manifest: Manifest): Map<string, Set<string>> {
  const shiftOf = new Map<string, number>();
  for (const f of manifest.files) {
    if (shiftOf.has(f.patient)) continue;
    const ds = readDicom(run.outputs.get(f.path) as string).dataset;
    for (const [path, vr, original] of f.dates) {
      if (vr !== 'DA' || path.startsWith('(0009') || path === '(0010,0030)') continue;
      const now = valuesAt({ meta: ds, dataset: ds } as never, path)?.[0];
      if (now) {
        shiftOf.set(f.patient, dayOf(now) - dayOf(original));
        break;
      }
    }
  }
  const byPatient = new Map<string, Set<string>>();
  for (const f of manifest.files) {
    const shift = shiftOf.get(f.patient);
    if (shift === undefined) continue;
    const set = byPatient.get(f.patient) ?? new Set<string>();
    byPatient.set(f.patient, set);
    for (const [, vr, original] of f.dates) if (vr === 'DA' && /^\d{8}$/.test(original)) set.add(dateOf(dayOf(original) + shift));
  }
  const out = new Map<string, Set<string>>();
  for (const f of manifest.files) {
    const o = run.outputs.get(f.path);
    if (o) out.set(o, byPatient.get(f.patient) ?? new Set());
  }
  return out;
}

function leaks(run: Run, manifest: Manifest, allowed: (p: Plant, l: PlantLocation) => boolean, shiftedDates?: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  // Byte-level scan for plants that may survive nowhere; low-entropy values ('F', '79.0') only by element.
  const files = listFiles(run.out).map((f) => ({ f, bytes: readFileSync(f) }));
  const names = listFiles(run.out).map((f) => relative(run.out, f)).join('\n');
  for (const p of manifest.plants) {
    if (p.kind === 'value' || p.locations.some((l) => allowed(p, l))) continue;
    const bounded = p.kind === 'date' || p.kind === 'time';
    for (const { f, bytes } of files) {
      if (!containsValue(bytes, p.value, bounded)) continue;
      if (p.kind === 'date' && shiftedDates?.get(f)?.has(p.value)) continue; // a shifted date, see shiftedDatesByOutput
      problems.push(`${p.id} (${p.kind}) in bytes of ${relative(run.out, f)}`);
    }
    if (containsValue(Buffer.from(names, 'latin1'), p.value, bounded)) problems.push(`${p.id} in output names`);
  }
  // Element-level check of every location the project does not allow.
  const cache = new Map<string, ReturnType<typeof readDicom>>();
  for (const p of manifest.plants) {
    for (const l of p.locations) {
      if (l.path.startsWith('name:') || allowed(p, l)) continue;
      const out = run.outputs.get(l.file);
      if (!out) {
        problems.push(`${p.id}: no output for ${l.file}`);
        continue;
      }
      const file = cache.get(out) ?? readDicom(out);
      cache.set(out, file);
      const values = valuesAt(file, l.path);
      if (values && values.some((v) => (p.kind === 'value' ? v === p.value : v.includes(p.value)))) problems.push(`${p.id} (${p.kind}) at ${l.file} ${l.path}`);
    }
  }
  return problems;
}

function unresolved(run: Run): string[] {
  const datasets = listFiles(run.out).map((f) => readDicom(f).dataset);
  const targets = collectTargets(datasets);
  return datasets.flatMap((ds) => unresolvedReferences(ds, targets).map((u) => `${u.kind} ${u.path}`));
}

describe('deid on synthetic-rt', { skip: present ? false : 'corpus not present' }, () => {
  let manifest: Manifest;
  let basic: Run;
  let long1: Run;
  let long2: Run;
  let keepList: Run;
  const dataDir = join(scratch, 'data');

  before(async () => {
    if (!present) return;
    manifest = loadManifest();
    basic = await deid('basic', 'basic', dataDir, 2);
    long1 = await deid('longitudinal', 'long1', dataDir, 0);
    long2 = await deid('longitudinal', 'long2', dataDir, 0);
    keepList = await deid('strict', 'strict', dataDir, 0, { strict: { unlistedAttributes: 'keep-list' } });
  });

  it('de-identifies every object', () => {
    assert.equal(basic.summary.deidentified, manifest.files.length);
    assert.equal(basic.summary.quarantined + basic.summary.rejected + basic.summary.failed, 0);
    assert.equal(long1.summary.deidentified, manifest.files.length);
  });

  it('basic: no planted identifier in any output byte, element or name', () => {
    assert.deepEqual(leaks(basic, manifest, () => false), []);
  });

  it('keep-list mode: no planted identifier either, every object still de-identified', () => {
    assert.equal(keepList.summary.deidentified, manifest.files.length);
    assert.deepEqual(leaks(keepList, manifest, () => false), []);
  });

  it('longitudinal: only times, offsets and patient characteristics survive', () => {
    const shifted = shiftedDatesByOutput(long1, manifest);
    // Keyed like the byte scan's file list, and every patient's shift found.
    assert.ok(listFiles(long1.out).every((f) => (shifted.get(f)?.size ?? 0) > 0), 'a shifted-date set for every output file');
    assert.deepEqual(leaks(long1, manifest, LONGITUDINAL_ALLOWS, shifted), []);
  });

  it('every reference resolves inside the output', () => {
    assert.deepEqual(unresolved(basic), []);
    assert.deepEqual(unresolved(long1), []);
    assert.deepEqual(unresolved(keepList), []);
  });

  it('records the de-identification in each object', () => {
    const ds = readDicom(listFiles(long1.out)[0]).dataset;
    assert.equal(ds.string(T.PatientIdentityRemoved), 'YES');
    assert.equal(ds.string(T.LongitudinalTemporalInformationModified), 'MODIFIED');
    const codes = (ds.items(T.DeidentificationMethodCodeSequence) ?? []).map((i) => i.string(T.CodeValue)).sort();
    assert.deepEqual(codes, ['113100', '113107', '113108']);
    assert.equal(readDicom(listFiles(basic.out)[0]).dataset.string(T.LongitudinalTemporalInformationModified), 'REMOVED');
  });

  it('longitudinal: one pseudonym and one constant date shift per patient, intervals kept', () => {
    const byPatient = new Map<string, { ids: Set<string>; shifts: Set<number> }>();
    const DAY = 86_400_000;
    const parse = (d: string) => Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8));
    for (const f of manifest.files) {
      const ds = readDicom(long1.outputs.get(f.path) as string).dataset;
      const e = byPatient.get(f.patient) ?? { ids: new Set(), shifts: new Set() };
      byPatient.set(f.patient, e);
      e.ids.add(ds.string(T.PatientID) as string);
      for (const [path, vr, original] of f.dates) {
        if (vr !== 'DA' || path.startsWith('(0009') || path === '(0010,0030)') continue; // private: removed; birth date: Z
        const now = valuesAt({ meta: ds, dataset: ds } as never, path)?.[0];
        assert.ok(now, `${f.path} ${path} kept (shifted)`);
        e.shifts.add((parse(now) - parse(original)) / DAY);
      }
    }
    const ids = [...byPatient.values()].map((e) => [...e.ids]);
    for (const [patient, e] of byPatient) {
      assert.equal(e.ids.size, 1, `${patient}: one pseudonym over all studies`);
      assert.equal(e.shifts.size, 1, `${patient}: one date shift`);
      assert.notEqual([...e.shifts][0], 0);
    }
    assert.equal(new Set(ids.flat()).size, byPatient.size, 'patients differ');
  });

  it('dciodvfy finds no error in an output that it did not find in its input', { skip: hasDciodvfy ? false : 'dciodvfy not installed' }, () => {
    // One object per study and modality: dciodvfy takes ~0.1 s a file.
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const f of manifest.files) {
      const key = `${f.study}/${f.modality}`;
      if (seen.has(key)) continue;
      seen.add(key);
      for (const run of [basic, long1, keepList]) {
        const before = dciodvfyErrors(join(SYNTHETIC, 'dicom', f.path));
        for (const e of dciodvfyErrors(run.outputs.get(f.path) as string)) if (!before.has(e)) problems.push(`${f.path}: ${e}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('de-identifying the same data twice gives identical output', () => {
    assert.deepEqual(listFiles(long2.out).map((f) => relative(long2.out, f)), listFiles(long1.out).map((f) => relative(long1.out, f)));
    for (const f of listFiles(long1.out)) assert.ok(readFileSync(f).equals(readFileSync(join(long2.out, relative(long1.out, f)))), f);
  });
});
