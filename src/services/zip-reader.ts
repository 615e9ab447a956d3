// Opening a ZIP with yauzl's lazyEntries and reading it one entry at a time: the steps every ZIP intake
// (import, POST /instances, deid, send, folder watch) repeats. Errors are yauzl's own; callers wrap them in their codes.
import type yauzl from 'yauzl';

/** The next entry of `zip`, or undefined at its end. */
/**
 * Opens a ZIP for entry-by-entry reading (lazyEntries, closed by the caller). yauzl is loaded on the
 * first ZIP: most runs have none, and loading it costs ~0.05-0.09 s of CPU at start-up.
 */
export async function openZip(path: string): Promise<yauzl.ZipFile> {
  const { default: lib } = await import('yauzl');
  return lib.openPromise(path, { lazyEntries: true, autoClose: false });
}

export function nextZipEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
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
      reject(err);
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
}

/** The whole uncompressed content of one entry. */
export function readZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}
