// C-STORE -> ingest: each incoming dataset streams into a BlobWriter behind a Part-10 header as its
// P-DATA fragments arrive, and the C-STORE-RSP waits for ingest to report the blob durable and the
// index committed. Failures answer with the catalog's DIMSE status (PS3.4 B.2.3).
import { ERRORS, type ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { CStoreRequest, StatusResult, StoreSink } from '../dimse/handlers.ts';
import { STATUS } from '../dimse/status.ts';
import type { IngestService } from '../services/ingest.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { part10Header } from './part10-header.ts';

/** Where a C-STORE goes: the default ingests; a de-identification chain can wrap or replace it. */
export type StoreIntake = (rq: CStoreRequest) => Promise<StoreSink> | StoreSink;

/** Where the catalog's generic DIMSE status is less precise than PS3.7 has one for. */
const STATUS_FOR_CODE: Partial<Record<ErrorCode, number>> = {
  INDEX_DUPLICATE: STATUS.DuplicateSopInstance,
  DICOM_PARSE: STATUS.StoreCannotUnderstand,
  DICOM_MISSING_UID: STATUS.StoreCannotUnderstand,
};

export function statusForCode(code: ErrorCode): number {
  return STATUS_FOR_CODE[code] ?? ERRORS[code].dimse;
}

export function ingestIntake(deps: { ingest: IngestService; blobs: BlobStore; log: Logger }): StoreIntake {
  return async (rq) => {
    // Journaled: the index row may then commit without its own sync (see ingest.ts).
    const writer = await deps.blobs.open({ journal: true });
    try {
      await writer.write(
        part10Header({ sopClassUid: rq.affectedSopClassUid, sopInstanceUid: rq.affectedSopInstanceUid, transferSyntaxUid: rq.transferSyntaxUid, sourceAe: rq.association.callingAe }),
      );
    } catch (e) {
      await writer.abort();
      throw e;
    }
    return {
      write: (chunk) => writer.write(chunk),
      async finish(): Promise<StatusResult> {
        const r = await deps.ingest.ingestStaged(writer, {
          transport: 'dimse',
          remoteAe: rq.association.callingAe,
          calledAe: rq.association.calledAe,
          remoteHost: rq.association.remoteAddress,
        });
        if (r.status !== 'rejected') return STATUS.Success;
        deps.log.warn('C-STORE rejected', { sopInstanceUid: rq.affectedSopInstanceUid, code: r.code, reason: r.reason, callingAe: rq.association.callingAe });
        return { status: statusForCode(r.code), errorComment: r.code };
      },
      abort: () => {
        void writer.abort().catch(() => undefined);
      },
    };
  };
}
