// Reads the files of an uploaded ZIP one at a time (POST /instances with a ZIP body, as Orthanc
// accepts). Directory entries are skipped; entry names are never reported (they may carry PHI).
import yauzl from 'yauzl';
import { AppError } from '../../core/errors.ts';

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
      const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => {
          cleanup();
          resolve(e);
        };
        const onEnd = () => {
          cleanup();
          resolve(undefined);
        };
        const onError = (err: Error) => {
          cleanup();
          reject(new AppError('IMPORT_UNREADABLE', { detail: 'ZIP cannot be read', cause: err }));
        };
        const cleanup = () => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          zip.off('error', onError);
        };
        zip.on('entry', onEntry);
        zip.on('end', onEnd);
        zip.on('error', onError);
        zip.readEntry();
      });
      if (entry === undefined) return;
      if (entry.fileName.endsWith('/')) continue;
      if (entry.uncompressedSize > maxEntryBytes) throw new AppError('IMPORT_UNREADABLE', { detail: `ZIP entry larger than ${maxEntryBytes} bytes` });
      yield await new Promise<Buffer>((resolve, reject) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err) return reject(new AppError('IMPORT_UNREADABLE', { detail: 'ZIP entry cannot be read', cause: err }));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', (e) => reject(new AppError('IMPORT_UNREADABLE', { detail: 'ZIP entry cannot be read', cause: e })));
          stream.on('end', () => resolve(Buffer.concat(chunks)));
        });
      });
    }
  } finally {
    zip.close();
  }
}
