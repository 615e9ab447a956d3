// Sign-in form: POST /auth/login sets the session cookie (httpOnly) and returns the CSRF token.
import { ApiError, postJson, setCsrfToken, type Me } from '../api.ts';
import { errorBox, h } from '../dom.ts';
import type { Page } from '../router.ts';

export function loginPage(done: (me: Me) => Promise<void>): Page {
  return (main) => {
    const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true });
    const pass = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const status = h('div', { 'aria-live': 'assertive' });
    const button = h('button', { type: 'submit' }, 'Sign in');
    const form = h(
      'form',
      { class: 'login card' },
      h('h1', {}, 'Sign in'),
      h('label', { for: 'login-user' }, 'User name'),
      user,
      h('label', { for: 'login-pass' }, 'Password'),
      pass,
      button,
      status,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      button.disabled = true;
      status.replaceChildren();
      postJson<Me & { csrfToken: string }>('/auth/login', { username: user.value, password: pass.value })
        .then(async (me) => {
          setCsrfToken(me.csrfToken);
          await done({ ...me, via: 'session' });
        })
        .catch((err: unknown) => {
          const msg = err instanceof ApiError && err.status === 401 ? 'User name or password is wrong.' : err instanceof Error ? err.message : String(err);
          status.replaceChildren(errorBox(msg));
          pass.value = '';
          pass.focus();
        })
        .finally(() => (button.disabled = false));
    });
    // Single sign-on, when the server is configured for it: a full-page visit to the provider.
    const oidc = document.querySelector<HTMLMetaElement>('meta[name="dicomgate-oidc-login"]')?.content;
    if (oidc !== undefined) form.append(h('p', { class: 'or' }, 'or'), h('a', { class: 'button', href: '/auth/oidc/login', 'data-testid': 'oidc-login' }, `Sign in with ${oidc}`));
    main.append(form);
    user.focus();
  };
}
