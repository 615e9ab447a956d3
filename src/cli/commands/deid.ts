// `dicomgate deid <in...> <out-dir> --project <name>`: de-identifies files, folders and ZIPs into a
// folder, with pseudonyms from the key database in <dataDir>/keys.sqlite.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqlitePseudonymStore } from '../../pseudonyms/sqlite/sqlite-pseudonym-store.ts';
import { toMappingCsv } from '../../pseudonyms/mapping-csv.ts';
import type { PatientRecord } from '../../pseudonyms/pseudonym-store.ts';
import type { AttributeChange } from '../../deid/outcome.ts';
import { keywordOf } from '../../dicom/dictionary.ts';
import { parseTag } from '../../dicom/tag.ts';
import { intFlag, UsageError, type Command, type CommandContext } from '../command.ts';
import type { FileResult } from './_deid-file.ts';
import { countInputs } from './_deid-inputs.ts';
import { runDeid, type DeidSummary } from './_deid-run.ts';

const PROGRESS_INTERVAL_MS = 200;

function progressPrinter(stderr: NodeJS.WritableStream, total: number): { tick(done: number): void; end(): void } {
  const tty = (stderr as { isTTY?: boolean }).isTTY === true;
  const start = Date.now();
  let last = 0;
  const WIDTH = 30;
  return {
    tick(done) {
      const now = Date.now();
      if (!tty || (now - last < PROGRESS_INTERVAL_MS && done < total)) return;
      last = now;
      const rate = done / Math.max(0.001, (now - start) / 1000);
      const filled = total > 0 ? Math.min(WIDTH, Math.round((done / total) * WIDTH)) : 0;
      stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total} files  ${rate.toFixed(0)} files/s `);
    },
    end() {
      if (tty) stderr.write('\r\x1b[K');
    },
  };
}

/** Dry-run account: per attribute path (item indices folded to [*]) and action, how many files. */
function dryRunTable(changes: Map<string, number>, files: number): string {
  const rows = [...changes.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const lines = rows.map(([k, n]) => {
    const [path, action, because] = k.split('\t');
    const last = /\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(path);
    const keyword = last && (parseInt(last[1], 16) & 1) === 0 ? (keywordOf(parseTag(last[0])) ?? '') : last ? 'private' : '';
    return `${path.padEnd(40)} ${keyword.padEnd(36)} ${action.padEnd(12)} ${because.padEnd(44)} ${n}/${files}`;
  });
  return `${'attribute'.padEnd(40)} ${'keyword'.padEnd(36)} ${'action'.padEnd(12)} ${'because'.padEnd(44)} files\n${lines.join('\n')}\n`;
}

function summaryText(s: DeidSummary, dryRun: boolean): string {
  const rate = s.files / Math.max(0.001, s.seconds);
  const lines = [
    `${dryRun ? 'dry run: ' : ''}${s.deidentified} de-identified, ${s.quarantined} quarantined, ${s.rejected} rejected, ${s.skipped} not DICOM, ${s.failed} failed`,
    `${s.files} files in ${s.seconds.toFixed(2)} s (${rate.toFixed(0)} files/s, ${(s.bytesOut / 1e6 / Math.max(0.001, s.seconds)).toFixed(1)} MB/s of output)`,
  ];
  for (const [reason, n] of Object.entries(s.reasons).sort()) lines.push(`  ${reason}: ${n}`);
  return lines.join('\n') + '\n';
}

export const command: Command = {
  name: 'deid',
  summary: 'De-identify files, folders and ZIPs into a folder (PS3.15 basic profile + project options)',
  usage: `<in...> <out-dir> --project <name> [--dry-run] [--mapping-csv <file>] [--workers <n>]

Arguments:
  <in...>               DICOM files, folders (recursive) and .zip archives
  <out-dir>             output folder: <pseudonym>/<study UID>/<series UID>/<SOP UID>.dcm

Options:
  --project <name>      de-identification project: basic, longitudinal or one from the config
  --dry-run             write nothing; print per attribute what would be removed, emptied, replaced or kept
  --mapping-csv <file>  write the original -> pseudonym mapping of the patients seen (honest broker only)
  --workers <n>         worker threads (default: cores - 1, max 8; 0 on 2 cores = all in this thread)
  --verbose             list each quarantined or rejected input with its reason

Pseudonyms, date shifts and UID mappings are kept in <data>/keys.sqlite, per project.

Example:
  dicomgate deid ./incoming ./release --project longitudinal --mapping-csv ./keys.csv`,
  options: {
    project: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'mapping-csv': { type: 'string' },
    workers: { type: 'string' },
    verbose: { type: 'boolean' },
  },
  allowPositionals: true,

  async run({ values, positionals }, ctx: CommandContext): Promise<number> {
    if (positionals.length < 2) throw new UsageError('needs at least one input and an output folder');
    const projectName = values.project as string | undefined;
    if (projectName === undefined) throw new UsageError('--project is required (basic, longitudinal or a configured project)');
    const dryRun = values['dry-run'] === true;
    const workers = intFlag(values.workers, 'workers');
    const inputs = positionals.slice(0, -1);
    const outDir = positionals[positionals.length - 1];

    mkdirSync(ctx.config.dataDir, { recursive: true });
    const store = new SqlitePseudonymStore(join(ctx.config.dataDir, 'keys.sqlite'), { checkpointer: false });
    await store.migrate();
    if (!dryRun) mkdirSync(outDir, { recursive: true });
    // The count is for the progress bar only, shown on a terminal: elsewhere the inputs are not walked twice.
    const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
    const progress = progressPrinter(ctx.stderr, tty ? await countInputs(inputs) : 0);
    const changes = new Map<string, number>();
    let done = 0;
    const onResult = (label: string, r: FileResult): void => {
      done++;
      progress.tick(done);
      if (r.kind === 'deidentified' && r.changes) {
        const seen = new Set<string>();
        for (const c of r.changes as AttributeChange[]) seen.add(`${c.path.replace(/\[\d+\]/g, '[*]')}\t${c.action}\t${c.because}`);
        for (const k of seen) changes.set(k, (changes.get(k) ?? 0) + 1);
      }
      if (values.verbose === true && (r.kind === 'quarantined' || r.kind === 'rejected')) {
        ctx.stderr.write(`\r${r.kind} (${r.reason}): ${label}: ${r.detail}\n`);
      }
    };
    try {
      const summary = await runDeid({
        inputs,
        outDir,
        projectName,
        projects: ctx.config.projects,
        store,
        dryRun,
        ...(workers !== undefined ? { workers } : {}),
        onResult,
      });
      progress.end();
      if (dryRun) ctx.stdout.write(dryRunTable(changes, summary.deidentified));
      ctx.stderr.write(summaryText(summary, dryRun));
      const csv = values['mapping-csv'] as string | undefined;
      if (csv !== undefined) {
        const records: PatientRecord[] = [];
        for (const key of summary.patients) {
          const r = await store.findByOriginal(projectName, key);
          if (r) records.push(r);
        }
        writeFileSync(csv, toMappingCsv(records), { mode: 0o600 });
      }
      return summary.failed > 0 ? 1 : 0;
    } finally {
      await store.close();
    }
  },
};
