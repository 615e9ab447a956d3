// Imports files, folders (recursively) and ZIP archives into the archive through IngestService.
// Files are read and stored in group commits: `batchSize` files are written concurrently, fsync'd,
// then recorded in one index transaction, and only then counted as stored (see ingest.ts).
// Two batches are in flight at once, so reading the next overlaps committing the previous.
// Plain files are never read into JS: the header is parsed from its first bytes and the blob
// store copies the file in the kernel (ZIP entries are inflated into memory).
import { opendir, realpath, stat, open as openFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type yauzl from 'yauzl';
import { AppError, isAppError, type ErrorCode } from '../core/errors.ts';
import type { IngestResult, IngestService } from './ingest.ts';
import { nextZipEntry, openZip, readZipEntry } from './zip-reader.ts';

export interface ImportOptions {
  /** Files per group commit (default 32). */
  batchSize?: number;
  /** Batches in flight (default 2). */
  workers?: number;
  onProgress?: (s: Readonly<ImportSummary>) => void;
}

export interface Rejection {
  /** Path relative to the input it came from; ZIP entries as "<zip>!<entry>". */
  file: string;
  code: ErrorCode;
  reason: string;
}

export interface ImportSummary {
  files: number;
  stored: number;
  duplicate: number;
  replaced: number;
  rejected: number;
  /** DICOMDIR and hidden files (names starting with "."): not instances, not counted as failures. */
  skipped: number;
  rejections: Rejection[];
}

/** A file to copy, bytes already read (a ZIP entry), or why the input could not be read. */
export type ImportInput = Input;
type Input = { label: string; path: string } | { label: string; data: Uint8Array } | { label: string; error: AppError };

export async function importPaths(ingest: IngestService, inputs: readonly string[], opts: ImportOptions = {}): Promise<ImportSummary> {
  const batchSize = Math.max(1, opts.batchSize ?? 32);
  const workers = Math.max(1, opts.workers ?? 2);
  const summary: ImportSummary = { files: 0, stored: 0, duplicate: 0, replaced: 0, rejected: 0, skipped: 0, rejections: [] };
  const items = enumerateAll(inputs, summary);

  const reject = (label: string, code: ErrorCode, reason: string) => {
    summary.files++;
    summary.rejected++;
    summary.rejections.push({ file: label, code, reason });
  };

  const worker = async () => {
    for (;;) {
      const batch: Input[] = [];
      while (batch.length < batchSize) {
        const next = await items.next();
        if (next.done) break;
        batch.push(next.value);
      }
      if (batch.length === 0) return;
      const ok: Exclude<Input, { error: AppError }>[] = [];
      for (const x of batch) {
        if ('error' in x) reject(x.label, x.error.code, x.error.message);
        else ok.push(x);
      }
      const source = { transport: 'import' as const };
      const results = await ingest.ingestBatch(ok.map((x) => ('path' in x ? { path: x.path, source } : { data: x.data, source })));
      results.forEach((r, i) => tally(summary, ok[i].label, r, reject));
      opts.onProgress?.(summary);
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return summary;
}

function tally(s: ImportSummary, label: string, r: IngestResult, reject: (l: string, c: ErrorCode, m: string) => void): void {
  if (r.status === 'rejected') return reject(label, r.code, r.reason);
  s.files++;
  s[r.status]++;
}

async function* enumerateAll(inputs: readonly string[], summary: ImportSummary): AsyncGenerator<Input> {
  for (const input of inputs) yield* enumerate(input, inputs.length > 1 ? input : undefined, summary);
}

/** `prefix`: shown before relative paths when several inputs are given, so labels stay unambiguous. */
async function* enumerate(input: string, prefix: string | undefined, summary: ImportSummary): AsyncGenerator<Input> {
  let st;
  try {
    st = await stat(input);
  } catch (e) {
    yield { label: input, error: asImportError(e) };
    return;
  }
  if (st.isDirectory()) {
    for await (const file of walk(input)) {
      const rel = relative(input, file);
      const label = prefix === undefined ? rel : join(prefix, rel);
      if (isSkipped(file)) summary.skipped++;
      else if (file.toLowerCase().endsWith('.zip')) yield* zipEntries(file, label);
      else yield { label, path: file };
    }
  } else if (await isZip(input)) {
    yield* zipEntries(input, input);
  } else {
    yield { label: input, path: input };
  }
}

export function isSkipped(path: string): boolean {
  const name = basename(path);
  return name.startsWith('.') || name.toUpperCase() === 'DICOMDIR';
}

/**
 * Files under `dir`, depth first, in name order (so runs are reproducible). Symbolic links are
 * followed (PACS exports and study folders often link files), each real folder visited once.
 * `skipDir(name)`: sub-folders not to enter (the folder watcher's own .done/.failed).
 */
export async function* walk(dir: string, seen = new Set<string>(), skipDir?: (name: string) => boolean): AsyncGenerator<string> {
  const real = await realpath(dir).catch(() => dir);
  if (seen.has(real)) return;
  seen.add(real);
  const entries: { name: string; dir: boolean; file: boolean }[] = [];
  for await (const d of await opendir(dir)) {
    let isDir = d.isDirectory();
    let isFile = d.isFile();
    if (d.isSymbolicLink()) {
      const st = await stat(join(dir, d.name)).catch(() => undefined);
      isDir = st?.isDirectory() ?? false;
      isFile = st?.isFile() ?? false;
    }
    entries.push({ name: d.name, dir: isDir, file: isFile });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.dir) {
      if (!skipDir?.(e.name)) yield* walk(p, seen, skipDir);
    }
    else if (e.file) yield p;
  }
}

export async function isZip(path: string): Promise<boolean> {
  if (path.toLowerCase().endsWith('.zip')) return true;
  const fh = await openFile(path, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, 0);
    // "PK\3\4": a local file header (DICOM files start with a preamble or a group 0002/0008 tag).
    return b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
  } finally {
    await fh.close();
  }
}

/** A ZIP entry read into memory; `entryName` is its name inside the archive. */
export type ZipEntryInput = { label: string; entryName: string; data: Buffer } | { label: string; error: AppError };

/** The entries of a ZIP (folders and skipped names left out), labelled "<label>!<entry>", each read or why not. */
export async function* zipEntries(path: string, label: string): AsyncGenerator<ZipEntryInput> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (e) {
    // An OS error by its code only: its message repeats the path, which the label already names.
    yield { label, error: new AppError('IMPORT_UNREADABLE', { detail: `not a readable ZIP archive (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, cause: e }) };
    return;
  }
  try {
    for (;;) {
      const entry = await nextZipEntry(zip);
      if (!entry) return;
      if (entry.fileName.endsWith('/') || isSkipped(entry.fileName)) continue;
      const entryLabel = `${label}!${entry.fileName}`;
      try {
        yield { label: entryLabel, entryName: entry.fileName, data: await readZipEntry(zip, entry) };
      } catch (e) {
        yield { label: entryLabel, error: asImportError(e) };
      }
    }
  } catch (e) {
    yield { label, error: new AppError('IMPORT_UNREADABLE', { detail: `corrupt ZIP archive (${(e as Error).message})`, cause: e }) };
  } finally {
    zip.close();
  }
}

function asImportError(e: unknown): AppError {
  if (isAppError(e)) return e;
  const code = (e as NodeJS.ErrnoException).code;
  // The OS error code only: messages can repeat the path, and the label already names the file.
  return new AppError('IMPORT_UNREADABLE', { detail: code ?? (e as Error).message ?? 'error', cause: e });
}
