// `dicomgate send <peer> <files|folders|zips...>` and `send <peer> --study <uid|id>`: C-STORE SCU.
import { formatStatus } from '../../dimse/index.ts';
import { openArchive, type Archive } from '../../services/archive.ts';
import { UsageError, type Command } from '../command.ts';
import { ProgressLine } from '../progress.ts';
import { SCU_OPTIONS, SCU_USAGE, associationBase, describePeer, explainAssociationError, resolvePeer } from './_dimse-peer.ts';
import { collectPaths, collectStudy, type Collected } from './_send-inputs.ts';
import { sendSources, type SendOutcome } from './_send-run.ts';

/** Failures listed one per line before the rest are only counted. */
const MAX_LISTED = 50;

export const command: Command = {
  name: 'send',
  summary: 'send files, folders, ZIPs or an archived study to a DICOM peer (C-STORE)',
  usage: `<peer> <file|folder|zip>... [options]
       dicomgate send <peer> --study <StudyInstanceUID|study-id> [options]

Sends DICOM instances to the peer with C-STORE on one association that proposes every
presentation context needed: per SOP class, each transfer syntax present, plus explicit and
implicit VR little endian as a fallback. Instances go out byte for byte as stored; native data
is re-encoded only if the peer refuses its own syntax; compressed data is never transcoded.
Folders are read recursively, ZIP archives entry by entry; DICOMDIR and hidden files are skipped.
With --study, the study is read from the archive in the data folder (--data / config).

A progress line is drawn on stderr when it is a terminal; the summary (sent / warning / failed,
with DIMSE status codes) is printed on stdout.

Options:
  --study <uid|id>  send an archived study (StudyInstanceUID or Orthanc-style study id)
  --json            print the summary as JSON

${SCU_USAGE}

Examples:
  dicomgate send PACS ./export/ study.zip
  dicomgate send STORESCP@10.0.0.7:104 --study 1.2.826.0.1.3680043.2.1125.1

Exit status: 0 when every instance got Success or a warning status; 1 when any failed, was
unreadable or the peer could not be reached; 2 on a usage error.`,
  options: { ...SCU_OPTIONS, study: { type: 'string' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    const [peerSpec, ...inputs] = positionals;
    const peer = resolvePeer(peerSpec, ctx.config);
    const study = values.study as string | undefined;
    if (study !== undefined && inputs.length > 0) throw new UsageError('give either files/folders/ZIPs or --study, not both');
    if (study === undefined && inputs.length === 0) throw new UsageError('give the files, folders or ZIPs to send, or --study <StudyInstanceUID>');
    const base = associationBase(values, ctx.config, peer);

    let archive: Archive | undefined;
    let collected: Collected;
    try {
      if (study !== undefined) {
        archive = await openArchive(ctx.config.dataDir, { duplicates: ctx.config.storage.duplicates, indexKind: ctx.config.index.kind, postgres: ctx.config.postgres });
        collected = await collectStudy(archive, study);
      } else {
        collected = await collectPaths(inputs);
      }
      const outcomes: SendOutcome[] = [];
      const counts = { sent: 0, warning: 0, failed: 0 };
      const total = collected.sources.length;
      const progress = new ProgressLine(ctx.stderr as NodeJS.WritableStream & { isTTY?: boolean });
      let connectError: string | undefined;
      try {
        if (total > 0) {
          await sendSources(base, collected.sources, (o) => {
            outcomes.push(o);
            counts[o.result]++;
            progress.draw(outcomes.length, counts, total);
          });
        }
      } catch (e) {
        connectError = explainAssociationError(e, peer, base.callingAe);
      } finally {
        progress.finish();
      }
      const seconds = progress.elapsedSeconds();
      if (connectError !== undefined) {
        ctx.stderr.write(`dicomgate send: ${connectError}\n`);
        ctx.stderr.write(`dicomgate send: ${total - outcomes.length} of ${total} instances not sent\n`);
      }
      const summary = { peer: describePeer(peer), instances: total, ...counts, unreadable: collected.unreadable.length, seconds: Number(seconds.toFixed(3)) };
      if (values.json) {
        ctx.stdout.write(
          JSON.stringify({
            ...summary,
            ...(connectError !== undefined && { notSent: total - outcomes.length, error: connectError }),
            failures: outcomes.filter((o) => o.result !== 'sent').map((o) => ({ ...o, ...(o.status !== undefined && { status: formatStatus(o.status) }) })),
            unreadableFiles: collected.unreadable,
          }) + '\n',
        );
      } else {
        ctx.stdout.write(formatSummary(summary, outcomes, collected));
      }
      const bad = counts.failed + collected.unreadable.length + (connectError !== undefined ? 1 : 0);
      return bad > 0 || total === 0 ? 1 : 0;
    } finally {
      await archive?.close();
    }
  },
};

function formatSummary(s: { peer: string; instances: number; sent: number; warning: number; failed: number; unreadable: number; seconds: number }, outcomes: readonly SendOutcome[], collected: Collected): string {
  const rate = outcomes.length / Math.max(s.seconds, 1e-3);
  const lines = [
    `sent ${outcomes.length} of ${s.instances} instances to ${s.peer} in ${s.seconds.toFixed(1)} s (${rate.toFixed(0)} files/s): ` +
      `success ${s.sent}, warning ${s.warning}, failed ${s.failed}${s.unreadable ? `, unreadable ${s.unreadable}` : ''}`,
  ];
  const byStatus = new Map<string, number>();
  for (const o of outcomes) {
    if (o.result === 'sent') continue;
    const k = `${o.result} ${o.status !== undefined ? formatStatus(o.status) : o.error}`;
    byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
  }
  if (byStatus.size > 0) lines.push(`  by status: ${[...byStatus].map(([k, n]) => `${k} x${n}`).join(', ')}`);
  const transcoded = outcomes.filter((o) => o.transcodedTo !== undefined).length;
  if (transcoded > 0) lines.push(`  re-encoded (peer refused the stored transfer syntax): ${transcoded}`);
  const listed = outcomes.filter((o) => o.result !== 'sent').slice(0, MAX_LISTED);
  for (const o of listed) {
    const why = o.status !== undefined ? `status ${formatStatus(o.status)}` : o.error === 'DIMSE_NO_CONTEXT' ? 'DIMSE_NO_CONTEXT (the peer accepts no transfer syntax this instance can be sent in)' : o.error;
    lines.push(`  ${o.result} ${o.label} (${o.sopInstanceUid}): ${why}`);
  }
  for (const u of collected.unreadable.slice(0, MAX_LISTED)) lines.push(`  unreadable ${u.label}: ${u.code}: ${u.reason}`);
  const more = outcomes.filter((o) => o.result !== 'sent').length - listed.length + Math.max(0, collected.unreadable.length - MAX_LISTED);
  if (more > 0) lines.push(`  ... and ${more} more`);
  return lines.join('\n') + '\n';
}
