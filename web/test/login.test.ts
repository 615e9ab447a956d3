import { afterEach, describe, expect, it, vi } from 'vitest';
import { loginPage } from '../src/pages/login.ts';
import { postJson, setCsrfToken } from '../src/api.ts';
import { fakeServer, main, until } from './fake-server.ts';

function fill(m: HTMLElement, user: string, pass: string): void {
  (m.querySelector('#login-user') as HTMLInputElement).value = user;
  (m.querySelector('#login-pass') as HTMLInputElement).value = pass;
  m.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
}

describe('sign-in form', () => {
  afterEach(() => {
    setCsrfToken(null);
    document.head.querySelectorAll('meta').forEach((m) => m.remove());
  });

  it('posts the name and password in the body and hands the user on, marked as a session login', async () => {
    const sent = fakeServer({ 'POST /auth/login': { json: { username: 'ada', roles: ['researcher'], projects: [], via: 'password', csrfToken: 'tok-1' } } });
    const done = vi.fn(async () => undefined);
    const m = main();
    await loginPage(done)(m, {});
    fill(m, 'ada', 's3cret');
    await until(() => done.mock.calls.length > 0, 'done');
    expect(sent[0]).toMatchObject({ method: 'POST', path: '/auth/login', body: { username: 'ada', password: 's3cret' }, credentials: 'same-origin' });
    expect(done.mock.calls[0]).toEqual([expect.objectContaining({ username: 'ada', via: 'session' })]);
    // The CSRF token from the answer goes on the next write.
    const later = fakeServer({ 'POST /x': { json: {} } });
    await postJson('/x', {});
    expect(later[0].headers['X-CSRF-Token']).toBe('tok-1');
  });

  it('says the name or password is wrong on 401, clears the password and keeps the name', async () => {
    fakeServer({ 'POST /auth/login': { status: 401, json: { error: 'AUTH_INVALID', message: 'bad credentials' } } });
    const done = vi.fn(async () => undefined);
    const m = main();
    await loginPage(done)(m, {});
    fill(m, 'ada', 'nope');
    const alert = await until(() => m.querySelector('[role=alert]'), 'alert');
    expect(alert.textContent).toBe('User name or password is wrong.');
    expect((m.querySelector('#login-pass') as HTMLInputElement).value).toBe('');
    expect((m.querySelector('#login-user') as HTMLInputElement).value).toBe('ada');
    expect(done).not.toHaveBeenCalled();
    expect((m.querySelector('button[type=submit]') as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows the single sign-on link only when the server announces it', async () => {
    fakeServer({});
    let m = main();
    await loginPage(async () => undefined)(m, {});
    expect(m.querySelector('[data-testid=oidc-login]')).toBeNull();
    const meta = document.createElement('meta');
    meta.name = 'dicomgate-oidc-login';
    meta.content = 'Example Hospital';
    document.head.append(meta);
    m = main();
    await loginPage(async () => undefined)(m, {});
    const a = m.querySelector('[data-testid=oidc-login]') as HTMLAnchorElement;
    expect(a.getAttribute('href')).toBe('/auth/oidc/login');
    expect(a.textContent).toBe('Sign in with Example Hospital');
  });
});
