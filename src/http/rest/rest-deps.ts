// What the Orthanc-compatible REST surface needs: the archive's ports and ingest service (as
// services/archive.ts `openArchive` returns them), the audit log and a few facts for /system.
import type { AuditLog } from '../../auth/audit-log.ts';
import type { Logger } from '../../core/log.ts';
import type { ArchiveIndex } from '../../index/archive-index.ts';
import type { IngestService } from '../../services/ingest.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { AnonymizeDeps } from './anonymize.ts';
import type { PipelineJobsDeps } from './jobs-routes.ts';
import type { ModalityDeps } from './modalities.ts';
import type { StudySendDeps } from '../pipeline/study-send-route.ts';
import type { GatewayUploadDeps } from '../pipeline/gateway-upload-route.ts';
import type { RouteStatusDeps } from '../pipeline/route-status-routes.ts';

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
  /** POST /studies/{id}/send (manual route trigger, src/http/pipeline/study-send-route.ts). */
  studySend?: StudySendDeps;
  /** POST /projects/{project}/instances (upload through a project's pipeline, src/http/pipeline/gateway-upload-route.ts). */
  gatewayUpload?: GatewayUploadDeps;
  /** /routes: destination status, dead letters, retry and test (src/http/pipeline/route-status-routes.ts). */
  routes?: RouteStatusDeps;
  /** DICOM peers for /modalities (echo, store, query) and HTTP peers for /peers; none when absent. */
  modalities?: ModalityDeps;
  now?: () => Date;
}

/** Who may do what on this surface. Admin passes everywhere. */
export const READ = ['researcher', 'broker'] as const;
export const UPLOAD = 'uploader' as const;
export const REMOVE = 'admin' as const;
