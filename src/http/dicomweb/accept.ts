// Accept header negotiation for WADO-RS (PS3.18 8.7). Instances are served as stored: no
// transcoding, so a request naming a transfer syntax other than the stored one is refused (406).
import { mediaTypeParams, splitOutsideQuotes } from './multipart.ts';

/**
 * `transferSyntaxes`: every syntax the client named across its acceptable ranges, or undefined when
 * any will do (a range without the parameter, `*`, or no Accept at all): we serve as stored.
 */
export type DicomAccept = { ok: true; transferSyntaxes: readonly string[] | undefined } | { ok: false };

/**
 * For retrieving instances: multipart/related; type="application/dicom"[; transfer-syntax=...].
 * Several ranges may each name a syntax (PS3.18 8.7.3.5.2); the answer may use any of them.
 */
export function acceptDicom(header: string | undefined): DicomAccept {
  if (header === undefined || header.trim() === '') return { ok: true, transferSyntaxes: undefined };
  const named: string[] = [];
  let acceptable = false;
  for (const range of splitOutsideQuotes(header, ',')) {
    const { type, params } = mediaTypeParams(range);
    if (type === '*/*' || type === 'multipart/*') return { ok: true, transferSyntaxes: undefined };
    const inner = (params.type ?? 'application/dicom').toLowerCase();
    const dicom = type === 'application/dicom' || (type === 'multipart/related' && (inner === 'application/dicom' || inner === '*/*' || inner === 'application/*'));
    if (!dicom) continue;
    if (params.q !== undefined && Number(params.q) === 0) continue;
    const ts = params['transfer-syntax'];
    if (ts === undefined || ts === '*') return { ok: true, transferSyntaxes: undefined };
    acceptable = true;
    named.push(ts);
  }
  return acceptable ? { ok: true, transferSyntaxes: named } : { ok: false };
}

/** For metadata and QIDO: application/dicom+json (or application/json, or anything). */
export function acceptsDicomJson(header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return true;
  return splitOutsideQuotes(header, ',').some((r) => {
    const { type } = mediaTypeParams(r);
    return type === 'application/dicom+json' || type === 'application/json' || type === '*/*' || type === 'application/*';
  });
}
