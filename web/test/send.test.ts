import { afterEach, describe, expect, it } from 'vitest';
import { destinationNames, peerNames, queuedText, sendPanel, storedText } from '../src/pages/send-panel.ts';
import { setCsrfToken } from '../src/api.ts';
import { fakeServer, main, until } from './fake-server.ts';

describe('study page: send to a peer or destination', () => {
  afterEach(() => setCsrfToken(null));

  it('reads peer names from either GET /modalities shape and destination names from text', () => {
    expect(peerNames(['PACS_B', 'PACS_A'])).toEqual(['PACS_A', 'PACS_B']);
    expect(peerNames({ XNAT: { AET: 'X' }, ARCHIVE: {} })).toEqual(['ARCHIVE', 'XNAT']);
    expect(peerNames(null)).toEqual([]);
    expect(destinationNames(' PACS_Y, export  PACS_Y')).toEqual(['PACS_Y', 'export']);
    expect(queuedText({ ID: '5', Path: '/jobs/5', Jobs: [{ ID: '5', Destination: 'A' }, { ID: '6', Destination: 'B' }] }, ['A', 'B'])).toBe('Sending to A, B queued (jobs 5, 6).');
    expect(storedText({ InstancesCount: 1, RemoteAet: 'PACS2' }, 'pacs2')).toBe('pacs2 (PACS2) stored 1 instance.');
  });

  it('sends the study to the chosen peer with Orthanc\'s store body and says what the peer stored', async () => {
    setCsrfToken('c1');
    const sent = fakeServer({ 'GET /modalities': { json: ['PACS_A', 'PACS_B'] }, 'POST /modalities/PACS_B/store': { json: { Description: 'REST API', InstancesCount: 42, RemoteAet: 'PACSB', FailedInstancesCount: 0 } } });
    const m = main();
    m.append(sendPanel('abc123'));
    const select = await until(() => { const s = m.querySelector<HTMLSelectElement>('#send-peer'); return s && !s.disabled && s; }, 'peer list');
    select.value = 'PACS_B';
    m.querySelector<HTMLFormElement>('[data-testid=send-peer]')!.dispatchEvent(new Event('submit', { cancelable: true }));
    const r = await until(() => m.querySelector('[data-testid=send-result]'), 'result');
    expect(r.textContent).toBe('PACS_B (PACSB) stored 42 instances.');
    expect(sent[1]).toMatchObject({ method: 'POST', path: '/modalities/PACS_B/store', body: { Resources: ['abc123'] }, headers: { 'X-CSRF-Token': 'c1' } });
  });

  it('sends to route destinations with POST /studies/{id}/send, and says so when the server lacks the API', async () => {
    const sent = fakeServer({ 'GET /modalities': { json: [] }, 'POST /studies/abc123/send': { json: { ID: '21', Path: '/jobs/21', Jobs: [{ ID: '21', Path: '/jobs/21', Destination: 'PACS_Y' }, { ID: '22', Path: '/jobs/22', Destination: 'export' }] } } });
    const m = main();
    m.append(sendPanel('abc123'));
    await until(() => m.querySelector('#send-peer option')?.textContent === 'No peers configured', 'empty peer list');
    (m.querySelector('#send-dest') as HTMLInputElement).value = 'PACS_Y, export';
    m.querySelector<HTMLFormElement>('[data-testid=send-destination]')!.dispatchEvent(new Event('submit', { cancelable: true }));
    const r = await until(() => m.querySelector('[data-testid=send-result]'), 'result');
    expect(r.textContent).toBe('Sending to PACS_Y, export queued (jobs 21, 22). Follow it on the Jobs page.');
    expect(sent[1].body).toEqual({ Destinations: ['PACS_Y', 'export'] });

    fakeServer({ 'GET /modalities': { status: 404, json: { error: 'Not Found', message: 'Route GET:/modalities not found', statusCode: 404 } } });
    const m2 = main();
    m2.append(sendPanel('abc123'));
    const alert = await until(() => m2.querySelector('[role=alert]'), 'alert');
    expect(alert.textContent).toBe('This server has no peer list (GET /modalities) API yet.');

    fakeServer({ 'GET /modalities': { json: ['P'] }, 'POST /studies/abc123/send': { status: 400, json: { error: 'ROUTE_DESTINATION_UNKNOWN', message: 'no destination nowhere' } } });
    const m3 = main();
    m3.append(sendPanel('abc123'));
    (m3.querySelector('#send-dest') as HTMLInputElement).value = 'nowhere';
    m3.querySelector<HTMLFormElement>('[data-testid=send-destination]')!.dispatchEvent(new Event('submit', { cancelable: true }));
    const alert3 = await until(() => m3.querySelector('[role=alert]'), 'alert');
    expect(alert3.textContent).toBe('no destination nowhere');

    // A reader without the uploader role is offered peers only.
    const m4 = main();
    m4.append(sendPanel('abc123', { destinations: false }));
    expect(m4.querySelector('[data-testid=send-destination]')).toBeNull();
    expect(m4.querySelector('summary')!.textContent).toBe('Send to a DICOM peer…');
  });
});
