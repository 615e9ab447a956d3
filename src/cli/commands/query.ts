// `dicomgate query <peer> [--level L] [-k Tag=value ...] [--json]`: C-FIND SCU (PS3.4 C.4.1).
import { toDicomJson, type Dataset } from '../../dicom/index.ts';
import { associate, QR_SOP, TS, type QueryModel } from '../../dimse/index.ts';
import { UsageError, intFlag, type Command } from '../command.ts';
import { SCU_OPTIONS, SCU_USAGE, associationBase, describePeer, explainAssociationError, resolvePeer } from './_dimse-peer.ts';
import { buildIdentifier, keyName, parseLevel, valueText } from './_query-keys.ts';

export const command: Command = {
  name: 'query',
  summary: 'query a DICOM peer (C-FIND) and print the matches',
  usage: `<peer> [--level patient|study|series|image] [-k Tag[=value]]... [options]

Sends one C-FIND (Study Root by default) and prints the matches as a table, or as DICOM JSON
(PS3.18 F) with --json. -k Tag=value is a matching key (wildcards * and ?, date ranges
20240101-20241231, UID lists separated by \\); a bare -k Tag asks for that return key. Each level
also asks for its usual return keys (patient: PatientID, PatientName ...; study: StudyInstanceUID,
StudyDate, StudyDescription, ModalitiesInStudy ...; series: SeriesInstanceUID, Modality,
SeriesNumber ...; image: SOPInstanceUID, SOPClassUID, InstanceNumber) unless --only-keys.
Below study level, Study Root needs the parent UIDs as matching keys (-k StudyInstanceUID=...).

Options:
  --level <L>       patient, study (default), series or image
  -k, --key <T[=v]> matching or return key; repeatable; T is a keyword or gggg,eeee
  --only-keys       ask only for the -k keys (no default return keys)
  --patient-root    use the Patient Root model (needs -k PatientID=... below patient level)
  --limit <n>       stop after n matches (sends C-CANCEL)
  --json            print DICOM JSON, one array of matches

${SCU_USAGE}

Examples:
  dicomgate query PACS -k PatientID=ABC123
  dicomgate query PACS --level series -k StudyInstanceUID=1.2.3 -k BodyPartExamined
  dicomgate query PACS -k StudyDate=20240101-20240131 -k ModalitiesInStudy=RTPLAN --json

Exit status: 0 when the query completed (with or without matches); 1 when the peer failed it or
could not be reached; 2 on a usage error.`,
  options: {
    ...SCU_OPTIONS,
    level: { type: 'string' },
    key: { type: 'string', short: 'k', multiple: true },
    'only-keys': { type: 'boolean' },
    'patient-root': { type: 'boolean' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}": matching keys go in -k Tag=value`);
    const peer = resolvePeer(positionals[0], ctx.config);
    const model: QueryModel = values['patient-root'] ? 'patient' : 'study';
    const level = parseLevel(values.level, model === 'patient' ? 'patient' : 'study');
    if (model === 'study' && level === 'patient') throw new UsageError('the Study Root model has no patient level: use --patient-root, or --level study');
    const limit = intFlag(values.limit, 'limit');
    const { identifier, keys } = buildIdentifier(level, (values.key as string[] | undefined) ?? [], { defaults: !values['only-keys'] });
    const base = associationBase(values, ctx.config, peer);

    let scu;
    try {
      scu = await associate({ ...base, contexts: [{ abstractSyntax: QR_SOP[model].find, transferSyntaxes: [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian] }] });
    } catch (e) {
      ctx.stderr.write(`dicomgate query: ${explainAssociationError(e, peer, base.callingAe)}\n`);
      return 1;
    }
    const matches: Dataset[] = [];
    try {
      for await (const ds of scu.find(model, identifier)) {
        matches.push(ds);
        if (limit !== undefined && matches.length >= limit) break;
      }
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      ctx.stderr.write(`dicomgate query: ${describePeer(peer)}: ${/C-FIND 0x/.test(text) ? `${text}. Check the level and keys (below study level, give the parent UIDs)` : explainAssociationError(e, peer, base.callingAe)}\n`);
      await scu.release().catch(() => scu.abort());
      return 1;
    }
    await scu.release().catch(() => scu.abort());

    if (values.json) {
      ctx.stdout.write(JSON.stringify(matches.map((m) => toDicomJson(m))) + '\n');
      return 0;
    }
    const cols = keys.map((t) => ({ name: keyName(t), values: matches.map((m) => valueText(m, t)) }));
    const widths = cols.map((c) => Math.min(64, Math.max(c.name.length, ...c.values.map((v) => v.length))));
    const cell = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}~` : s.padEnd(w));
    ctx.stdout.write(cols.map((c, i) => cell(c.name, widths[i])).join('  ').trimEnd() + '\n');
    for (let r = 0; r < matches.length; r++) ctx.stdout.write(cols.map((c, i) => cell(c.values[r], widths[i])).join('  ').trimEnd() + '\n');
    ctx.stderr.write(`${matches.length} match${matches.length === 1 ? '' : 'es'} at ${level} level from ${describePeer(peer)}${limit !== undefined && matches.length >= limit ? ` (stopped at --limit ${limit})` : ''}\n`);
    return 0;
  },
};
