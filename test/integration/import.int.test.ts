import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { command } from '../../src/cli/commands/import.ts';
import { defaultConfig, type ResolvedConfig } from '../../src/config/schema.ts';
import { openArchive } from '../../src/services/archive.ts';
import { makeZip } from '../helpers/make-zip.ts';
import { syntheticInstance, syntheticSeries } from '../helpers/synthetic-dicom.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sink() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } });
  return { stream, get text() { return text; } };
}

async function runImport(dataDir: string, positionals: string[], values: Record<string, unknown> = {}, storage?: ResolvedConfig['storage']) {
  const out = sink();
  const err = sink();
  const config = { ...defaultConfig(), dataDir, ...(storage ? { storage } : {}) };
  const code = await command.run({ values: { json: true, ...values }, positionals }, { config, stdout: out.stream, stderr: err.stream });
  return { code, summary: JSON.parse(out.text), stderr: err.text };
}

describe('dicomgate import', () => {
  let dir: string;
  let input: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dg-import-'));
    input = join(dir, 'input');
    await mkdir(join(input, 'sub', 'a'), { recursive: true });
    await mkdir(join(input, 'sub', 'b'), { recursive: true });
    const a = syntheticSeries('100', 5, { size: 4 });
    await Promise.all(a.map((f, i) => writeFile(join(input, 'sub', 'a', `${i}.dcm`), f)));
    await Promise.all(syntheticSeries('200', 3).map((f, i) => writeFile(join(input, 'sub', 'b', `IM${i}`), f)));
    await writeFile(join(input, 'sub', 'b', 'copy-of-a0.dcm'), a[0]);
    const z = syntheticSeries('300', 4);
    await writeFile(join(input, 'archive.zip'), makeZip([
      { name: 'x/', data: Buffer.alloc(0) },
      { name: 'x/1.dcm', data: z[0] },
      { name: 'x/2.dcm', data: z[1], deflate: true },
      { name: 'y/3.dcm', data: z[2], deflate: true },
      { name: '4.dcm', data: z[3] },
    ]));
    await writeFile(join(input, 'notes.txt'), 'not a DICOM file at all, just some notes\n');
    await writeFile(join(input, 'no-series-uid.dcm'), syntheticInstance({ patientName: 'Hidden^Name', studyInstanceUid: '4.1', seriesInstanceUid: '', sopInstanceUid: '4.1.1.1' }));
    await writeFile(join(input, 'DICOMDIR'), 'skipped');
    await writeFile(join(input, '.DS_Store'), 'skipped');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports folders recursively and ZIP entries; reports duplicates and rejections with reasons; exit 1 on rejections', async () => {
    const data = join(dir, 'data1');
    const r = await runImport(data, [input]);
    assert.equal(r.code, 1);
    const s = r.summary;
    assert.equal(s.stored, 12, JSON.stringify(s));
    assert.equal(s.duplicate, 1);
    assert.equal(s.rejected, 2);
    assert.equal(s.skipped, 2);
    assert.equal(s.files, 15);
    const byFile = Object.fromEntries(s.rejections.map((x: { file: string; code: string; reason: string }) => [x.file, x]));
    assert.equal(byFile['no-series-uid.dcm'].code, 'DICOM_MISSING_UID');
    assert.match(byFile['no-series-uid.dcm'].reason, /SeriesInstanceUID/);
    assert.ok(['DICOM_PARSE', 'DICOM_MISSING_UID'].includes(byFile['notes.txt'].code));
    assert.doesNotMatch(JSON.stringify(s), /Hidden\^Name/, 'no PHI in reasons');

    const archive = await openArchive(data, { duplicates: 'keep-first' });
    try {
      assert.equal((await archive.index.statistics()).instances, 12);
      assert.equal((await archive.index.findByUid('instance', '2.25.300.1.3')).length, 1, 'deflated ZIP entry stored');
      const [inst] = await archive.index.findByUid('instance', '2.25.300.1.2');
      assert.equal(inst.file?.source.transport, 'import');
      assert.deepEqual(await archive.blobs.get(inst.file!.blobKey), syntheticSeries('300', 4)[1]);
      assert.deepEqual(await archive.blobs.listTemporaryFiles(), []);
      assert.equal((await archive.blobs.listKeys()).length, 12, 'the duplicate left no blob behind');
    } finally {
      await archive.close();
    }

    const again = await runImport(data, [join(input, 'sub'), join(input, 'archive.zip')]);
    assert.equal(again.code, 0, 'duplicates only: success');
    assert.equal(again.summary.duplicate, 13);
    assert.equal(again.summary.stored, 0);
  });

  it('follows symbolic links to files and folders, visiting a looped folder once', async () => {
    const linked = join(dir, 'linked');
    await mkdir(linked, { recursive: true });
    await symlink(join(input, 'sub', 'a', '0.dcm'), join(linked, 'file-link.dcm'));
    await symlink(join(input, 'sub', 'b'), join(linked, 'dir-link'));
    await symlink(linked, join(linked, 'loop'));
    const r = await runImport(join(dir, 'data-links'), [linked]);
    assert.equal(r.code, 0, JSON.stringify(r.summary));
    assert.equal(r.summary.stored, 4, 'a0 + the three of sub/b (its copy of a0 is a duplicate)');
    assert.equal(r.summary.duplicate, 1);
  });

  it('--overwrite replaces, and a missing input is a rejection, not a crash', async () => {
    const data = join(dir, 'data2');
    assert.equal((await runImport(data, [join(input, 'sub', 'a')])).code, 0);
    const r = await runImport(data, [join(input, 'sub', 'a'), join(dir, 'nope')], {}, { duplicates: 'overwrite' });
    assert.equal(r.code, 1);
    assert.equal(r.summary.replaced, 5);
    assert.equal(r.summary.rejections[0].code, 'IMPORT_UNREADABLE');
    assert.match(r.summary.rejections[0].reason, /ENOENT/);
  });

  it('runs through bin/dicomgate: --help documents the exit status; a clean import exits 0', () => {
    const help = spawnSync(process.execPath, [join(root, 'bin/dicomgate'), 'import', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Exit status: 0 when every file was stored or was a duplicate/);
    const run = spawnSync(process.execPath, [join(root, 'bin/dicomgate'), 'import', '--data', join(dir, 'data3'), join(input, 'sub', 'a')], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /stored 5, duplicate 0, rejected 0/);
    const none = spawnSync(process.execPath, [join(root, 'bin/dicomgate'), 'import', '--data', join(dir, 'data3')], { encoding: 'utf8' });
    assert.equal(none.status, 2);
  });
});
