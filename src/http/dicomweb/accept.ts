// Accept header negotiation for WADO-RS (PS3.18 8.7). Instances are served as stored: no
// transcoding, so a request naming a transfer syntax other than the stored one is refused (406).
import { mediaTypeParams, splitOutsideQuotes } from './multipart.ts';

export type DicomAccept = { ok: true; transferSyntax: string | '*' | undefined } | { ok: false };

/** For retrieving instances: multipart/related; type="application/dicom"[; transfer-syntax=...]. */
export function acceptDicom(header: string | undefined): DicomAccept {
  if (header === undefined || header.trim() === '') return { ok: true, transferSyntax: undefined };
  for (const range of splitOutsideQuotes(header, ',')) {
    const { type, params } = mediaTypeParams(range);
    if (type === '*/*' || type === 'multipart/*') return { ok: true, transferSyntax: undefined };
    if (type === 'multipart/related') {
      const inner = (params.type ?? 'application/dicom').toLowerCase();
      if (inner === 'application/dicom' || inner === '*/*' || inner === 'application/*') return { ok: true, transferSyntax: params['transfer-syntax'] };
    }
    if (type === 'application/dicom') return { ok: true, transferSyntax: params['transfer-syntax'] };
  }
  return { ok: false };
}

/** For metadata and QIDO: application/dicom+json (or application/json, or anything). */
export function acceptsDicomJson(header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return true;
  return splitOutsideQuotes(header, ',').some((r) => {
    const { type } = mediaTypeParams(r);
    return type === 'application/dicom+json' || type === 'application/json' || type === '*/*' || type === 'application/*';
  });
}
