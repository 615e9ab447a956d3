// "Send to…" on the study page, over two APIs:
// - a DICOM peer (Orthanc's modality API, src/http/rest/modalities.ts): GET /modalities lists the
//   peer names; POST /modalities/{name}/store { Resources: [studyId] } sends by C-STORE and answers
//   when the peer has stored everything (synchronous, as Orthanc's default; reader roles);
// - a route destination (DICOM, DICOMweb, folder; src/http/pipeline/study-send-route.ts):
//   POST /studies/{id}/send { Destinations: [names] } queues one durable route job per destination
//   (retries, dead letters on the Jobs page; uploader role).
// Where the server lacks an API (fastify's own 404, error "Not Found"), the panel says so in words.
import { ApiError, getJson, postJson } from '../api.ts';
import { clear, errorBox, h } from '../dom.ts';
import { BASE } from '../router.ts';

/** GET /modalities answers names (Orthanc), or with ?expand an object keyed by name. */
export function peerNames(answer: unknown): string[] {
  if (Array.isArray(answer)) return answer.filter((x): x is string => typeof x === 'string').sort();
  if (typeof answer === 'object' && answer !== null) return Object.keys(answer).sort();
  return [];
}

/** "PACS_Y, export" → ["PACS_Y", "export"]. */
export function destinationNames(text: string): string[] {
  return [...new Set(text.split(/[,\s]+/).filter((x) => x !== ''))];
}

/** What POST /studies/{id}/send answered: { ID, Path, Jobs: [{ ID, Path, Destination }] }. */
export function queuedText(answer: unknown, names: string[]): string {
  const a = (typeof answer === 'object' && answer !== null ? answer : {}) as { ID?: unknown; Jobs?: unknown };
  const ids = Array.isArray(a.Jobs) ? a.Jobs.map((j) => (typeof j === 'object' && j !== null ? (j as { ID?: unknown }).ID : j)).filter((x) => x !== undefined).map(String) : a.ID !== undefined ? [String(a.ID)] : [];
  return `Sending to ${names.join(', ')} queued${ids.length > 0 ? ` (job${ids.length > 1 ? 's' : ''} ${ids.join(', ')})` : ''}.`;
}

/** What POST /modalities/{name}/store answered (Orthanc's synchronous shape). */
export function storedText(answer: unknown, peer: string): string {
  const a = (typeof answer === 'object' && answer !== null ? answer : {}) as { InstancesCount?: unknown; RemoteAet?: unknown };
  const n = typeof a.InstancesCount === 'number' ? a.InstancesCount : undefined;
  return `${peer}${typeof a.RemoteAet === 'string' ? ` (${a.RemoteAet})` : ''} stored ${n === undefined ? 'the study' : `${n} instance${n === 1 ? '' : 's'}`}.`;
}

const failure = (e: unknown, api: string) =>
  errorBox(e instanceof ApiError && e.status === 404 && e.code === 'Not Found' ? `This server has no ${api} API yet.` : e instanceof Error ? e.message : String(e));

/** `destinations`: offer route destinations too (the server lets uploaders and admins queue them). */
export function sendPanel(studyId: string, opts: { destinations: boolean } = { destinations: true }): HTMLElement {
  const status = h('div', { 'aria-live': 'assertive' });
  const peer = h('select', { id: 'send-peer', name: 'peer', disabled: true }, h('option', { value: '' }, 'Loading peers…'));
  const peerButton = h('button', { type: 'submit', disabled: true }, 'Send to peer');
  const peerForm = h('form', { class: 'field-row', 'data-testid': 'send-peer' }, h('label', { for: 'send-peer' }, 'DICOM peer'), ' ', peer, ' ', peerButton);
  const dest = h('input', { id: 'send-dest', name: 'destinations', autocomplete: 'off', placeholder: 'destination name(s), comma-separated' });
  const destForm = h('form', { class: 'field-row', 'data-testid': 'send-destination' }, h('label', { for: 'send-dest' }, 'Route destination'), ' ', dest, ' ', h('button', { type: 'submit' }, 'Send to destination'));

  void getJson<unknown>('/modalities')
    .then((a) => {
      const names = peerNames(a);
      peer.replaceChildren(...(names.length === 0 ? [h('option', { value: '' }, 'No peers configured')] : names.map((n) => h('option', { value: n }, n))));
      peer.disabled = names.length === 0;
      peerButton.disabled = names.length === 0;
    })
    .catch((e: unknown) => {
      peer.replaceChildren(h('option', { value: '' }, 'Peers unavailable'));
      status.append(failure(e, 'peer list (GET /modalities)'));
    });

  peerForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = peer.value;
    if (name === '') return;
    clear(status);
    peerButton.disabled = true;
    status.append(h('p', { class: 'muted' }, `Sending to ${name}… (this waits until the peer has stored every instance)`));
    postJson<unknown>(`/modalities/${encodeURIComponent(name)}/store`, { Resources: [studyId] })
      .then((a) => {
        clear(status);
        status.append(h('p', { class: 'ok', 'data-testid': 'send-result' }, storedText(a, name)));
      })
      .catch((err: unknown) => {
        clear(status);
        status.append(failure(err, 'send-to-peer (POST /modalities/{name}/store)'));
      })
      .finally(() => (peerButton.disabled = false));
  });
  destForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const names = destinationNames(dest.value);
    clear(status);
    if (names.length === 0) {
      status.append(errorBox('Type the name of a destination (as configured under destinations).'));
      return;
    }
    postJson<unknown>(`/studies/${encodeURIComponent(studyId)}/send`, { Destinations: names })
      .then((a) => status.append(h('p', { class: 'ok', 'data-testid': 'send-result' }, queuedText(a, names), ' Follow it on the ', h('a', { href: `${BASE}jobs` }, 'Jobs page'), '.')))
      .catch((err: unknown) => status.append(failure(err, 'send-to-destination (POST /studies/{id}/send)')));
  });

  return h('details', { class: 'card send', 'data-testid': 'send' }, h('summary', {}, opts.destinations ? 'Send to a peer or destination…' : 'Send to a DICOM peer…'), peerForm, opts.destinations ? destForm : null, status);
}
