// Honest broker (role broker only; administrators are not brokers unless given the role): pseudonym
// ↔ original lookups, the patient list of a project, mapping export/import (CSV or CTP lookup table)
// and the quarantine (download, release, delete). Originals go to the server in POST bodies only and
// are shown, never kept: nothing here enters the URL or browser storage, and every answer is no-store.
import { ApiError, getJson, postJson, request } from '../api.ts';
import { append, clear, errorBox, fmtDate, h } from '../dom.ts';
import { BASE, type Page } from '../router.ts';
import { currentUser } from '../session.ts';

interface Patient { pseudonym: string; pseudonymousName: string; originalPatientId: string; originalIssuer: string; dateShiftDays: number; createdAt: string }
interface StudyRef { id: string; tags: Record<string, string | null> }
interface QuarantineNote { id: string; project: string; reason: string; detail: string; receivedAt: string; transport: string; callingAe?: string; calledAe?: string }

const PAGE = 50;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const path = (project: string, rest: string) => `/broker/projects/${encodeURIComponent(project)}/${rest}`;

/** Saves a response body as a file through a temporary object URL (no data in any page URL). */
async function download(url: string, fallbackName: string): Promise<void> {
  const res = await request('GET', url);
  const disposition = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  const href = URL.createObjectURL(await res.blob());
  const a = h('a', { href, download: disposition?.[1] ?? fallbackName });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

function patientRow(p: Patient, onDelete: (p: Patient) => void): HTMLElement {
  return h(
    'tr',
    {},
    h('td', { class: 'mono' }, p.pseudonym),
    h('td', { class: 'mono' }, p.pseudonymousName),
    h('td', { class: 'mono' }, p.originalPatientId),
    h('td', { class: 'mono' }, p.originalIssuer),
    h('td', { class: 'num' }, p.dateShiftDays),
    h('td', {}, p.createdAt.replace('T', ' ').slice(0, 19)),
    h('td', {}, h('button', { type: 'button', class: 'danger', onclick: () => onDelete(p) }, 'Delete keys')),
  );
}

function lookupSection(project: () => string): HTMLElement {
  const pseudonym = h('input', { id: 'b-pseudonym', autocomplete: 'off' });
  const original = h('input', { id: 'b-original', autocomplete: 'off' });
  const issuer = h('input', { id: 'b-issuer', autocomplete: 'off' });
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'lookup-result' });
  async function look(body: Record<string, string>): Promise<void> {
    clear(out);
    try {
      const r = await postJson<{ patient: Patient; studies?: StudyRef[] }>(path(project(), 'lookup'), body);
      const p = r.patient;
      const studies = r.studies ?? [];
      out.append(h('dl', { class: 'facts card' }, [
        h('dt', {}, 'Pseudonym'), h('dd', { class: 'mono', 'data-testid': 'found-pseudonym' }, p.pseudonym),
        h('dt', {}, 'Pseudonymous name'), h('dd', { class: 'mono' }, p.pseudonymousName),
        h('dt', {}, 'Original patient ID'), h('dd', { class: 'mono', 'data-testid': 'found-original' }, p.originalPatientId),
        h('dt', {}, 'Issuer of patient ID'), h('dd', { class: 'mono' }, p.originalIssuer || '(none)'),
        h('dt', {}, 'Date shift'), h('dd', {}, `${p.dateShiftDays} days`),
        h('dt', {}, 'Studies in the archive'),
        h('dd', { 'data-testid': 'found-studies' }, studies.length === 0 ? 'none' : h('ul', { class: 'plain' }, studies.map((s) =>
          h('li', {}, h('a', { href: `${BASE}studies/${s.id}` }, [fmtDate(s.tags.StudyDate ?? undefined), s.tags.StudyDescription, s.tags.ModalitiesInStudy?.replace(/\\/g, ', ')].filter((x) => x).join(' · ') || s.id))))),
      ]));
    } catch (e) {
      out.append(errorBox(e instanceof ApiError && e.status === 404 ? 'No patient with this key in the project.' : message(e)));
    }
  }
  const byPseudonym = h('form', { class: 'search card', id: 'b-by-pseudonym' },
    h('div', { class: 'field' }, h('label', { for: 'b-pseudonym' }, 'Pseudonym'), pseudonym),
    h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Find original')));
  const byOriginal = h('form', { class: 'search card', id: 'b-by-original' },
    h('div', { class: 'field' }, h('label', { for: 'b-original' }, 'Original patient ID'), original),
    h('div', { class: 'field' }, h('label', { for: 'b-issuer' }, 'Issuer (optional)'), issuer),
    h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Find pseudonym')));
  byPseudonym.addEventListener('submit', (e) => {
    e.preventDefault();
    if (pseudonym.value.trim()) void look({ pseudonym: pseudonym.value.trim() });
  });
  byOriginal.addEventListener('submit', (e) => {
    e.preventDefault();
    if (original.value.trim()) void look({ patientId: original.value.trim(), issuer: issuer.value.trim() });
  });
  return h('section', { 'aria-label': 'Lookup' }, h('h2', {}, 'Look up'), h('div', { class: 'buttons' }, byPseudonym, byOriginal), out);
}

function patientsSection(project: () => string): { el: HTMLElement; load: () => Promise<void> } {
  const q = h('input', { id: 'b-q', autocomplete: 'off' });
  const out = h('div', { 'aria-live': 'polite' });
  let offset = 0;
  async function remove(p: Patient): Promise<void> {
    if (!confirm(`Delete every key of pseudonym ${p.pseudonym} (pseudonym, date shift, UID map)? New objects of this patient would get a new pseudonym.`)) return;
    try {
      await request('DELETE', path(project(), `patients/${encodeURIComponent(p.pseudonym)}`));
      await load();
    } catch (e) {
      out.prepend(errorBox(message(e)));
    }
  }
  async function load(): Promise<void> {
    clear(out);
    try {
      const r = await postJson<{ total: number; patients: Patient[] }>(path(project(), 'patients/search'), { q: q.value.trim(), offset, limit: PAGE });
      append(out, [
        h('p', { class: 'muted', 'data-testid': 'patient-count' }, r.total === 0 ? 'No patient.' : `Patients ${offset + 1}–${offset + r.patients.length} of ${r.total}`),
        r.patients.length === 0 ? null : h('table', { class: 'grid small', 'data-testid': 'patients' },
          h('thead', {}, h('tr', {}, ['Pseudonym', 'Pseudonymous name', 'Original patient ID', 'Issuer', 'Date shift', 'Created', ''].map((x) => h('th', { scope: 'col' }, x)))),
          h('tbody', {}, r.patients.map((p) => patientRow(p, (x) => void remove(x))))),
        h('div', { class: 'pager' },
          h('button', { type: 'button', disabled: offset === 0, onclick: () => ((offset = Math.max(0, offset - PAGE)), void load()) }, '← Previous'),
          h('button', { type: 'button', disabled: offset + PAGE >= r.total, onclick: () => ((offset += PAGE), void load()) }, 'Next →')),
      ]);
    } catch (e) {
      out.append(errorBox(message(e)));
    }
  }
  const form = h('form', { class: 'search card' },
    h('div', { class: 'field' }, h('label', { for: 'b-q' }, 'Patient ID or pseudonym contains'), q),
    h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Show patients')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    offset = 0;
    void load();
  });
  return { el: h('section', { 'aria-label': 'Patients' }, h('h2', {}, 'Patients'), form, out), load };
}

function exchangeSection(project: () => string, reload: () => Promise<void>): HTMLElement {
  const file = h('input', { id: 'b-file', type: 'file', accept: '.csv,.txt,.properties,text/csv,text/plain' });
  const format = h('select', { id: 'b-format' }, h('option', { value: '' }, 'Detect'), h('option', { value: 'csv' }, 'Mapping CSV'), h('option', { value: 'ctp' }, 'CTP lookup table'));
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'import-result' });
  async function importFile(): Promise<void> {
    clear(out);
    const f = file.files?.[0];
    if (!f) {
      out.append(errorBox('Choose a file to import.'));
      return;
    }
    try {
      const q = format.value ? `?format=${format.value}` : '';
      const res = await request('POST', path(project(), `import${q}`), { body: await f.text(), headers: { 'Content-Type': 'text/plain' } });
      const r = (await res.json()) as { imported: number; unchanged: number; conflicts: number };
      out.append(h('p', { class: r.conflicts > 0 ? 'error' : 'ok' }, `Imported ${r.imported}, unchanged ${r.unchanged}, conflicts ${r.conflicts} (existing mappings are never overwritten).`));
      await reload();
    } catch (e) {
      out.append(errorBox(message(e)));
    }
  }
  return h('section', { 'aria-label': 'Export and import' }, h('h2', {}, 'Export and import the mapping'),
    h('form', { class: 'search card', onsubmit: (e: Event) => e.preventDefault() },
      h('div', { class: 'field actions' }, h('button', { type: 'button', id: 'b-export', onclick: () => void download(path(project(), 'export'), 'keys.csv').catch((e: unknown) => out.append(errorBox(message(e)))) }, 'Export CSV')),
      h('div', { class: 'field' }, h('label', { for: 'b-file' }, 'Mapping file'), file),
      h('div', { class: 'field' }, h('label', { for: 'b-format' }, 'Format'), format),
      h('div', { class: 'field actions' }, h('button', { type: 'button', id: 'b-import', onclick: () => void importFile() }, 'Import'))),
    out);
}

function quarantineSection(): { el: HTMLElement; load: () => Promise<void> } {
  const out = h('div', { 'aria-live': 'polite' });
  async function act(run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
      await load();
    } catch (e) {
      out.prepend(errorBox(message(e)));
    }
  }
  function row(n: QuarantineNote): HTMLElement {
    const accept = h('input', { type: 'checkbox', id: `acc-${n.id}` });
    return h('tr', { 'data-id': n.id },
      h('td', {}, n.receivedAt.replace('T', ' ').slice(0, 19)),
      h('td', {}, n.project),
      h('td', {}, n.reason),
      h('td', { class: 'small' }, n.detail),
      h('td', {}, [n.transport, n.callingAe].filter((x) => x).join(' from ')),
      h('td', {},
        h('div', { class: 'buttons' },
          h('button', { type: 'button', onclick: () => void download(`/broker/quarantine/${n.id}/file`, `${n.id}.dcm`).catch((e: unknown) => out.prepend(errorBox(message(e)))) }, 'Download original'),
          h('label', { for: `acc-${n.id}` }, accept, ' burned-in text checked'),
          h('button', { type: 'button', class: 'primary', onclick: () => void act(() => postJson(`/broker/quarantine/${n.id}/release`, { project: n.project, ...(accept.checked ? { acceptBurnedIn: true } : {}) })) }, 'Release'),
          h('button', { type: 'button', class: 'danger', onclick: () => void (confirm('Delete this quarantined original for good?') && act(() => request('DELETE', `/broker/quarantine/${n.id}`))) }, 'Delete'))),
    );
  }
  async function load(): Promise<void> {
    clear(out);
    try {
      const r = await getJson<{ items: QuarantineNote[] }>('/broker/quarantine');
      out.append(r.items.length === 0
        ? h('p', { class: 'muted', 'data-testid': 'quarantine-empty' }, 'The quarantine is empty.')
        : h('table', { class: 'grid small', 'data-testid': 'quarantine' },
            h('thead', {}, h('tr', {}, ['Received', 'Project', 'Reason', 'Detail', 'From', ''].map((x) => h('th', { scope: 'col' }, x)))),
            h('tbody', {}, r.items.map(row))));
    } catch (e) {
      out.append(errorBox(message(e)));
    }
  }
  return { el: h('section', { 'aria-label': 'Quarantine' }, h('h2', {}, 'Quarantine'), out), load };
}

export const brokerPage: Page = async (main) => {
  main.append(h('h1', {}, 'Honest broker'));
  // Server policy: the broker role itself; admin is not implied (src/http/broker/broker-deps.ts).
  const me = currentUser();
  if (me === null || !(me.roles.includes('broker') || me.via === 'dev')) {
    main.append(errorBox('Only the honest broker can use this page.'));
    return;
  }
  main.append(h('p', { class: 'card', role: 'note', 'data-testid': 'audit-note' }, 'Every action on this page (lookups, lists, exports, imports, deletions, quarantine releases) is recorded in the audit log with your user name.'));
  let projects: string[];
  try {
    projects = (await getJson<{ projects: { name: string; error?: string }[] }>('/projects')).projects.filter((p) => p.error === undefined).map((p) => p.name);
  } catch (e) {
    main.append(errorBox(message(e)));
    return;
  }
  if (projects.length === 0) {
    main.append(h('p', { class: 'muted' }, 'No project is open to you.'));
    return;
  }
  const select = h('select', { id: 'b-project' }, projects.map((p) => h('option', { value: p }, p)));
  const project = () => select.value;
  const patients = patientsSection(project);
  const quarantine = quarantineSection();
  select.addEventListener('change', () => void patients.load());
  main.append(
    h('form', { class: 'search card', onsubmit: (e: Event) => e.preventDefault() }, h('div', { class: 'field' }, h('label', { for: 'b-project' }, 'Project'), select)),
    lookupSection(project),
    patients.el,
    exchangeSection(project, patients.load),
    quarantine.el,
  );
  await Promise.all([patients.load(), quarantine.load()]);
};
