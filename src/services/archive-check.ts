// Consistency check of an archive (offline maintenance, e.g. after a crash):
// - instances whose blob is missing (should never happen: blobs are durable before rows commit);
// - orphan blobs: durable but never indexed (a crash between the blob write and the index commit,
//   or a failed delete) — invisible to every query, only wasted space;
// - staged temp files left by a killed writer.
// With `repair`, orphans and temp files older than `olderThanMs` are removed (younger ones may
// belong to an ingest still in flight in another process).
import { stat } from 'node:fs/promises';
import type { ArchiveIndex } from '../index/archive-index.ts';
import type { FsBlobStore } from '../storage/fs-blob-store.ts';

export interface ArchiveCheck {
  instances: number;
  /** Orthanc ids of instances whose blob is missing. */
  missingBlobs: string[];
  orphanBlobs: number;
  tempFiles: number;
  removedOrphans: number;
  removedTempFiles: number;
}

export async function checkArchive(
  archive: { blobs: FsBlobStore; index: ArchiveIndex },
  opts: { repair?: boolean; olderThanMs?: number } = {},
): Promise<ArchiveCheck> {
  const olderThanMs = opts.olderThanMs ?? 3_600_000;
  const result: ArchiveCheck = { instances: 0, missingBlobs: [], orphanBlobs: 0, tempFiles: 0, removedOrphans: 0, removedTempFiles: 0 };
  const pageSize = 1000;
  for (let offset = 0; ; offset += pageSize) {
    const page = await archive.index.query({ level: 'instance', limit: pageSize, offset });
    for (const m of page.matches) {
      result.instances++;
      const [inst] = await archive.index.listInstances('instance', m.id);
      if (!inst?.file || !(await archive.blobs.exists(inst.file.blobKey))) result.missingBlobs.push(m.id);
    }
    if (!page.hasMore) break;
  }
  const cutoff = Date.now() - olderThanMs;
  for (const key of await archive.blobs.listKeys()) {
    if (await archive.index.hasBlobKey(key)) continue;
    result.orphanBlobs++;
    if (!opts.repair) continue;
    const st = await stat(archive.blobs.pathFor(key)).catch(() => undefined);
    if (st && st.mtimeMs <= cutoff && !(await archive.index.hasBlobKey(key))) {
      await archive.blobs.delete(key);
      result.removedOrphans++;
    }
  }
  result.tempFiles = (await archive.blobs.listTemporaryFiles()).length;
  if (opts.repair) result.removedTempFiles = await archive.blobs.sweepTemporaryFiles(olderThanMs);
  return result;
}
