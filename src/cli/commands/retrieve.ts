// `dicomgate retrieve <peer> -k Key=value ... [--get | --move <AET>] [--out <dir>]`: C-GET or C-MOVE SCU
// (PS3.4 C.4.2, C.4.3). C-GET is the default: the instances come back on the same association, so
// nothing has to listen and the peer needs no entry for us. C-MOVE asks the peer to send to an AE
// title it knows (another node, or a running dicomgate server).
import { mkdir } from 'node:fs/promises';
import { associate, formatStatus, QR_SOP, statusCategory, TS, type ProposedContext, type QueryModel, type RetrieveResult } from '../../dimse/index.ts';
import { openArchive, type Archive } from '../../services/archive.ts';
import { UsageError, type Command } from '../command.ts';
import { ProgressLine } from '../progress.ts';
import { SCU_OPTIONS, SCU_USAGE, associationBase, describePeer, explainAssociationError, resolvePeer } from './_dimse-peer.ts';
import { buildIdentifier, parseLevel } from './_query-keys.ts';
import { archiveSink, folderSink, type ReceiveTally } from './_retrieve-sinks.ts';

const SOP_CLASS_UID = 0x00080016;

/** Transfer syntaxes offered per SOP class for C-GET, each in its own context (an SCP sending as stored picks the exact one). */
const GET_SYNTAXES = [
  TS.ExplicitVRLittleEndian,
  TS.ImplicitVRLittleEndian,
  '1.2.840.10008.1.2.4.50', // JPEG Baseline
  '1.2.840.10008.1.2.4.51', // JPEG Extended
  '1.2.840.10008.1.2.4.57', // JPEG Lossless
  '1.2.840.10008.1.2.4.70', // JPEG Lossless SV1
  '1.2.840.10008.1.2.4.80', // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS Near-Lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 Lossless
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.5', // RLE Lossless
  TS.DeflatedExplicitVRLittleEndian,
  TS.ExplicitVRBigEndian,
];

/** Proposed when the peer will not say which SOP classes the match holds (C-FIND at image level failed). */
const COMMON_STORAGE = [
  '1.2.840.10008.5.1.4.1.1.2', // CT
  '1.2.840.10008.5.1.4.1.1.4', // MR
  '1.2.840.10008.5.1.4.1.1.481.1', // RT Image
  '1.2.840.10008.5.1.4.1.1.481.2', // RT Dose
  '1.2.840.10008.5.1.4.1.1.481.3', // RT Structure Set
  '1.2.840.10008.5.1.4.1.1.481.5', // RT Plan
  '1.2.840.10008.5.1.4.1.1.481.8', // RT Ion Plan
  '1.2.840.10008.5.1.4.1.1.481.4', // RT Beams Treatment Record
  '1.2.840.10008.5.1.4.1.1.128', // PET
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture
  '1.2.840.10008.5.1.4.1.1.88.11', // Basic Text SR
  '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
  '1.2.840.10008.5.1.4.1.1.88.33', // Comprehensive SR
  '1.2.840.10008.5.1.4.1.1.66', // Raw Data
  '1.2.840.10008.5.1.4.1.1.66.1', // Spatial Registration
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.104.1', // Encapsulated PDF
  '1.2.840.10008.5.1.4.1.1.1', // CR
  '1.2.840.10008.5.1.4.1.1.6.1', // US
  '1.2.840.10008.5.1.4.1.1.20', // NM
];

/** Storage contexts with the SCP role for us (PS3.7 D.3.3.4), within the 128-context limit. */
export function getStorageContexts(sopClasses: readonly string[], room: number): ProposedContext[] {
  const out: ProposedContext[] = [];
  const classes = [...new Set(sopClasses)];
  // Every class gets the uncompressed syntaxes first; the compressed ones while room is left.
  for (const tsList of [GET_SYNTAXES.slice(0, 2), GET_SYNTAXES.slice(2)]) {
    for (const sop of classes) {
      for (const ts of tsList) {
        if (out.length >= room) return out;
        out.push({ abstractSyntax: sop, transferSyntaxes: [ts], role: { scu: false, scp: true } });
      }
    }
  }
  return out;
}

export const command: Command = {
  name: 'retrieve',
  summary: 'retrieve studies, series or instances from a DICOM peer (C-GET or C-MOVE)',
  usage: `<peer> -k Key=value... [--level study|series|image] [--get | --move <AET>] [--out <dir>] [options]

C-GET (the default) brings the instances back on the same association: nothing listens, and
the peer needs no entry for us. They are stored into the archive of the data folder (--data or
the config's dataDir), or written as Part-10 files <SOPInstanceUID>.dcm into --out <dir>. Each
instance is acknowledged only once it is durable. To learn which storage SOP classes to
negotiate, a C-FIND at image level with the same keys runs first (if the peer refuses it,
common classes are proposed: CT, MR, RT, PET, SC, SR, ...).

C-MOVE (--move <AET>) asks the peer to send the instances to the AE title named, which the
peer must know (host and port are configured at the peer): another node, or a running
dicomgate server (its dicom.aet). This command only reports the peer's counts.

The keys identify what to retrieve at the level: study (default) needs StudyInstanceUID; series
needs SeriesInstanceUID (and, for Study Root, StudyInstanceUID); image needs SOPInstanceUID too.

Options:
  -k, --key <T=v>   identifier key; repeatable (e.g. -k StudyInstanceUID=1.2.3)
  --level <L>       patient (with --patient-root), study (default), series or image
  --get             C-GET (default)
  --move <AET>      C-MOVE to this destination AE title instead
  --out <dir>       with C-GET: write files into this folder instead of the archive
  --patient-root    use the Patient Root model

${SCU_USAGE}

Examples:
  dicomgate retrieve PACS -k StudyInstanceUID=1.2.840.1234 --out ./study
  dicomgate retrieve PACS -k StudyInstanceUID=1.2.840.1234 --data ./data
  dicomgate retrieve PACS -k StudyInstanceUID=1.2.840.1234 --move DICOMGATE

Exit status: 0 when every sub-operation completed (warnings included); 1 when any failed, the
peer refused or could not be reached; 2 on a usage error.`,
  options: {
    ...SCU_OPTIONS,
    key: { type: 'string', short: 'k', multiple: true },
    level: { type: 'string' },
    get: { type: 'boolean' },
    move: { type: 'string' },
    out: { type: 'string' },
    'patient-root': { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}": keys go in -k Key=value`);
    const peer = resolvePeer(positionals[0], ctx.config);
    const model: QueryModel = values['patient-root'] ? 'patient' : 'study';
    const level = parseLevel(values.level, 'study');
    if (model === 'study' && level === 'patient') throw new UsageError('the Study Root model has no patient level: use --patient-root');
    const keys = (values.key as string[] | undefined) ?? [];
    if (!keys.some((k) => k.includes('=') && k.split('=')[1] !== '')) throw new UsageError('give at least one matching key, e.g. -k StudyInstanceUID=1.2.3');
    const moveTo = values.move as string | undefined;
    if (moveTo !== undefined && values.get) throw new UsageError('choose --get or --move, not both');
    if (moveTo !== undefined && values.out !== undefined) throw new UsageError('--out applies to C-GET only: with --move the destination AE stores the instances');
    if (moveTo !== undefined && !/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(moveTo)) throw new UsageError(`--move "${moveTo}" is not a valid AE title`);
    const { identifier } = buildIdentifier(level, keys, { defaults: false });
    const base = associationBase(values, ctx.config, peer);
    const progress = new ProgressLine(ctx.stderr as NodeJS.WritableStream & { isTTY?: boolean });
    const onProgress = (p: { completed: number; failed: number; warning: number; remaining: number }) =>
      progress.draw(p.completed + p.failed + p.warning, { completed: p.completed, warning: p.warning, failed: p.failed }, p.completed + p.failed + p.warning + p.remaining);

    // Ctrl-C sends C-CANCEL (PS3.7 9.3.2.3); the peer ends with status Cancel and its counts.
    const cancel = new AbortController();
    const onSigint = (): void => cancel.abort();
    process.once('SIGINT', onSigint);
    let result: RetrieveResult;
    let archive: Archive | undefined;
    const tally: ReceiveTally = { stored: 0, duplicate: 0, failed: 0 };
    try {
      if (moveTo !== undefined) {
        result = await withAssociation(ctx, peer, base, [{ abstractSyntax: QR_SOP[model].move, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] }], undefined, (scu) =>
          scu.move(model, moveTo, identifier, { onProgress, signal: cancel.signal }),
        );
      } else {
        const out = values.out as string | undefined;
        if (out !== undefined) await mkdir(out, { recursive: true });
        else archive = await openArchive(ctx.config.dataDir, { duplicates: ctx.config.storage.duplicates, indexKind: ctx.config.index.kind, postgres: ctx.config.postgres });
        const sink = out !== undefined ? folderSink(out, tally) : archiveSink(archive!, tally);
        const sopClasses = await discoverSopClasses(ctx, peer, base, model, keys);
        const qr = [
          { abstractSyntax: QR_SOP[model].get, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] },
        ];
        const storage = getStorageContexts(sopClasses.length > 0 ? sopClasses : COMMON_STORAGE, 128 - qr.length);
        result = await withAssociation(ctx, peer, base, [...qr, ...storage], sink, (scu) => scu.get(model, identifier, { onProgress, signal: cancel.signal }));
      }
    } catch (e) {
      progress.finish();
      if (e instanceof AssociationFailed) return 1;
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
      progress.finish();
      await archive?.close();
    }
    const seconds = progress.elapsedSeconds();
    const cat = statusCategory(result.status);
    const op = moveTo !== undefined ? `C-MOVE to ${moveTo}` : 'C-GET';
    ctx.stdout.write(
      `${op} from ${describePeer(peer)}: status ${formatStatus(result.status)} (${cat}) in ${seconds.toFixed(1)} s: completed ${result.completed}, warning ${result.warning}, failed ${result.failed}` +
        (result.remaining ? `, remaining ${result.remaining}` : '') +
        '\n',
    );
    if (moveTo === undefined) {
      const where = values.out !== undefined ? `files in ${String(values.out)}` : `the archive in ${ctx.config.dataDir}`;
      ctx.stdout.write(`  received into ${where}: stored ${tally.stored}${tally.duplicate ? `, duplicate ${tally.duplicate}` : ''}${tally.failed ? `, failed ${tally.failed}` : ''}\n`);
    }
    if (result.status === 0xa801) ctx.stderr.write(`dicomgate retrieve: ${describePeer(peer)} does not know the destination AE "${moveTo}": add it (AE title, host, port) to the peer's configuration\n`);
    else if (cat === 'failure') ctx.stderr.write(`dicomgate retrieve: ${describePeer(peer)} answered ${formatStatus(result.status)}; check the keys identify something at ${level} level\n`);
    if (result.completed + result.warning + result.failed === 0 && cat !== 'failure') ctx.stderr.write(`dicomgate retrieve: nothing matched at ${level} level\n`);
    if (cat === 'cancel') ctx.stderr.write('dicomgate retrieve: cancelled\n');
    return cat === 'failure' || cat === 'cancel' || result.failed > 0 || tally.failed > 0 ? 1 : 0;
  },
};

class AssociationFailed extends Error {}

async function withAssociation<T>(
  ctx: { stderr: NodeJS.WritableStream },
  peer: { aet: string; host: string; port: number },
  base: Omit<Parameters<typeof associate>[0], 'contexts'>,
  contexts: ProposedContext[],
  onCStore: Parameters<typeof associate>[0]['onCStore'],
  fn: (scu: Awaited<ReturnType<typeof associate>>) => Promise<T>,
): Promise<T> {
  let scu;
  try {
    scu = await associate({ ...base, contexts, ...(onCStore && { onCStore }) });
  } catch (e) {
    ctx.stderr.write(`dicomgate retrieve: ${explainAssociationError(e, peer, base.callingAe)}\n`);
    throw new AssociationFailed();
  }
  try {
    return await fn(scu);
  } catch (e) {
    ctx.stderr.write(`dicomgate retrieve: ${explainAssociationError(e, peer, base.callingAe)}\n`);
    throw new AssociationFailed();
  } finally {
    await scu.release().catch(() => scu.abort());
  }
}

/** SOP classes of the instances the keys match, from a C-FIND at image level; [] when the peer will not say. */
async function discoverSopClasses(
  ctx: { stderr: NodeJS.WritableStream },
  peer: { aet: string; host: string; port: number },
  base: Omit<Parameters<typeof associate>[0], 'contexts'>,
  model: QueryModel,
  keys: readonly string[],
): Promise<string[]> {
  const { identifier } = buildIdentifier('image', [...keys.filter((k) => k.includes('=')), 'SOPClassUID'], { defaults: false });
  const found = new Set<string>();
  let scu;
  try {
    scu = await associate({ ...base, contexts: [{ abstractSyntax: QR_SOP[model].find, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] }] });
  } catch (e) {
    ctx.stderr.write(`dicomgate retrieve: ${explainAssociationError(e, peer, base.callingAe)}\n`);
    throw new AssociationFailed();
  }
  try {
    for await (const ds of scu.find(model, identifier) ) {
      const c = ds.string(SOP_CLASS_UID);
      if (c) found.add(c);
    }
  } catch {
    // A peer that refuses image-level queries (or these keys at image level) still serves C-GET: use the common classes.
    found.clear();
  } finally {
    await scu.release().catch(() => scu.abort());
  }
  return [...found];
}
