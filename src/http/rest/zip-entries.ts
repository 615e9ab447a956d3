// Reads the files of an uploaded ZIP one at a time (POST /instances with a ZIP body, as Orthanc
// accepts). Directory entries are skipped; entry names are never reported (they may carry PHI).
import yauzl from 'yauzl';
import { AppError } from '../../core/errors.ts';
import { nextZipEntry, readZipEntry } from '../../services/zip-reader.ts';

export const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && Buffer.from(buf.buffer, buf.byteOffset, 4).equals(ZIP_MAGIC);
}

export async function* zipEntries(buf: Buffer, maxEntryBytes: number): AsyncGenerator<Buffer> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, z) => (err ? reject(new AppError('IMPORT_UNREADABLE', { detail: 'ZIP cannot be read', cause: err })) : resolve(z))),
  );
  try {
    for (;;) {
      const entry = await nextZipEntry(zip).catch((err: unknown) => {
        throw new AppError('IMPORT_UNREADABLE', { detail: 'ZIP cannot be read', cause: err });
      });
      if (entry === undefined) return;
      if (entry.fileName.endsWith('/')) continue;
      if (entry.uncompressedSize > maxEntryBytes) throw new AppError('IMPORT_UNREADABLE', { detail: `ZIP entry larger than ${maxEntryBytes} bytes` });
      yield await readZipEntry(zip, entry).catch((err: unknown) => {
        throw new AppError('IMPORT_UNREADABLE', { detail: 'ZIP entry cannot be read', cause: err });
      });
    }
  } finally {
    zip.close();
  }
}
