// Upload: drop files, folders or ZIPs (or pick them); each file is sent as is to POST /instances
// (Orthanc's upload: a DICOM file or a ZIP of them), with its own progress bar and outcome.
import { hasSessionCookie, writeHeaders } from '../api.ts';
import { summarize } from '../upload-answer.ts';
import { fmtBytes, h } from '../dom.ts';
import type { Page } from '../router.ts';
import { currentUser, hasRole } from '../session.ts';
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

export const uploadPage: Page = (main) => {
  if (!hasRole('uploader')) {
    main.append(h('h1', {}, 'Upload'), h('p', { class: 'error' }, 'Your role does not allow uploading.'));
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
  main.append(
    h('h1', {}, 'Upload'),
    h('p', {}, 'Files are stored in the archive as they are. Each file is checked; rejected files are listed with the reason.'),
    zone,
    summary,
    list,
    convertSection(),
  );

  const queue: File[] = [];
  let running = 0;
  let done = 0;
  let failed = 0;
  let total = 0;

  function enqueue(files: File[]): void {
    total += files.length;
    queue.push(...files);
    pump();
  }

  function pump(): void {
    summary.textContent = `${done} of ${total} done${failed ? `, ${failed} with problems` : ''}`;
    while (running < PARALLEL && queue.length > 0) {
      running++;
      void send(queue.shift()!).finally(() => {
        running--;
        done++;
        pump();
      });
    }
  }

  function send(file: File): Promise<void> {
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
      xhr.open('POST', '/instances');
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
        item.className = r.ok ? 'ok' : 'bad';
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
