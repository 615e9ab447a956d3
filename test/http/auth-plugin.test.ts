import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildHarness, PASSWORD } from './app-harness.ts';

const basicFor = (user: string, pw: string) => 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');

test('Basic: right password passes, wrong one is 401 with a challenge and audited', async () => {
  const h = await buildHarness();
  try {
    const ok = await h.app.inject({ url: '/auth/me', headers: { authorization: h.basic('researcher') } });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json().roles, ['researcher']);
    const bad = await h.app.inject({ url: '/auth/me', headers: { authorization: basicFor('u-researcher', 'nope nope nope') } });
    assert.equal(bad.statusCode, 401);
    assert.match(String(bad.headers['www-authenticate']), /^Basic realm="dicomgate"/);
    assert.equal(bad.json().error, 'AUTH_REQUIRED');
    const ev = await h.audit.list({ action: 'login' });
    assert.deepEqual(ev.map((e) => [e.actor, e.outcome, e.detail?.via]), [['u-researcher', 'failure', 'basic']]);
  } finally {
    await h.close();
  }
});

test('login rate limit: the 6th try from one address for one name is 429, even with the right password', async () => {
  const h = await buildHarness();
  try {
    for (let i = 0; i < 5; i++) {
      const r = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'u-broker', password: 'wrong password ' + i } });
      assert.equal(r.statusCode, 401);
    }
    const blocked = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'u-broker', password: PASSWORD } });
    assert.equal(blocked.statusCode, 429);
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    const basic = await h.app.inject({ url: '/auth/me', headers: { authorization: h.basic('broker') } });
    assert.equal(basic.statusCode, 429, 'Basic shares the limiter');
    const other = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'u-admin', password: PASSWORD } });
    assert.equal(other.statusCode, 200, 'other names unaffected');
  } finally {
    await h.close();
  }
});

test('bearer tokens: valid passes, revoked and unknown are 401', async () => {
  const h = await buildHarness();
  try {
    const { token, info } = await h.auth.createToken('u-researcher', 'script', 7);
    const ok = await h.app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().via, 'token');
    await h.auth.revokeToken(info.id);
    assert.equal((await h.app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 401);
    assert.equal((await h.app.inject({ url: '/auth/me', headers: { authorization: 'Bearer dg_nothing' } })).statusCode, 401);
  } finally {
    await h.close();
  }
});

test('session cookie: httpOnly + SameSite=Strict, CSRF token required for unsafe methods, logout ends it', async () => {
  const h = await buildHarness();
  try {
    const login = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'u-admin', password: PASSWORD } });
    assert.equal(login.statusCode, 200);
    const setCookie = [login.headers['set-cookie']].flat() as string[];
    const session = setCookie.find((c) => c.startsWith('dicomgate_session='))!;
    const csrfCookie = setCookie.find((c) => c.startsWith('dicomgate_csrf='))!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Strict/);
    assert.doesNotMatch(session, /Secure/, 'plain HTTP in the test; Secure is set over TLS');
    assert.doesNotMatch(csrfCookie, /HttpOnly/, 'the UI reads it');
    const cookie = [session, csrfCookie].map((c) => c.split(';')[0]).join('; ');
    const csrf = login.json().csrfToken as string;
    assert.equal(csrfCookie.split(';')[0], `dicomgate_csrf=${csrf}`);
    const me = await h.app.inject({ url: '/auth/me', headers: { cookie } });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().via, 'session');
    const noCsrf = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal(noCsrf.json().error, 'AUTH_CSRF');
    const wrongCsrf = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, 'x-csrf-token': csrf + 'x' } });
    assert.equal(wrongCsrf.statusCode, 403);
    const out = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, 'x-csrf-token': csrf } });
    assert.equal(out.statusCode, 204);
    const after = await h.app.inject({ url: '/auth/me', headers: { cookie } });
    assert.equal(after.statusCode, 401);
    assert.equal(after.headers['www-authenticate'], undefined, 'no Basic popup for browser sessions');
    const actions = (await h.audit.list({})).map((e) => `${e.action}:${e.outcome}`);
    assert.deepEqual(actions, ['login:success', 'logout:success']);
  } finally {
    await h.close();
  }
});

test('cross-site unsafe requests are refused whatever the credentials (Origin check)', async () => {
  const h = await buildHarness();
  try {
    const r = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: h.basic('admin'), origin: 'https://evil.example' } });
    assert.equal(r.statusCode, 403);
    assert.equal(r.json().error, 'AUTH_CSRF');
    const login = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { origin: 'https://evil.example' }, payload: { username: 'u-admin', password: PASSWORD } });
    assert.equal(login.statusCode, 403);
    const same = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: { authorization: h.basic('admin'), origin: 'http://localhost:80', host: 'localhost:80' } });
    assert.equal(same.statusCode, 204);
  } finally {
    await h.close();
  }
});

test('GET /audit: admins page through events; others get 403, which is itself audited', async () => {
  const h = await buildHarness();
  try {
    await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'u-uploader', password: 'bad bad bad bad' } });
    const denied = await h.app.inject({ url: '/audit', headers: { authorization: h.basic('researcher') } });
    assert.equal(denied.statusCode, 403);
    const r = await h.app.inject({ url: '/audit?limit=10', headers: { authorization: h.basic('admin') } });
    assert.equal(r.statusCode, 200);
    const body = r.json() as { events: { seq: number; action: string; outcome: string; ip: string }[]; next: number };
    assert.deepEqual(body.events.map((e) => `${e.action}:${e.outcome}`), ['login:failure', 'auth.denied:denied']);
    assert.equal(body.events[0].ip, '127.0.0.1');
    assert.equal(body.next, body.events[1].seq);
    const page2 = await h.app.inject({ url: `/audit?since=${body.next}`, headers: { authorization: h.basic('admin') } });
    assert.deepEqual(page2.json().events, []);
    assert.equal((await h.app.inject({ url: '/audit?limit=0', headers: { authorization: h.basic('admin') } })).statusCode, 400);
  } finally {
    await h.close();
  }
});

test('a route without an access policy answers 403 even to admin, and is logged at registration', async () => {
  const h = await buildHarness({
    extra: async (app) => {
      app.get('/forgotten', async () => 'secret');
    },
  });
  try {
    assert.equal((await h.app.inject({ url: '/forgotten' })).statusCode, 401);
    const r = await h.app.inject({ url: '/forgotten', headers: { authorization: h.basic('admin') } });
    assert.equal(r.statusCode, 403);
    assert.ok(h.logs.some((l) => l.includes('declares no access policy') && l.includes('/forgotten')));
  } finally {
    await h.close();
  }
});

test('unknown URLs: 401 without credentials (nothing to probe), 404 with', async () => {
  const h = await buildHarness();
  try {
    assert.equal((await h.app.inject({ url: '/no/such/thing' })).statusCode, 401);
    assert.equal((await h.app.inject({ url: '/no/such/thing', headers: { authorization: h.basic('uploader') } })).statusCode, 404);
  } finally {
    await h.close();
  }
});

test('--dev: no credentials needed, everyone is admin "dev", and a loud warning is logged', async () => {
  const h = await buildHarness({ enabled: false });
  try {
    const r = await h.app.inject({ url: '/auth/me' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json().roles, ['admin']);
    assert.ok(h.logs.some((l) => l.includes('"level":"warn"') && l.includes('AUTHENTICATION IS OFF')));
  } finally {
    await h.close();
  }
});
