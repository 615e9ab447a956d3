// Writes instances under a folder at paths built from a template. Atomic (temp file in the target
// folder, fsync, then link/rename, then fsync of the folder), collision-safe (a different SOP
// instance at the same path gets "_1", "_2" ... before the extension) and idempotent (the same
// instance exported again finds its file and writes nothing, or replaces it if the bytes changed).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { AppError } from '../core/errors.ts';
import { readPart10 } from '../dicom/part10.ts';
import { PIXEL_DATA, T } from '../dicom/tag.ts';
import { compileTemplate, renderTemplate, type PathTemplate, type RenderOptions } from './path-template.ts';
import { MAX_FILE_ID_COMPONENTS } from './disk-dicomdir.ts';
import { FILE_ID_CHARS } from './sanitize-path.ts';
import { makeDirs } from './make-dirs.ts';
import { syncDir, writeSynced } from './durable-files.ts';

export interface DiskExportOptions extends RenderOptions {
  /** Export root folder (created if missing). */
  readonly root: string;
  readonly template: string;
  /** Suffixes tried for colliding instances before giving up. */
  readonly maxSuffix?: number;
  /**
   * Write a DICOMDIR at the root (disk-dicomdir.ts): paths become DICOM File IDs (every component
   * 8 characters of A-Z 0-9 _, no extension, at most 8 levels) so the DICOMDIR can reference them.
   */
  readonly dicomdir?: boolean;
}

export interface ExportResult {
  readonly status: 'written' | 'unchanged' | 'replaced';
  /** Relative to the root, '/'-separated. */
  readonly path: string;
}

export const DEFAULT_TEMPLATE = '{PatientID}/{StudyDate}_{StudyDescription}/{SeriesNumber:03}_{Modality}/{InstanceNumber:04}.dcm';

export class DiskExporter {
  readonly #root: string;
  readonly #template: PathTemplate;
  readonly #opts: DiskExportOptions;

  constructor(opts: DiskExportOptions) {
    this.#root = opts.root;
    this.#template = compileTemplate(opts.template);
    if (opts.dicomdir && this.#template.components.length > MAX_FILE_ID_COMPONENTS) {
      throw new AppError('CONFIG_INVALID', { detail: `template ${opts.template} has ${this.#template.components.length} levels; a DICOMDIR File ID allows ${MAX_FILE_ID_COMPONENTS}` });
    }
    this.#opts = opts.dicomdir ? { ...opts, fileId: true } : opts;
  }

  /** The relative path an instance would get (before collision suffixes). */
  pathFor(bytes: Uint8Array): { path: string; sopInstanceUid: string } {
    const file = readPart10(bytes, { untilTag: PIXEL_DATA });
    const sop = file.dataset.string(T.SOPInstanceUID);
    if (!sop) throw new AppError('DICOM_MISSING_UID', { detail: 'SOPInstanceUID missing, cannot export' });
    return { path: renderTemplate(this.#template, file.dataset, this.#opts), sopInstanceUid: sop };
  }

  async exportInstance(bytes: Uint8Array): Promise<ExportResult> {
    const { path: rel, sopInstanceUid } = this.pathFor(bytes);
    const target = join(this.#root, ...rel.split('/'));
    const dir = dirname(target);
    try {
      await makeDirs(dir);
      const tmp = join(dir, `.dg-${randomBytes(8).toString('hex')}.tmp`);
      await writeSynced(tmp, bytes);
      try {
        return await this.#place(tmp, target, rel, sopInstanceUid, bytes);
      } finally {
        await fs.rm(tmp, { force: true });
      }
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw new AppError('EXPORT_WRITE_FAILED', { detail: `export of ${sopInstanceUid}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, cause: e });
    }
  }

  async #place(tmp: string, target: string, rel: string, sop: string, bytes: Uint8Array): Promise<ExportResult> {
    const max = this.#opts.maxSuffix ?? 10_000;
    const ext = extname(target);
    const fileId = this.#opts.dicomdir === true;
    // File IDs: the suffix replaces the end of the 8-character name ("00000012" -> "000000_1").
    const suffixed = (p: string, n: number) => {
      if (!fileId) return `${p.slice(0, p.length - ext.length)}_${n}${ext}`;
      const cut = p.lastIndexOf('/') + 1;
      const s = `_${n}`;
      return p.slice(0, cut) + p.slice(cut).slice(0, Math.max(1, FILE_ID_CHARS - s.length)) + s;
    };
    for (let n = 0; n <= max; n++) {
      const relCandidate = n === 0 ? rel : suffixed(rel, n);
      const candidate = n === 0 ? target : join(this.#root, ...relCandidate.split('/'));
      // link() fails with EEXIST instead of overwriting: two exporters racing for one path cannot
      // both win, and the loser then looks at what the winner wrote.
      if (await linkNew(tmp, candidate)) {
        await syncDir(dirname(candidate));
        return { status: 'written', path: relCandidate };
      }
      const existing = await readExisting(candidate);
      if (existing?.sop !== sop) continue;
      if (Buffer.compare(existing.bytes, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) === 0) return { status: 'unchanged', path: relCandidate };
      await fs.rename(tmp, candidate);
      await syncDir(dirname(candidate));
      return { status: 'replaced', path: relCandidate };
    }
    throw new AppError('EXPORT_WRITE_FAILED', { detail: `more than ${max} instances collide at one path (${sop})` });
  }
}

async function linkNew(from: string, to: string): Promise<boolean> {
  try {
    await fs.link(from, to);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // Filesystems without hard links (FAT, some SMB mounts): check, then rename. A race between two
    // exporters of different instances can then lose one; such targets should use one exporter.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      if (await exists(to)) return false;
      await fs.copyFile(from, to, fs.constants.COPYFILE_EXCL);
      return true;
    }
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

async function readExisting(path: string): Promise<{ sop: string | undefined; bytes: Buffer } | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path);
  } catch {
    return undefined;
  }
  try {
    return { sop: readPart10(bytes, { untilTag: PIXEL_DATA }).dataset.string(T.SOPInstanceUID), bytes };
  } catch {
    // Not DICOM (someone else's file): never overwrite it, take the next suffix.
    return { sop: undefined, bytes };
  }
}
