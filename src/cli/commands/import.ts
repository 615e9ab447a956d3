// `dicomgate import <dir|zip|file>...`: thin over services/import-files.ts.
import { openArchive } from '../../services/archive.ts';
import { importPaths, type ImportSummary } from '../../services/import-files.ts';
import { intFlag, UsageError, type Command } from '../command.ts';
import { ProgressLine } from '../progress.ts';

/** Rejections listed one per line before the rest are only counted. */
const MAX_LISTED = 50;

export const command: Command = {
  name: 'import',
  summary: 'import DICOM files, folders or ZIPs into the archive',
  usage: `[options] <dir|zip|file>...

Stores every DICOM file found (folders recursively, ZIP archives entry by entry) into the archive
of the data folder. A file counts as stored only once its bytes are fsync'd and its index rows are
committed. A progress line (files/s) is drawn on stderr when it is a terminal; a summary
(stored / duplicate / rejected with reasons) is printed on stdout at the end. DICOMDIR and hidden
files are skipped.

Options:
  --overwrite           replace instances whose SOP Instance UID is already stored
                        (default: keep the first, report "duplicate"; config storage.duplicates)
  --batch <n>           files per group commit (default 32)
  --json                print the summary as JSON

Exit status: 0 when every file was stored or was a duplicate; 1 when any file was rejected
(unreadable, not DICOM, missing UIDs) or could not be stored; 2 on a usage error.`,
  options: {
    overwrite: { type: 'boolean' },
    batch: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  configOverrides: (v) => ({ 'storage.duplicates': v.overwrite ? 'overwrite' : undefined }),
  async run({ values, positionals }, ctx) {
    if (positionals.length === 0) throw new UsageError('give at least one folder, ZIP or file to import');
    const batchSize = intFlag(values.batch, 'batch') ?? 32;
    if (batchSize < 1) throw new UsageError('--batch must be at least 1');
    const archive = await openArchive(ctx.config.dataDir, {
      duplicates: ctx.config.storage.duplicates,
      indexKind: ctx.config.index.kind,
      postgres: ctx.config.postgres,
    });
    const progress = new ProgressLine(ctx.stderr as NodeJS.WritableStream & { isTTY?: boolean });
    let summary: ImportSummary;
    try {
      summary = await importPaths(archive.ingest, positionals, {
        batchSize,
        onProgress: (s) => progress.update({ done: s.files, stored: s.stored + s.replaced, duplicate: s.duplicate, rejected: s.rejected }),
      });
    } finally {
      progress.finish();
      await archive.close();
    }
    const seconds = progress.elapsedSeconds();
    if (values.json) ctx.stdout.write(JSON.stringify({ ...summary, seconds: Number(seconds.toFixed(3)) }) + '\n');
    else ctx.stdout.write(formatSummary(summary, seconds));
    return summary.rejected > 0 ? 1 : 0;
  },
};

export function formatSummary(s: ImportSummary, seconds: number): string {
  const rate = s.files / Math.max(seconds, 1e-3);
  const lines = [
    `imported ${s.files} files in ${seconds.toFixed(1)} s (${rate.toFixed(0)} files/s): ` +
      `stored ${s.stored}, duplicate ${s.duplicate}${s.replaced ? `, replaced ${s.replaced}` : ''}, rejected ${s.rejected}` +
      (s.skipped ? `, skipped ${s.skipped}` : ''),
  ];
  for (const r of s.rejections.slice(0, MAX_LISTED)) lines.push(`  rejected ${r.file}: ${r.code}: ${r.reason}`);
  if (s.rejections.length > MAX_LISTED) {
    const byCode = new Map<string, number>();
    for (const r of s.rejections.slice(MAX_LISTED)) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
    lines.push(`  ... and ${s.rejections.length - MAX_LISTED} more (${[...byCode].map(([c, n]) => `${c} ${n}`).join(', ')})`);
  }
  return lines.join('\n') + '\n';
}
