import { describe, expect, it } from 'vitest';
import { describeFailure } from '../src/failure-text.ts';
import { summarize } from '../src/upload-answer.ts';
import { fmtBytes, fmtDate, fmtName, h } from '../src/dom.ts';

describe('upload answers as sentences', () => {
  it('one instance: stored, already there, rejected with the plain reason and the detail', () => {
    expect(summarize(200, { Status: 'Success', ID: 'x' })).toEqual({ ok: true, text: 'Stored' });
    expect(summarize(200, { Status: 'AlreadyStored' })).toEqual({ ok: true, text: 'Already in the archive' });
    expect(summarize(400, { Status: 'Failure', Code: 'DICOM_PARSE', Message: 'no DICM prefix' })).toEqual({ ok: false, text: 'Rejected: not a readable DICOM file (no DICM prefix)' });
    expect(summarize(413, undefined)).toEqual({ ok: false, text: 'The file is larger than the server accepts.' });
  });

  it('a ZIP: counts per outcome and at most three distinct reasons', () => {
    const r = summarize(200, [
      { Status: 'Success' },
      { Status: 'Success' },
      { Status: 'AlreadyStored' },
      { Status: 'Failure', Code: 'IMPORT_UNREADABLE', Message: 'readme.txt' },
      { Status: 'Failure', Code: 'IMPORT_UNREADABLE', Message: 'readme.txt' },
    ]);
    expect(r).toEqual({ ok: false, text: 'ZIP: 2 stored, 1 already in the archive, 2 rejected (not a DICOM file or ZIP (readme.txt))' });
  });
});

describe('failure texts', () => {
  it('by status, with the server message where it helps', () => {
    expect(describeFailure(401, {})).toMatch(/sign in again/);
    expect(describeFailure(403, { error: 'AUTH_FORBIDDEN', message: 'needs admin' })).toBe('Your role does not allow this action.');
    expect(describeFailure(403, { error: 'PROJECT_ACCESS', message: 'You have no access to project lung' })).toBe('You have no access to project lung');
    expect(describeFailure(404, { Message: 'study 12ab' })).toBe('Not found: study 12ab');
    expect(describeFailure(429, {})).toBe('Too many attempts. Wait a minute and try again.');
    expect(describeFailure(502, { message: 'peer PACS2 refused the association' })).toBe('The server could not complete this: peer PACS2 refused the association Please try again or tell your administrator.');
    expect(describeFailure(409, {})).toBe('The request was refused (HTTP 409).');
  });
});

describe('DOM builder and formats', () => {
  it('puts values from DICOM files in as text, never as markup', () => {
    const p = h('p', { title: '"><script>' }, '<img src=x onerror=alert(1)>');
    expect(p.querySelector('img')).toBeNull();
    expect(p.textContent).toBe('<img src=x onerror=alert(1)>');
    expect(p.getAttribute('title')).toBe('"><script>');
  });
  it('formats names, dates and sizes', () => {
    expect(fmtName('Doe^Jane^Q=ドウ^ジェーン')).toBe('Doe, Jane Q');
    expect(fmtDate('20240131')).toBe('2024-01-31');
    expect(fmtDate('2024')).toBe('2024');
    expect(fmtBytes(1536)).toBe('1.5 KB');
  });
});
