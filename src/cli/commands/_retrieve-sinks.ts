// Where the instances of `dicomgate retrieve --get` go: Part-10 files in a folder, or the archive of
// the data folder through services/ingest. Each dataset streams to disk as its P-DATA fragments
// arrive; the C-STORE-RSP (Success) is sent only once the file is durable (and, for the archive, indexed).
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Dataset, synthesizeMeta } from '../../dicom/index.ts';
import { encodeDataset } from '../../dicom/write.ts';
import { STATUS, type CStoreRequest, type StoreSink } from '../../dimse/index.ts';
import type { Archive } from '../../services/archive.ts';

export interface ReceiveTally {
  stored: number;
  duplicate: number;
  failed: number;
}

/** Preamble, "DICM" and the file meta (PS3.10 7.1) for a dataset known only by its C-STORE command. */
export function part10Prefix(rq: CStoreRequest): Buffer {
  const stub = new Dataset({ explicitVR: true });
  stub.setString(0x00080016, 'UI', rq.affectedSopClassUid);
  stub.setString(0x00080018, 'UI', rq.affectedSopInstanceUid);
  const meta = synthesizeMeta(stub, rq.transferSyntaxUid);
  if (rq.association.callingAe) meta.setString(0x00020016, 'AE', rq.association.callingAe);
  const out: Uint8Array[] = [Buffer.alloc(128), Buffer.from('DICM', 'latin1')];
  encodeDataset(meta, { littleEndian: true, explicitVR: true }, out);
  return Buffer.concat(out);
}

const UID = /^[0-9.]{1,64}$/;

/** Writes each instance to <dir>/<SOPInstanceUID>.dcm (temp file + fsync + rename: never half-written). */
export function folderSink(dir: string, tally: ReceiveTally): (rq: CStoreRequest) => Promise<StoreSink> {
  return async (rq) => {
    // The UID becomes a file name: anything but digits and dots would be a path trick.
    const name = UID.test(rq.affectedSopInstanceUid) ? `${rq.affectedSopInstanceUid}.dcm` : `instance-${randomBytes(6).toString('hex')}.dcm`;
    const final = join(dir, name);
    const temp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.part`);
    let fh: FileHandle | undefined = await open(temp, 'w');
    const drop = (): void => {
      const f = fh;
      fh = undefined;
      void f?.close().catch(() => undefined).then(() => rm(temp, { force: true }));
    };
    try {
      await fh.write(part10Prefix(rq));
    } catch (e) {
      drop();
      throw e;
    }
    return {
      async write(chunk) {
        await fh!.write(chunk);
      },
      async finish() {
        try {
          await fh!.sync();
          await fh!.close();
          fh = undefined;
          await rename(temp, final);
          tally.stored++;
          return STATUS.Success;
        } catch {
          drop();
          tally.failed++;
          return { status: STATUS.StoreOutOfResources, errorComment: 'cannot write file' };
        }
      },
      abort() {
        tally.failed++;
        drop();
      },
    };
  };
}

/** Stores each instance in the archive (blob + index) like the server's C-STORE intake does. */
export function archiveSink(archive: Archive, tally: ReceiveTally): (rq: CStoreRequest) => Promise<StoreSink> {
  return async (rq) => {
    const writer = await archive.blobs.open();
    try {
      await writer.write(part10Prefix(rq));
    } catch (e) {
      await writer.abort();
      throw e;
    }
    return {
      write: (chunk) => writer.write(chunk),
      async finish() {
        const r = await archive.ingest.ingestStaged(writer, { transport: 'dimse', remoteAe: rq.association.callingAe, calledAe: rq.association.calledAe, remoteHost: rq.association.remoteAddress });
        if (r.status === 'rejected') {
          tally.failed++;
          return { status: r.code === 'DICOM_PARSE' || r.code === 'DICOM_MISSING_UID' ? STATUS.StoreCannotUnderstand : STATUS.StoreOutOfResources, errorComment: r.code };
        }
        if (r.status === 'duplicate') tally.duplicate++;
        else tally.stored++;
        return STATUS.Success;
      },
      abort() {
        tally.failed++;
        void writer.abort().catch(() => undefined);
      },
    };
  };
}
