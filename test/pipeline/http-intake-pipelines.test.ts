// Pipelines bound to HTTP intakes: `intake.sources: [stow]` / `[upload]` with a deid stage bind the
// project's STOW route (POST /projects/{p}/dicom-web/studies) and upload route (POST
// /projects/{p}/instances), so the same chain as a DIMSE intake runs: filter -> de-identify ->
// store -> routes. Plain intakes (/dicom-web/studies, /instances) are not touched by them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../src/core/errors.ts';
import { startServerWith } from '../helpers/serve.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { waitFor } from '../helpers/wait-for.ts';

const PHI = { patientId: 'PHI-ID-77', patientName: 'Secret^Person' };

function files(dir: string): string[] {
  try {
    return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
  } catch {
    return [];
  }
}

function multipart(parts: Buffer[]): { body: Buffer; type: string } {
  const b = 'dgboundary42';
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`--${b}\r\nContent-Type: application/dicom\r\n\r\n`), p, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${b}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/related; type="application/dicom"; boundary=${b}` };
}

test('STOW and upload routes of a project run their bound pipeline: filter, de-identify, store, route', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-http-intake-'));
  try {
    const server = await startServerWith(dir, {
      destinations: { STOWOUT: { kind: 'folder', root: join(dir, 'stow-out') }, UPOUT: { kind: 'folder', root: join(dir, 'up-out') } },
      pipelines: {
        viaStow: {
          intake: { sources: ['stow'] },
          stages: [{ filter: 'Modality in [CT]', onMismatch: 'reject' }, { deid: { project: 'basic' } }, { store: true }, { route: { destination: 'STOWOUT', trigger: 'instance' } }],
        },
        viaUpload: {
          intake: { sources: ['upload'] },
          stages: [{ filter: 'Modality == MR', onMismatch: 'skip' }, { deid: { project: 'longitudinal' } }, { store: true }, { route: { destination: 'UPOUT', trigger: 'instance' } }],
        },
      },
    });
    try {
      const base = `http://127.0.0.1:${server.httpPort}`;
      const inst = (n: number, modality: string) =>
        syntheticInstance({ ...PHI, studyInstanceUid: '1.2.826.0.77.1', seriesInstanceUid: `1.2.826.0.77.1.${modality}`, sopInstanceUid: `1.2.826.0.77.1.${modality}.${n}`, modality, instanceNumber: n, size: 4 });

      // STOW into project basic: the CT passes the filter, the MR is rejected by it.
      const m = multipart([inst(1, 'CT'), inst(2, 'MR')]);
      const stow = await fetch(`${base}/projects/basic/dicom-web/studies`, { method: 'POST', body: m.body, headers: { 'content-type': m.type } });
      assert.equal(stow.status, 202, 'one stored, one refused');
      const answer = (await stow.json()) as Record<string, { Value: Record<string, { Value?: unknown[] }>[] }>;
      assert.equal(answer['00081198']!.Value.length, 1, 'the MR is in FailedSOPSequence');
      assert.deepEqual(answer['00081198']!.Value[0]!['00081197']!.Value, [0xc000], 'PIPELINE_REJECTED answers 0xC000');
      await waitFor('the CT at STOWOUT', () => files(join(dir, 'stow-out')).length === 1);

      // Upload into project longitudinal: the MR passes, the CT is skipped quietly.
      const upMr = await fetch(`${base}/projects/longitudinal/instances`, { method: 'POST', body: inst(3, 'MR'), headers: { 'content-type': 'application/dicom' } });
      assert.deepEqual([upMr.status, await upMr.json()], [200, { Status: 'Success' }]);
      const upCt = await fetch(`${base}/projects/longitudinal/instances`, { method: 'POST', body: inst(4, 'CT'), headers: { 'content-type': 'application/dicom' } });
      assert.deepEqual(await upCt.json(), { Status: 'Skipped', Reason: 'filter: Modality == MR' });
      await waitFor('the MR at UPOUT', () => files(join(dir, 'up-out')).length === 1);
      assert.equal((await fetch(`${base}/projects/nope/instances`, { method: 'POST', body: inst(5, 'MR') })).status, 403, 'unknown project answers like a forbidden one');

      // Plain intakes are no pipeline's: stored as they are, forwarded nowhere.
      const plain = await fetch(`${base}/instances`, { method: 'POST', body: inst(6, 'CT'), headers: { 'content-type': 'application/dicom' } });
      assert.equal(plain.status, 200);
      await new Promise((r) => setTimeout(r, 500));
      const forwarded = [...files(join(dir, 'stow-out')), ...files(join(dir, 'up-out'))];
      assert.equal(forwarded.length, 2, 'only the two pipeline objects were routed');
      for (const f of forwarded) {
        const raw = readFileSync(f).toString('latin1');
        assert.ok(!raw.includes(PHI.patientId) && !raw.includes(PHI.patientName) && !raw.includes('1.2.826.0.77.1'), `${f} is de-identified`);
      }
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('filter stages on HTTP intakes need a deid stage; two pipelines may not bind one intake', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-http-intake-bad-'));
  try {
    const start = async (pipelines: unknown) => {
      const s = await startServerWith(dir, { pipelines });
      await s.close();
    };
    await assert.rejects(start({ f: { intake: { sources: ['stow'] }, stages: [{ filter: 'Modality == CT' }, { store: true }] } }), (e: AppError) => /add a deid stage/.test(e.detail ?? ''));
    await assert.rejects(
      start({
        a: { intake: { sources: ['upload'] }, stages: [{ deid: { project: 'basic' } }, { store: true }] },
        b: { intake: { sources: ['upload', 'stow'] }, stages: [{ deid: { project: 'basic' } }, { store: true }] },
      }),
      (e: AppError) => /already binds/.test(e.detail ?? ''),
    );
    await assert.rejects(start({ f: { intake: { sources: ['dimse', 'folder'] }, stages: [{ deid: { project: 'basic' } }, { store: true }] } }), (e: AppError) => /STOW\/upload\/folder intakes/.test(e.detail ?? ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
