// Jobs: GET /jobs?expand (Orthanc's shape), refreshed every 2 s while the page is open. Admins get
// Cancel / Pause / Resume / Retry (POST /jobs/{id}/cancel|pause|resume|resubmit), and the route
// destinations (GET /routes, admin only: it says where data goes) with a Test button each
// (POST /routes/{name}/test), and their dead letters (GET /routes/{name}/dead-letters) with Retry
// (POST /routes/{name}/dead-letters/{id}/retry) and Retry all.
import { ApiError, getJson, request } from '../api.ts';
import { clear, errorBox, h } from '../dom.ts';
import { ACTION_LABEL, KIND_LABEL, actionsFor, attempts, count, destinationOf, itemCount, lastProblem, problem, testVerdict, when, type Job, type JobAction, type RouteStatus, type RouteTestResult } from '../jobs-view.ts';
import type { Page } from '../router.ts';
import { hasRole } from '../session.ts';

interface View {
  jobs: Job[];
  /** null: not an admin, or a server without route destinations. */
  routes: RouteStatus[] | null;
  dead: Job[];
}

const path = (name: string) => `/routes/${encodeURIComponent(name)}`;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const jobsPage: Page = (main) => {
  const status = h('div', { 'aria-live': 'assertive' });
  const body = h('div', { 'aria-live': 'polite' });
  main.append(h('h1', {}, 'Jobs'), status, body);
  const admin = hasRole('admin');
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let last = '';

  /** Runs one admin action, says what happened in the status line, then redraws at once. */
  async function perform(run: () => Promise<string>, failed: (e: unknown) => string): Promise<void> {
    clear(status);
    try {
      status.append(h('p', { class: 'ok', 'data-testid': 'job-action-result' }, await run()));
    } catch (e) {
      const box = errorBox(failed(e));
      box.setAttribute('data-testid', 'job-action-result');
      status.append(box);
    }
    last = '';
    clearTimeout(timer);
    await tick();
  }

  const refused = (e: unknown) => e instanceof ApiError && (e.status === 409 || e.code === 'JOB_STATE');

  const act = (j: Job, action: JobAction) =>
    perform(
      async () => (await request('POST', `/jobs/${encodeURIComponent(j.ID)}/${action}`), `${ACTION_LABEL[action]}: done for job ${j.ID}.`),
      (e) => (refused(e) ? `Job ${j.ID} cannot be ${action === 'resubmit' ? 'retried' : `${action}ed`} in its present state (${j.State}).` : message(e)),
    );

  const retry = (name: string, j: Job) =>
    perform(
      async () => (await request('POST', `${path(name)}/dead-letters/${encodeURIComponent(j.ID)}/retry`), `Retry: job ${j.ID} is queued again for ${name}.`),
      (e) => (refused(e) ? `Job ${j.ID} is no longer a dead letter (someone retried it already).` : message(e)),
    );

  const retryAll = (name: string) =>
    perform(async () => {
      const r = (await (await request('POST', `${path(name)}/dead-letters/retry-all`)).json()) as { Retried: number };
      return `Retry all: ${r.Retried} dead letter${r.Retried === 1 ? '' : 's'} of ${name} queued again.`;
    }, message);

  async function testRoute(name: string): Promise<void> {
    clear(status);
    status.append(h('p', { class: 'muted', 'data-testid': 'route-test-result' }, `Testing ${name}…`));
    try {
      const t = (await (await request('POST', `${path(name)}/test`)).json()) as RouteTestResult;
      clear(status);
      if (t.ok) status.append(h('p', { class: 'ok', 'data-testid': 'route-test-result' }, testVerdict(t)));
      else {
        const box = errorBox(testVerdict(t));
        box.setAttribute('data-testid', 'route-test-result');
        status.append(box);
      }
    } catch (e) {
      clear(status);
      status.append(errorBox(`The test of ${name} could not run: ${message(e)}`));
    }
  }

  const buttons = (j: Job) =>
    admin ? actionsFor(j).map((a) => h('button', { type: 'button', class: a === 'cancel' ? 'danger small' : 'small', 'data-action': a, 'aria-label': `${ACTION_LABEL[a]} job ${j.ID}`, onclick: () => void act(j, a) }, ACTION_LABEL[a])) : [];

  const small = (label: string, aria: string, action: string, onclick: () => void) => h('button', { type: 'button', class: 'small', 'data-action': action, 'aria-label': aria, onclick }, label);

  function drawRoutes(routes: RouteStatus[], dead: Job[]): void {
    body.append(
      h('h2', {}, 'Destinations'),
      h(
        'table',
        { class: 'grid', 'data-testid': 'destinations' },
        h('thead', {}, h('tr', {}, ['Destination', 'Kind', 'Sends to', 'Waiting', 'Sending', 'Dead letters', 'Last problem', ''].map((x) => h('th', { scope: 'col' }, x)))),
        h(
          'tbody',
          {},
          routes.map((r) =>
            h(
              'tr',
              { class: r.deadLetters > 0 ? 'bad' : '', 'data-destination': r.name },
              h('td', {}, r.name),
              h('td', {}, KIND_LABEL[r.kind] ?? r.kind),
              h('td', {}, r.target),
              h('td', { class: 'num' }, count(r, r.waiting)),
              h('td', { class: 'num' }, count(r, r.sending)),
              h('td', { class: 'num', 'data-testid': 'dead-count' }, count(r, r.deadLetters)),
              h('td', {}, lastProblem(r)),
              h(
                'td',
                {},
                small('Test', `Test destination ${r.name}`, 'test', () => void testRoute(r.name)),
                r.deadLetters > 0 ? small('Retry all', `Retry every dead letter of ${r.name}`, 'retry-all', () => void retryAll(r.name)) : null,
              ),
            ),
          ),
        ),
      ),
      h('h2', {}, `Dead letters (${dead.length})`),
      dead.length === 0
        ? h('p', { class: 'muted' }, 'Nothing is waiting for a retry by hand.')
        : h(
            'table',
            { class: 'grid', 'data-testid': 'dead-letters' },
            h('thead', {}, h('tr', {}, ['Job', 'Destination', 'Items', 'Attempts', 'Failed', 'Problem', ''].map((x) => h('th', { scope: 'col' }, x)))),
            h(
              'tbody',
              {},
              dead.map((j) => {
                const name = destinationOf(j.Type) ?? '';
                return h('tr', { class: 'bad', 'data-dead-letter': j.ID }, h('td', {}, j.ID), h('td', {}, name), h('td', { class: 'num' }, itemCount(j) ?? ''), h('td', {}, attempts(j)), h('td', {}, when(j.CompletionTime)), h('td', {}, problem(j)), h('td', {}, small('Retry', `Retry dead letter ${j.ID} to ${name}`, 'retry', () => void retry(name, j))));
              }),
            ),
          ),
    );
  }

  function draw(v: View): void {
    clear(body);
    const jobs = [...v.jobs];
    if (v.routes !== null && v.routes.length > 0) drawRoutes(v.routes, v.dead);
    if (jobs.length === 0) {
      body.append(h('p', { class: 'muted' }, 'No jobs since the server started.'));
      return;
    }
    jobs.sort((a, b) => (b.CreationTime ?? '').localeCompare(a.CreationTime ?? ''));
    body.append(
      h('h2', {}, 'All jobs'),
      h(
        'table',
        { class: 'grid', 'data-testid': 'jobs' },
        h('thead', {}, h('tr', {}, ['Job', 'Type', 'State', 'Progress', 'Started', 'Finished', 'Problem', admin ? 'Actions' : null].filter((x) => x !== null).map((x) => h('th', { scope: 'col' }, x)))),
        h(
          'tbody',
          {},
          jobs.map((j) =>
            h(
              'tr',
              { class: j.State === 'Failure' ? 'bad' : '', 'data-job': j.ID },
              h('td', {}, j.ID.length > 12 ? `${j.ID.slice(0, 8)}…` : j.ID),
              h('td', {}, j.Type),
              h('td', { 'data-testid': 'job-state' }, j.State),
              h('td', {}, h('progress', { max: '100', value: String(j.Progress) }), ` ${j.Progress} %`),
              h('td', {}, when(j.CreationTime)),
              h('td', {}, when(j.CompletionTime)),
              h('td', {}, j.State === 'Failure' || j.State === 'Retry' ? problem(j) : ''),
              admin ? h('td', {}, buttons(j)) : null,
            ),
          ),
        ),
      ),
    );
  }

  async function load(): Promise<View> {
    const [jobs, routes] = await Promise.all([
      getJson<Job[]>('/jobs?expand'),
      // A server without route destinations has no /routes (404): the page shows jobs only.
      admin ? getJson<RouteStatus[]>('/routes').catch((e: unknown) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))) : Promise.resolve(null),
    ]);
    const withDead = (routes ?? []).filter((r) => r.deadLetters > 0);
    const dead = (await Promise.all(withDead.map((r) => getJson<Job[]>(`${path(r.name)}/dead-letters`)))).flat();
    return { jobs, routes, dead };
  }

  let generation = 0;
  async function tick(): Promise<void> {
    // An action calls tick at once; a poll still in flight then stops rather than run a second loop.
    const mine = ++generation;
    try {
      const v = await load();
      if (mine !== generation) return;
      // Redrawn only when something changed, so a button is not replaced under the pointer.
      const text = JSON.stringify(v);
      if (text !== last) {
        last = text;
        draw(v);
      }
    } catch (e) {
      clear(body);
      last = '';
      body.append(errorBox(e instanceof ApiError && e.status === 404 ? 'This server runs no background jobs (the job list is not enabled).' : e instanceof Error ? e.message : String(e)));
      return;
    }
    if (!stopped && mine === generation) timer = setTimeout(() => void tick(), 2000);
  }
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
};
