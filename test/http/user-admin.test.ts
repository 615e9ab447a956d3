import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildHarness } from './app-harness.ts';

test('self-service tokens: create (shown once), use, list without the secret, revoke; others cannot revoke it', async () => {
  const h = await buildHarness();
  try {
    const me = { authorization: h.basic('researcher') };
    const made = await h.app.inject({ method: 'POST', url: '/auth/tokens', headers: me, payload: { name: 'pydicer', expiresDays: 7 } });
    assert.equal(made.statusCode, 201);
    const { token, id } = made.json() as { token: string; id: string };
    assert.equal((await h.app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })).json().username, 'u-researcher');
    const list = await h.app.inject({ url: '/auth/tokens', headers: me });
    assert.deepEqual(list.json().map((t: { id: string }) => t.id), [id]);
    assert.ok(!list.body.includes(token.slice(3)));
    assert.equal((await h.app.inject({ method: 'DELETE', url: `/auth/tokens/${id}`, headers: { authorization: h.basic('broker') } })).statusCode, 404);
    assert.equal((await h.app.inject({ method: 'DELETE', url: `/auth/tokens/${id}`, headers: me })).statusCode, 204);
    assert.equal((await h.app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 401);
  } finally {
    await h.close();
  }
});

test('admin user management over HTTP: add, update, reset password, remove (not itself)', async () => {
  const h = await buildHarness();
  try {
    const admin = { authorization: h.basic('admin') };
    const add = await h.app.inject({ method: 'POST', url: '/auth/users', headers: admin, payload: { username: 'carol', password: 'carol password 1', roles: ['researcher'], projects: ['lung'] } });
    assert.equal(add.statusCode, 201);
    assert.equal(add.json().passwordHash, undefined);
    assert.equal((await h.app.inject({ method: 'POST', url: '/auth/users', headers: admin, payload: { username: 'carol', password: 'carol password 1', roles: ['researcher'] } })).statusCode, 409);
    assert.equal((await h.app.inject({ method: 'POST', url: '/auth/users', headers: admin, payload: { username: 'dan', password: 'short', roles: ['researcher'] } })).statusCode, 400);
    assert.equal((await h.app.inject({ method: 'PATCH', url: '/auth/users/carol', headers: admin, payload: { roles: ['broker'] } })).statusCode, 204);
    assert.equal((await h.app.inject({ method: 'PUT', url: '/auth/users/carol/password', headers: admin, payload: { password: 'carol password 2' } })).statusCode, 204);
    const carol = { authorization: 'Basic ' + Buffer.from('carol:carol password 2').toString('base64') };
    assert.deepEqual((await h.app.inject({ url: '/auth/me', headers: carol })).json().roles, ['broker']);
    assert.equal((await h.app.inject({ method: 'DELETE', url: '/auth/users/u-admin', headers: admin })).statusCode, 400);
    assert.equal((await h.app.inject({ method: 'DELETE', url: '/auth/users/carol', headers: admin })).statusCode, 204);
    assert.equal((await h.app.inject({ url: '/auth/me', headers: carol })).statusCode, 401);
    const users = (await h.app.inject({ url: '/auth/users', headers: admin })).json() as { username: string }[];
    assert.ok(!users.some((u) => u.username === 'carol'));
    const actions = (await h.audit.list({ actor: 'u-admin' })).map((e) => e.action);
    assert.deepEqual(actions, ['user.add', 'user.update', 'user.passwd', 'user.remove']);
  } finally {
    await h.close();
  }
});
