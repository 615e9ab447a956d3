// OIDC login against a fake provider on a loopback port (discovery, JWKS, token endpoint with an
// RS256 ID token signed here), driving the browser's redirects by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rolesFromClaims } from '../../src/http/auth/oidc-routes.ts';
import { buildHarness, PASSWORD } from './app-harness.ts';

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

async function fakeProvider(claims: () => Record<string, unknown>): Promise<{ issuer: string; nonce: { value: string }; close(): Promise<void> }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const nonce = { value: '' };
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const json = (o: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(o));
    };
    if (req.url === '/.well-known/openid-configuration') {
      return json({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'], code_challenge_methods_supported: ['S256'] });
    }
    if (req.url === '/jwks') return json({ keys: [jwk] });
    if (req.url === '/token' && req.method === 'POST') {
      req.resume();
      req.on('end', () => {
        const now = Math.floor(Date.now() / 1000);
        const header = b64u(JSON.stringify({ alg: 'RS256', kid: 'k1', typ: 'JWT' }));
        const payload = b64u(JSON.stringify({ iss: issuer, aud: 'dicomgate', sub: 'u-1', iat: now, exp: now + 300, nonce: nonce.value, ...claims() }));
        const sig = b64u(sign('sha256', Buffer.from(`${header}.${payload}`), privateKey));
        json({ access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: `${header}.${payload}.${sig}` });
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, nonce, close: () => new Promise((r) => server.close(() => r())) };
}

test('roles come from the configured claim, prefixed values only', () => {
  const s = { rolesClaim: 'realm_access.roles', rolePrefix: 'dicomgate-' };
  assert.deepEqual(rolesFromClaims({ realm_access: { roles: ['offline_access', 'dicomgate-researcher', 'dicomgate-root', 'dicomgate-researcher'] } }, s), ['researcher']);
  assert.deepEqual(rolesFromClaims({}, s), []);
});

test('OIDC: login redirects with PKCE/state/nonce; callback checks the ID token, provisions the user, opens a session', async () => {
  let claims: Record<string, unknown> = { preferred_username: 'kc-alice', realm_access: { roles: ['dicomgate-researcher'] }, dicomgate_projects: ['lung'] };
  const idp = await fakeProvider(() => claims);
  const h = await buildHarness({
    oidc: {
      issuer: idp.issuer,
      clientId: 'dicomgate',
      clientSecret: 'secret',
      redirectUri: 'http://localhost/auth/oidc/callback',
      rolesClaim: 'realm_access.roles',
      rolePrefix: 'dicomgate-',
      projectsClaim: 'dicomgate_projects',
      usernameClaim: 'preferred_username',
      afterLogin: '/ui/',
      allowInsecureIssuer: true,
    },
  });
  try {
    const login = await h.app.inject({ url: '/auth/oidc/login' });
    assert.equal(login.statusCode, 302);
    const to = new URL(String(login.headers.location));
    assert.equal(to.origin + to.pathname, `${idp.issuer}/auth`);
    assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
    const state = to.searchParams.get('state')!;
    idp.nonce.value = to.searchParams.get('nonce')!;
    const cb = await h.app.inject({ url: `/auth/oidc/callback?code=abc&state=${state}` });
    assert.equal(cb.statusCode, 302, cb.body);
    assert.equal(cb.headers.location, '/ui/');
    const cookie = ([cb.headers['set-cookie']].flat() as string[]).map((c) => c.split(';')[0]).join('; ');
    const me = (await h.app.inject({ url: '/auth/me', headers: { cookie } })).json();
    assert.deepEqual([me.username, me.roles, me.projects, me.via], ['kc-alice', ['researcher'], ['lung'], 'session']);
    assert.equal((await h.app.inject({ url: `/auth/oidc/callback?code=abc&state=${state}` })).statusCode, 401, 'state is single use');

    // A wrong nonce (replayed ID token) is refused.
    const again = new URL(String((await h.app.inject({ url: '/auth/oidc/login' })).headers.location));
    idp.nonce.value = 'not-the-nonce';
    assert.equal((await h.app.inject({ url: `/auth/oidc/callback?code=abc&state=${again.searchParams.get('state')}` })).statusCode, 401);

    // No dicomgate role: refused; a local password account is never taken over.
    claims = { preferred_username: 'kc-bob', realm_access: { roles: ['other'] } };
    const r3 = new URL(String((await h.app.inject({ url: '/auth/oidc/login' })).headers.location));
    idp.nonce.value = r3.searchParams.get('nonce')!;
    assert.equal((await h.app.inject({ url: `/auth/oidc/callback?code=abc&state=${r3.searchParams.get('state')}` })).statusCode, 403);
    claims = { preferred_username: 'u-admin', realm_access: { roles: ['dicomgate-admin'] } };
    const r4 = new URL(String((await h.app.inject({ url: '/auth/oidc/login' })).headers.location));
    idp.nonce.value = r4.searchParams.get('nonce')!;
    assert.equal((await h.app.inject({ url: `/auth/oidc/callback?code=abc&state=${r4.searchParams.get('state')}` })).statusCode, 403);
    assert.ok(await h.auth.checkPassword('u-admin', PASSWORD), 'local admin unchanged');
    const outcomes = (await h.audit.list({ action: 'login' })).map((e) => `${e.outcome}:${e.detail?.via}`);
    assert.deepEqual(outcomes, ['success:oidc', 'failure:oidc', 'denied:oidc']);
  } finally {
    await h.close();
    await idp.close();
  }
});
