// What POST /instances or POST /projects/{project}/instances answered, as one sentence per file
// (pure, unit-tested in web/test). The project route adds Quarantined and Skipped (with a Reason:
// a de-identification or filter reason, configuration text, never data) and says Rejected with the
// error code as its Reason.
import { describeFailure } from './failure-text.ts';

interface Answer {
  Status?: string;
  Message?: string;
  Code?: string;
  ID?: string;
  ParentStudy?: string;
  Reason?: string;
}

/** ok: stored or already there; held: kept out of the archive on purpose (quarantine, filter). */
export interface UploadSummary {
  ok: boolean;
  text: string;
  held?: boolean;
}

// Catalog codes (src/core/errors.ts) a data manager meets on upload, said plainly; the server's
// detail follows in brackets for whoever has to dig further.
const PLAIN: Record<string, string> = {
  DICOM_PARSE: 'not a readable DICOM file',
  IMPORT_UNREADABLE: 'not a DICOM file or ZIP',
  DEID_REJECTED: "refused by the project's de-identification rules",
  PIPELINE_REJECTED: "refused by the project's pipeline",
};

function reason(a: Answer): string {
  const code = a.Code ?? (a.Status === 'Rejected' ? a.Reason : undefined);
  const plain = code === undefined ? undefined : PLAIN[code];
  const detail = a.Message ?? code ?? a.Reason ?? 'unknown reason';
  return plain === undefined ? detail : `${plain} (${detail})`;
}

/** One sentence per server answer (single instance or a ZIP's list). */
export function summarize(status: number, body: unknown): UploadSummary {
  if (Array.isArray(body)) {
    const a = body as Answer[];
    const stored = a.filter((x) => x.Status === 'Success').length;
    const dup = a.filter((x) => x.Status === 'AlreadyStored').length;
    const failed = a.filter((x) => x.Status === 'Failure' || x.Status === 'Rejected');
    const quarantined = a.filter((x) => x.Status === 'Quarantined');
    const skipped = a.filter((x) => x.Status === 'Skipped');
    const reasons = [...new Set([...failed, ...quarantined, ...skipped].map(reason))].slice(0, 3).join('; ');
    const held = [quarantined.length ? `, ${quarantined.length} quarantined` : '', skipped.length ? `, ${skipped.length} skipped by the project's filter` : ''].join('');
    return {
      ok: failed.length + quarantined.length + skipped.length === 0,
      text: `ZIP: ${stored} stored, ${dup} already in the archive${held}, ${failed.length} rejected${reasons ? ` (${reasons})` : ''}`,
      ...(failed.length === 0 && quarantined.length + skipped.length > 0 ? { held: true } : {}),
    };
  }
  const a = (body ?? {}) as Answer;
  if (status >= 200 && status < 300 && a.Status === 'Success') return { ok: true, text: 'Stored' };
  if (status >= 200 && status < 300 && a.Status === 'AlreadyStored') return { ok: true, text: 'Already in the archive' };
  if (a.Status === 'Quarantined') return { ok: false, held: true, text: `Quarantined for the honest broker's review: ${a.Reason ?? 'no reason given'}` };
  if (a.Status === 'Skipped') return { ok: false, held: true, text: `Not stored: skipped by the project's filter (${a.Reason ?? 'no reason given'})` };
  if (a.Status === 'Failure' || a.Status === 'Rejected') return { ok: false, text: `Rejected: ${reason(a)}` };
  return { ok: false, text: describeFailure(status, body) };
}
