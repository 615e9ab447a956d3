import { afterEach, describe, expect, it, vi } from 'vitest';
import { uploadPage } from '../src/pages/upload.ts';
import { AS_IS, destinationChoice, uploadUrl } from '../src/upload-destination.ts';
import { summarize } from '../src/upload-answer.ts';
import { setUser } from '../src/session.ts';
import { fakeServer, main, until } from './fake-server.ts';

// XHR stand-in: records where each file went and answers with what the test queued.
const posted: { url: string; name: string }[] = [];
let answers: { status: number; response: unknown }[] = [];
class FakeXhr {
  status = 0;
  response: unknown = null;
  responseType = '';
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private url = '';
  open(_method: string, url: string): void {
    this.url = url;
  }
  setRequestHeader(): void {}
  send(file: File): void {
    posted.push({ url: this.url, name: file.name });
    const a = answers.shift() ?? { status: 200, response: { Status: 'Success' } };
    setTimeout(() => {
      this.upload.onprogress?.({ lengthComputable: true, loaded: file.size, total: file.size });
      this.status = a.status;
      this.response = a.response;
      this.onload?.();
    }, 0);
  }
}

const me = (roles: string[], projects: string[]) => setUser({ username: 'u', roles, projects, via: 'token', csrfToken: null });
const drop = (m: HTMLElement, ...names: string[]) => {
  const input = m.querySelector('#pick-files') as HTMLInputElement;
  Object.defineProperty(input, 'files', { configurable: true, value: names.map((n) => new File([new Uint8Array(8)], n)) });
  input.dispatchEvent(new Event('change'));
};

describe('upload destination', () => {
  afterEach(() => {
    setUser(null);
    vi.unstubAllGlobals();
    posted.length = 0;
    answers = [];
  });

  it('choice: admin gets every listed project and "as is"; others only their projects, never "as is"', () => {
    expect(destinationChoice({ roles: ['admin'], projects: [] }, ['lung', 'basic'])).toEqual({ projects: ['basic', 'lung'], asIs: true, typeName: false });
    expect(destinationChoice({ roles: ['uploader'], projects: ['lung', 'brain'] }, undefined)).toEqual({ projects: ['brain', 'lung'], asIs: false, typeName: false });
    expect(destinationChoice({ roles: ['uploader', 'researcher'], projects: ['lung'] }, ['lung'])).toEqual({ projects: ['lung'], asIs: false, typeName: false });
    expect(destinationChoice({ roles: ['uploader'], projects: ['*'] }, undefined)).toEqual({ projects: [], asIs: false, typeName: true });
    expect(uploadUrl('lung trial')).toBe('/projects/lung%20trial/instances');
    expect(uploadUrl(AS_IS)).toBe('/instances');
  });

  it('admin: lists the projects, sends each file to the chosen project or as is, and shows each outcome with its reason', async () => {
    me(['admin'], []);
    const sent = fakeServer({ 'GET /projects': { json: { projects: [{ name: 'basic' }, { name: 'broken', error: 'bad option' }, { name: 'lung' }] } } });
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const m = main();
    await uploadPage(m, {});
    expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /projects']);
    const select = m.querySelector('#up-dest') as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(['basic', 'lung', AS_IS]);
    expect(select.options[2].textContent).toMatch(/Archive as is/);

    select.value = 'lung';
    answers = [
      { status: 200, response: { Status: 'Success' } },
      { status: 200, response: { Status: 'Quarantined', Reason: 'burned-in annotation' } },
      { status: 400, response: { Status: 'Rejected', Reason: 'DICOM_PARSE' } },
    ];
    drop(m, 'a.dcm', 'b.dcm', 'c.txt');
    // A change of destination while files are queued does not move them.
    select.value = AS_IS;
    drop(m, 'd.dcm');
    const items = await until(() => {
      const li = [...m.querySelectorAll('[data-testid=upload-list] li')];
      return li.length === 4 && li.every((x) => x.className !== '') && li;
    }, 'four outcomes');
    expect(posted.map((p) => `${p.name} → ${p.url}`)).toEqual(['a.dcm → /projects/lung/instances', 'b.dcm → /projects/lung/instances', 'c.txt → /projects/lung/instances', 'd.dcm → /instances']);
    const outcome = (n: number) => [items[n].className, items[n].querySelector('.outcome')!.textContent];
    expect(outcome(0)).toEqual(['ok', 'Stored']);
    expect(outcome(1)).toEqual(['held', "Quarantined for the honest broker's review: burned-in annotation"]);
    expect(outcome(2)).toEqual(['bad', 'Rejected: not a readable DICOM file (DICOM_PARSE)']);
    expect(outcome(3)).toEqual(['ok', 'Stored']);
  });

  it('an uploader without the reader role: own projects only, no "as is", and the convert form carries the project', async () => {
    me(['uploader'], ['lung', 'brain']);
    const sent = fakeServer({ 'POST /tools/convert': { json: { instances: [{ ID: null, Status: 'Quarantined', Reason: 'burned-in annotation' }, { ID: 'x', Status: 'Success' }], errors: [] } } });
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const m = main();
    await uploadPage(m, {});
    expect(sent.length, 'GET /projects is for readers: not asked').toBe(0);
    const select = m.querySelector('#up-dest') as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(['brain', 'lung']);
    select.value = 'lung';
    const files = m.querySelector('#cv-files') as HTMLInputElement;
    Object.defineProperty(files, 'files', { configurable: true, value: [new File([new Uint8Array(4)], 'photo.jpg')] });
    m.querySelector('form.convert')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await until(() => sent.length === 1, 'convert request');
    expect((sent[0].body as FormData).get('project')).toBe('lung');
    const out = await until(() => m.querySelector('form.convert p.held'), 'convert outcome');
    expect(out.textContent).toMatch(/1 quarantined .*burned-in annotation/);
    expect(m.querySelector('form.convert p.ok')!.textContent).toBe('1 DICOM instance stored (de-identified by project lung).');
  });

  it('an uploader with no project gets no drop zone', async () => {
    me(['uploader'], []);
    fakeServer({});
    const m = main();
    await uploadPage(m, {});
    expect(m.querySelector('.dropzone')).toBeNull();
    expect(m.querySelector('[role=alert]')!.textContent).toMatch(/No project is open to you/);
  });

  it('answers of the project route, single and ZIP', () => {
    expect(summarize(200, { Status: 'Skipped', Reason: 'Modality == "SR"' })).toEqual({ ok: false, held: true, text: `Not stored: skipped by the project's filter (Modality == "SR")` });
    expect(summarize(400, { Status: 'Rejected', Reason: 'DEID_REJECTED' })).toEqual({ ok: false, text: "Rejected: refused by the project's de-identification rules (DEID_REJECTED)" });
    expect(summarize(200, [{ Status: 'Success' }, { Status: 'Quarantined', Reason: 'burned-in annotation' }])).toEqual({
      ok: false,
      held: true,
      text: 'ZIP: 1 stored, 0 already in the archive, 1 quarantined, 0 rejected (burned-in annotation)',
    });
  });
});
