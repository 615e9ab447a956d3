import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthService, canAccessProject } from '../../src/auth/auth-service.ts';
import { checkAuthReady } from '../../src/auth/bootstrap.ts';
import { openSqliteAuth } from '../../src/auth/open-sqlite-auth.ts';
import { isAppError } from '../../src/core/errors.ts';
import { allows, excludedRoles, parseRoles } from '../../src/auth/roles.ts';

const PW = 'correct horse battery';

function setup(now?: () => Date) {
  const db = openSqliteAuth(':memory:', now ? { now } : {});
  const auth = new AuthService({ store: db.users, ...(now ? { now } : {}) });
  return { db, auth };
}

test('passwords are stored as argon2id and verified', async () => {
  const { db, auth } = setup();
  const u = await auth.addUser('alice', PW, ['researcher'], ['lung']);
  assert.deepEqual(u.roles, ['researcher']);
  const stored = await db.users.getUser('alice');
  assert.match(stored!.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.ok(!stored!.passwordHash.includes(PW));
  assert.equal((await auth.checkPassword('alice', PW))?.username, 'alice');
  assert.equal(await auth.checkPassword('alice', PW + 'x'), undefined);
  assert.equal(await auth.checkPassword('nobody', PW), undefined);
  db.close();
});

test('user rules: duplicate names, short passwords, bad names and roles are refused', async () => {
  const { db, auth } = setup();
  await auth.addUser('bob', PW, ['uploader']);
  await assert.rejects(auth.addUser('bob', PW, ['uploader']), (e) => isAppError(e, 'AUTH_USER_EXISTS'));
  await assert.rejects(auth.addUser('carol', 'short', ['uploader']), (e) => isAppError(e, 'AUTH_INVALID'));
  await assert.rejects(auth.addUser('bad name', PW, ['uploader']), (e) => isAppError(e, 'AUTH_INVALID'));
  await assert.rejects(auth.addUser('dave', PW, []), (e) => isAppError(e, 'AUTH_INVALID'));
  assert.throws(() => parseRoles(['root']), (e) => isAppError(e, 'AUTH_INVALID'));
  assert.deepEqual(parseRoles(['researcher,broker', 'researcher']), ['researcher', 'broker']);
  db.close();
});

test('password change invalidates old password and sessions; disabled users cannot log in', async () => {
  const { db, auth } = setup();
  const u = await auth.addUser('erin', PW, ['researcher']);
  const s = await auth.createSession(u);
  assert.ok(await auth.resolveSession(s.sessionId));
  await auth.setPassword('erin', PW + ' new');
  assert.equal(await auth.resolveSession(s.sessionId), undefined);
  assert.equal(await auth.checkBasic('erin', PW), undefined);
  assert.ok(await auth.checkBasic('erin', PW + ' new'));
  await auth.updateAccess('erin', { disabled: true });
  assert.equal(await auth.checkBasic('erin', PW + ' new'), undefined, 'cache must not outlive disabling');
  db.close();
});

test('API tokens: hashed at rest, revocable, expiring', async () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const { db, auth } = setup(() => now);
  await auth.addUser('frank', PW, ['researcher']);
  const { token, info } = await auth.createToken('frank', 'laptop', 30);
  assert.match(token, /^dg_[A-Za-z0-9_-]{43}$/);
  assert.equal(info.expiresAt, '2026-01-31T00:00:00.000Z');
  const all = (await db.users.listTokens()).map((t) => JSON.stringify(t));
  assert.ok(!all.some((t) => t.includes(token.slice(3))), 'plain token never stored');
  assert.equal((await auth.authenticateToken(token))?.user.username, 'frank');
  assert.equal(await auth.authenticateToken(token + 'x'), undefined);
  now = new Date('2026-02-01T00:00:00Z');
  assert.equal(await auth.authenticateToken(token), undefined, 'expired');
  const second = await auth.createToken('frank', 'ci', null);
  assert.ok(await auth.authenticateToken(second.token));
  await auth.revokeToken(second.info.id);
  assert.equal(await auth.authenticateToken(second.token), undefined, 'revoked');
  await assert.rejects(auth.revokeToken(second.info.id), (e) => isAppError(e, 'AUTH_USER_UNKNOWN'));
  await assert.rejects(auth.createToken('frank', 'x', 0), (e) => isAppError(e, 'AUTH_INVALID'));
  db.close();
});

test('removing a user removes its tokens and sessions', async () => {
  const { db, auth } = setup();
  const u = await auth.addUser('gina', PW, ['broker']);
  const { token } = await auth.createToken('gina', 't', 1);
  const s = await auth.createSession(u);
  await auth.removeUser('gina');
  assert.equal(await auth.authenticateToken(token), undefined);
  assert.equal(await auth.resolveSession(s.sessionId), undefined);
  assert.equal((await db.users.listTokens()).length, 0);
  db.close();
});

test('roles: admin reaches every declared policy; exclusions are the other roles', () => {
  assert.ok(allows('researcher', ['admin']));
  assert.ok(allows(['researcher', 'broker'], ['broker']));
  assert.ok(!allows('researcher', ['uploader']));
  assert.ok(allows('authenticated', ['uploader']));
  assert.deepEqual(excludedRoles('researcher'), ['broker', 'uploader']);
  assert.ok(canAccessProject({ roles: ['researcher'], projects: ['lung'] }, 'lung'));
  assert.ok(!canAccessProject({ roles: ['researcher'], projects: ['lung'] }, 'brain'));
  assert.ok(canAccessProject({ roles: ['admin'], projects: [] }, 'brain'));
});

test('checkAuthReady: refuses with no user and says how to create one; bootstraps the admin once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-auth-'));
  try {
    const { db } = setup();
    const cfg = { auth: { enabled: true } };
    const r = await checkAuthReady(db.users, {}, cfg);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /dicomgate users add/);
    assert.deepEqual(await checkAuthReady(db.users, {}, { auth: { enabled: false } }), { ok: true, createdAdmin: null });
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, PW + '\n');
    const env = { DICOMGATE_ADMIN_USER: 'root', DICOMGATE_ADMIN_PASSWORD_FILE: pwFile };
    assert.deepEqual(await checkAuthReady(db.users, env, cfg), { ok: true, createdAdmin: 'root' });
    const auth = new AuthService({ store: db.users });
    assert.deepEqual((await auth.checkPassword('root', PW))?.roles, ['admin'], 'trailing newline of the secret file dropped');
    writeFileSync(pwFile, 'another password here\n');
    assert.deepEqual(await checkAuthReady(db.users, env, cfg), { ok: true, createdAdmin: null }, 'never recreated or reset');
    assert.ok(await auth.checkPassword('root', PW));
    const short = await checkAuthReady(setup().db.users, { DICOMGATE_ADMIN_USER: 'root', DICOMGATE_ADMIN_PASSWORD: 'x' }, cfg);
    assert.equal(short.ok, false);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the auth tables live beside other tables in one file and survive reopening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dg-auth-'));
  try {
    const file = join(dir, 'index.sqlite');
    const a = openSqliteAuth(file);
    a.close();
    const b = openSqliteAuth(file);
    b.close();
    assert.ok(readFileSync(file).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
