// Upload: drop files, folders or ZIPs (or pick them) into a destination: a de-identification
// project (POST /projects/{project}/instances: the project's filters, de-identification, store) or,
// for admins, the archive as is (POST /instances). Each file (a DICOM file or a ZIP of them, as
// Orthanc's upload) gets its own progress bar and outcome, with the reason of a reject or quarantine.
import { ApiError, getJson, hasSessionCookie, writeHeaders } from '../api.ts';
import { summarize } from '../upload-answer.ts';
import { AS_IS, destinationChoice, uploadUrl } from '../upload-destination.ts';
import { clear, errorBox, fmtBytes, h } from '../dom.ts';
import type { Page } from '../router.ts';
import { currentUser, hasRole, READERS } from '../session.ts';
import { convertSection } from './convert.ts';

const PARALLEL = 2;

async function filesFromEntry(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (entry.isFile) {
    out.push(await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej)));
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in batches until it returns an empty list.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const e of batch) await filesFromEntry(e, out);
  }
}

/** Names of the projects the user may list (GET /projects is for readers), or undefined. */
async function listedProjects(): Promise<string[] | undefined> {
  if (!hasRole(...READERS)) return undefined;
  try {
    const r = await getJson<{ projects: { name: string; error?: string }[] }>('/projects');
    // A project whose configuration does not compile cannot take uploads.
    return r.projects.filter((p) => p.error === undefined).map((p) => p.name);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return undefined;
    throw e;
  }
}

/** The destination control: a select, or a name field when projects cannot be listed. */
function destinationField(choice: ReturnType<typeof destinationChoice>): { field: HTMLElement; value: () => string } | undefined {
  const label = h('label', { for: 'up-dest' }, 'Destination');
  if (choice.typeName && choice.projects.length === 0 && !choice.asIs) {
    const input = h('input', { id: 'up-dest', autocomplete: 'off', required: true, placeholder: 'project name' });
    return { field: h('div', { class: 'field' }, label, input), value: () => input.value.trim() };
  }
  if (choice.projects.length === 0 && !choice.asIs) return undefined;
  const select = h(
    'select',
    { id: 'up-dest', 'data-testid': 'upload-destination' },
    choice.projects.map((p) => h('option', { value: p }, `Project ${p} (de-identified on the way in)`)),
    choice.asIs ? h('option', { value: AS_IS }, 'Archive as is (no de-identification; admin only)') : [],
  );
  return { field: h('div', { class: 'field' }, label, select), value: () => select.value };
}

export const uploadPage: Page = async (main) => {
  if (!hasRole('uploader')) {
    main.append(h('h1', {}, 'Upload'), h('p', { class: 'error' }, 'Your role does not allow uploading.'));
    return;
  }
  const me = currentUser();
  let listed: string[] | undefined;
  try {
    listed = await listedProjects();
  } catch (e) {
    main.append(h('h1', {}, 'Upload'), errorBox(`The list of projects cannot be read: ${e instanceof Error ? e.message : String(e)}`));
    return;
  }
  const dest = destinationField(destinationChoice({ roles: me?.roles ?? [], projects: me?.projects ?? [] }, listed));
  if (dest === undefined) {
    main.append(h('h1', {}, 'Upload'), h('p', { class: 'error', role: 'alert' }, 'No project is open to you for uploading. Ask an administrator to add one to your account.'));
    return;
  }
  const list = h('ol', { class: 'uploads', 'data-testid': 'upload-list' });
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const fileInput = h('input', { type: 'file', multiple: true, id: 'pick-files', class: 'sr-only' });
  const dirInput = h('input', { type: 'file', multiple: true, id: 'pick-folder', class: 'sr-only', webkitdirectory: true });
  const zone = h(
    'div',
    { class: 'dropzone', tabindex: '0', role: 'button', 'aria-label': 'Drop DICOM files, folders or ZIP archives here, or press Enter to choose files' },
    h('p', {}, 'Drop DICOM files, folders or ZIP archives here'),
    h('p', {}, h('label', { for: 'pick-files', class: 'button' }, 'Choose files…'), ' ', h('label', { for: 'pick-folder', class: 'button' }, 'Choose a folder…')),
    fileInput,
    dirInput,
  );
  const problem = h('div', { 'aria-live': 'assertive' });
  main.append(
    h('h1', {}, 'Upload'),
    h('p', {}, "Files sent to a project pass its filters and de-identification before they are stored; the archive never sees the originals. Each file is listed with its outcome: rejected and quarantined files say why."),
    h('div', { class: 'card' }, dest.field),
    problem,
    zone,
    summary,
    list,
    convertSection(dest.value),
  );

  // Each file keeps the destination chosen when it was dropped, whatever the select says later.
  const queue: { file: File; url: string }[] = [];
  let running = 0;
  let done = 0;
  let failed = 0;
  let total = 0;

  function enqueue(files: File[]): void {
    clear(problem);
    const d = dest!.value();
    if (d === '' && !hasRole('admin')) {
      problem.append(errorBox('Type the name of the project to upload into first.'));
      return;
    }
    total += files.length;
    queue.push(...files.map((file) => ({ file, url: uploadUrl(d) })));
    pump();
  }

  function pump(): void {
    summary.textContent = `${done} of ${total} done${failed ? `, ${failed} with problems` : ''}`;
    while (running < PARALLEL && queue.length > 0) {
      running++;
      const next = queue.shift()!;
      void send(next.file, next.url).finally(() => {
        running--;
        done++;
        pump();
      });
    }
  }

  function send(file: File, url: string): Promise<void> {
    const bar = h('progress', { max: '100', value: '0' });
    const outcome = h('span', { class: 'outcome' }, 'Waiting…');
    const item = h('li', {}, h('span', { class: 'fname' }, file.webkitRelativePath || file.name), ` (${fmtBytes(file.size)}) `, bar, ' ', outcome);
    list.append(item);
    return new Promise((resolve) => {
      // XHR always sends credentials; without a session that would raise the browser's password dialog.
      if (currentUser()?.via === 'session' && !hasSessionCookie()) {
        outcome.textContent = 'Your session has ended. Please sign in again.';
        item.className = 'bad';
        failed++;
        resolve();
        return;
      }
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      for (const [k, v] of Object.entries(writeHeaders())) xhr.setRequestHeader(k, v);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.responseType = 'json';
      outcome.textContent = 'Sending…';
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      };
      xhr.onload = () => {
        bar.value = 100;
        const r = summarize(xhr.status, xhr.response);
        outcome.textContent = r.text;
        item.className = r.ok ? 'ok' : r.held ? 'held' : 'bad';
        if (!r.ok) failed++;
        resolve();
      };
      xhr.onerror = () => {
        outcome.textContent = 'The server cannot be reached.';
        item.className = 'bad';
        failed++;
        resolve();
      };
      xhr.send(file);
    });
  }

  for (const input of [fileInput, dirInput]) {
    input.addEventListener('change', () => {
      enqueue([...(input.files ?? [])]);
      input.value = '';
    });
  }
  zone.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      fileInput.click();
    }
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const items = [...(e.dataTransfer?.items ?? [])];
    const entries = items.map((i) => i.webkitGetAsEntry()).filter((x): x is FileSystemEntry => x !== null);
    if (entries.length === 0) {
      enqueue([...(e.dataTransfer?.files ?? [])]);
      return;
    }
    const files: File[] = [];
    void Promise.all(entries.map((en) => filesFromEntry(en, files))).then(() => enqueue(files));
  });
};
