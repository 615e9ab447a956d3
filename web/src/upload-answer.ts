// What POST /instances answered, as one sentence per file (pure, unit-tested in test/web).
import { describeFailure } from './failure-text.ts';

interface Answer {
  Status?: string;
  Message?: string;
  Code?: string;
  ID?: string;
  ParentStudy?: string;
}

// Catalog codes (src/core/errors.ts) a data manager meets on upload, said plainly; the server's
// detail follows in brackets for whoever has to dig further.
const PLAIN: Record<string, string> = {
  DICOM_PARSE: 'not a readable DICOM file',
  IMPORT_UNREADABLE: 'not a DICOM file or ZIP',
};

function reason(a: Answer): string {
  const plain = a.Code === undefined ? undefined : PLAIN[a.Code];
  const detail = a.Message ?? a.Code ?? 'unknown reason';
  return plain === undefined ? detail : `${plain} (${detail})`;
}

/** One sentence per server answer (single instance or a ZIP's list). */
export function summarize(status: number, body: unknown): { ok: boolean; text: string } {
  if (Array.isArray(body)) {
    const a = body as Answer[];
    const stored = a.filter((x) => x.Status === 'Success').length;
    const dup = a.filter((x) => x.Status === 'AlreadyStored').length;
    const failed = a.filter((x) => x.Status === 'Failure');
    const reasons = [...new Set(failed.map(reason))].slice(0, 3).join('; ');
    return { ok: failed.length === 0, text: `ZIP: ${stored} stored, ${dup} already in the archive, ${failed.length} rejected${reasons ? ` (${reasons})` : ''}` };
  }
  const a = (body ?? {}) as Answer;
  if (status >= 200 && status < 300 && a.Status === 'Success') return { ok: true, text: 'Stored' };
  if (status >= 200 && status < 300 && a.Status === 'AlreadyStored') return { ok: true, text: 'Already in the archive' };
  if (a.Status === 'Failure') return { ok: false, text: `Rejected: ${reason(a)}` };
  return { ok: false, text: describeFailure(status, body) };
}
