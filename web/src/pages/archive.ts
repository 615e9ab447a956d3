// Study search: POST /tools/find at study level (criteria travel in the request body, never in a
// URL), server-side paging with Limit/Since and server-side sorting (OrderBy) by a column header, so
// every page follows the same order over the whole archive.
import { postJson } from '../api.ts';
import { clear, errorBox, fmtDate, fmtName, h } from '../dom.ts';
import { BASE, type Page } from '../router.ts';
import { findQuery, type Criteria } from '../search-query.ts';

export interface OrthancStudy {
  ID: string;
  MainDicomTags: Record<string, string>;
  PatientMainDicomTags: Record<string, string>;
  Series: string[];
  RequestedTags?: Record<string, string | null>;
}

const PAGE_SIZE = 50;
const MODALITIES = ['', 'CT', 'MR', 'PT', 'RTSTRUCT', 'RTPLAN', 'RTDOSE', 'RTIMAGE', 'REG', 'SR', 'US', 'NM', 'CR', 'DX', 'OT'];

type SortKey = 'name' | 'id' | 'date' | 'description' | 'accession';

// Kept in memory for the Back button; gone on reload (no browser storage for PHI).
const state: { criteria: Criteria; offset: number; sort: SortKey; desc: boolean } = {
  criteria: { name: '', id: '', from: '', to: '', modality: '', description: '', accession: '' },
  offset: 0,
  sort: 'date',
  desc: true,
};

// Indexed main tags only (the server refuses others); ModalitiesInStudy is computed, so its column
// does not sort. Names compare as stored (byte order: upper case before lower case).
const SORT_TAGS: Record<SortKey, string[]> = {
  name: ['PatientName'],
  id: ['PatientID'],
  date: ['StudyDate', 'StudyTime'],
  description: ['StudyDescription'],
  accession: ['AccessionNumber'],
};

/** Orthanc's OrderBy for a column (pure; tested in web/test). */
export function orderBy(sort: SortKey, desc: boolean): { Type: 'DicomTag'; Key: string; Direction: 'ASC' | 'DESC' }[] {
  return SORT_TAGS[sort].map((Key) => ({ Type: 'DicomTag', Key, Direction: desc ? 'DESC' : 'ASC' }));
}

export const archivePage: Page = (main) => {
  const c = state.criteria;
  const input = (key: keyof Criteria, label: string, type = 'text') =>
    h('div', { class: 'field' }, h('label', { for: `q-${key}` }, label), h('input', { id: `q-${key}`, name: key, type, value: c[key], autocomplete: 'off' }));
  const modality = h('select', { id: 'q-modality', name: 'modality' }, MODALITIES.map((m) => h('option', { value: m, selected: m === c.modality }, m === '' ? 'Any' : m)));
  const form = h(
    'form',
    { class: 'search card', role: 'search' },
    input('name', 'Patient name'),
    input('id', 'Patient ID'),
    input('from', 'Study date from', 'date'),
    input('to', 'to', 'date'),
    h('div', { class: 'field' }, h('label', { for: 'q-modality' }, 'Modality'), modality),
    input('description', 'Study description'),
    input('accession', 'Accession number'),
    h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Search'), h('button', { type: 'reset' }, 'Clear')),
  );
  const results = h('section', { 'aria-label': 'Results', 'aria-live': 'polite' });
  main.append(h('h1', {}, 'Archive'), form, results);

  let rows: OrthancStudy[] = [];
  let hasMore = false;
  // The table is redrawn after a sort; keyboard users keep their place on the header they pressed.
  let refocus: SortKey | undefined;

  function read(): void {
    const f = new FormData(form);
    for (const k of Object.keys(c) as (keyof Criteria)[]) c[k] = String(f.get(k) ?? '');
  }

  async function search(): Promise<void> {
    clear(results);
    results.append(h('p', { class: 'muted' }, 'Searching…'));
    const t0 = performance.now();
    try {
      const found = await postJson<OrthancStudy[]>('/tools/find', {
        Level: 'Study',
        Query: findQuery(c),
        Expand: true,
        Limit: PAGE_SIZE + 1,
        Since: state.offset,
        CaseSensitive: false,
        RequestedTags: ['ModalitiesInStudy'],
        OrderBy: orderBy(state.sort, state.desc),
      });
      hasMore = found.length > PAGE_SIZE;
      rows = found.slice(0, PAGE_SIZE);
      draw(Math.round(performance.now() - t0));
    } catch (e) {
      clear(results);
      results.append(errorBox(e instanceof Error ? e.message : String(e)));
    }
  }

  function header(k: SortKey, label: string): HTMLElement {
    const active = state.sort === k;
    return h(
      'th',
      { scope: 'col', 'aria-sort': active ? (state.desc ? 'descending' : 'ascending') : 'none' },
      h('button', {
        type: 'button',
        class: 'sort',
        'data-sort': k,
        onclick: () => {
          refocus = k;
          // A new order starts again at the first page: offsets of the old order mean nothing in it.
          state.desc = active ? !state.desc : false;
          state.sort = k;
          state.offset = 0;
          void search();
        },
      }, label, active ? (state.desc ? ' ▼' : ' ▲') : ''),
    );
  }

  function draw(ms?: number): void {
    clear(results);
    const from = state.offset + 1;
    const to = state.offset + rows.length;
    results.append(
      h('p', { class: 'muted', 'data-testid': 'result-count' }, rows.length === 0 ? 'No studies match.' : `Studies ${from}–${to}${hasMore ? ' (more available)' : ''}`, ms !== undefined ? ` · ${ms} ms` : ''),
    );
    if (rows.length === 0) return;
    results.append(
      h(
        'table',
        { class: 'grid', 'data-testid': 'studies' },
        h('thead', {}, h('tr', {}, header('name', 'Patient name'), header('id', 'Patient ID'), header('date', 'Study date'), header('description', 'Description'), h('th', { scope: 'col' }, 'Modalities'), header('accession', 'Accession'), h('th', { scope: 'col' }, 'Series'))),
        h(
          'tbody',
          {},
          rows.map((s) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: `${BASE}studies/${s.ID}` }, fmtName(s.PatientMainDicomTags.PatientName) || '(no name)')),
              h('td', {}, s.PatientMainDicomTags.PatientID ?? ''),
              h('td', {}, fmtDate(s.MainDicomTags.StudyDate)),
              h('td', {}, s.MainDicomTags.StudyDescription ?? ''),
              h('td', {}, (s.RequestedTags?.ModalitiesInStudy ?? '').replace(/\\/g, ', ')),
              h('td', {}, s.MainDicomTags.AccessionNumber ?? ''),
              h('td', { class: 'num' }, s.Series.length),
            ),
          ),
        ),
      ),
      h(
        'div',
        { class: 'pager' },
        h('button', { type: 'button', disabled: state.offset === 0, onclick: () => ((state.offset = Math.max(0, state.offset - PAGE_SIZE)), void search()) }, '← Previous'),
        h('button', { type: 'button', disabled: !hasMore, onclick: () => ((state.offset += PAGE_SIZE), void search()) }, 'Next →'),
      ),
    );
    if (refocus !== undefined) (results.querySelector(`[data-sort=${refocus}]`) as HTMLButtonElement | null)?.focus();
    refocus = undefined;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    read();
    state.offset = 0;
    void search();
  });
  form.addEventListener('reset', (e) => {
    // The inputs were drawn with the remembered values as defaults; clear them for real.
    e.preventDefault();
    form.querySelectorAll('input, select').forEach((el) => ((el as HTMLInputElement).value = ''));
    read();
    state.offset = 0;
    void search();
  });
  (form.querySelector('input') as HTMLInputElement).focus();
  void search();
};
