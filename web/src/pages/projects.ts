// Projects: each de-identification project's options, overrides and pseudonym scheme (GET /projects,
// GET /projects/{project}), and for the broker and admin a dry-run preview on a chosen study
// (POST /projects/{project}/preview): per attribute, before → after, action and reason. The study is
// picked from a search whose criteria travel in a POST body; nothing identifying enters the URL.
import { getJson, postJson } from '../api.ts';
import { clear, errorBox, fmtDate, fmtName, h } from '../dom.ts';
import type { Page } from '../router.ts';
import { wildcard } from '../search-query.ts';
import { currentUser, hasRole } from '../session.ts';

interface ProjectSummary {
  name: string;
  source: string;
  error?: string;
  extends?: string;
  options?: Record<string, boolean>;
  pseudonym?: { idPattern: string; namePattern: string; prefix: string; dateShiftDays: [number, number]; uidRoot: string };
}

interface ProjectDetail extends ProjectSummary {
  overrides?: { tag: string; keyword: string; action: string; value?: string }[];
  privateKeep?: string[];
  unlistedAttributes?: string;
  keepList?: { tag: string; keyword: string }[];
  burnedIn?: { accept: boolean; regionRules: number };
}

interface PreviewRow { path: string; tag: string; keyword: string; before: string | null; after: string | null; action: string; reason: string }
type InstancePreview =
  | { instance: string; sopInstanceUid: string; outcome: 'deidentified'; knownPatient: boolean; attributes: PreviewRow[] }
  | { instance: string; sopInstanceUid: string; outcome: 'quarantined' | 'rejected'; reason: string; detail: string };

interface FoundStudy { ID: string; MainDicomTags: Record<string, string>; PatientMainDicomTags: Record<string, string> }

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const enabled = (o: Record<string, boolean> | undefined) => Object.entries(o ?? {}).filter(([, v]) => v).map(([k]) => k);

/** The broker and admin see original values in the preview (server policy: broker, admin implied). */
export function mayPreview(): boolean {
  return hasRole('broker');
}

function summaryTable(projects: ProjectSummary[], show: (name: string) => void): HTMLElement {
  return h(
    'table',
    { class: 'grid', 'data-testid': 'projects' },
    h('thead', {}, h('tr', {}, ['Project', 'Defined', 'Profile options', 'Pseudonym ID', 'Name', 'Date shift (days)', 'UID root'].map((x) => h('th', { scope: 'col' }, x)))),
    h(
      'tbody',
      {},
      projects.map((p) =>
        p.error !== undefined
          ? h('tr', { class: 'bad' }, h('td', {}, p.name), h('td', {}, p.source), h('td', { colspan: '5' }, `Settings invalid: ${p.error}`))
          : h(
              'tr',
              {},
              h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => show(p.name) }, p.name)),
              h('td', {}, p.source + (p.extends ? ` (extends ${p.extends})` : '')),
              h('td', {}, enabled(p.options).join(', ') || 'basic profile only'),
              h('td', { class: 'mono' }, p.pseudonym?.idPattern ?? ''),
              h('td', { class: 'mono' }, p.pseudonym?.namePattern ?? ''),
              h('td', {}, p.pseudonym ? `${p.pseudonym.dateShiftDays[0]} to ${p.pseudonym.dateShiftDays[1]}` : ''),
              h('td', { class: 'mono' }, p.pseudonym?.uidRoot ?? ''),
            ),
      ),
    ),
  );
}

function detailCard(d: ProjectDetail): HTMLElement {
  const facts: [string, string][] = [
    ['Options on', enabled(d.options).join(', ') || 'none (basic profile)'],
    ['Pseudonym', d.pseudonym ? `ID ${d.pseudonym.idPattern}, name ${d.pseudonym.namePattern}, prefix ${d.pseudonym.prefix}` : ''],
    ['Unlisted attributes', d.unlistedAttributes === 'keep-list' ? `removed unless listed (${d.keepList?.length ?? 0} listed)` : 'kept (as PS3.15 presumes)'],
    ['Private attributes kept', d.privateKeep && d.privateKeep.length > 0 ? d.privateKeep.join(', ') : 'safe-private list only (with the option)'],
    ['Burned-in annotation', d.burnedIn?.accept ? 'accepted' : `quarantined${d.burnedIn && d.burnedIn.regionRules > 0 ? `, ${d.burnedIn.regionRules} pixel region rule(s)` : ''}`],
  ];
  return h(
    'section',
    { class: 'card', 'data-testid': 'project-detail', 'aria-label': `Project ${d.name}` },
    h('h2', {}, `Project ${d.name}`),
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h2', {}, 'Overrides'),
    d.overrides && d.overrides.length > 0
      ? h('table', { class: 'grid small' }, h('thead', {}, h('tr', {}, ['Tag', 'Keyword', 'Action'].map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, d.overrides.map((o) => h('tr', {}, h('td', { class: 'mono' }, o.tag), h('td', {}, o.keyword), h('td', {}, o.value !== undefined ? `replace with "${o.value}"` : o.action)))))
      : h('p', { class: 'muted' }, 'None: the profile decides every attribute.'),
  );
}

function previewTable(inst: InstancePreview, showKept: boolean): HTMLElement {
  if (inst.outcome !== 'deidentified') {
    return h('p', { class: 'error' }, `Instance ${inst.sopInstanceUid}: would be ${inst.outcome} (${inst.reason}: ${inst.detail}).`);
  }
  const rows = inst.attributes.filter((a) => showKept || a.action !== 'kept');
  return h(
    'table',
    { class: 'grid small', 'data-testid': 'preview' },
    h('caption', { class: 'muted' }, `Instance ${inst.sopInstanceUid}${inst.knownPatient ? ' (patient already has a pseudonym)' : ' (new patient: a pseudonym would be created)'}`),
    h('thead', {}, h('tr', {}, ['Tag', 'Attribute', 'Before', 'After', 'Action', 'Reason'].map((x) => h('th', { scope: 'col' }, x)))),
    h(
      'tbody',
      {},
      rows.map((a) =>
        h(
          'tr',
          { 'data-keyword': a.keyword },
          h('td', { class: 'mono' }, a.path),
          h('td', {}, a.keyword),
          h('td', { class: 'mono' }, a.before ?? '—'),
          h('td', { class: 'mono' }, a.after ?? '(removed)'),
          h('td', {}, a.action),
          h('td', {}, a.reason),
        ),
      ),
    ),
  );
}

function previewSection(projects: ProjectSummary[]): HTMLElement {
  const project = h('select', { id: 'pv-project' }, projects.filter((p) => p.error === undefined).map((p) => h('option', { value: p.name }, p.name)));
  const name = h('input', { id: 'pv-name', autocomplete: 'off' });
  const study = h('select', { id: 'pv-study' }, h('option', { value: '' }, 'Search for a study first'));
  const limit = h('input', { id: 'pv-limit', type: 'number', min: '1', max: '50', value: '3' });
  const kept = h('input', { id: 'pv-kept', type: 'checkbox' });
  const out = h('div', { 'aria-live': 'polite' });
  let last: InstancePreview[] = [];

  async function findStudies(): Promise<void> {
    const q: Record<string, string> = {};
    if (name.value.trim()) q.PatientName = wildcard(name.value);
    try {
      const found = await postJson<FoundStudy[]>('/tools/find', { Level: 'Study', Query: q, Expand: true, Limit: 100, CaseSensitive: false });
      clear(study);
      if (found.length === 0) study.append(h('option', { value: '' }, 'No study matches'));
      for (const s of found) {
        const label = [fmtDate(s.MainDicomTags.StudyDate), s.MainDicomTags.StudyDescription, fmtName(s.PatientMainDicomTags.PatientName), s.PatientMainDicomTags.PatientID].filter((x) => x).join(' · ');
        study.append(h('option', { value: s.ID }, label || s.ID));
      }
    } catch (e) {
      clear(out);
      out.append(errorBox(message(e)));
    }
  }

  function draw(): void {
    clear(out);
    out.append(...last.map((i) => previewTable(i, kept.checked)));
  }

  async function run(): Promise<void> {
    clear(out);
    if (study.value === '') {
      out.append(errorBox('Choose a study to preview.'));
      return;
    }
    out.append(h('p', { class: 'muted' }, 'De-identifying a copy in memory…'));
    try {
      const r = await postJson<{ instances: InstancePreview[]; totalInstances: number }>(`/projects/${encodeURIComponent(project.value)}/preview`, { study: study.value, limit: Number(limit.value) || 3 });
      last = r.instances;
      draw();
      out.prepend(h('p', { class: 'muted', 'data-testid': 'preview-count' }, `${r.instances.length} of ${r.totalInstances} instance(s) previewed. Nothing was stored and no pseudonym was created.`));
    } catch (e) {
      clear(out);
      out.append(errorBox(message(e)));
    }
  }

  kept.addEventListener('change', draw);
  const find = h('form', { class: 'search card' },
    h('div', { class: 'field' }, h('label', { for: 'pv-project' }, 'Project'), project),
    h('div', { class: 'field' }, h('label', { for: 'pv-name' }, 'Patient name contains'), name),
    h('div', { class: 'field actions' }, h('button', { type: 'button', onclick: () => void findStudies() }, 'Find studies')),
    h('div', { class: 'field' }, h('label', { for: 'pv-study' }, 'Study'), study),
    h('div', { class: 'field' }, h('label', { for: 'pv-limit' }, 'Instances'), limit),
    h('div', { class: 'field actions' }, h('label', { for: 'pv-kept' }, kept, ' show kept attributes')),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', id: 'pv-run' }, 'Preview de-identification')),
  );
  find.addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  void findStudies();
  return h('section', { 'aria-label': 'Preview' }, h('h2', {}, 'Preview de-identification'), h('p', { class: 'muted' }, 'Shows the original values: visible to the honest broker and administrators only; the preview is recorded in the audit log.'), find, out);
}

export const projectsPage: Page = async (main) => {
  main.append(h('h1', {}, 'Projects'));
  if (currentUser() === null || !hasRole('researcher', 'broker')) {
    main.append(errorBox('Your role cannot read the de-identification projects.'));
    return;
  }
  const detail = h('div', { 'aria-live': 'polite' });
  let projects: ProjectSummary[];
  try {
    projects = (await getJson<{ projects: ProjectSummary[] }>('/projects')).projects;
  } catch (e) {
    main.append(errorBox(message(e)));
    return;
  }
  const show = async (name: string) => {
    clear(detail);
    try {
      detail.append(detailCard(await getJson<ProjectDetail>(`/projects/${encodeURIComponent(name)}`)));
    } catch (e) {
      detail.append(errorBox(message(e)));
    }
  };
  main.append(projects.length === 0 ? h('p', { class: 'muted' }, 'No project is open to you.') : summaryTable(projects, (n) => void show(n)), detail);
  if (mayPreview() && projects.length > 0) main.append(previewSection(projects));
};
