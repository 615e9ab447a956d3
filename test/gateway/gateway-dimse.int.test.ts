// Gateway mode over DICOM: storescu pushes identifiable objects to a called AE bound to a project;
// the archive (blobs and index database) must then hold none of the planted identifiers, every
// RT reference must still resolve, and the plain archive AE must still store objects unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { readPart10 } from '../../src/dicom/part10.ts';
import { T } from '../../src/dicom/tag.ts';
import { collectTargets, unresolvedReferences } from '../../src/deid/reference-check.ts';
import { startServer } from '../../src/main.ts';
import { containsValue, loadManifest, SYNTHETIC, syntheticPresent } from '../deid/corpus-helpers.ts';
import { runDcmtk } from '../helpers/dcmtk.ts';
import { startServerWith } from '../helpers/serve.ts';

const FIXTURES = new URL('../fixtures/dicom/', import.meta.url).pathname;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

async function withServer(fn: (s: Awaited<ReturnType<typeof startServer>>, dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dg-gw-'));
  const server = await startServerWith(dataDir, { intakes: [{ aet: 'RESEARCH_IN', project: 'basic' }] });
  try {
    await fn(server, join(dataDir, 'data'));
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('unknown project in an intake stops start-up with the reason', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dg-gw-bad-'));
  const cfgFile = join(dataDir, 'c.json');
  writeFileSync(cfgFile, JSON.stringify({ intakes: [{ aet: 'RESEARCH_IN', project: 'nope' }] }));
  const config = loadConfig({ file: cfgFile, env: {}, overrides: { dataDir, 'dicom.port': 0, 'http.port': 0, host: '127.0.0.1', dev: true } });
  await assert.rejects(startServer(config, silentLogger), /no project "nope"/);
  rmSync(dataDir, { recursive: true, force: true });
});

test('gateway AE de-identifies before the archive; the plain AE archives as is', async () => {
  await withServer(async (server, data) => {
    const port = String(server.dicomPort);
    const ct = join(FIXTURES, 'CT_small.dcm');
    const original = readPart10(readFileSync(ct)).dataset;
    const r1 = await runDcmtk('storescu', ['-aec', 'RESEARCH_IN', '127.0.0.1', port, ct]);
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await runDcmtk('storescu', ['-aec', 'DICOMGATE', '127.0.0.1', port, ct]);
    assert.equal(r2.code, 0, r2.stderr);
    const stats = await server.archive.index.statistics();
    assert.equal(stats.instances, 2, 'one de-identified copy and one original');
    const names = walk(join(data, 'blobs')).filter((f) => !basename(f).startsWith('.')).map((f) => readPart10(readFileSync(f)).dataset);
    const deid = names.find((d) => d.string(T.PatientIdentityRemoved) === 'YES');
    const plain = names.find((d) => d.string(T.PatientIdentityRemoved) !== 'YES');
    assert.ok(deid && plain);
    assert.equal(plain.string(T.PatientName), original.string(T.PatientName));
    assert.notEqual(deid.string(T.PatientName), original.string(T.PatientName));
    assert.notEqual(deid.string(T.SOPInstanceUID), original.string(T.SOPInstanceUID));
    // Unknown called AE titles are still refused.
    const r3 = await runDcmtk('echoscu', ['-aec', 'SOMEONE_ELSE', '127.0.0.1', port]);
    assert.notEqual(r3.code, 0);
  });
});

test('synthetic RT cohort through the gateway: no planted identifier in the archive, references intact', async (t) => {
  if (!syntheticPresent()) return t.skip('../shared/corpus/synthetic-rt not present');
  const manifest = loadManifest();
  await withServer(async (server, data) => {
    const r = await runDcmtk('storescu', ['-aec', 'RESEARCH_IN', '+sd', '+r', '127.0.0.1', String(server.dicomPort), join(SYNTHETIC, 'dicom')], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const stats = await server.archive.index.statistics();
    assert.equal(stats.instances, manifest.files.length, 'every object archived');
    assert.equal(stats.patients, new Set(manifest.files.map((f) => f.patient)).size);

    // Byte-level scan of everything the research side holds: blobs, index database and its WAL.
    const archiveFiles = [...walk(join(data, 'blobs')), ...readdirSync(data).filter((n) => n.startsWith('index.sqlite')).map((n) => join(data, n))];
    const contents = archiveFiles.map((f) => ({ f, bytes: readFileSync(f) }));
    const leaks: string[] = [];
    for (const p of manifest.plants) {
      if (p.kind === 'value') continue; // low-entropy values ('F', '79.0') are checked per element by the deid tests
      const bounded = p.kind === 'date' || p.kind === 'time';
      for (const { f, bytes } of contents) if (containsValue(bytes, p.value, bounded)) leaks.push(`${p.kind} ${p.value.slice(0, 4)}... in ${f.slice(data.length)}`);
    }
    assert.deepEqual(leaks, [], 'planted identifiers found in the archive');

    // Every RT/SR reference resolves within the archived (de-identified) objects.
    // Blobs only: a staged temp file (".<key>.tmp", e.g. the writer the store prepares for the next
    // C-STORE) is not an archived object; the byte scan above covers it all the same.
    const datasets = walk(join(data, 'blobs')).filter((f) => !basename(f).startsWith('.')).map((f) => readPart10(readFileSync(f)).dataset);
    const targets = collectTargets(datasets);
    const unresolved = datasets.flatMap((d) => unresolvedReferences(d, targets));
    assert.deepEqual(unresolved, []);
  });
});
