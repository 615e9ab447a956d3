// What `dicomgate send` sends: Part-10 files found in files, folders (recursively) and ZIP archives,
// or the instances of one archived study. Only the file meta is read up front (to negotiate every
// presentation context before the association opens); datasets stream from disk when sent.
import { readFile, stat } from 'node:fs/promises';
import { AppError, isAppError, type ErrorCode } from '../../core/errors.ts';
import { parsePart10Meta, part10Instance, type OutgoingInstance } from '../../dimse/index.ts';
import type { Archive } from '../../services/archive.ts';
import { isSkipped, isZip, walk, zipEntries } from '../../services/import-files.ts';
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

/** Every instance of a ZIP archive; only its file meta is kept, the entry is read again when sent. */
async function zipSources(path: string, out: Collected): Promise<void> {
  for await (const entry of zipEntries(path, path)) {
    if ('error' in entry) {
      out.unreadable.push({ label: entry.label, ...reasonOf(entry.error) });
      continue;
    }
    const name = entry.entryName;
    try {
      const meta = parsePart10Meta(entry.data, name);
      const readAll = (): Promise<Buffer> => readZipEntryNamed(path, name);
      out.sources.push({
        label: entry.label,
        readAll,
        instance: {
          sopClassUid: meta.sopClassUid,
          sopInstanceUid: meta.sopInstanceUid,
          transferSyntaxUid: meta.transferSyntaxUid,
          open: async () => (await readAll()).subarray(meta.datasetOffset),
        },
      });
    } catch (e) {
      out.unreadable.push({ label: entry.label, ...reasonOf(e) });
    }
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
      if (st.isDirectory() && isSkipped(f)) continue;
      if (await isZip(f)) await zipSources(f, out);
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
