// STOW-RS (PS3.18 10.5): POST /studies[/{study}] with multipart/related; type="application/dicom".
// Each part streams into a BlobWriter as it arrives (a 1 GB upload is never held in memory), then
// goes through the same ingest path as C-STORE. The answer lists stored instances in
// ReferencedSOPSequence and refused ones in FailedSOPSequence with a PS3.4 failure reason.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS } from '../../core/errors.ts';
import { PIXEL_DATA, readPart10 } from '../../dicom/index.ts';
import type { JsonDataset } from '../../dicom/json.ts';
import type { IngestResult } from '../../services/ingest.ts';
import type { BlobWriter } from '../../storage/blob-store.ts';
import { baseUrl, DICOM_JSON, UPLOAD, type DicomwebDeps } from './dicomweb-deps.ts';
import { mediaTypeParams, MultipartError, readMultipart, type PartHeaders } from './multipart.ts';

// PS3.4 Table B.2-1 / PS3.18 Table 10.5.3-2 failure reasons.
const PROCESSING_FAILURE = 0x0110;
const DATASET_DOES_NOT_MATCH = 0xa900;
const CANNOT_UNDERSTAND = 0xc000;
/** Bytes of each part kept in memory to read its UIDs. */
const HEAD_BYTES = 1024 * 1024;
/**
 * Parts whose fsync + index commit may still be running while the next parts are read: the disk
 * flushes of a request overlap and the ingest service's group commit puts their index rows in one
 * transaction. Bounded, so memory stays at most this many heads (HEAD_BYTES each) per request.
 */
const PARTS_IN_FLIGHT = 8;

interface PartOutcome {
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyUid?: string;
  seriesUid?: string;
  failure?: number;
  result?: IngestResult;
}

function ui(v: string | undefined) {
  return v === undefined ? { vr: 'UI' } : { vr: 'UI', Value: [v] };
}

export const stowRoutes: FastifyPluginAsync<DicomwebDeps> = async (app, deps) => {
  const { blobs, ingest } = deps.archive;

  // The body stays a stream: the route reads it part by part.
  app.addContentTypeParser('multipart/related', (_req, payload, done) => done(null, payload));

  async function store(req: FastifyRequest<{ Params: { study?: string } }>, reply: FastifyReply) {
    const { type, params } = mediaTypeParams(req.headers['content-type'] ?? '');
    const inner = (params.type ?? 'application/dicom').toLowerCase();
    if (type !== 'multipart/related' || inner !== 'application/dicom') {
      // Bulk data + metadata (application/dicom+json parts) is not supported yet.
      return reply.code(415).send({ error: 'UNSUPPORTED_MEDIA_TYPE', message: 'send multipart/related; type="application/dicom"' });
    }
    const boundary = params.boundary;
    if (boundary === undefined) throw new AppError('IMPORT_UNREADABLE', { detail: 'multipart boundary missing' });
    const outcomes: PartOutcome[] = [];
    const source = { transport: 'stow' as const, remoteHost: req.ip };
    const open = new Set<BlobWriter>();
    const finishing = new Set<Promise<void>>();
    try {
      await readMultipart(req.body as AsyncIterable<Buffer>, boundary, async (headers: PartHeaders) => {
        const partType = mediaTypeParams(headers['content-type'] ?? 'application/dicom').type;
        // Journaled like a C-STORE: the part's index row then commits without a WAL flush of its own
        // (one disk flush per part instead of two; start-up recovery re-indexes from the journal).
        let writer: BlobWriter | undefined = partType === 'application/dicom' ? await blobs.open({ journal: true }) : undefined;
        if (writer) open.add(writer);
        const outcome: PartOutcome = partType === 'application/dicom' ? {} : { failure: CANNOT_UNDERSTAND };
        outcomes.push(outcome);
        const head: Buffer[] = [];
        let headBytes = 0;
        return {
          write: async (chunk) => {
            if (!writer) return;
            // Keep the first bytes for the UID check, so the object is not read back for it.
            if (headBytes < HEAD_BYTES) {
              head.push(Buffer.from(chunk.subarray(0, HEAD_BYTES - headBytes)));
              headBytes += Math.min(chunk.length, HEAD_BYTES - headBytes);
            }
            await writer.write(chunk);
          },
          end: async () => {
            if (!writer) return;
            const w = writer;
            writer = undefined;
            open.delete(w);
            // Never rejects: it runs unawaited while the next part is read.
            const p: Promise<void> = finishPart(w, Buffer.concat(head), outcome, req.params.study, source)
              .catch(async () => {
                outcome.failure ??= PROCESSING_FAILURE;
                await w.abort().catch(() => undefined);
              })
              .finally(() => finishing.delete(p));
            finishing.add(p);
            if (finishing.size >= PARTS_IN_FLIGHT) await Promise.race(finishing);
          },
        };
      });
      await Promise.all(finishing);
    } catch (e) {
      // A body cut mid-part (client gone, malformed): drop the half-written blob; parts already
      // complete are finished (stored or refused) before answering.
      await Promise.allSettled(finishing);
      await Promise.all([...open].map((w) => w.abort()));
      if (e instanceof MultipartError) throw new AppError('IMPORT_UNREADABLE', { detail: e.message, cause: e });
      throw e;
    }
    for (const o of outcomes) {
      await deps.audit.record({
        actor: req.principal?.user.username ?? null,
        action: 'upload',
        resource: o.result && o.result.status !== 'rejected' ? o.result.ids.instance : (o.sopInstanceUid ?? null),
        ip: req.ip,
        outcome: o.failure === undefined ? 'success' : 'failure',
        detail: { via: 'stow' },
      });
    }
    const base = baseUrl(req);
    const ok = outcomes.filter((o) => o.failure === undefined);
    const failed = outcomes.filter((o) => o.failure !== undefined);
    const body: JsonDataset = {};
    if (req.params.study !== undefined) body['00081190'] = { vr: 'UR', Value: [`${base}/studies/${req.params.study}`] };
    if (failed.length > 0) {
      body['00081198'] = {
        vr: 'SQ',
        Value: failed.map((o) => ({ '00081150': ui(o.sopClassUid), '00081155': ui(o.sopInstanceUid), '00081197': { vr: 'US', Value: [o.failure!] } })),
      };
    }
    if (ok.length > 0) {
      body['00081199'] = {
        vr: 'SQ',
        Value: ok.map((o) => ({
          '00081150': ui(o.sopClassUid),
          '00081155': ui(o.sopInstanceUid),
          '00081190': { vr: 'UR', Value: [`${base}/studies/${o.studyUid}/series/${o.seriesUid}/instances/${o.sopInstanceUid}`] },
        })),
      };
    }
    // PS3.18 10.5.3: 200 all stored, 202 some failed, 409 none stored.
    reply.code(outcomes.length === 0 ? 400 : failed.length === 0 ? 200 : ok.length === 0 ? 409 : 202);
    reply.type(DICOM_JSON);
    return body;
  }

  async function finishPart(w: BlobWriter, head: Buffer, o: PartOutcome, expectedStudy: string | undefined, source: { transport: 'stow'; remoteHost: string }): Promise<void> {
    try {
      // Stop right after the UIDs (StudyID follows SeriesInstanceUID); a header longer than the
      // kept prefix falls back to reading the staged object.
      let header;
      try {
        header = readPart10(head, { untilTag: 0x00200010 }).dataset;
        if (header.string(0x0020000e) === undefined && head.length >= HEAD_BYTES) throw new Error('prefix too short');
      } catch {
        header = readPart10(await w.readStaged(), { untilTag: PIXEL_DATA }).dataset;
      }
      o.sopClassUid = header.string(0x00080016);
      o.sopInstanceUid = header.string(0x00080018);
      o.studyUid = header.string(0x0020000d);
      o.seriesUid = header.string(0x0020000e);
    } catch {
      await w.abort();
      o.failure = CANNOT_UNDERSTAND;
      return;
    }
    if (expectedStudy !== undefined && o.studyUid !== expectedStudy) {
      // PS3.18 10.5.1: an instance of another study than the URL names is refused.
      await w.abort();
      o.failure = DATASET_DOES_NOT_MATCH;
      return;
    }
    const r = await ingest.ingestStaged(w, source);
    o.result = r;
    if (r.status === 'rejected') o.failure = ERRORS[r.code]?.dimse ?? PROCESSING_FAILURE;
  }

  const opts = { config: { role: UPLOAD } };
  app.post<{ Params: { study?: string } }>('/studies', opts, store);
  app.post<{ Params: { study?: string } }>('/studies/:study', opts, store);
};
