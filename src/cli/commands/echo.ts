// `dicomgate echo <peer>`: C-ECHO (Verification, PS3.4 Annex A) on a fresh association.
import { associate, formatStatus, SOP, TS } from '../../dimse/index.ts';
import type { Command } from '../command.ts';
import { SCU_OPTIONS, SCU_USAGE, associationBase, describePeer, explainAssociationError, resolvePeer } from './_dimse-peer.ts';

export const command: Command = {
  name: 'echo',
  summary: 'check a DICOM peer answers (C-ECHO)',
  usage: `<peer> [options]

Opens an association to the peer, sends C-ECHO and releases. Prints the round trip time.

${SCU_USAGE}

Examples:
  dicomgate echo PACS
  dicomgate echo ORTHANC@127.0.0.1:4242 --aet RESEARCH

Exit status: 0 when the peer answered Success; 1 otherwise; 2 on a usage error.`,
  options: { ...SCU_OPTIONS },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    const peer = resolvePeer(positionals[0], ctx.config);
    if (positionals.length > 1) ctx.stderr.write(`dicomgate echo: ignoring extra arguments after the peer\n`);
    const base = associationBase(values, ctx.config, peer);
    const started = performance.now();
    let scu;
    try {
      scu = await associate({ ...base, contexts: [{ abstractSyntax: SOP.Verification, transferSyntaxes: [TS.ImplicitVRLittleEndian, TS.ExplicitVRLittleEndian] }] });
    } catch (e) {
      ctx.stderr.write(`dicomgate echo: ${explainAssociationError(e, peer, base.callingAe)}\n`);
      return 1;
    }
    try {
      const status = await scu.echo();
      const ms = performance.now() - started;
      if (status !== 0) {
        ctx.stderr.write(`dicomgate echo: ${describePeer(peer)} answered C-ECHO with status ${formatStatus(status)}\n`);
        return 1;
      }
      ctx.stdout.write(`C-ECHO ${describePeer(peer)}: Success (${ms.toFixed(0)} ms)\n`);
      return 0;
    } catch (e) {
      ctx.stderr.write(`dicomgate echo: ${explainAssociationError(e, peer, base.callingAe)}\n`);
      return 1;
    } finally {
      await scu.release().catch(() => scu.abort());
    }
  },
};
