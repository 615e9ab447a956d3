// Audit log (admin): GET /audit, oldest first, paged by sequence number; filters by actor/action.
import { getJson } from '../api.ts';
import { clear, errorBox, h } from '../dom.ts';
import type { Page } from '../router.ts';
import { hasRole } from '../session.ts';

interface AuditEvent {
  seq: number;
  at?: string;
  time?: string;
  actor: string | null;
  action: string;
  resource: string | null;
  ip: string | null;
  outcome: string;
  detail?: unknown;
}

const PAGE = 100;

export const auditPage: Page = (main) => {
  main.append(h('h1', {}, 'Audit log'));
  if (!hasRole('admin')) {
    main.append(errorBox('Only administrators can read the audit log.'));
    return;
  }
  const actor = h('input', { id: 'a-actor', name: 'actor', autocomplete: 'off' });
  const action = h('input', { id: 'a-action', name: 'action', autocomplete: 'off', placeholder: 'login, download, upload, delete…' });
  const form = h('form', { class: 'search card' }, h('div', { class: 'field' }, h('label', { for: 'a-actor' }, 'User'), actor), h('div', { class: 'field' }, h('label', { for: 'a-action' }, 'Action'), action), h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Show')));
  const out = h('div', { 'aria-live': 'polite' });
  main.append(form, out);
  const pages: number[] = [0];

  async function load(): Promise<void> {
    const since = pages[pages.length - 1];
    const q = new URLSearchParams({ since: String(since), limit: String(PAGE) });
    if (actor.value.trim()) q.set('actor', actor.value.trim());
    if (action.value.trim()) q.set('action', action.value.trim());
    try {
      const r = await getJson<{ events: AuditEvent[]; next: number }>(`/audit?${q}`);
      clear(out);
      out.append(
        h(
          'table',
          { class: 'grid small', 'data-testid': 'audit' },
          h('thead', {}, h('tr', {}, ['#', 'Time', 'User', 'Action', 'Resource', 'Outcome', 'From', 'Detail'].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', {}, r.events.map((e) => h('tr', { class: e.outcome === 'success' ? '' : 'bad' }, h('td', { class: 'num' }, e.seq), h('td', {}, (e.at ?? e.time ?? '').replace('T', ' ').slice(0, 19)), h('td', {}, e.actor ?? ''), h('td', {}, e.action), h('td', { class: 'mono' }, e.resource ?? ''), h('td', {}, e.outcome), h('td', {}, e.ip ?? ''), h('td', { class: 'mono' }, e.detail === undefined ? '' : JSON.stringify(e.detail))))),
        ),
        h(
          'div',
          { class: 'pager' },
          h('button', { type: 'button', disabled: pages.length === 1, onclick: () => (pages.pop(), void load()) }, '← Earlier'),
          h('button', { type: 'button', disabled: r.events.length < PAGE, onclick: () => (pages.push(r.next), void load()) }, 'Later →'),
        ),
      );
    } catch (e) {
      clear(out);
      out.append(errorBox(e instanceof Error ? e.message : String(e)));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    pages.length = 1;
    void load();
  });
  void load();
};
