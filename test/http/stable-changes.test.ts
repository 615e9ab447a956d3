// /changes reports StableSeries and StableStudy after the stable age, as Orthanc does, in `serve`
// without any pipeline configured (the stable-study tracker runs for every stored instance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerWith } from '../helpers/serve.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';

interface OrthancChange { ChangeType: string; ID: string; Path: string; ResourceType: string; Seq: number }

test('serve without pipelines: StableSeries and StableStudy appear in /changes after the stable age', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-stable-changes-'));
  const server = await startServerWith(dir, { stableAgeSeconds: 0.3 });
  try {
    const base = `http://127.0.0.1:${server.httpPort}`;
    const uids = { patientId: 'ST-1', studyInstanceUid: '1.2.826.0.8.1' };
    let studyId = '';
    const seriesIds = new Set<string>();
    for (const [n, series] of [[1, '1.2.826.0.8.1.1'], [2, '1.2.826.0.8.1.1'], [3, '1.2.826.0.8.1.2']] as const) {
      const body = syntheticInstance({ ...uids, seriesInstanceUid: series, sopInstanceUid: `${series}.${n}`, modality: 'CT', size: 4 });
      const r = (await (await fetch(`${base}/instances`, { method: 'POST', body, headers: { 'content-type': 'application/dicom' } })).json()) as { ParentStudy: string; ParentSeries: string };
      studyId = r.ParentStudy;
      seriesIds.add(r.ParentSeries);
    }
    // Poll (the tracker fires on its own timer) with a deadline far above the 0.3 s stable age.
    let changes: OrthancChange[] = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !changes.some((c) => c.ChangeType === 'StableStudy')) {
      changes = ((await (await fetch(`${base}/changes?limit=1000`)).json()) as { Changes: OrthancChange[] }).Changes;
      if (!changes.some((c) => c.ChangeType === 'StableStudy')) await new Promise((r) => setTimeout(r, 100));
    }
    const stable = changes.filter((c) => c.ChangeType.startsWith('Stable'));
    assert.deepEqual(stable.filter((c) => c.ChangeType === 'StableStudy').map((c) => [c.ID, c.ResourceType, c.Path]), [[studyId, 'Study', `/studies/${studyId}`]]);
    assert.deepEqual(new Set(stable.filter((c) => c.ChangeType === 'StableSeries').map((c) => c.ID)), seriesIds);
    assert.ok(stable.every((c) => c.ResourceType !== 'Series' || c.Path.startsWith('/series/')));
    const lastNew = Math.max(...changes.filter((c) => c.ChangeType.startsWith('New')).map((c) => c.Seq));
    assert.ok(stable.every((c) => c.Seq > lastNew), 'reported after the instances arrived');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
