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

function serve(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(bin, ['serve', '--http-port', '0', '--dicom-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const ports = new Promise<{ http: number; dicom: number }>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no listening line; got: ${buf}`)), 30000);
    child.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening dicom=(\d+) http=(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ dicom: Number(m[1]), http: Number(m[2]) });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${buf}`));
    });
  });
  ports.catch(() => undefined);
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  };
  return { child, ports, stop };
}

test('serve --dev on port 0 prints the bound ports, answers /health and the REST API without login', async () => {
  const data = mkdtempSync(join(tmpdir(), 'dg-serve-'));
  const s = serve(['--data', data, '--dev']);
  try {
    const { http, dicom } = await s.ports;
    assert.ok(http > 0 && dicom > 0);
    const res = await fetch(`http://127.0.0.1:${http}/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string };
    assert.equal(body.status, 'ok');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await fetch(`http://127.0.0.1:${http}/patients`)).status, 200);
  } finally {
    await s.stop();
    rmSync(data, { recursive: true, force: true });
  }
});

test('serve with authentication on refuses to start without a user and says how to create one', async () => {
  const data = mkdtempSync(join(tmpdir(), 'dg-serve-noauth-'));
  const r = spawnSync(bin, ['serve', '--data', data, '--http-port', '0', '--dicom-port', '0', '--host', '127.0.0.1'], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /users add|DICOMGATE_ADMIN_USER/);
  rmSync(data, { recursive: true, force: true });
});

test('first start creates the admin from the environment; the API then needs credentials', async () => {
  const data = mkdtempSync(join(tmpdir(), 'dg-serve-auth-'));
  const s = serve(['--data', data, '--host', '127.0.0.1'], { DICOMGATE_ADMIN_USER: 'admin', DICOMGATE_ADMIN_PASSWORD: 'correct horse battery' });
  try {
    const { http } = await s.ports;
    assert.equal((await fetch(`http://127.0.0.1:${http}/health`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${http}/patients`)).status, 401);
    const basic = 'Basic ' + Buffer.from('admin:correct horse battery').toString('base64');
    assert.equal((await fetch(`http://127.0.0.1:${http}/patients`, { headers: { authorization: basic } })).status, 200);
    const wrong = 'Basic ' + Buffer.from('admin:wrong').toString('base64');
    assert.equal((await fetch(`http://127.0.0.1:${http}/patients`, { headers: { authorization: wrong } })).status, 401);
  } finally {
    await s.stop();
    rmSync(data, { recursive: true, force: true });
  }
});
