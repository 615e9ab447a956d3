// Jobs: GET /jobs?expand (Orthanc's shape), refreshed every 2 s while the page is open.
import { ApiError, getJson } from '../api.ts';
import { clear, errorBox, h } from '../dom.ts';
import type { Page } from '../router.ts';

interface Job {
  ID: string;
  Type: string;
  State: string;
  Progress: number;
  CreationTime: string | null;
  CompletionTime: string | null;
  ErrorDescription: string;
  ErrorDetails: string;
}

const when = (t: string | null) => (t === null ? '' : t.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}).*$/, '$1-$2-$3 $4:$5:$6'));

export const jobsPage: Page = (main) => {
  const body = h('div', { 'aria-live': 'polite' });
  main.append(h('h1', {}, 'Jobs'), body);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  async function tick(): Promise<void> {
    try {
      const jobs = await getJson<Job[]>('/jobs?expand');
      clear(body);
      if (jobs.length === 0) body.append(h('p', { class: 'muted' }, 'No jobs since the server started.'));
      else
        body.append(
          h(
            'table',
            { class: 'grid', 'data-testid': 'jobs' },
            h('thead', {}, h('tr', {}, ['Type', 'State', 'Progress', 'Started', 'Finished', 'Problem'].map((x) => h('th', { scope: 'col' }, x)))),
            h(
              'tbody',
              {},
              jobs
                .sort((a, b) => (b.CreationTime ?? '').localeCompare(a.CreationTime ?? ''))
                .map((j) =>
                  h('tr', { class: j.State === 'Failure' ? 'bad' : '' }, h('td', {}, j.Type), h('td', {}, j.State), h('td', {}, h('progress', { max: '100', value: String(j.Progress) }), ` ${j.Progress} %`), h('td', {}, when(j.CreationTime)), h('td', {}, when(j.CompletionTime)), h('td', {}, j.State === 'Failure' ? `${j.ErrorDescription} ${j.ErrorDetails}` : '')),
                ),
            ),
          ),
        );
    } catch (e) {
      clear(body);
      body.append(errorBox(e instanceof ApiError && e.status === 404 ? 'This server runs no background jobs (the job list is not enabled).' : e instanceof Error ? e.message : String(e)));
      return;
    }
    if (!stopped) timer = setTimeout(() => void tick(), 2000);
  }
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
};
