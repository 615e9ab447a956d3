// Ingest use case: every intake (C-STORE, STOW-RS, REST upload, CLI import) stores through here.
// Order, so that "stored" always means durable and a crash leaves nothing half-visible:
//   1. parse the header (stops before PixelData) and check the three UIDs;
//   2. write the blob durably (temp file, rename, fdatasync + directory fsync; see fs-blob-store.ts);
//   3. commit the index rows (one transaction per batch; SQLite synchronous=FULL);
//   4. only then report "stored". A crash after 2 leaves an unreferenced blob (an orphan that a
//      sweep can remove), never an index row without its bytes.
// If 3 fails the new blobs are deleted. Duplicates (same SOP Instance UID) follow the policy:
// keep-first drops the new blob, overwrite drops the replaced one after the commit.
//
// Journaled writers (C-STORE: BlobStore.open({ journal: true })) relax step 3: their folder is
// durably listed in the blob store's journal before the first byte, so their index rows are
// committed without a sync of their own (a crash of the process loses nothing; a power loss may
// drop the last commits), and recoverUnindexed() re-indexes, at start-up, every blob of the
// journal's folders that has no row. Each C-STORE then waits for one disk flush (the blob's)
// instead of two in a row. The journal is trimmed after an explicit index sync.
import { AppError, isAppError, type ErrorCode } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { statSync } from 'node:fs';
import { PIXEL_DATA, readPart10, readPart10HeaderSync, type DicomFile } from '../dicom/index.ts';
import type { ArchiveIndex, DuplicatePolicy, InstanceRecord, InstanceSource, ResourceIds, StoreOptions } from '../index/archive-index.ts';
import { extractMainTags } from '../index/extract-main-tags.ts';
import type { BlobStore, BlobWriter } from '../storage/blob-store.ts';

export type { InstanceSource } from '../index/archive-index.ts';

export type IngestResult =
  | {
      status: 'stored' | 'duplicate' | 'replaced';
      /** Orthanc ids; for a keep-first duplicate, those of the instance kept. */
      ids: ResourceIds;
      sopInstanceUid: string;
      sopClassUid: string | undefined;
      fileSize: number;
    }
  | {
      status: 'rejected';
      code: ErrorCode;
      /** Free of patient data: error codes, offsets, tags and UIDs only. */
      reason: string;
      /** Whether the same input may succeed later (storage or index unavailable). */
      retryable: boolean;
    };

/** Bytes received, or a local file (import): a file is parsed header-only and copied in the kernel. */
export type IngestItem = { data: Uint8Array; source: InstanceSource } | { path: string; source: InstanceSource };

export interface IngestOptions {
  duplicates: DuplicatePolicy;
  log?: Logger;
  /**
   * Called after each index commit with the instances it newly stored or replaced (every transport),
   * before their callers hear "stored" (the pipeline's stable-study tracker). Errors are logged only.
   */
  onStored?: (stored: readonly StoredNotice[]) => Promise<void>;
}

export interface StoredNotice {
  ids: ResourceIds;
  source: InstanceSource;
}

interface Parsed {
  record: Omit<InstanceRecord, 'blobKey'>;
  sopInstanceUid: string;
}

/** A staged object whose blob is durable, waiting for the next index group commit. */
interface QueuedCommit {
  parsed: Parsed;
  key: string;
  writer: BlobWriter;
  done: (r: IngestResult) => void;
}

/** Trim the blob store's journal (one index sync) once it lists more folders than this. */
const JOURNAL_TRIM_AT = 4;

export interface RecoveryResult {
  /** Blobs of journaled folders that had no index row and were indexed again. */
  reindexed: number;
  /** Unreferenced blobs removed: duplicates of an indexed instance, or older than its row. */
  removed: number;
  /** Unreferenced blobs that could not be parsed (left for `dicomgate check`). */
  unreadable: number;
}

export class IngestService {
  private readonly log: Logger;
  /** Staged objects (C-STORE, STOW) whose blobs are durable, for the next index transaction. */
  private readonly commitQueue: QueuedCommit[] = [];
  private committing = false;
  /** A running journal trim (index sync + journal rewrite), if any. */
  private trimming: Promise<void> | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly index: ArchiveIndex,
    private readonly opts: IngestOptions,
  ) {
    this.log = opts.log ?? silentLogger;
  }

  /** Stores one object (a Part-10 file's bytes). */
  async ingest(data: Uint8Array, source: InstanceSource): Promise<IngestResult> {
    return (await this.ingestBatch([{ data, source }]))[0];
  }

  /**
   * Stores many objects as a group commit: blobs are written (and fsync'd) concurrently, then one
   * index transaction records them all; no result is returned before both are durable.
   */
  async ingestBatch(items: readonly IngestItem[]): Promise<IngestResult[]> {
    const results: (IngestResult | undefined)[] = new Array(items.length);
    const parsed: (Parsed | undefined)[] = items.map((item, i) => {
      try {
        return 'data' in item ? parse(item.data, item.source) : parseFile(item.path, item.source);
      } catch (e) {
        results[i] = rejected(e, 'DICOM_PARSE');
        return undefined;
      }
    });
    if (this.opts.duplicates === 'keep-first') await this.answerKnownDuplicates(parsed, results);

    const todo = parsed.flatMap((p, i) => (p && !results[i] ? [i] : []));
    const keys: (string | undefined)[] = new Array(items.length);
    if (todo.length > 0) {
      let stored: (string | AppError)[];
      try {
        stored = await this.blobs.putBatch(todo.map((i) => {
          const item = items[i];
          return 'data' in item ? item.data : { path: item.path };
        }));
      } catch (e) {
        stored = todo.map(() => (isAppError(e) ? e : new AppError('STORE_UNAVAILABLE', { cause: e })));
      }
      stored.forEach((k, j) => {
        if (typeof k === 'string') keys[todo[j]] = k;
        else results[todo[j]] = rejected(k, 'STORE_UNAVAILABLE');
      });
    }
    await this.commit(parsed, keys, results);
    return results.map((r) => r!);
  }

  /**
   * Stores an object given as chunks (the de-identified output of a gateway intake) through a
   * journaled writer, like a C-STORE: written without concatenating the chunks, parsed from the
   * writer's head (or taken from `parsed`, the file the chunks encode, when the caller has it), one
   * flush for the blob and an index commit without a sync of its own. `publishAfter`: see ingestStaged.
   */
  async ingestChunks(chunks: readonly Uint8Array[], source: InstanceSource, parsed?: DicomFile, publishAfter?: Promise<void>): Promise<IngestResult> {
    // Awaited only after the writes: a failure before then must not count as an unhandled rejection.
    publishAfter?.catch(() => undefined);
    let writer: BlobWriter;
    try {
      writer = await this.blobs.open({ journal: true, ...(source.project !== undefined && { project: source.project }) });
    } catch (e) {
      return rejected(e, 'STORE_UNAVAILABLE');
    }
    try {
      for (const c of chunks) await writer.write(c);
    } catch (e) {
      await writer.abort();
      return rejected(e, 'STORE_UNAVAILABLE');
    }
    return this.ingestStaged(writer, source, parsed, publishAfter);
  }

  /**
   * Stores an object already streamed into a BlobWriter (C-STORE fragments written as they came).
   * Commits or aborts the writer. `parsed`: the file the writer holds, already parsed by the caller.
   * `publishAfter`: what must be durable before the blob may be (a gateway's key-database flush of the
   * mappings the object was made with); awaited just before the commit, its failure rejects the object.
   */
  async ingestStaged(writer: BlobWriter, source: InstanceSource, parsed?: DicomFile, publishAfter?: Promise<void>): Promise<IngestResult> {
    const results: (IngestResult | undefined)[] = [undefined];
    let p: Parsed | undefined;
    try {
      p = toParsed(parsed ?? (await stagedHeader(writer)), writer.size, source);
    } catch (e) {
      await writer.abort();
      return rejected(e, 'DICOM_PARSE');
    }
    if (this.opts.duplicates === 'keep-first') await this.answerKnownDuplicates([p], results);
    if (results[0]) {
      await writer.abort();
      return results[0];
    }
    if (publishAfter) {
      try {
        await publishAfter;
      } catch (e) {
        await writer.abort();
        return rejected(e, 'KEYS_UNAVAILABLE');
      }
    }
    let key: string | undefined;
    try {
      key = await writer.commit();
    } catch (e) {
      return rejected(e, 'STORE_UNAVAILABLE');
    }
    return this.queueCommit(p, key, writer);
  }

  /**
   * Group commit across concurrent callers (several associations, STOW parts): an object whose blob
   * is durable joins the queue; when no index transaction is running one starts at once with
   * everything queued, so a lone caller waits for nothing and N concurrent ones share one commit
   * (one WAL fsync) instead of N in a row. Each caller's promise resolves after its transaction.
   */
  private queueCommit(parsed: Parsed, key: string, writer: BlobWriter): Promise<IngestResult> {
    return new Promise<IngestResult>((done) => {
      this.commitQueue.push({ parsed, key, writer, done });
      if (!this.committing) void this.drainCommits();
    });
  }

  private async drainCommits(): Promise<void> {
    this.committing = true;
    try {
      while (this.commitQueue.length > 0) {
        const batch = this.commitQueue.splice(0);
        const results: (IngestResult | undefined)[] = new Array(batch.length);
        // Without a sync only when every blob of the batch is journaled and the index can sync later.
        const durable = !(this.index.syncCommitted && batch.every((b) => b.writer.journaled === true));
        try {
          await this.commit(batch.map((b) => b.parsed), batch.map((b) => b.key), results, durable ? undefined : { durable: false });
        } catch (e) {
          // commit() turns index failures into rejections; anything else is a bug, answered the same way.
          for (let i = 0; i < batch.length; i++) results[i] ??= rejected(e, 'INDEX_UNAVAILABLE');
        }
        // Committed (or never to be): their folders may leave the journal after the next sync.
        for (const b of batch) b.writer.release?.();
        batch.forEach((b, i) => b.done(results[i] ?? rejected(undefined, 'INDEX_UNAVAILABLE')));
        this.maybeTrimJournal();
      }
    } finally {
      this.committing = false;
    }
  }

  /** In the background: one index sync, then the journal forgets the folders it covers. */
  private maybeTrimJournal(): void {
    const sync = this.index.syncCommitted;
    if (this.trimming || !sync || !this.blobs.trimJournal || (this.blobs.journalSize ?? 0) <= JOURNAL_TRIM_AT) return;
    this.trimming = this.blobs
      .trimJournal(() => sync.call(this.index))
      .catch((err: unknown) => this.log.warn('blob journal trim failed; retried after the next commit', { err }))
      .finally(() => {
        this.trimming = undefined;
      });
  }

  /**
   * Start-up recovery after a power loss (run before any intake): every blob in the journal's
   * folders without an index row is indexed again from its file (its bytes were durable before its
   * sender heard "stored"; only the row's commit was lost). A blob whose SOP Instance UID is
   * indexed with another blob is a duplicate whose clean-up was lost (keep-first), or the older
   * of the two (overwrite, by the file's time against the row's): it is removed. Then the index is
   * synced and the journal emptied. Without a journal (memory store) there is nothing to do.
   */
  async recoverUnindexed(): Promise<RecoveryResult> {
    const out: RecoveryResult = { reindexed: 0, removed: 0, unreadable: 0 };
    if (!this.blobs.journaledBlobs || !this.blobs.trimJournal) return out;
    for (const b of await this.blobs.journaledBlobs()) {
      if (await this.index.hasBlobKey(b.key)) continue;
      let parsed: Parsed;
      try {
        const file = readPart10HeaderSync(b.path);
        const remoteAe = file.meta.string(SOURCE_AE_TAG)?.trim();
        parsed = toParsed(file, statSync(b.path).size, { transport: 'dimse', ...(remoteAe ? { remoteAe } : {}), ...(b.project !== undefined && { project: b.project }) });
      } catch (err) {
        this.log.warn('recovery: unreferenced blob is not readable DICOM; left for the archive check', { blobKey: b.key, err });
        out.unreadable++;
        continue;
      }
      const [existing] = await this.index.findByUid('instance', parsed.sopInstanceUid);
      const existingAt = existing?.file ? Date.parse(existing.file.receivedAt) : undefined;
      if (existingAt !== undefined && (this.opts.duplicates === 'keep-first' || existingAt >= b.mtimeMs)) {
        await this.deleteBlobs([b.key]);
        out.removed++;
        continue;
      }
      const record = { ...parsed.record, receivedAt: new Date(b.mtimeMs), blobKey: b.key };
      const [o] = await this.index.storeInstances([record], this.opts.duplicates);
      if (o.status === 'duplicate') {
        await this.deleteBlobs([b.key]);
        out.removed++;
        continue;
      }
      if (o.status === 'replaced') await this.deleteBlobs([o.replacedBlobKey]);
      out.reindexed++;
    }
    const sync = this.index.syncCommitted;
    await this.blobs.trimJournal(() => (sync ? sync.call(this.index) : Promise.resolve()), { all: true });
    if (out.reindexed + out.removed + out.unreadable > 0) this.log.warn('recovery: journaled blobs without index rows handled', { ...out });
    return out;
  }

  /** keep-first: answer instances already in the index without writing their blob at all. */
  private async answerKnownDuplicates(parsed: (Parsed | undefined)[], results: (IngestResult | undefined)[]): Promise<void> {
    await Promise.all(
      parsed.map(async (p, i) => {
        if (!p || results[i]) return;
        const [existing] = await this.index.findByUid('instance', p.sopInstanceUid).catch(() => []);
        if (!existing) return;
        const ids = await this.idsOf(existing.id).catch(() => undefined);
        if (ids) results[i] = done('duplicate', ids, p);
      }),
    );
  }

  private async idsOf(instanceId: string): Promise<ResourceIds | undefined> {
    const instance = await this.index.getResource('instance', instanceId);
    const series = instance?.parentId ? await this.index.getResource('series', instance.parentId) : undefined;
    const study = series?.parentId ? await this.index.getResource('study', series.parentId) : undefined;
    if (!instance || !series || !study?.parentId) return undefined;
    return { patient: study.parentId, study: study.id, series: series.id, instance: instance.id };
  }

  /** One index transaction for every item that has a durable blob, then blob clean-up. */
  private async commit(parsed: (Parsed | undefined)[], keys: (string | undefined)[], results: (IngestResult | undefined)[], opts?: StoreOptions): Promise<void> {
    const todo: number[] = [];
    parsed.forEach((p, i) => {
      if (p && keys[i] && !results[i]) todo.push(i);
    });
    if (todo.length === 0) return;
    const records = todo.map((i) => ({ ...parsed[i]!.record, blobKey: keys[i]! }));
    try {
      const outcomes = opts ? await this.index.storeInstances(records, this.opts.duplicates, opts) : await this.index.storeInstances(records, this.opts.duplicates);
      const obsolete: string[] = [];
      outcomes.forEach((o, j) => {
        const i = todo[j];
        results[i] = done(o.status, o.ids, parsed[i]!);
        // A duplicate's new blob goes, unless something else indexed that very blob meanwhile (a
        // recovery run by another process): then it is the instance's bytes.
        if (o.status === 'duplicate') obsolete.push(keys[i]!);
        if (o.status === 'replaced') obsolete.push(o.replacedBlobKey);
      });
      await this.deleteBlobs(await this.unreferenced(obsolete));
    } catch (e) {
      this.log.error('index commit failed; new blobs deleted', { count: todo.length, err: e });
      for (const i of todo) results[i] = rejected(e, 'INDEX_UNAVAILABLE');
      await this.deleteBlobs(todo.map((i) => keys[i]!));
    }
    if (this.opts.onStored) await this.notifyStored(todo, parsed, results);
  }

  private async notifyStored(todo: number[], parsed: (Parsed | undefined)[], results: (IngestResult | undefined)[]): Promise<void> {
    const stored: StoredNotice[] = [];
    for (const i of todo) {
      const r = results[i];
      if (r && (r.status === 'stored' || r.status === 'replaced')) stored.push({ ids: r.ids, source: parsed[i]!.record.source });
    }
    if (stored.length === 0) return;
    try {
      await this.opts.onStored!(stored);
    } catch (err) {
      this.log.error('onStored hook failed', { count: stored.length, err });
    }
  }

  private async unreferenced(keys: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const k of keys) if (!(await this.index.hasBlobKey(k).catch(() => false))) out.push(k);
    return out;
  }

  private async deleteBlobs(keys: string[]): Promise<void> {
    await Promise.all(
      keys.map((k) =>
        this.blobs.delete(k).catch((err: unknown) => this.log.warn('could not delete unreferenced blob', { blobKey: k, err })),
      ),
    );
  }
}

/** (0002,0016) Source Application Entity Title: the calling AE, written by the C-STORE intake. */
const SOURCE_AE_TAG = 0x00020016;

function parse(data: Uint8Array, source: InstanceSource): Parsed {
  return toParsed(readPart10(data, { untilTag: PIXEL_DATA }), data.byteLength, source);
}

/**
 * The header of a staged object, parsed from the bytes the writer kept in memory: the header
 * precedes PixelData, so the object is read back from disk only when its header is longer than
 * that (e.g. a large RT Structure Set, which has no PixelData) or the encoding hides it (deflate).
 */
async function stagedHeader(writer: BlobWriter): Promise<DicomFile> {
  const head = writer.stagedHead();
  if (head.byteLength >= writer.size) return readPart10(head, { untilTag: PIXEL_DATA });
  try {
    const file = readPart10(head, { untilTag: PIXEL_DATA });
    // Stopped at PixelData: everything before it was in the head. Otherwise the head ended first.
    if (file.dataset._partial) return file;
  } catch (e) {
    if (!isAppError(e, 'DICOM_PARSE')) throw e;
  }
  return readPart10(await writer.readStaged(), { untilTag: PIXEL_DATA });
}

/** Header-only read: stops before PixelData without reading the rest of a large file. */
function parseFile(path: string, source: InstanceSource): Parsed {
  const file = readPart10HeaderSync(path);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new AppError('IMPORT_UNREADABLE', { detail: (e as NodeJS.ErrnoException).code ?? 'stat failed', cause: e });
  }
  return toParsed(file, size, source);
}

function toParsed(file: DicomFile, size: number, source: InstanceSource): Parsed {
  const tags = extractMainTags(file.dataset);
  for (const k of ['SOPInstanceUID', 'SeriesInstanceUID', 'StudyInstanceUID'] as const) {
    if (!tags[k]) throw new AppError('DICOM_MISSING_UID', { detail: k });
  }
  return {
    record: {
      tags,
      fileSize: size,
      transferSyntaxUid: file.transferSyntaxUID,
      receivedAt: new Date(),
      source,
    },
    sopInstanceUid: tags.SOPInstanceUID!,
  };
}

function done(status: 'stored' | 'duplicate' | 'replaced', ids: ResourceIds, p: Parsed): IngestResult {
  return { status, ids, sopInstanceUid: p.sopInstanceUid, sopClassUid: p.record.tags.SOPClassUID, fileSize: p.record.fileSize };
}

/** `fallback` names the stage for errors that are not AppErrors (library errors, bugs). */
function rejected(e: unknown, fallback: ErrorCode): IngestResult {
  if (isAppError(e)) return { status: 'rejected', code: e.code, reason: e.message, retryable: e.spec.retryable };
  // Keep a foreign error's message out of the reason: it may quote the data.
  const err = new AppError(fallback, { detail: `unexpected ${(e as Error)?.name ?? 'error'}` });
  return { status: 'rejected', code: fallback, reason: err.message, retryable: err.spec.retryable };
}
