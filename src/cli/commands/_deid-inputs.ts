// Inputs of `dicomgate deid`: files, folders (recursive, sorted so runs are reproducible) and ZIP
// archives (entries read into memory one at a time).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type yauzl from 'yauzl';
import { openZip } from '../../services/zip-reader.ts';
import { AppError } from '../../core/errors.ts';

export type DeidInput = { readonly label: string; readonly path: string } | { readonly label: string; readonly data: Buffer };

function isZip(path: string): boolean {
  return /\.zip$/i.test(path);
}

function* walkFolder(dir: string): Generator<string> {
  // The entries' types come with the listing (no stat per file); anything else (symbolic links, file
  // systems that do not report types) is stat'ed, which follows links as before.
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (!isDir && !isFile) {
      const st = statSync(p);
      isDir = st.isDirectory();
      isFile = st.isFile();
    }
    if (isDir) yield* walkFolder(p);
    else if (isFile) yield p;
  }
}

async function* zipEntries(path: string): AsyncGenerator<DeidInput> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (cause) {
    throw new AppError('IMPORT_UNREADABLE', { detail: `cannot open ZIP archive ${path}`, cause });
  }
  try {
    const entries: yauzl.Entry[] = [];
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (e: yauzl.Entry) => {
        if (!e.fileName.endsWith('/')) entries.push(e);
        zip.readEntry();
      });
      zip.once('end', () => resolve());
      zip.once('error', reject);
      zip.readEntry();
    });
    entries.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
    for (const e of entries) {
      const stream = await zip.openReadStreamPromise(e);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      yield { label: `${path}!${e.fileName}`, data: Buffer.concat(chunks) };
    }
  } finally {
    zip.close();
  }
}

export async function* deidInputs(paths: readonly string[]): AsyncGenerator<DeidInput> {
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (cause) {
      throw new AppError('IMPORT_UNREADABLE', { detail: `no such file or folder: ${p}`, cause });
    }
    if (st.isDirectory()) {
      for (const f of walkFolder(p)) {
        if (isZip(f)) yield* zipEntries(f);
        else yield { label: f, path: f };
      }
    } else if (isZip(p)) yield* zipEntries(p);
    else yield { label: p, path: p };
  }
}

/** How many inputs deidInputs will yield (for the progress bar); ZIPs count their entries. */
export async function countInputs(paths: readonly string[]): Promise<number> {
  let n = 0;
  const countZip = async (p: string): Promise<number> => {
    try {
      const zip = await openZip(p);
      zip.close();
      return zip.entryCount;
    } catch {
      return 0; // deidInputs reports the unreadable archive
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      for (const f of walkFolder(p)) n += isZip(f) ? await countZip(f) : 1;
    } else n += isZip(p) ? await countZip(p) : 1;
  }
  return n;
}
