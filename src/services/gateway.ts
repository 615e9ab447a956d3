// Gateway mode: identifiable DICOM in, only de-identified DICOM into the archive. One service for
// every intake bound to a project (DIMSE called AE now; STOW and upload routes later), so they all
// behave the same: de-identify, then ingest; quarantine what the project will not let in; reject
// what cannot be read. The original never reaches the archive.
import type { ErrorCode } from '../core/errors.ts';
import { PIXEL_DATA, readPart10 } from '../dicom/index.ts';
import type { FilterPredicate } from '../pipeline/filter-expr.ts';
import type { Logger } from '../core/log.ts';
import { deidentifyPart10 } from '../deid/deidentify-part10.ts';
import type { Project } from '../deid/project.ts';
import type { Pseudonymizer } from '../deid/pseudonymizer.ts';
import type { IngestResult, IngestService, InstanceSource } from './ingest.ts';
import type { QuarantineStore } from './quarantine.ts';

export interface GatewayProject {
  project: Project;
  pseudonymizer: Pseudonymizer;
  /** Pipeline filter stages, checked on the original (identified) header before de-identification. */
  filters?: readonly GatewayFilter[];
}

export interface GatewayFilter {
  readonly expression: string;
  readonly predicate: FilterPredicate;
  readonly onMismatch: 'skip' | 'reject' | 'quarantine';
}

const INTAKE_SOURCE: Record<InstanceSource['transport'], string> = { dimse: 'dimse', stow: 'stow', rest: 'upload', import: 'folder' };

export type GatewayResult =
  | { status: 'stored' | 'duplicate' | 'replaced'; ingest: Extract<IngestResult, { status: 'stored' | 'duplicate' | 'replaced' }> }
  /**
   * Kept aside with a reason. `skipped`: a pipeline filter dropped it quietly (not for this
   * pipeline; nothing kept, quarantineId ''), and the sender hears success. Filters are bound to
   * DIMSE intakes only (main.ts), whose edge answers every non-rejected result with success.
   */
  | { status: 'quarantined'; quarantineId: string; reason: string; skipped?: true }
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
    if (target.filters && target.filters.length > 0) {
      const stop = await this.#filter(original, target, source);
      if (stop) return stop;
    }
    const outcome = await deidentifyPart10(original, target.project, target.pseudonymizer);
    switch (outcome.kind) {
      case 'deidentified': {
        // Recorded with the project, so reads are limited to users with access to it.
        // Chunks straight into a journaled blob: no concatenated copy, one flush (see IngestService.ingestChunks).
        // outcome.durable (early-answering pseudonymizer): the key database's flush of this object's
        // mappings, still running while the chunks are copied to the blob writer; ingest waits for it
        // before the blob is committed, so nothing is archived under a mapping a power loss could lose.
        const r = await this.#ingest.ingestChunks(outcome.chunks, { ...source, project: target.project.name }, outcome.file, outcome.durable);
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

  /** The first filter the object fails decides (skip, reject, quarantine); undefined: all passed. */
  async #filter(original: Uint8Array, target: GatewayProject, source: InstanceSource): Promise<GatewayResult | undefined> {
    let ds;
    try {
      ds = readPart10(original, { untilTag: PIXEL_DATA }).dataset;
    } catch {
      return { status: 'rejected', code: 'DICOM_PARSE', reason: 'parse-error', retryable: false };
    }
    const ctx = {
      ...(source.remoteAe !== undefined ? { callingAe: source.remoteAe } : {}),
      ...(source.calledAe !== undefined ? { calledAe: source.calledAe } : {}),
      source: INTAKE_SOURCE[source.transport],
    };
    for (const f of target.filters ?? []) {
      if (f.predicate(ds, ctx)) continue;
      // The expression is configuration, not data: safe to log and to record as the reason.
      const reason = `filter: ${f.expression}`;
      if (f.onMismatch === 'skip') return { status: 'quarantined', quarantineId: '', reason, skipped: true };
      if (f.onMismatch === 'reject') {
        this.#log.info('gateway filter rejected', { project: target.project.name, filter: f.expression });
        return { status: 'rejected', code: 'PIPELINE_REJECTED', reason, retryable: false };
      }
      const note = await this.#quarantine.put(original, {
        project: target.project.name,
        reason,
        detail: f.expression,
        transport: source.transport,
        ...(source.remoteAe !== undefined && { callingAe: source.remoteAe }),
        ...(source.calledAe !== undefined && { calledAe: source.calledAe }),
      });
      this.#log.warn('gateway quarantined by filter', { project: target.project.name, filter: f.expression, quarantineId: note.id });
      return { status: 'quarantined', quarantineId: note.id, reason };
    }
    return undefined;
  }
}
