import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticateWith } from '../../src/dimse-server/user-identity.ts';

test('user identity: passcode by password, token by API token, username alone refused', async () => {
  const user = { id: 'u1' } as never;
  const check = authenticateWith({
    checkBasic: async (u: string, p: string) => (u === 'alice' && p === 'secret' ? user : undefined),
    authenticateToken: async (t: string) => (t === 'tok' ? ({ user, token: {} } as never) : undefined),
  });
  assert.equal(await check({ type: 2, primary: 'alice', secondary: 'secret' }), true);
  assert.equal(await check({ type: 2, primary: 'alice', secondary: 'nope' }), false);
  assert.equal(await check({ type: 5, primary: 'tok', secondary: '' }), true);
  assert.equal(await check({ type: 5, primary: 'bad', secondary: '' }), false);
  assert.equal(await check({ type: 1, primary: 'alice', secondary: '' }), false);
  assert.equal(await check({ type: 4, primary: '<saml/>', secondary: '' }), false);
});
