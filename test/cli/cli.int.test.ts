// The CLI contract scripts rely on: bin/dicomgate runs right after `npm ci`, --help everywhere,
// `serve` with port 0 logs the bound ports on one line and answers /health.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/dicomgate', import.meta.url).pathname;

test('--help lists commands; unknown command exits 2 with a hint', () => {
  const r = spawnSync(bin, ['--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /serve/);
  assert.match(r.stdout, /import/);
  const u = spawnSync(bin, ['frobnicate'], { encoding: 'utf8' });
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown command "frobnicate".*--help/);
  const s = spawnSync(bin, ['serve', '--help'], { encoding: 'utf8' });
  assert.equal(s.status, 0);
  assert.match(s.stdout, /--dicom-port/);
  const bad = spawnSync(bin, ['serve', '--http-port', 'abc'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--http-port must be a non-negative integer/);
});

test('serve on port 0 prints the bound ports and answers /health', async () => {
  const data = mkdtempSync(join(tmpdir(), 'dg-serve-'));
  const child = spawn(bin, ['serve', '--data', data, '--http-port', '0', '--dicom-port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`no listening line; got: ${buf}`)), 20000);
      child.stderr.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /listening dicom=\S+ http=\d+/.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${buf}`)));
    });
    const port = Number(/http=(\d+)/.exec(line)![1]);
    assert.ok(port > 0);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string };
    assert.equal(body.status, 'ok');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(data, { recursive: true, force: true });
  }
});
