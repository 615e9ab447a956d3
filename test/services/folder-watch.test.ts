// Folder-watch intake through a real `serve` (startServer): files dropped in a watch folder reach the
// archive (de-identified when the folder is bound to a project, and routed by a `sources: [folder]`
// pipeline), originals move to .done only once stored, garbage to .failed with a note, a growing file
// is not taken before it settles, and a restart neither loses nor duplicates.
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { AppError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';
import { readPart10, T } from '../../src/dicom/index.ts';
import type { RunningServer } from '../../src/main.ts';
import { startServerWith } from '../helpers/serve.ts';
import { syntheticInstance } from '../helpers/synthetic-dicom.ts';
import { makeZip } from '../helpers/make-zip.ts';
import { FolderWatcher, type WatchIntakeResult } from '../../src/services/folder-watch.ts';
import { waitFor } from '../helpers/wait-for.ts';

const CT = join(import.meta.dirname, '../fixtures/dicom/CT_small.dcm');
const PHI = { patientId: 'PHI-WATCH-55', patientName: 'Dropped^Person' };

function files(dir: string): string[] {
  try {
    return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
  } catch {
    return [];
  }
}

const inst = (n: number) =>
  syntheticInstance({ ...PHI, studyInstanceUid: '1.2.826.0.55.1', seriesInstanceUid: '1.2.826.0.55.1.1', sopInstanceUid: `1.2.826.0.55.1.1.${n}`, instanceNumber: n, size: 4 });

async function instanceCount(server: RunningServer): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${server.httpPort}/instances`);
  return ((await r.json()) as string[]).length;
}

test('a project watch folder de-identifies, stores and routes via its sources: [folder] pipeline; garbage goes to .failed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-watch-'));
  try {
    const drop = join(dir, 'drop');
    mkdirSync(join(drop, 'study A'), { recursive: true });
    const server = await startServerWith(dir, {
      watchFolders: [{ path: drop, project: 'basic', pollSeconds: 0.1, settleSeconds: 0.3 }],
      destinations: { OUT: { kind: 'folder', root: join(dir, 'out') } },
      pipelines: { fromFolder: { intake: { sources: ['folder'] }, stages: [{ filter: 'Modality in [CT]', onMismatch: 'quarantine' }, { deid: { project: 'basic' } }, { store: true }, { route: { destination: 'OUT', trigger: 'instance' } }] } },
    });
    try {
      copyFileSync(CT, join(drop, 'study A', 'CT_small.dcm'));
      for (const n of [1, 2, 3]) writeFileSync(join(drop, 'study A', `${PHI.patientName}-${n}.dcm`), inst(n));
      writeFileSync(join(drop, 'export.zip'), makeZip([{ name: 'a/4.dcm', data: inst(4) }, { name: 'a/5.dcm', data: inst(5), deflate: true }]));
      writeFileSync(join(drop, 'garbage.dcm'), Buffer.from('this is not DICOM at all, just text dropped by mistake'));
      writeFileSync(join(drop, '.partial-copy.tmp'), Buffer.from('a copy tool at work'));
      writeFileSync(join(drop, 'mr.dcm'), syntheticInstance({ ...PHI, studyInstanceUid: '1.2.826.0.55.9', seriesInstanceUid: '1.2.826.0.55.9.1', sopInstanceUid: '1.2.826.0.55.9.1.1', modality: 'MR' }));

      await waitFor('6 originals in .done, garbage in .failed', () => files(join(drop, '.done')).length === 6 && files(join(drop, '.failed')).length === 2);
      const quarantined = files(join(dir, 'data', 'quarantine')).filter((f) => f.endsWith('.dcm'));
      assert.equal(quarantined.length, 1, 'the MR stopped by the pipeline filter is kept in quarantine');
      assert.ok(readFileSync(quarantined[0]!).toString('latin1').includes('1.2.826.0.55.9.1.1'), 'the original, as for other intakes');
      await waitFor('6 instances routed to OUT', () => files(join(dir, 'out')).length === 6);
      assert.equal(await instanceCount(server), 6);
      for (const f of files(join(dir, 'out'))) {
        const raw = readFileSync(f);
        assert.ok(!raw.toString('latin1').includes(PHI.patientId) && !raw.toString('latin1').includes('1.2.826.0.55.1'), 'no identifier left');
        assert.equal(readPart10(raw).dataset.string(T.PatientIdentityRemoved), 'YES');
      }
      const done = files(join(drop, '.done')).map((f) => f.slice(join(drop, '.done').length + 1));
      assert.ok(done.every((f) => /^\d{4}-\d\d-\d\d\//.test(f)), 'under a date folder');
      assert.ok(done.some((f) => f.endsWith(join('study A', 'CT_small.dcm'))), 'relative path kept');
      const note = files(join(drop, '.failed')).find((f) => f.endsWith('.json'))!;
      assert.ok(note.endsWith('garbage.dcm.json'), 'note beside the failed file');
      const body = JSON.parse(readFileSync(note, 'utf8')) as { file: string; errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]!.code, 'DICOM_PARSE');
      assert.match(body.file, /^[0-9a-f]{12}$/);
      assert.ok(existsSync(join(drop, '.partial-copy.tmp')), 'hidden files are never touched');
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const CORPUS_STUDY = join(import.meta.dirname, '../../../shared/corpus/synthetic-rt/dicom/P01/ST01');

test('a corpus RT study (CT, MR, RTSTRUCT, RTPLAN, RTDOSE, SR) dropped as a folder tree arrives de-identified', { skip: !existsSync(CORPUS_STUDY) && 'no ../shared/corpus' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-watch-corpus-'));
  try {
    const drop = join(dir, 'drop');
    cpSync(CORPUS_STUDY, join(drop, 'P01', 'ST01'), { recursive: true });
    const total = files(drop).length;
    const server = await startServerWith(dir, {
      watchFolders: [{ path: drop, project: 'basic', pollSeconds: 0.1, settleSeconds: 0.2 }],
      destinations: { OUT: { kind: 'folder', root: join(dir, 'out') } },
      pipelines: { fromFolder: { intake: { sources: ['folder'] }, stages: [{ deid: { project: 'basic' } }, { store: true }, { route: { destination: 'OUT', trigger: 'instance' } }] } },
    });
    try {
      await waitFor('every file taken', () => files(join(drop, '.done')).length === total, 60_000);
      assert.equal(files(join(drop, '.failed')).length, 0);
      assert.equal(await instanceCount(server), total);
      await waitFor('every instance routed', () => files(join(dir, 'out')).length === total, 60_000);
      for (const f of files(join(dir, 'out'))) assert.ok(!readFileSync(f).toString('latin1').includes('PHITOKEN-'), 'no planted PHI token reaches the research side');
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a growing file is not taken before it settles', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-watch-grow-'));
  try {
    const drop = join(dir, 'drop');
    const server = await startServerWith(dir, { watchFolders: [{ path: drop, pollSeconds: 0.05, settleSeconds: 1.5 }] });
    try {
      const whole = syntheticInstance({ ...PHI, studyInstanceUid: '1.2.826.0.55.2', seriesInstanceUid: '1.2.826.0.55.2.1', sopInstanceUid: '1.2.826.0.55.2.1.1', size: 64 });
      const target = join(drop, 'slow.dcm');
      const chunks = 8;
      const step = Math.ceil(whole.length / chunks);
      writeFileSync(target, whole.subarray(0, step));
      // Appends every 250 ms, well within the settle time: a watcher that took it early would see a
      // truncated file and put it in .failed.
      for (let i = 1; i < chunks; i++) {
        await new Promise((r) => setTimeout(r, 250));
        assert.equal(files(join(drop, '.failed')).length + files(join(drop, '.done')).length, 0, `not taken while growing (chunk ${i})`);
        appendFileSync(target, whole.subarray(i * step, (i + 1) * step));
      }
      await waitFor('taken once settled', () => files(join(drop, '.done')).length === 1);
      assert.equal(files(join(drop, '.failed')).length, 0);
      assert.equal(await instanceCount(server), 1);
      assert.deepEqual(readFileSync(files(join(drop, '.done'))[0]!), whole);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a restart neither loses nor duplicates: a stored file left in place is taken again as a duplicate; after: delete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-watch-restart-'));
  try {
    const drop = join(dir, 'drop');
    mkdirSync(drop);
    const cfg = { watchFolders: [{ path: drop, pollSeconds: 0.05, settleSeconds: 0.2, after: 'delete' }] };
    for (const n of [1, 2, 3]) writeFileSync(join(drop, `${n}.dcm`), inst(n));
    let server = await startServerWith(dir, cfg);
    try {
      await waitFor('first three taken', () => readdirSync(drop).filter((f) => f.endsWith('.dcm')).length === 0);
      assert.equal(await instanceCount(server), 3);
    } finally {
      await server.close();
    }
    // As if the process had died after storing 3.dcm but before deleting it; 4 and 5 are new.
    writeFileSync(join(drop, '3.dcm'), inst(3));
    for (const n of [4, 5]) writeFileSync(join(drop, `${n}.dcm`), inst(n));
    server = await startServerWith(dir, cfg);
    try {
      await waitFor('all taken after the restart', () => readdirSync(drop).filter((f) => f.endsWith('.dcm')).length === 0);
      assert.equal(await instanceCount(server), 5, 'nothing lost, nothing stored twice');
      assert.equal(files(join(drop, '.failed')).length, 0);
      assert.equal(existsSync(join(drop, '.done')), false, 'after: delete keeps no copies');
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGKILL while taking a drop folder loses nothing: after the restart every file is stored once and moved', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-watch-kill-'));
  try {
    const drop = join(dir, 'drop');
    mkdirSync(drop);
    const TOTAL = 150;
    const big = (n: number) => syntheticInstance({ ...PHI, studyInstanceUid: '1.2.826.0.55.3', seriesInstanceUid: '1.2.826.0.55.3.1', sopInstanceUid: `1.2.826.0.55.3.1.${n}`, instanceNumber: n, size: 128 });
    for (let n = 1; n <= TOTAL; n++) writeFileSync(join(drop, `${String(n).padStart(3, '0')}.dcm`), big(n));
    const cfgFile = join(dir, 'c.json');
    writeFileSync(cfgFile, JSON.stringify({ dev: true, log: { level: 'silent' }, watchFolders: [{ path: drop, pollSeconds: 0.05, settleSeconds: 0.1 }] }));
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../helpers/folder-watch-child.ts', import.meta.url)), cfgFile, join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += String(c)));
    const exited = new Promise((r) => child.on('exit', r));
    const left = () => readdirSync(drop).filter((f) => f.endsWith('.dcm')).length;
    try {
      await waitFor(`the child takes some files (${stderr})`, () => left() < TOTAL - 10, 30_000);
    } finally {
      child.kill('SIGKILL');
    }
    await exited;
    const remaining = left();
    assert.ok(remaining > 0, `killed mid-way (${remaining} files left)`);
    console.log(`# killed with ${remaining} of ${TOTAL} files left in the drop folder`);
    const server = await startServerWith(dir, { watchFolders: [{ path: drop, pollSeconds: 0.05, settleSeconds: 0.1 }] });
    try {
      await waitFor('every file taken after the restart', () => left() === 0);
      assert.equal(await instanceCount(server), TOTAL, 'every file stored exactly once');
      assert.equal(files(join(drop, '.done')).length, TOTAL, 'every original moved to .done, none twice');
      assert.equal(files(join(drop, '.failed')).length, 0);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a retryable refusal leaves the file in place until it is stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-watch-retry-'));
  try {
    let down = true;
    const seen: boolean[] = [];
    const intake = async (inputs: readonly ({ path: string } | { data: Uint8Array })[]): Promise<WatchIntakeResult[]> =>
      inputs.map((x) => {
        seen.push('path' in x && existsSync(x.path));
        return down ? { status: 'rejected', code: 'STORE_UNAVAILABLE', reason: 'disk full', retryable: true } : { status: 'stored' };
      });
    let now = 1_000_000;
    const w = new FolderWatcher({ path: dir, pollMs: 10, settleMs: 100, after: 'move', name: 'test' }, { intake, log: silentLogger, now: () => now });
    writeFileSync(join(dir, 'x.dcm'), inst(1));
    assert.equal((await w.poll()).taken, 0, 'first sight only starts the settle clock');
    now += 100;
    assert.deepEqual(await w.poll(), { taken: 0, stored: 0, duplicate: 0, quarantined: 0, skipped: 0, failed: 0, retrying: 1 });
    assert.ok(existsSync(join(dir, 'x.dcm')), 'kept in place while the archive is unavailable');
    down = false;
    assert.equal((await w.poll()).stored, 1);
    assert.equal(existsSync(join(dir, 'x.dcm')), false);
    assert.equal(files(join(dir, '.done')).length, 1);
    assert.deepEqual(seen, [true, true], 'the file is still in place whenever the intake reads it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watchFolders config: defaults, and every problem reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-watch-cfg-'));
  try {
    const load = (watchFolders: unknown) => {
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ watchFolders }));
      return loadConfig({ file, env: {} });
    };
    const ok = load([{ path: join(dir, 'new', 'drop') }]);
    assert.deepEqual({ ...ok.watchFolders[0] }, { path: join(dir, 'new', 'drop'), pollSeconds: 5, settleSeconds: 10, after: 'move' });
    writeFileSync(join(dir, 'a-file'), 'x');
    assert.throws(
      () =>
        load([
          { path: join(dir, 'a'), pollSeconds: 0, after: 'copy' },
          { path: join(dir, 'a', 'inner') },
          { path: join(dir, 'a-file'), settleSeconds: -1, project: '' },
          { path: join(dir, 'b'), extra: 1 },
        ]),
      (e: AppError) => {
        const d = e.detail ?? '';
        return (
          e.code === 'CONFIG_INVALID' &&
          d.includes('watchFolders[0].pollSeconds') &&
          d.includes('watchFolders[0].after') &&
          d.includes('"watchFolders[1].path" overlaps') &&
          d.includes('"watchFolders[2].path" is not a folder') &&
          d.includes('watchFolders[2].settleSeconds') &&
          d.includes('watchFolders[2].project') &&
          d.includes('unknown key "watchFolders[3].extra"')
        );
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a watch folder naming an unknown project stops start-up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-watch-proj-'));
  try {
    await assert.rejects(startServerWith(dir, { watchFolders: [{ path: join(dir, 'drop'), project: 'no-such-project' }] }), (e: AppError) => /watchFolders\[0\]\.project/.test(e.detail ?? ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
