// `dicomgate convert`: pictures and NIfTI volumes → DICOM files in a folder (src/convert/).
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { attributesFrom, collectInputs, convert, isValidUid, mergeAttributes, readLike, readSidecar, type Attribute, type ConvertOptions, type ConvertedInstance } from '../../convert/index.ts';
import { openArchive, type Archive } from '../../services/archive.ts';
import type { IngestResult } from '../../services/ingest.ts';
import { UsageError, type Command } from '../command.ts';

export const command: Command = {
  name: 'convert',
  summary: 'convert JPEG, PNG, BMP, TIFF and NIfTI files to DICOM',
  usage: `<input...> (--out <dir> | --send) [options]

Inputs are files, folders (read recursively) or ZIP archives. Pictures (JPEG, PNG, BMP, TIFF)
become Secondary Capture instances, one series per folder (a picture named on the command line is
its own series); each NIfTI file (.nii, .nii.gz, NIfTI-1 or -2, 3D or 4D) becomes one series. All
series go into one study: a new one, or the study of --like / a StudyInstanceUID in the sidecar.
Output: <dir>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm, and/or the archive of the data folder
(--send, through the same ingest path as "import"). A bad input is reported and skipped.

Options:
  --out <dir>                  output folder (created if needed)
  --send                       store the instances in the archive (--data / config dataDir)
  --modality <CT|MR>           NIfTI as CT or MR Image Storage, one instance per slice with full
                               patient geometry (default: one multi-frame Secondary Capture per volume)
  --like <dicom file|folder>   copy patient and study attributes from this instance (or the
                               first DICOM file in the folder): the new series join its study
  --sidecar <file.json>        JSON object of DICOM keyword → value (e.g. {"PatientID": "P1"})
  --patient-id <id>            PatientID
  --patient-name <name>        PatientName (DICOM PN: Family^Given)
  --study-description <text>   StudyDescription
  --frame-of-reference <uid>   FrameOfReferenceUID for NIfTI series (give the source CT/MR's so the
                               volume overlays it); default: a new one per series
  --tiff-pages <frames|instances>  multi-page TIFF as one multi-frame instance (default, when the
                               pages match) or one instance per page
  --burned-in-annotation <yes|no>  what pictures declare (default yes: photos and scans may show names)

Later sources win: --like, then --sidecar, then the options.`,
  options: {
    out: { type: 'string' },
    send: { type: 'boolean' },
    modality: { type: 'string' },
    like: { type: 'string' },
    sidecar: { type: 'string' },
    'patient-id': { type: 'string' },
    'patient-name': { type: 'string' },
    'study-description': { type: 'string' },
    'frame-of-reference': { type: 'string' },
    'tiff-pages': { type: 'string' },
    'burned-in-annotation': { type: 'string' },
  },
  allowPositionals: true,
  async run(args, ctx) {
    const v = args.values as Record<string, string | undefined>;
    const send = args.values.send === true;
    if (args.positionals.length === 0) throw new UsageError('give at least one input file, folder or ZIP');
    if (v.out === undefined && !send) throw new UsageError('give --out <dir> or --send (or both)');
    const modality = v.modality?.toUpperCase();
    if (modality !== undefined && modality !== 'CT' && modality !== 'MR') throw new UsageError(`--modality must be CT or MR, got "${v.modality}"`);
    if (v['frame-of-reference'] !== undefined && !isValidUid(v['frame-of-reference'])) throw new UsageError('--frame-of-reference is not a valid UID');
    if (v['tiff-pages'] !== undefined && v['tiff-pages'] !== 'frames' && v['tiff-pages'] !== 'instances') throw new UsageError('--tiff-pages must be frames or instances');
    const burned = v['burned-in-annotation'];
    if (burned !== undefined && burned !== 'yes' && burned !== 'no') throw new UsageError('--burned-in-annotation must be yes or no');

    const lists: Attribute[][] = [];
    if (v.like !== undefined) lists.push(await readLike(v.like));
    if (v.sidecar !== undefined) lists.push(await readSidecar(v.sidecar));
    lists.push(attributesFrom({ PatientID: v['patient-id'], PatientName: v['patient-name'], StudyDescription: v['study-description'] } as Record<string, string>, 'options'));
    const options: ConvertOptions = { attributes: mergeAttributes(...lists) };
    if (modality !== undefined) options.modality = modality;
    if (v['frame-of-reference'] !== undefined) options.frameOfReferenceUID = v['frame-of-reference'];
    if (v['tiff-pages'] !== undefined) options.tiffPages = v['tiff-pages'] as 'frames' | 'instances';
    if (burned !== undefined) options.burnedInAnnotation = burned === 'yes';

    const set = await collectInputs(args.positionals);
    const progress = new Progress(ctx.stderr, set.inputs.length);
    const archive = send ? await openArchive(ctx.config.dataDir, { duplicates: ctx.config.storage.duplicates, indexKind: ctx.config.index.kind, postgres: ctx.config.postgres }) : undefined;
    const sender = archive ? new Sender(archive) : undefined;
    let instances = 0;
    let bytes = 0;
    let failed = 0;
    let doneInputs = 0;
    const report = (line: string) => { progress.clear(); ctx.stderr.write(`${line}\n`); };
    try {
      if (v.out !== undefined) await mkdir(v.out, { recursive: true });
      for await (const r of convert(set.inputs, options)) {
        if (r.kind === 'instance') {
          if (v.out !== undefined) {
            const dir = join(v.out, r.seriesInstanceUID);
            await mkdir(dir, { recursive: true });
            await writeChunks(join(dir, `${r.sopInstanceUID}.dcm`), r.chunks);
          }
          if (sender) for (const line of await sender.add(r)) report(line);
          instances++;
          bytes += r.byteLength;
        } else if (r.kind === 'error') {
          failed++;
          report(`error: ${r.error.message}`);
        } else {
          doneInputs++;
          for (const w of r.warnings) report(`warning: ${r.source}: ${w}`);
        }
        progress.update(doneInputs, instances);
      }
      if (sender) for (const line of await sender.flush()) report(line);
    } finally {
      progress.clear();
      await set.close();
      await archive?.close();
    }
    const where = [v.out, send ? 'the archive' : undefined].filter((x) => x !== undefined).join(' and ');
    ctx.stdout.write(`converted ${doneInputs - failed} of ${set.inputs.length} inputs: ${instances} instances, ${(bytes / 1e6).toFixed(1)} MB to ${where}${failed ? `; ${failed} failed` : ''}\n`);
    if (sender) ctx.stdout.write(`archive: stored ${sender.stored}, duplicate ${sender.duplicate}, rejected ${sender.rejected}\n`);
    return failed > 0 || (sender?.rejected ?? 0) > 0 ? 1 : 0;
  },
};

/** Group commits of up to 32 instances or 64 MB, as `import` does: one index transaction each. */
class Sender {
  stored = 0;
  duplicate = 0;
  rejected = 0;
  private batch: ConvertedInstance[] = [];
  private size = 0;
  constructor(private readonly archive: Archive) {}

  async add(i: ConvertedInstance): Promise<string[]> {
    this.batch.push(i);
    this.size += i.byteLength;
    return this.batch.length >= 32 || this.size >= 64e6 ? this.flush() : [];
  }

  async flush(): Promise<string[]> {
    const batch = this.batch;
    this.batch = [];
    this.size = 0;
    if (batch.length === 0) return [];
    const results: IngestResult[] = await this.archive.ingest.ingestBatch(batch.map((i) => ({ data: Buffer.concat(i.chunks), source: { transport: 'import' as const } })));
    const lines: string[] = [];
    results.forEach((r, n) => {
      if (r.status === 'rejected') {
        this.rejected++;
        lines.push(`error: ${batch[n].source}: archive rejected instance ${batch[n].sopInstanceUID}: ${r.reason}`);
      } else if (r.status === 'duplicate') this.duplicate++;
      else this.stored++;
    });
    return lines;
  }
}

/** Temp name + rename: a folder watcher never picks up a half-written file. */
async function writeChunks(path: string, chunks: Buffer[]): Promise<void> {
  const tmp = `${path}.part`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writev(chunks);
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** One-line progress bar on a terminal; silent when stderr is a pipe or file. */
class Progress {
  private readonly tty: boolean;
  private shown = false;
  constructor(private readonly out: NodeJS.WritableStream, private readonly total: number) {
    this.tty = (out as { isTTY?: boolean }).isTTY === true;
  }
  update(done: number, instances: number): void {
    if (!this.tty) return;
    const width = 30;
    const filled = this.total === 0 ? width : Math.round((done / this.total) * width);
    this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} inputs, ${instances} instances`);
    this.shown = true;
  }
  clear(): void {
    if (this.tty && this.shown) { this.out.write('\r\x1b[K'); this.shown = false; }
  }
}

