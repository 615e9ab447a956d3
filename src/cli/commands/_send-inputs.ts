// What `dicomgate send` sends: Part-10 files found in files, folders (recursively) and ZIP archives,
// or the instances of one archived study. Only the file meta is read up front (to negotiate every
// presentation context before the association opens); datasets stream from disk when sent.
import { createReadStream } from 'node:fs';
import { opendir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type yauzl from 'yauzl';
import { AppError, isAppError, type ErrorCode } from '../../core/errors.ts';
import { parsePart10Meta, part10Instance, type OutgoingInstance } from '../../dimse/index.ts';
import type { Archive } from '../../services/archive.ts';
import { nextZipEntry, openZip, readZipEntry } from '../../services/zip-reader.ts';

/** One instance to send, with a way to read its whole file when it must be re-encoded. */
export interface SendSource {
  /** Path (ZIP entries as "<zip>!<entry>", archive instances as their Orthanc id) for the summary. */
  readonly label: string;
  readonly instance: OutgoingInstance;
  /** The whole Part-10 file (for transcoding between native transfer syntaxes). */
  readAll(): Promise<Buffer>;
}

export interface Unreadable {
  readonly label: string;
  readonly code: ErrorCode;
  readonly reason: string;
}

export interface Collected {
  readonly sources: SendSource[];
  readonly unreadable: Unreadable[];
}

function isSkipped(name: string): boolean {
  const b = basename(name);
  return b.startsWith('.') || b.toUpperCase() === 'DICOMDIR';
}

async function* walk(dir: string, seen: Set<string>): AsyncGenerator<string> {
  const real = await realpath(dir).catch(() => dir);
  if (seen.has(real)) return;
  seen.add(real);
  const names: string[] = [];
  for await (const d of await opendir(dir)) names.push(d.name);
  names.sort();
  for (const name of names) {
    const p = join(dir, name);
    const st = await stat(p).catch(() => undefined);
    if (st?.isDirectory()) yield* walk(p, seen);
    else if (st?.isFile() && !isSkipped(name)) yield p;
  }
}

function reasonOf(e: unknown): { code: ErrorCode; reason: string } {
  if (isAppError(e)) return { code: e.code, reason: e.detail ?? e.message };
  // The OS error code only: messages repeat the path, which the label already names.
  return { code: 'IMPORT_UNREADABLE', reason: (e as NodeJS.ErrnoException).code ?? 'unreadable' };
}


/** Reads one entry of a ZIP again by name (the scan keeps only the file meta, not the bytes). */
async function readZipEntryNamed(path: string, name: string): Promise<Buffer> {
  const zip = await openZip(path);
  try {
    for (;;) {
      const e = await nextZipEntry(zip);
      if (!e) throw new AppError('IMPORT_UNREADABLE', { detail: `ZIP entry ${name} vanished` });
      if (e.fileName === name) return await readZipEntry(zip, e);
    }
  } finally {
    zip.close();
  }
}

async function zipSources(path: string, out: Collected): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (e) {
    out.unreadable.push({ label: path, code: 'IMPORT_UNREADABLE', reason: 'not a readable ZIP archive' });
    return;
  }
  try {
    for (;;) {
      const entry = await nextZipEntry(zip);
      if (!entry) return;
      if (entry.fileName.endsWith('/') || isSkipped(entry.fileName)) continue;
      const label = `${path}!${entry.fileName}`;
      try {
        const bytes = await readZipEntry(zip, entry);
        const meta = parsePart10Meta(bytes, entry.fileName);
        const name = entry.fileName;
        const readAll = (): Promise<Buffer> => readZipEntryNamed(path, name);
        out.sources.push({
          label,
          readAll,
          instance: {
            sopClassUid: meta.sopClassUid,
            sopInstanceUid: meta.sopInstanceUid,
            transferSyntaxUid: meta.transferSyntaxUid,
            open: async () => (await readAll()).subarray(meta.datasetOffset),
          },
        });
      } catch (e) {
        out.unreadable.push({ label, ...reasonOf(e) });
      }
    }
  } catch (e) {
    out.unreadable.push({ label: path, code: 'IMPORT_UNREADABLE', reason: 'corrupt ZIP archive' });
  } finally {
    zip.close();
  }
}

async function fileSource(path: string, out: Collected, label = path): Promise<void> {
  try {
    const instance = await part10Instance(path);
    out.sources.push({ label, instance, readAll: () => readFile(path) });
  } catch (e) {
    out.unreadable.push({ label, ...reasonOf(e) });
  }
}

async function isZipFile(path: string): Promise<boolean> {
  if (path.toLowerCase().endsWith('.zip')) return true;
  const head = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    createReadStream(path, { start: 0, end: 3 })
      .on('data', (c) => chunks.push(c as Buffer))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', () => resolve(Buffer.alloc(0)));
  });
  // "PK\3\4": a ZIP local file header (DICOM files start with a preamble or a low group tag).
  return head.length === 4 && head.readUInt32BE(0) === 0x504b0304;
}

/** Files, folders and ZIPs given on the command line, in a reproducible order. */
export async function collectPaths(inputs: readonly string[]): Promise<Collected> {
  const out: Collected = { sources: [], unreadable: [] };
  const seen = new Set<string>();
  for (const input of inputs) {
    const st = await stat(input).catch((e: NodeJS.ErrnoException) => e);
    if (st instanceof Error) {
      out.unreadable.push({ label: input, code: 'IMPORT_UNREADABLE', reason: st.code ?? 'cannot read' });
      continue;
    }
    const files = st.isDirectory() ? walk(input, seen) : (async function* () { yield input; })();
    for await (const f of files) {
      if (await isZipFile(f)) await zipSources(f, out);
      else await fileSource(f, out);
    }
  }
  return out;
}

/** The instances of one archived study, by StudyInstanceUID or Orthanc study id. */
export async function collectStudy(archive: Archive, study: string): Promise<Collected> {
  const byId = await archive.index.getResource('study', study);
  const studies = byId ? [byId] : await archive.index.findByUid('study', study);
  if (studies.length === 0) throw new AppError('INDEX_NOT_FOUND', { detail: `no study ${study} in the archive of ${archive.dataDir} (give a StudyInstanceUID or an Orthanc study id)` });
  const out: Collected = { sources: [], unreadable: [] };
  for (const s of studies) {
    for (const inst of await archive.index.listInstances('study', s.id)) {
      if (!inst.file) {
        out.unreadable.push({ label: inst.id, code: 'STORE_NOT_FOUND', reason: 'instance has no stored file' });
        continue;
      }
      // Labelled by instance id: blob paths mean nothing to the user.
      await fileSource(archive.blobs.pathFor(inst.file.blobKey), out, inst.id);
    }
  }
  return out;
}
