import { afterEach, describe, expect, it } from 'vitest';
import { jobsPage } from '../src/pages/jobs.ts';
import { actionsFor, testVerdict, type Job, type RouteStatus } from '../src/jobs-view.ts';
import { setUser } from '../src/session.ts';
import { setCsrfToken } from '../src/api.ts';
import { cell, fakeServer, main, until } from './fake-server.ts';

const job = (ID: string, Type: string, State: string, extra: Partial<Job> = {}): Job => ({
  ID, Type, State, Progress: State === 'Success' ? 100 : 30, CreationTime: `20260101T10000${ID.length > 1 ? 0 : ID}.000`, CompletionTime: null, ErrorDescription: 'Success', ...extra,
});
const me = (roles: string[]) => setUser({ username: 'u', roles, projects: [], via: 'session', csrfToken: 't' });

const DEAD = job('2', 'route:pacs2', 'Failure', { ErrorDescription: 'The destination refused the association', ErrorDetails: 'ROUTE_SEND: peer PACS2 rejected', CompletionTime: '20260101T120000.000', Content: { destination: 'pacs2', items: ['a', 'b'], Attempts: 40, MaxAttempts: 40 } });
const JOBS = [
  job('1', 'route:pacs2', 'Success', { CompletionTime: '20260101T110000.000' }),
  DEAD,
  job('3', 'route:xnat', 'Paused'),
  job('4', 'stable-study', 'Running'),
  job('f1e2d3c4-aaaa-bbbb-cccc-000000000000', 'Anonymization', 'Running', { CreationTime: '20260101T130000.000' }),
];
const route = (name: string, extra: Partial<RouteStatus> = {}): RouteStatus => ({ name, kind: 'dicom', target: `${name.toUpperCase()}@pacs:104`, source: 'destinations', waiting: 0, sending: 0, deadLetters: 0, countsCapped: false, lastError: null, ...extra });
const ROUTES = [
  route('pacs2', { deadLetters: 1, lastError: { code: 'ROUTE_REJECTED', detail: 'peer PACS2 rejected', at: '2026-01-01T12:00:00.000Z', jobId: '2' } }),
  route('xnat', { kind: 'dicomweb', target: 'https://xnat/dicom-web', waiting: 1200, countsCapped: true }),
];
/** The server as an admin's Jobs page sees it. */
const ADMIN_SERVER = { 'GET /jobs?expand': { json: JOBS }, 'GET /routes': { json: ROUTES }, 'GET /routes/pacs2/dead-letters': { json: [DEAD] } };

describe('jobs page', () => {
  afterEach(() => {
    setUser(null);
    setCsrfToken(null);
  });

  it('offers only the actions the server accepts in each state, and none for in-memory jobs', () => {
    expect(actionsFor(JOBS[0])).toEqual([]);
    expect(actionsFor(JOBS[1])).toEqual(['resubmit']);
    expect(actionsFor(JOBS[2])).toEqual(['resume', 'cancel']);
    expect(actionsFor(JOBS[3])).toEqual(['pause', 'cancel']);
    expect(actionsFor(JOBS[4])).toEqual([]);
    expect(testVerdict({ name: 'PACS', ok: true, code: null, detail: 'the peer answered C-ECHO', ms: 12 })).toBe('PACS works: the peer answered C-ECHO (12 ms).');
    expect(testVerdict({ name: 'DISK', ok: false, code: 'EXPORT_WRITE_FAILED', detail: 'not writable: EACCES', ms: 1 })).toBe('DISK does not work: not writable: EACCES');
  });

  it('draws the job table newest first, the destinations from GET /routes and their dead letters', async () => {
    me(['admin']);
    const sent = fakeServer(ADMIN_SERVER);
    const m = main();
    const stop = jobsPage(m, {});
    const table = await until(() => m.querySelector('[data-testid=jobs]'), 'jobs table');
    expect(table.querySelectorAll('tbody tr')).toHaveLength(5);
    expect(cell(table, 0, 1)).toBe('Anonymization');
    expect(cell(table, 0, 0)).toBe('f1e2d3c4…');
    const dests = m.querySelector('[data-testid=destinations]')!;
    expect([0, 1, 2, 3, 4, 5, 6].map((c) => cell(dests, 0, c))).toEqual(['pacs2', 'DICOM peer', 'PACS2@pacs:104', '0', '0', '1', 'ROUTE_REJECTED: peer PACS2 rejected']);
    // Past the server's counting limit a count is a lower bound.
    expect([cell(dests, 1, 1), cell(dests, 1, 3)]).toEqual(['DICOMweb server', '1200+']);
    expect(dests.querySelectorAll('button[data-action=test]')).toHaveLength(2);
    expect(dests.querySelectorAll('button[data-action=retry-all]')).toHaveLength(1);
    const dead = m.querySelector('[data-testid=dead-letters]')!;
    expect(dead.querySelectorAll('tbody tr')).toHaveLength(1);
    expect(cell(dead, 0, 1)).toBe('pacs2');
    expect(cell(dead, 0, 2)).toBe('2');
    expect(cell(dead, 0, 3)).toBe('40 / 40');
    expect(cell(dead, 0, 5)).toContain('peer PACS2 rejected');
    // Dead letters are asked only of destinations that have some.
    expect(sent.some((s) => s.path === '/routes/xnat/dead-letters')).toBe(false);
    if (typeof stop === 'function') stop();
  });

  it('an admin retries a dead letter with POST /routes/{name}/dead-letters/{id}/retry and the CSRF token', async () => {
    me(['admin']);
    setCsrfToken('csrf-9');
    const sent = fakeServer({ ...ADMIN_SERVER, 'POST /routes/pacs2/dead-letters/2/retry': { json: { ID: '2', Path: '/jobs/2', State: 'Pending' } } });
    const m = main();
    const stop = jobsPage(m, {});
    const dead = await until(() => m.querySelector('[data-testid=dead-letters]'), 'dead letters');
    (dead.querySelector('button[data-action=retry]') as HTMLButtonElement).click();
    const result = await until(() => m.querySelector('[data-testid=job-action-result]'), 'result');
    expect(result.textContent).toBe('Retry: job 2 is queued again for pacs2.');
    const post = sent.find((s) => s.method === 'POST')!;
    expect(post.path).toBe('/routes/pacs2/dead-letters/2/retry');
    expect(post.headers['X-CSRF-Token']).toBe('csrf-9');
    if (typeof stop === 'function') stop();
  });

  it('says in words when a dead letter was retried already, and retries all of a destination', async () => {
    me(['admin']);
    const sent = fakeServer({
      ...ADMIN_SERVER,
      'POST /routes/pacs2/dead-letters/2/retry': { status: 409, json: { HttpStatus: 409, Message: 'job 2 is Pending, not a dead letter', Code: 'JOB_STATE' } },
      'POST /routes/pacs2/dead-letters/retry-all': { json: { Retried: 3, Jobs: ['2', '7', '9'] } },
    });
    const m = main();
    const stop = jobsPage(m, {});
    const dead = await until(() => m.querySelector('[data-testid=dead-letters] button[data-action=retry]'), 'retry button');
    (dead as HTMLButtonElement).click();
    const alert = await until(() => m.querySelector('[role=alert]'), 'alert');
    expect(alert.textContent).toBe('Job 2 is no longer a dead letter (someone retried it already).');
    (m.querySelector('[data-destination=pacs2] button[data-action=retry-all]') as HTMLButtonElement).click();
    const done = await until(() => m.querySelector('p.ok[data-testid=job-action-result]'), 'retry-all result');
    expect(done.textContent).toBe('Retry all: 3 dead letters of pacs2 queued again.');
    expect(sent.filter((s) => s.method === 'POST').map((s) => s.path)).toEqual(['/routes/pacs2/dead-letters/2/retry', '/routes/pacs2/dead-letters/retry-all']);
    if (typeof stop === 'function') stop();
  });

  it('tests a destination and says the verdict in words, passed or failed', async () => {
    me(['admin']);
    let ok = false;
    const sent = fakeServer({
      ...ADMIN_SERVER,
      'POST /routes/xnat/test': () => ({ json: ok ? { name: 'xnat', kind: 'dicomweb', ok: true, code: null, detail: 'the server answered the QIDO-RS probe', ms: 31 } : { name: 'xnat', kind: 'dicomweb', ok: false, code: 'ROUTE_PEER_BUSY', detail: 'Destination is out of resources; will retry: xnat: connection failed', ms: 5 } }),
    });
    const m = main();
    const stop = jobsPage(m, {});
    const button = () => m.querySelector('[data-destination=xnat] button[data-action=test]') as HTMLButtonElement | null;
    (await until(button, 'test button')).click();
    const failed = await until(() => m.querySelector('[role=alert][data-testid=route-test-result]'), 'failed verdict');
    expect(failed.textContent).toBe('xnat does not work: Destination is out of resources; will retry: xnat: connection failed');
    ok = true;
    button()!.click();
    const passed = await until(() => m.querySelector('p.ok[data-testid=route-test-result]'), 'passed verdict');
    expect(passed.textContent).toBe('xnat works: the server answered the QIDO-RS probe (31 ms).');
    expect(sent.filter((s) => s.method === 'POST').map((s) => s.path)).toEqual(['/routes/xnat/test', '/routes/xnat/test']);
    if (typeof stop === 'function') stop();
  });

  it('says in words when a job cannot change state any more', async () => {
    me(['admin']);
    fakeServer({ ...ADMIN_SERVER, 'POST /jobs/3/cancel': { status: 409, json: { HttpStatus: 409, Message: 'job 3 cannot cancel now', Code: 'JOB_STATE' } } });
    const m = main();
    const stop = jobsPage(m, {});
    await until(() => m.querySelector('[data-job="3"] button[data-action=cancel]'), 'cancel button');
    (m.querySelector('[data-job="3"] button[data-action=cancel]') as HTMLButtonElement).click();
    const alert = await until(() => m.querySelector('[role=alert]'), 'alert');
    expect(alert.textContent).toBe('Job 3 cannot be canceled in its present state (Paused).');
    if (typeof stop === 'function') stop();
  });

  it('shows a researcher neither action buttons nor destinations (GET /routes is admin only), and says when the server has no job list', async () => {
    me(['researcher']);
    const sent = fakeServer({ 'GET /jobs?expand': { json: JOBS } });
    const m = main();
    const stop = jobsPage(m, {});
    const table = await until(() => m.querySelector('[data-testid=jobs]'), 'jobs table');
    expect(table.querySelectorAll('button')).toHaveLength(0);
    expect(m.querySelector('[data-testid=destinations]')).toBeNull();
    expect(sent.some((s) => s.path.startsWith('/routes'))).toBe(false);
    if (typeof stop === 'function') stop();

    // An admin on a server without route destinations (no /routes): jobs only, no error.
    me(['admin']);
    fakeServer({ 'GET /jobs?expand': { json: JOBS } });
    const m1 = main();
    const stop1 = jobsPage(m1, {});
    await until(() => m1.querySelector('[data-testid=jobs]'), 'jobs table');
    expect(m1.querySelector('[data-testid=destinations]')).toBeNull();
    expect(m1.querySelector('[role=alert]')).toBeNull();
    if (typeof stop1 === 'function') stop1();

    fakeServer({ 'GET /jobs?expand': { status: 404, json: {} } });
    const m2 = main();
    jobsPage(m2, {});
    const alert = await until(() => m2.querySelector('[role=alert]'), 'alert');
    expect(alert.textContent).toMatch(/runs no background jobs/);
  });
});
