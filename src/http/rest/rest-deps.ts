// What the Orthanc-compatible REST surface needs: the archive's ports and ingest service (as
// services/archive.ts `openArchive` returns them), the audit log and a few facts for /system.
import type { AuditLog } from '../../auth/audit-log.ts';
import type { Logger } from '../../core/log.ts';
import type { ArchiveIndex } from '../../index/archive-index.ts';
import type { IngestService } from '../../services/ingest.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { AnonymizeDeps } from './anonymize.ts';
import type { PipelineJobsDeps } from './jobs-routes.ts';

export interface SystemInfo {
  aet: string;
  dicomPort: number | null;
  httpPort: number | null;
  version: string;
}

export interface RestDeps {
  archive: { index: ArchiveIndex; blobs: BlobStore; ingest: IngestService };
  audit: AuditLog;
  logger: Logger;
  /** Facts for GET /system; a function when they are known only after listen() (port 0). */
  system: SystemInfo | (() => SystemInfo);
  /** Largest POST /instances body (a DICOM file or a ZIP), buffered. */
  uploadLimitBytes?: number;
  /** De-identification for POST .../anonymize; absent: those routes and /jobs are not registered. */
  anonymize?: AnonymizeDeps;
  /** The persistent job table behind /jobs (with the anonymize jobs) and POST /studies/{id}/complete. */
  pipeline?: PipelineJobsDeps;
  now?: () => Date;
}

/** Who may do what on this surface. Admin passes everywhere. */
export const READ = ['researcher', 'broker'] as const;
export const UPLOAD = 'uploader' as const;
export const REMOVE = 'admin' as const;
