// C-MOVE/C-GET: the stored instances an identifier designates (PS3.4 C.4.2.2.1: unique keys at and
// above the retrieve level), each sent as stored: the blob's dataset streams past its file meta.
import type { Readable } from 'node:stream';
import type { Dataset } from '../dicom/index.ts';
import type { OutgoingInstance } from '../dimse/handlers.ts';
import { parsePart10Meta } from '../dimse/part10-source.ts';
import type { ArchiveIndex } from '../index/archive-index.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { identifierQuery } from './identifier-keys.ts';

const PAGE = 500;

export async function instancesFor(index: ArchiveIndex, blobs: BlobStore, identifier: Dataset, signal?: AbortSignal): Promise<OutgoingInstance[]> {
  const q = identifierQuery(identifier);
  const out: OutgoingInstance[] = [];
  const seen = new Set<string>();
  for (let offset = 0; ; offset += PAGE) {
    const page = await index.query({ ...q.query, limit: PAGE, offset });
    for (const m of page.matches) {
      if (signal?.aborted) return out;
      for (const rec of await index.listInstances(q.level, m.id)) {
        if (!rec.file || seen.has(rec.id)) continue;
        seen.add(rec.id);
        const key = rec.file.blobKey;
        out.push({
          sopClassUid: rec.tags.SOPClassUID ?? '',
          sopInstanceUid: rec.tags.SOPInstanceUID ?? '',
          transferSyntaxUid: rec.file.transferSyntaxUid,
          open: () => datasetStream(blobs.createReadStream(key)),
        });
      }
    }
    if (!page.hasMore) return out;
  }
}

/** The dataset bytes of a stored Part-10 blob: buffers only until the file meta is behind it. */
async function* datasetStream(file: Readable): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  try {
    for await (const chunk of file as AsyncIterable<Buffer>) {
      if (head === undefined) {
        yield chunk;
        continue;
      }
      head = Buffer.concat([head, chunk]);
      if (head.length < 64 * 1024) continue;
      const { datasetOffset } = parsePart10Meta(head, 'stored blob');
      yield head.subarray(datasetOffset);
      head = undefined;
    }
    if (head !== undefined) yield head.subarray(parsePart10Meta(head, 'stored blob').datasetOffset);
  } finally {
    file.destroy();
  }
}
