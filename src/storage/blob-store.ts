// The BlobStore port: where the bytes of each stored DICOM file live. The index holds only the key.
// Keys are opaque, random and free of patient data (they end up in paths, logs and URLs).
import type { Readable } from 'node:stream';
import type { AppError } from '../core/errors.ts';

/**
 * An object being written. Nothing is visible under `key` until `commit()` resolves, and after
 * it resolves the bytes are durable (fsync'd file and directory entry): callers may then record
 * the key in the index and report the object stored.
 */
export interface BlobWriter {
  /** The key the blob will have once committed; chosen at open so the temp file sits beside its final name. */
  readonly key: string;
  /** Bytes written so far. */
  readonly size: number;
  /**
   * Queues `chunk` (copied: the caller may reuse it once the promise resolves). May resolve before the
   * bytes reach the disk (write-behind); a failure then surfaces on a later write or at commit.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Reads back everything written so far (for parsing a streamed object before committing it). */
  readStaged(): Promise<Buffer>;
  /**
   * The first bytes written so far, from memory (no I/O): all of them when `size` is at most
   * STAGED_HEAD_BYTES, else at least that many. Enough to parse a DICOM header that precedes its
   * PixelData without reading the object back.
   */
  stagedHead(): Uint8Array;
  /** Makes the blob durable and visible under `key`; returns the key. */
  commit(): Promise<string>;
  /** Drops the staged bytes. Safe to call after a failed write or twice. */
  abort(): Promise<void>;
  /**
   * Set when opened with `{ journal: true }` by a store that keeps a journal: the writer's folder
   * was durably listed in the journal before open() resolved, and stays listed until release().
   * The index row of such a blob may then be committed without a sync: after a power loss that
   * drops it, IngestService.recoverUnindexed re-indexes the blob from the journal's folders.
   */
  readonly journaled?: boolean;
  /** A journaled writer's index row is committed (or it will never be): its folder may leave the journal. */
  release?(): void;
}

export interface OpenOptions {
  /** List the blob's folder in the store's journal (see BlobWriter.journaled); ignored without one. */
  journal?: boolean;
  /**
   * With `journal`: the project the blob goes through (gateway intakes). Its folder holds only that
   * project's journaled blobs, so a recovered row gets the project back.
   */
  project?: string;
}

/** Bytes in memory, or a file to copy (the fs store copies in the kernel, never through JS buffers). */
export type BlobSource = Uint8Array | { path: string };

export interface BlobStore {
  /** Starts a streamed write, e.g. C-STORE data fragments as they arrive. */
  open(opts?: OpenOptions): Promise<BlobWriter>;
  /** Writes a whole object (chunks are concatenated) durably; returns its new key. */
  put(data: Uint8Array | readonly Uint8Array[]): Promise<string>;
  /**
   * Writes several objects as one group (a group commit): when it resolves, each object is durable
   * and has a key, or failed with the AppError given in its place. An implementation may share
   * the cost of durability across the group (the fs store syncs one folder once per group).
   */
  putBatch(items: readonly BlobSource[]): Promise<(string | AppError)[]>;
  /** The whole object. Throws AppError STORE_NOT_FOUND when the key is unknown. */
  /**
   * The whole blob. `expectedSize` (the size the index recorded) lets the fs store skip a stat: one
   * open and one read, the close off the caller's path; a blob of another size is still read whole.
   */
  get(key: string, expectedSize?: number): Promise<Buffer>;
  /**
   * The whole blob read into `buf` when it fits (the answer is a view of `buf`), else into a new
   * buffer. For writers that recycle their buffers (WADO-RS): fresh half-megabyte buffers per
   * instance made V8 run a full mark-compact every ~50 instances (external memory pressure).
   */
  readInto?(key: string, buf: Buffer, expectedSize?: number): Promise<Buffer>;
  /** The object as a stream (for WADO / C-GET of large files). Errors with STORE_NOT_FOUND. */
  createReadStream(key: string): Readable;
  exists(key: string): Promise<boolean>;
  /** Removes the object; unknown keys are ignored so deletes can be retried. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
  /**
   * The journal (stores that keep one): folders that may hold blobs whose index rows were
   * committed without a sync, with their keys. For start-up recovery after a power loss.
   */
  journaledBlobs?(): Promise<{ key: string; path: string; mtimeMs: number; project?: string }[]>;
  /**
   * Drops from the journal every folder no writer still needs, once `sync` (which makes every index
   * commit so far durable) has resolved. `all` (recovery): every folder this process has not written to.
   */
  trimJournal?(sync: () => Promise<void>, opts?: { all?: boolean }): Promise<void>;
  /** Folders in the journal now. */
  readonly journalSize?: number;
}

/** How many leading bytes a BlobWriter keeps in memory for stagedHead(). */
export const STAGED_HEAD_BYTES = 64 * 1024;

/** Random blob keys: 32 lowercase hex digits (128 random bits). */
export const BLOB_KEY_PATTERN = /^[0-9a-f]{32}$/;

export function isBlobKey(key: string): boolean {
  return BLOB_KEY_PATTERN.test(key);
}
