import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AuditLog } from '../../src/auth/audit-log.ts';
import { LoginRateLimiter } from '../../src/auth/login-rate-limiter.ts';
import { openSqliteAuth } from '../../src/auth/open-sqlite-auth.ts';
import { silentLogger } from '../../src/core/log.ts';

test('audit events go to the table and the JSON-lines file, and the table refuses edits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-audit-'));
  try {
    const file = join(dir, 'index.sqlite');
    const auth = openSqliteAuth(file);
    const log = new AuditLog({ store: auth.audit, file: join(dir, 'audit.log'), logger: silentLogger });
    await log.record({ actor: 'alice', action: 'login', resource: null, ip: '127.0.0.1', outcome: 'success' });
    await log.record({ actor: 'alice', action: 'download', resource: '1.2.3', ip: '127.0.0.1', outcome: 'success', detail: { route: '/x' } });
    const rows = await log.list({});
    assert.deepEqual(rows.map((r) => [r.seq, r.action, r.resource]), [[1, 'login', null], [2, 'download', '1.2.3']]);
    assert.deepEqual(rows[1].detail, { route: '/x' });
    assert.deepEqual((await log.list({ since: 1 })).map((r) => r.seq), [2]);
    assert.deepEqual((await log.list({ action: 'login' })).map((r) => r.seq), [1]);
    const lines = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.seq, l.actor, l.action]), [[1, 'alice', 'login'], [2, 'alice', 'download']]);
    auth.close();
    const raw = new Database(file);
    assert.throws(() => raw.prepare('DELETE FROM audit_log').run(), /append-only/);
    assert.throws(() => raw.prepare("UPDATE audit_log SET actor = 'x'").run(), /append-only/);
    raw.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('login limiter: refuses after 5 failures per address and name, until the window ends', () => {
  let now = 0;
  const lim = new LoginRateLimiter({ maxFailures: 5, windowSeconds: 60, now: () => now });
  const k = LoginRateLimiter.key('10.0.0.1', 'Alice');
  for (let i = 0; i < 5; i++) {
    assert.ok(lim.check(k).allowed);
    lim.fail(k);
  }
  assert.deepEqual(lim.check(k), { allowed: false, retryAfterSeconds: 60 });
  assert.ok(lim.check(LoginRateLimiter.key('10.0.0.2', 'alice')).allowed, 'other address unaffected');
  assert.ok(!lim.check(LoginRateLimiter.key('10.0.0.1', 'alice')).allowed, 'names compare case-insensitively');
  now = 60_000;
  assert.ok(lim.check(k).allowed);
  const small = new LoginRateLimiter({ maxKeys: 3, now: () => now });
  for (let i = 0; i < 10; i++) small.fail(`k${i}`);
  assert.ok(small.check('k9').allowed, 'one failure only');
});
