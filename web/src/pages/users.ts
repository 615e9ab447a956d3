// Users and API tokens. Admins: list users, add one (roles, project access), change access,
// reset a password, disable/enable, delete, and see or revoke anyone's tokens
// (GET/POST /auth/users, PATCH/DELETE /auth/users/{name}, PUT /auth/users/{name}/password,
// GET /auth/users/{name}/tokens, DELETE /auth/tokens/{id}). Everyone signed in with a password:
// their own tokens (GET/POST /auth/tokens) — the secret is shown once, right after it is made,
// and kept nowhere (not in the page state, not in browser storage).
import { getJson, postJson, request } from '../api.ts';
import { clear, errorBox, h } from '../dom.ts';
import type { Page } from '../router.ts';
import { currentUser, hasRole } from '../session.ts';

export interface UserRow {
  username: string;
  roles: string[];
  projects: string[];
  disabled: boolean;
  createdAt: string;
}
export interface TokenRow {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export const ROLE_NAMES = ['admin', 'broker', 'researcher', 'uploader'] as const;
const ROLE_HINT: Record<string, string> = {
  admin: 'everything, including users and the audit log',
  broker: 'honest broker: pseudonym look-ups, quarantine',
  researcher: 'search, view and download the archive',
  uploader: 'upload and convert files',
};

/** "lung, h&n ,, prostate" → ["lung", "h&n", "prostate"]. */
export function parseProjects(text: string): string[] {
  return [...new Set(text.split(',').map((p) => p.trim()).filter((p) => p !== ''))];
}

const day = (iso: string | null) => (iso === null ? '' : iso.slice(0, 10));

export function tokenState(t: TokenRow, now = Date.now()): string {
  if (t.revokedAt !== null) return `revoked ${day(t.revokedAt)}`;
  if (t.expiresAt !== null && Date.parse(t.expiresAt) <= now) return `expired ${day(t.expiresAt)}`;
  return t.expiresAt === null ? 'active, never expires' : `active until ${day(t.expiresAt)}`;
}

function roleBoxes(prefix: string, checked: string[]): HTMLElement {
  return h(
    'fieldset',
    { class: 'roles' },
    h('legend', {}, 'Roles'),
    ROLE_NAMES.map((r) => h('label', { class: 'check', title: ROLE_HINT[r] }, h('input', { type: 'checkbox', name: 'role', value: r, id: `${prefix}-role-${r}`, checked: checked.includes(r) }), ` ${r}`)),
  );
}
const checkedRoles = (root: Element) => [...root.querySelectorAll<HTMLInputElement>('input[name=role]:checked')].map((i) => i.value);

/** A table of tokens with Revoke buttons; `after` redraws once one is revoked. */
function tokenTable(tokens: TokenRow[], testid: string, status: HTMLElement, after: () => Promise<void>): HTMLElement {
  if (tokens.length === 0) return h('p', { class: 'muted', 'data-testid': testid }, 'No API tokens.');
  return h(
    'table',
    { class: 'grid', 'data-testid': testid },
    h('thead', {}, h('tr', {}, ['Name', 'Created', 'Last used', 'State', ''].map((x) => h('th', { scope: 'col' }, x)))),
    h(
      'tbody',
      {},
      tokens.map((t) =>
        h(
          'tr',
          { class: t.revokedAt !== null ? 'muted' : '' },
          h('td', {}, t.name),
          h('td', {}, day(t.createdAt)),
          h('td', {}, day(t.lastUsedAt) || 'never'),
          h('td', {}, tokenState(t)),
          h(
            'td',
            {},
            t.revokedAt === null
              ? h('button', {
                  type: 'button',
                  class: 'danger small',
                  'aria-label': `Revoke token ${t.name}`,
                  onclick: () =>
                    void (async () => {
                      if (!confirm(`Revoke the token "${t.name}"? Scripts using it stop working at once.`)) return;
                      clear(status);
                      try {
                        await request('DELETE', `/auth/tokens/${encodeURIComponent(t.id)}`);
                        status.append(h('p', { class: 'ok' }, `Token "${t.name}" revoked.`));
                      } catch (e) {
                        status.append(errorBox(e instanceof Error ? e.message : String(e)));
                      }
                      await after();
                    })(),
                }, 'Revoke')
              : null,
          ),
        ),
      ),
    ),
  );
}

function myTokensSection(): HTMLElement {
  const list = h('div', { 'aria-live': 'polite' });
  const status = h('div', { 'aria-live': 'assertive' });
  const name = h('input', { id: 'tok-name', name: 'name', required: true, maxlength: '100', autocomplete: 'off', placeholder: 'e.g. pydicer on my laptop' });
  const days = h('input', { id: 'tok-days', name: 'days', type: 'number', min: '1', max: '3650', value: '90' });
  const form = h(
    'form',
    { class: 'search card', 'data-testid': 'token-form' },
    h('div', { class: 'field' }, h('label', { for: 'tok-name' }, 'Token name'), name),
    h('div', { class: 'field' }, h('label', { for: 'tok-days' }, 'Valid for (days, empty = never expires)'), days),
    h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Create token')),
  );
  async function load(): Promise<void> {
    try {
      const tokens = await getJson<TokenRow[]>('/auth/tokens');
      clear(list);
      list.append(tokenTable(tokens, 'my-tokens', status, load));
    } catch (e) {
      clear(list);
      list.append(errorBox(e instanceof Error ? e.message : String(e)));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clear(status);
    const expiresDays = days.value.trim() === '' ? null : Number(days.value);
    void postJson<TokenRow & { token: string }>('/auth/tokens', { name: name.value.trim(), expiresDays })
      .then(async (t) => {
        const secret = h('input', { readonly: true, value: t.token, 'data-testid': 'token-secret', class: 'mono wide', 'aria-label': 'The new token' });
        secret.addEventListener('focus', () => secret.select());
        status.append(
          h(
            'div',
            { class: 'card notice', role: 'status' },
            h('p', {}, h('strong', {}, `Token "${t.name}" created. Copy it now: it is shown only this once and cannot be recovered.`)),
            secret,
            h('p', { class: 'muted' }, 'Send it as "Authorization: Bearer <token>".'),
          ),
        );
        name.value = '';
        await load();
      })
      .catch((err: unknown) => status.append(errorBox(err instanceof Error ? err.message : String(err))));
  });
  void load();
  return h('section', { 'aria-labelledby': 'my-tokens-h' }, h('h2', { id: 'my-tokens-h' }, 'My API tokens'), h('p', {}, 'Tokens let scripts (PyDicer, dicomweb-client, curl) use the API with your role.'), form, status, list);
}

function usersSection(): HTMLElement {
  const list = h('div', { 'aria-live': 'polite' });
  const status = h('div', { 'aria-live': 'assertive' });
  const panel = h('div', {});
  let selected: string | null = null;

  const uname = h('input', { id: 'u-name', name: 'username', required: true, autocomplete: 'off' });
  const upass = h('input', { id: 'u-pass', name: 'password', type: 'password', required: true, autocomplete: 'new-password' });
  const uproj = h('input', { id: 'u-projects', name: 'projects', autocomplete: 'off', placeholder: 'lung, prostate' });
  const addForm = h(
    'form',
    { class: 'card', 'data-testid': 'add-user' },
    h('h3', {}, 'Add a user'),
    h('div', { class: 'field' }, h('label', { for: 'u-name' }, 'User name'), uname),
    h('div', { class: 'field' }, h('label', { for: 'u-pass' }, 'Initial password'), upass),
    roleBoxes('u', ['researcher']),
    h('div', { class: 'field' }, h('label', { for: 'u-projects' }, 'Projects (comma-separated; admins reach all)'), uproj),
    h('button', { type: 'submit' }, 'Add user'),
  );
  addForm.addEventListener('submit', (e) => {
    e.preventDefault();
    clear(status);
    const roles = checkedRoles(addForm);
    if (roles.length === 0) {
      status.append(errorBox('Choose at least one role.'));
      return;
    }
    void postJson<UserRow>('/auth/users', { username: uname.value.trim(), password: upass.value, roles, projects: parseProjects(uproj.value) })
      .then(async (u) => {
        status.append(h('p', { class: 'ok' }, `User ${u.username} added.`));
        uname.value = '';
        upass.value = '';
        uproj.value = '';
        await load();
      })
      .catch((err: unknown) => status.append(errorBox(err instanceof Error ? err.message : String(err))));
  });

  async function run(what: string, f: () => Promise<unknown>): Promise<void> {
    clear(status);
    try {
      await f();
      status.append(h('p', { class: 'ok', 'data-testid': 'user-result' }, what));
    } catch (e) {
      status.append(errorBox(e instanceof Error ? e.message : String(e)));
    }
    await load();
  }

  async function showPanel(u: UserRow): Promise<void> {
    clear(panel);
    const name = encodeURIComponent(u.username);
    const self = u.username === currentUser()?.username;
    const proj = h('input', { id: 'e-projects', value: u.projects.join(', '), autocomplete: 'off' });
    const access = h('form', { class: 'card', 'data-testid': 'edit-access' }, h('h3', {}, 'Access'), roleBoxes('e', u.roles), h('div', { class: 'field' }, h('label', { for: 'e-projects' }, 'Projects'), proj), h('button', { type: 'submit' }, 'Save access'));
    access.addEventListener('submit', (e) => {
      e.preventDefault();
      const roles = checkedRoles(access);
      if (roles.length === 0) {
        clear(status);
        status.append(errorBox('Choose at least one role.'));
        return;
      }
      void run(`Access of ${u.username} saved.`, () => request('PATCH', `/auth/users/${name}`, { json: { roles, projects: parseProjects(proj.value) } }));
    });
    const pw = h('input', { id: 'e-pass', type: 'password', required: true, autocomplete: 'new-password' });
    const reset = h('form', { class: 'card', 'data-testid': 'reset-password' }, h('h3', {}, 'Reset password'), h('div', { class: 'field' }, h('label', { for: 'e-pass' }, 'New password'), pw), h('button', { type: 'submit' }, 'Set password'));
    reset.addEventListener('submit', (e) => {
      e.preventDefault();
      const password = pw.value;
      pw.value = '';
      void run(`Password of ${u.username} changed.`, () => request('PUT', `/auth/users/${name}/password`, { json: { password } }));
    });
    const tokens = h('div', {});
    const tokenStatus = h('div', { 'aria-live': 'assertive' });
    const loadTokens = async () => {
      try {
        const t = await getJson<TokenRow[]>(`/auth/users/${name}/tokens`);
        clear(tokens);
        tokens.append(tokenTable(t, 'user-tokens', tokenStatus, loadTokens));
      } catch (e) {
        clear(tokens);
        tokens.append(errorBox(e instanceof Error ? e.message : String(e)));
      }
    };
    panel.append(
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'panel-h', 'data-testid': 'user-panel' },
        h('h2', { id: 'panel-h' }, `User ${u.username}`),
        h(
          'div',
          { class: 'buttons' },
          self
            ? h('p', { class: 'muted' }, 'You cannot disable or delete your own account.')
            : [
                h('button', { type: 'button', 'data-testid': 'toggle-disabled', onclick: () => void run(`${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`, () => request('PATCH', `/auth/users/${name}`, { json: { disabled: !u.disabled } })) }, u.disabled ? 'Enable account' : 'Disable account'),
                h('button', {
                  type: 'button',
                  class: 'danger',
                  'data-testid': 'delete-user',
                  onclick: () => {
                    if (!confirm(`Delete the user ${u.username}? Their tokens stop working. The audit log keeps their past actions.`)) return;
                    selected = null;
                    clear(panel);
                    void run(`User ${u.username} deleted.`, () => request('DELETE', `/auth/users/${name}`));
                  },
                }, 'Delete user…'),
              ],
        ),
        access,
        reset,
        h('h3', {}, 'API tokens'),
        tokenStatus,
        tokens,
      ),
    );
    await loadTokens();
  }

  async function load(): Promise<void> {
    let users: UserRow[];
    try {
      users = await getJson<UserRow[]>('/auth/users');
    } catch (e) {
      clear(list);
      list.append(errorBox(e instanceof Error ? e.message : String(e)));
      return;
    }
    users.sort((a, b) => a.username.localeCompare(b.username));
    clear(list);
    list.append(
      h(
        'table',
        { class: 'grid', 'data-testid': 'users' },
        h('thead', {}, h('tr', {}, ['User', 'Roles', 'Projects', 'Account', 'Created', ''].map((x) => h('th', { scope: 'col' }, x)))),
        h(
          'tbody',
          {},
          users.map((u) =>
            h(
              'tr',
              { class: u.disabled ? 'muted' : '', 'data-user': u.username },
              h('td', {}, u.username),
              h('td', {}, u.roles.join(', ')),
              h('td', {}, u.roles.includes('admin') ? 'all' : u.projects.join(', ') || 'none'),
              h('td', {}, u.disabled ? 'disabled' : 'active'),
              h('td', {}, day(u.createdAt)),
              h('td', {}, h('button', { type: 'button', class: 'small', 'aria-label': `Manage ${u.username}`, onclick: () => ((selected = u.username), void showPanel(u)) }, 'Manage')),
            ),
          ),
        ),
      ),
    );
    const again = users.find((u) => u.username === selected);
    if (again) await showPanel(again);
  }
  void load();
  return h('section', { 'aria-labelledby': 'users-h' }, h('h2', { id: 'users-h' }, 'Users'), status, list, panel, addForm);
}

export const usersPage: Page = (main) => {
  main.append(h('h1', {}, hasRole('admin') ? 'Users and tokens' : 'API tokens'));
  // Users and tokens are stored accounts: there are none with authentication off (--dev).
  if (currentUser()?.via === 'dev') {
    main.append(h('p', { class: 'muted' }, 'Authentication is off (--dev): there are no users or tokens.'));
    return;
  }
  if (hasRole('admin')) main.append(usersSection());
  main.append(myTokensSection());
};
