// Kills an importing child process with SIGKILL mid-way, then checks the archive it left:
// every indexed instance has its complete blob, staged temp files are never instances, and
// importing again completes the job.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openArchive, type Archive } from '../../src/services/archive.ts';
import { importPaths } from '../../src/services/import-files.ts';
import { checkArchive } from '../../src/services/archive-check.ts';
import { writeSyntheticSeries } from '../helpers/write-synthetic-series.ts';

const CHILD = fileURLToPath(new URL('../helpers/import-crash-child.ts', import.meta.url));
const TOTAL = 400;

/** Runs the child and SIGKILLs it once it has reported `killAfter` files; resolves with what it printed. */
function importThenKill(dataDir: string, inputDir: string, killAfter: number): Promise<{ lastProgress: number; finished: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, inputDir, '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastProgress = 0;
    let finished = false;
    let buf = '';
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += String(c)));
    child.stdout.on('data', (c) => {
      buf += String(c);
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('done')) finished = true;
        const m = /^progress (\d+)$/.exec(line);
        if (m) {
          lastProgress = Number(m[1]);
          if (lastProgress >= killAfter) child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`child failed (${code}): ${stderr}`));
      else resolve({ lastProgress, finished });
    });
  });
}

/** Every indexed instance's blob exists and equals its source file byte for byte. */
async function checkConsistent(archive: Archive, sources: Map<string, Buffer>): Promise<number> {
  const page = await archive.index.query({ level: 'instance' });
  for (const m of page.matches) {
    const [inst] = await archive.index.listInstances('instance', m.id);
    const blob = await archive.blobs.get(inst.file!.blobKey);
    const expected = sources.get(m.tags.SOPInstanceUID!);
    assert.ok(expected, `unknown instance ${m.tags.SOPInstanceUID}`);
    assert.equal(blob.length, expected.length, `blob of ${m.tags.SOPInstanceUID} is incomplete`);
    assert.ok(blob.equals(expected), `blob of ${m.tags.SOPInstanceUID} differs from its source`);
  }
  return page.matches.length;
}

describe('import survives SIGKILL', () => {
  let dir: string;
  let input: string;
  const sources = new Map<string, Buffer>();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dg-crash-'));
    input = join(dir, 'input');
    const paths = await writeSyntheticSeries(input, TOTAL, 128, '777');
    for (const [i, p] of paths.entries()) sources.set(`2.25.777.1.${i + 1}`, await readFile(p));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves only complete, indexed instances; re-running import completes', async (t) => {
    const data = join(dir, 'data');
    const { lastProgress, finished } = await importThenKill(data, input, TOTAL / 4);
    assert.equal(finished, false, 'the child was killed before it finished');

    const archive = await openArchive(data, { duplicates: 'keep-first' });
    try {
      const blobs = archive.blobs;
      const indexed = await checkConsistent(archive, sources);
      const check = await checkArchive(archive);
      assert.deepEqual(check.missingBlobs, [], 'every indexed instance has its blob');
      assert.equal(check.instances, indexed);
      assert.ok(indexed >= lastProgress, `index lost committed instances: ${indexed} < ${lastProgress} reported`);
      assert.ok(indexed < TOTAL, 'killed mid-way');
      const temps = await blobs.listTemporaryFiles();
      const keys = await blobs.listKeys();
      const orphans: string[] = [];
      for (const k of keys) if (!(await archive.index.hasBlobKey(k))) orphans.push(k);
      t.diagnostic(`killed after ${lastProgress} reported; ${indexed} indexed, ${temps.length} temp files, ${orphans.length} orphan blobs`);
      for (const temp of temps) assert.ok(!keys.some((k) => temp.endsWith(k)), 'a temp file is never a key');

      const summary = await importPaths(archive.ingest, [input], { batchSize: 16 });
      assert.equal(summary.rejected, 0, JSON.stringify(summary.rejections.slice(0, 3)));
      assert.equal(summary.stored + summary.duplicate, TOTAL);
      assert.equal(summary.duplicate, indexed);
      assert.equal(await checkConsistent(archive, sources), TOTAL);
      const repaired = await checkArchive(archive, { repair: true, olderThanMs: -1 });
      assert.equal(repaired.removedTempFiles, temps.length, 'crash leftovers are swept');
      assert.equal(repaired.removedOrphans, orphans.length, 'orphan blobs are swept');
      assert.deepEqual(repaired.missingBlobs, []);
      assert.equal(await checkConsistent(archive, sources), TOTAL, 'repair removed nothing indexed');
      assert.equal((await blobs.listKeys()).length, TOTAL);
    } finally {
      await archive.close();
    }
  });
});
