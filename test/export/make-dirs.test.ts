import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirs } from '../../src/export/make-dirs.ts';
import { DiskDestination } from '../../src/export/disk-destination.ts';

test('makeDirs creates missing parents, accepts an existing folder, refuses a file in the way', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dg-mkdirs-'));
  try {
    const deep = join(root, 'a', 'b', 'c');
    await makeDirs(deep);
    assert.ok(statSync(deep).isDirectory());
    await makeDirs(deep);
    writeFileSync(join(root, 'file'), '');
    await assert.rejects(makeDirs(join(root, 'file')), /EEXIST/);
    await assert.rejects(makeDirs(join(root, 'file', 'below')), /ENOTDIR/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// Node's own recursive mkdir never returns here (it retries the parent forever at 100 % CPU).
test('a folder destination under /proc fails its test at once instead of hanging', { skip: existsSync('/proc/self') ? false : 'no /proc' }, async () => {
  await assert.rejects(makeDirs('/proc/dicomgate-test/x'), /ENOENT/);
  const dest = new DiskDestination('PROC', { root: '/proc/dicomgate-test', template: '{SOPInstanceUID}.dcm' }, async () => {
    throw new Error('not loaded in a test');
  });
  await assert.rejects(dest.test(), /not writable/);
});
