import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAuth } from '../../src/auth/open-auth.ts';
import { silentLogger } from '../../src/core/log.ts';

test('openAuth: not ready without users; first start creates the admin from the environment and audits it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dg-openauth-'));
  try {
    const empty = await openAuth({ dataDir, enabled: true, env: {}, logger: silentLogger });
    assert.equal(empty.readiness.ok, false);
    await empty.close();
    const dev = await openAuth({ dataDir, enabled: false, env: {}, logger: silentLogger });
    assert.equal(dev.readiness.ok, true);
    assert.equal(dev.service, null);
    await dev.close();
    const env = { DICOMGATE_ADMIN_USER: 'root', DICOMGATE_ADMIN_PASSWORD: 'bootstrap password 1' };
    const rt = await openAuth({ dataDir, enabled: true, env, logger: silentLogger });
    assert.deepEqual(rt.readiness, { ok: true, createdAdmin: 'root' });
    assert.ok(await rt.service!.checkPassword('root', 'bootstrap password 1'));
    await rt.close();
    const line = JSON.parse(readFileSync(join(dataDir, 'audit.log'), 'utf8').trim());
    assert.equal(line.action, 'user.add');
    assert.equal(line.resource, 'root');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
