import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseProjects, tokenState, usersPage, type UserRow } from '../src/pages/users.ts';
import { setUser } from '../src/session.ts';
import { cell, fakeServer, main, until } from './fake-server.ts';

const users: UserRow[] = [
  { username: 'zoe', roles: ['researcher'], projects: ['lung'], disabled: false, createdAt: '2026-01-02T00:00:00Z' },
  { username: 'root', roles: ['admin'], projects: [], disabled: false, createdAt: '2026-01-01T00:00:00Z' },
  { username: 'old', roles: ['uploader'], projects: [], disabled: true, createdAt: '2025-01-01T00:00:00Z' },
];
const token = { id: 't1', name: 'pydicer', createdAt: '2026-01-03T00:00:00Z', expiresAt: null, revokedAt: null, lastUsedAt: null };

describe('users and tokens page', () => {
  afterEach(() => setUser(null));

  it('parses project lists and says what state a token is in', () => {
    expect(parseProjects(' lung, h&n ,,lung, prostate ')).toEqual(['lung', 'h&n', 'prostate']);
    expect(tokenState({ ...token, expiresAt: '2030-01-01T00:00:00Z' }, Date.parse('2026-06-01'))).toBe('active until 2030-01-01');
    expect(tokenState({ ...token, expiresAt: '2026-01-01T00:00:00Z' }, Date.parse('2026-06-01'))).toBe('expired 2026-01-01');
    expect(tokenState({ ...token, revokedAt: '2026-02-01T00:00:00Z' })).toBe('revoked 2026-02-01');
    expect(tokenState(token)).toBe('active, never expires');
  });

  it('lists users by name with roles, project access and account state; adds a user with roles and projects', async () => {
    setUser({ username: 'root', roles: ['admin'], projects: [], via: 'session', csrfToken: 'c' });
    const sent = fakeServer({
      'GET /auth/users': { json: users },
      'GET /auth/tokens': { json: [] },
      'POST /auth/users': (r) => ({ status: 201, json: { ...(r.body as object), disabled: false, createdAt: '2026-02-02T00:00:00Z' } }),
    });
    const m = main();
    usersPage(m, {});
    const table = await until(() => m.querySelector('[data-testid=users]'), 'users table');
    expect([0, 1, 2].map((i) => cell(table, i, 0))).toEqual(['old', 'root', 'zoe']);
    expect(cell(table, 0, 3)).toBe('disabled');
    expect(cell(table, 1, 2)).toBe('all');
    expect(cell(table, 2, 2)).toBe('lung');

    const form = m.querySelector('[data-testid=add-user]') as HTMLFormElement;
    (form.querySelector('#u-name') as HTMLInputElement).value = ' carol ';
    (form.querySelector('#u-pass') as HTMLInputElement).value = 'a long password';
    (form.querySelector('#u-role-broker') as HTMLInputElement).checked = true;
    (form.querySelector('#u-projects') as HTMLInputElement).value = 'lung, prostate';
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await until(() => sent.some((s) => s.method === 'POST'), 'POST');
    expect(sent.find((s) => s.method === 'POST')!.body).toEqual({ username: 'carol', password: 'a long password', roles: ['broker', 'researcher'], projects: ['lung', 'prostate'] });
    await until(() => m.textContent!.includes('User carol added.'), 'confirmation');
  });

  it('manages one user: access, password, disable, their tokens with revoke; no self-delete', async () => {
    setUser({ username: 'root', roles: ['admin'], projects: [], via: 'session', csrfToken: 'c' });
    vi.stubGlobal('confirm', () => true);
    const sent = fakeServer({
      'GET /auth/users': { json: users },
      'GET /auth/tokens': { json: [] },
      'GET /auth/users/zoe/tokens': { json: [token] },
      'GET /auth/users/root/tokens': { json: [] },
      'PATCH /auth/users/zoe': { status: 204 },
      'PUT /auth/users/zoe/password': { status: 204 },
      'DELETE /auth/tokens/t1': { status: 204 },
    });
    const m = main();
    usersPage(m, {});
    await until(() => m.querySelector('[data-user=zoe] button'), 'manage button');
    (m.querySelector('[data-user=zoe] button') as HTMLButtonElement).click();
    const tokens = await until(() => m.querySelector('[data-testid=user-tokens]'), 'tokens');
    expect(cell(tokens, 0, 0)).toBe('pydicer');
    expect(cell(tokens, 0, 2)).toBe('never');

    const access = m.querySelector('[data-testid=edit-access]') as HTMLFormElement;
    (access.querySelector('#e-role-uploader') as HTMLInputElement).checked = true;
    (access.querySelector('#e-projects') as HTMLInputElement).value = 'lung,breast';
    access.dispatchEvent(new Event('submit', { cancelable: true }));
    await until(() => sent.some((s) => s.method === 'PATCH'), 'PATCH');
    expect(sent.find((s) => s.method === 'PATCH')!.body).toEqual({ roles: ['researcher', 'uploader'], projects: ['lung', 'breast'] });

    await until(() => m.querySelector('[data-testid=reset-password]'), 'panel again');
    const reset = m.querySelector('[data-testid=reset-password]') as HTMLFormElement;
    (reset.querySelector('#e-pass') as HTMLInputElement).value = 'new long password';
    reset.dispatchEvent(new Event('submit', { cancelable: true }));
    await until(() => sent.some((s) => s.method === 'PUT'), 'PUT');
    expect(sent.find((s) => s.method === 'PUT')).toMatchObject({ path: '/auth/users/zoe/password', body: { password: 'new long password' } });

    await until(() => m.querySelector('[data-testid=toggle-disabled]'), 'disable button');
    (m.querySelector('[data-testid=toggle-disabled]') as HTMLButtonElement).click();
    await until(() => sent.filter((s) => s.method === 'PATCH').length === 2, 'second PATCH');
    expect(sent.filter((s) => s.method === 'PATCH')[1].body).toEqual({ disabled: true });

    await until(() => m.querySelector('[data-testid=user-tokens] button'), 'revoke');
    (m.querySelector('[data-testid=user-tokens] button') as HTMLButtonElement).click();
    await until(() => sent.some((s) => s.method === 'DELETE'), 'DELETE');
    expect(sent.find((s) => s.method === 'DELETE')!.path).toBe('/auth/tokens/t1');

    (m.querySelector('[data-user=root] button') as HTMLButtonElement).click();
    await until(() => m.querySelector('[data-testid=user-panel] h2')?.textContent === 'User root', 'own panel');
    expect(m.querySelector('[data-testid=delete-user]')).toBeNull();
  });

  it('a researcher gets only their own tokens; a new token is shown once and then gone from the page', async () => {
    setUser({ username: 'zoe', roles: ['researcher'], projects: [], via: 'session', csrfToken: 'c' });
    let list: unknown[] = [];
    const sent = fakeServer({
      'GET /auth/tokens': () => ({ json: list }),
      'POST /auth/tokens': () => ((list = [token]), { status: 201, json: { ...token, token: 'dgt_secret123' } }),
    });
    const m = main();
    usersPage(m, {});
    await until(() => m.querySelector('[data-testid=my-tokens]'), 'token list');
    expect(m.querySelector('[data-testid=users]')).toBeNull();
    expect(sent.some((s) => s.path === '/auth/users')).toBe(false);
    (m.querySelector('#tok-name') as HTMLInputElement).value = 'pydicer';
    (m.querySelector('#tok-days') as HTMLInputElement).value = '';
    m.querySelector<HTMLFormElement>('[data-testid=token-form]')!.dispatchEvent(new Event('submit', { cancelable: true }));
    const secret = await until(() => m.querySelector<HTMLInputElement>('[data-testid=token-secret]'), 'secret');
    expect(secret.value).toBe('dgt_secret123');
    expect(sent.find((s) => s.method === 'POST')!.body).toEqual({ name: 'pydicer', expiresDays: null });
    await until(() => m.querySelector('[data-testid=my-tokens] tbody'), 'new list');
    // Reopening the page: the list has no secret.
    const m2 = main();
    usersPage(m2, {});
    await until(() => m2.querySelector('[data-testid=my-tokens] tbody'), 'list');
    expect(m2.innerHTML).not.toContain('dgt_secret123');
  });
});
