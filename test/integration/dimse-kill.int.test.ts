// Kill the server (SIGKILL) during a 4-association push, then reopen the archive: every instance
// that got a Success C-STORE-RSP is present and readable, and nothing half-written is visible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPart10 } from '../../src/dicom/index.ts';
import { parsePart10Meta } from '../../src/dimse/part10-source.ts';
import { openArchive } from '../../src/services/archive.ts';
import { runDcmtk } from '../helpers/dcmtk.ts';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/synthetic-rt/dicom', import.meta.url));
const CHILD = fileURLToPath(new URL('../dimse/helpers/dimse-server-child.ts', import.meta.url));
const hasCorpus = existsSync(CORPUS);

function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? filesUnder(join(d, n)) : [join(d, n)]));
}

function startChild(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, port: (JSON.parse(line) as { port: number }).port });
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
}

/** Runs storescu -v and reports, as lines arrive, each file whose C-STORE-RSP was Success. */
function push(port: number, files: string[], onSuccess: (file: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn('storescu', ['-v', '-aec', 'DICOMGATE', '127.0.0.1', String(port), ...files], { env: { ...process.env, TCP_NODELAY: '1' } });
    let current: string | undefined;
    let buf = '';
    const onLine = (line: string): void => {
      const sending = /^I: Sending file: (.*)$/.exec(line);
      if (sending) current = sending[1];
      else if (/^I: Received Store Response \(Success\)/.test(line) && current) onSuccess(current);
    };
    const feed = (d: Buffer): void => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    p.stdout.on('data', feed);
    p.stderr.on('data', feed);
    p.on('close', () => resolve());
  });
}

test('SIGKILL during a 4-association push: every acknowledged instance survives, nothing half-written', { skip: hasCorpus ? false : 'corpus not present' }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'dimse-kill-'));
  try {
    const files = filesUnder(CORPUS);
    const { child, port } = await startChild(dataDir);
    const acknowledged: string[] = [];
    let killed = false;
    const killAfter = Math.floor(files.length / 3);
    const pushes = [0, 1, 2, 3].map((q) =>
      push(
        port,
        files.filter((_, i) => i % 4 === q),
        (f) => {
          acknowledged.push(f);
          if (!killed && acknowledged.length >= killAfter) {
            killed = true;
            child.kill('SIGKILL');
          }
        },
      ),
    );
    await Promise.all(pushes);
    assert.ok(killed, 'the push finished before the kill');
    assert.ok(acknowledged.length >= killAfter && acknowledged.length < files.length);

    const archive = await openArchive(dataDir, { duplicates: 'keep-first' });
    try {
      for (const f of acknowledged) {
        const src = readFileSync(f);
        const meta = parsePart10Meta(src);
        const [rec] = await archive.index.findByUid('instance', meta.sopInstanceUid);
        assert.ok(rec, `acknowledged ${f} missing after the kill`);
      }
      // Every instance the index shows has a whole, readable blob (DCMTK re-encodes what it sends,
      // so the bytes are compared with the wire in dimse-server.int.test.ts, not here).
      const all = await archive.index.query({ level: 'instance', limit: 100_000 });
      assert.ok(all.matches.length >= acknowledged.length);
      for (const m of all.matches) {
        const inst = (await archive.index.listInstances('instance', m.id))[0];
        const file = readPart10(await archive.blobs.get(inst.file!.blobKey));
        assert.equal(file.dataset.string(0x00080018), m.tags.SOPInstanceUID);
      }
    } finally {
      await archive.close();
    }
    // The server starts again on the same data folder and serves.
    const again = await startChild(dataDir);
    try {
      const r = await runDcmtk('echoscu', ['-aec', 'DICOMGATE', '127.0.0.1', String(again.port)]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      again.child.kill('SIGTERM');
      await new Promise((r) => again.child.once('exit', r));
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
