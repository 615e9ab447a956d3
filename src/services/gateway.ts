// Gateway mode: identifiable DICOM in, only de-identified DICOM into the archive. One service for
// every intake bound to a project (DIMSE called AE now; STOW and upload routes later), so they all
// behave the same: de-identify, then ingest; quarantine what the project will not let in; reject
// what cannot be read. The original never reaches the archive.
import type { ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { deidentifyPart10 } from '../deid/deidentify-part10.ts';
import type { Project } from '../deid/project.ts';
import type { Pseudonymizer } from '../deid/pseudonymizer.ts';
import type { IngestResult, IngestService, InstanceSource } from './ingest.ts';
import type { QuarantineStore } from './quarantine.ts';

export interface GatewayProject {
  project: Project;
  pseudonymizer: Pseudonymizer;
}

export type GatewayResult =
  | { status: 'stored' | 'duplicate' | 'replaced'; ingest: Extract<IngestResult, { status: 'stored' | 'duplicate' | 'replaced' }> }
  | { status: 'quarantined'; quarantineId: string; reason: string }
  | { status: 'rejected'; code: ErrorCode; reason: string; retryable: boolean };

export class GatewayService {
  readonly #ingest: IngestService;
  readonly #quarantine: QuarantineStore;
  readonly #log: Logger;

  constructor(deps: { ingest: IngestService; quarantine: QuarantineStore; log: Logger }) {
    this.#ingest = deps.ingest;
    this.#quarantine = deps.quarantine;
    this.#log = deps.log;
  }

  async process(original: Uint8Array, target: GatewayProject, source: InstanceSource): Promise<GatewayResult> {
    const outcome = await deidentifyPart10(original, target.project, target.pseudonymizer);
    switch (outcome.kind) {
      case 'deidentified': {
        const r = await this.#ingest.ingest(Buffer.concat(outcome.chunks), source);
        if (r.status === 'rejected') return { status: 'rejected', code: r.code, reason: r.reason, retryable: r.retryable };
        // UIDs logged here are the pseudonymous ones: this line is on the research side.
        this.#log.debug('gateway stored', { project: target.project.name, sopInstanceUid: r.sopInstanceUid, status: r.status });
        return { status: r.status, ingest: r };
      }
      case 'quarantined': {
        const note = await this.#quarantine.put(original, {
          project: target.project.name,
          reason: outcome.reason,
          detail: outcome.detail,
          transport: source.transport,
          ...(source.remoteAe !== undefined && { callingAe: source.remoteAe }),
          ...(source.calledAe !== undefined && { calledAe: source.calledAe }),
        });
        this.#log.warn('gateway quarantined', { project: target.project.name, reason: outcome.reason, quarantineId: note.id });
        return { status: 'quarantined', quarantineId: note.id, reason: outcome.reason };
      }
      case 'rejected':
        this.#log.warn('gateway rejected', { project: target.project.name, reason: outcome.reason });
        return { status: 'rejected', code: outcome.reason === 'parse-error' ? 'DICOM_PARSE' : 'DEID_REJECTED', reason: outcome.reason, retryable: false };
    }
  }
}
