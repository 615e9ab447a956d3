// The PostgreSQL auth stores against the local server (schema per test), through the same
// AuthService and AuditLog as SQLite. Skips when PostgreSQL is not reachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PG_URL, schemaFor as schemaName } from '../helpers/pg.ts';
import pg from 'pg';
import { AuditLog } from '../../src/auth/audit-log.ts';
import { AuthService } from '../../src/auth/auth-service.ts';
import { checkAuthReady } from '../../src/auth/bootstrap.ts';
import { PgAuth } from '../../src/auth/postgres/pg-auth.ts';
import { isAppError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/log.ts';

const URL_ = PG_URL;
const PW = 'correct horse battery';

async function schemaFor(name: string): Promise<string | undefined> {
  const schema = schemaName('pg-auth.test.ts', name);
  const c = new pg.Client({ connectionString: URL_ });
  try {
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    return schema;
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
}

test('PostgreSQL: users, tokens, sessions, bootstrap and an append-only audit log', async (t) => {
  const schema = await schemaFor('main');
  if (schema === undefined) return t.skip('PostgreSQL not reachable');
  const store = await PgAuth.open(URL_, schema);
  try {
    const again = await PgAuth.open(URL_, schema);
    await again.close();
    assert.equal((await checkAuthReady(store, {}, { auth: { enabled: true } })).ok, false);
    assert.deepEqual(await checkAuthReady(store, { DICOMGATE_ADMIN_USER: 'root', DICOMGATE_ADMIN_PASSWORD: PW }, { auth: { enabled: true } }), { ok: true, createdAdmin: 'root' });
    const auth = new AuthService({ store });
    const u = await auth.addUser('alice', PW, ['researcher'], ['lung']);
    await assert.rejects(auth.addUser('alice', PW, ['researcher']), (e) => isAppError(e, 'AUTH_USER_EXISTS'));
    assert.deepEqual((await auth.checkPassword('alice', PW))?.projects, ['lung']);
    const { token, info } = await auth.createToken('alice', 'x', 1);
    assert.equal((await auth.authenticateToken(token))?.user.id, u.id);
    const s = await auth.createSession(u);
    assert.ok(await auth.resolveSession(s.sessionId));
    await auth.updateAccess('alice', { roles: ['broker'], disabled: true });
    assert.equal(await auth.checkPassword('alice', PW), undefined);
    await auth.updateAccess('alice', { disabled: false });
    await auth.setPassword('alice', PW + '!');
    assert.equal(await auth.resolveSession(s.sessionId), undefined);
    await auth.revokeToken(info.id);
    assert.equal(await auth.authenticateToken(token), undefined);
    await auth.removeUser('alice');
    assert.deepEqual((await auth.listUsers()).map((x) => x.username), ['root']);
    assert.equal((await store.listTokens()).length, 0);

    const log = new AuditLog({ store, file: null, logger: silentLogger });
    await log.record({ actor: 'root', action: 'login', resource: null, ip: '::1', outcome: 'success', detail: { via: 'basic' } });
    await log.record({ actor: 'root', action: 'download', resource: '1.2', ip: '::1', outcome: 'success' });
    const events = await log.list({ since: 0 });
    assert.deepEqual(events.map((e) => [e.action, e.detail?.via ?? null]), [['login', 'basic'], ['download', null]]);
    assert.deepEqual((await log.list({ since: events[0].seq })).map((e) => e.action), ['download']);
    const c = new pg.Client({ connectionString: URL_ });
    await c.connect();
    try {
      await assert.rejects(c.query(`DELETE FROM ${schema}.audit_log`), /append-only/);
      await assert.rejects(c.query(`UPDATE ${schema}.audit_log SET actor = 'x'`), /append-only/);
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
    } finally {
      await c.end();
    }
  } finally {
    await store.close();
  }
});
