// What the DICOMweb surface needs: the archive's ports and ingest service, and the audit log.
import type { AuditLog } from '../../auth/audit-log.ts';
import type { Logger } from '../../core/log.ts';
import type { ArchiveIndex } from '../../index/archive-index.ts';
import type { IngestService } from '../../services/ingest.ts';
import type { BlobStore } from '../../storage/blob-store.ts';

export interface DicomwebDeps {
  archive: { index: ArchiveIndex; blobs: BlobStore; ingest: IngestService };
  audit: AuditLog;
  logger: Logger;
}

export const READ = ['researcher', 'broker'] as const;
export const UPLOAD = 'uploader' as const;
export const DICOM_JSON = 'application/dicom+json';

/** The surface's base URL as the client reached it (for RetrieveURL and BulkDataURI). */
export function baseUrl(req: { protocol: string; host: string }): string {
  return `${req.protocol}://${req.host}/dicom-web`;
}
