// The C-STORE SCU behind `dicomgate send`. Every presentation context the batch needs is proposed on
// one association (PS3.8 9.3.2.2 allows 128; a batch needing more uses several in turn): per SOP
// class one context per transfer syntax present, each alone so the peer cannot pick another for it,
// plus one with explicit and implicit VR little endian as the fallback. An instance goes out as it
// is stored when its own syntax was accepted; native data the peer accepts only in another native
// syntax is re-encoded; compressed data is never transcoded. A peer that aborts on one instance
// gets a new association for the rest.
import { isAppError, type ErrorCode } from '../../core/errors.ts';
import { readPart10, writeDataset } from '../../dicom/index.ts';
import { associate, statusCategory, TS, type AssociateOptions, type ProposedContext, type ScuAssociation } from '../../dimse/index.ts';
import type { SendSource } from './_send-inputs.ts';

const MAX_CONTEXTS = 128;
const MAX_CONSECUTIVE_ABORTS = 3;
const NATIVE = new Set<string>([TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian, TS.ExplicitVRBigEndian]);
const FALLBACK = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian];

export interface SendOutcome {
  readonly label: string;
  readonly sopInstanceUid: string;
  readonly result: 'sent' | 'warning' | 'failed';
  /** The peer's C-STORE-RSP status, when it answered. */
  readonly status?: number;
  /** Why it was not sent or not answered. */
  readonly error?: ErrorCode;
  /** Set when the instance went out in another native transfer syntax than stored. */
  readonly transcodedTo?: string;
}

/** Per SOP class, the contexts to propose: its transfer syntaxes one by one, then the fallback. */
function contextsFor(sources: readonly SendSource[]): Map<string, ProposedContext[]> {
  const bySop = new Map<string, Set<string>>();
  for (const s of sources) {
    const set = bySop.get(s.instance.sopClassUid) ?? new Set();
    set.add(s.instance.transferSyntaxUid);
    bySop.set(s.instance.sopClassUid, set);
  }
  const out = new Map<string, ProposedContext[]>();
  for (const [sop, tss] of bySop) {
    const own = [...tss].map((ts): ProposedContext => ({ abstractSyntax: sop, transferSyntaxes: [ts] }));
    // The fallback only helps native data, and is redundant when both LE syntaxes are proposed alone.
    const needFallback = [...tss].some((t) => NATIVE.has(t)) && !FALLBACK.every((t) => tss.has(t));
    out.set(sop, needFallback ? [...own, { abstractSyntax: sop, transferSyntaxes: FALLBACK }] : own);
  }
  return out;
}

/** Splits the SOP classes into groups whose contexts fit one association. */
function groups(contexts: Map<string, ProposedContext[]>): ProposedContext[][] {
  const out: ProposedContext[][] = [];
  let cur: ProposedContext[] = [];
  for (const list of contexts.values()) {
    // A class with more transfer syntaxes than one association holds keeps its first 127 (and fails the rest).
    const fit = list.slice(0, MAX_CONTEXTS);
    if (cur.length + fit.length > MAX_CONTEXTS) {
      out.push(cur);
      cur = [];
    }
    cur.push(...fit);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

async function storeOne(scu: ScuAssociation, s: SendSource): Promise<SendOutcome> {
  const inst = s.instance;
  const base = { label: s.label, sopInstanceUid: inst.sopInstanceUid };
  const accepted = scu.acceptedContexts.filter((c) => c.abstractSyntax === inst.sopClassUid).map((c) => c.transferSyntax);
  let transcodedTo: string | undefined;
  let toSend = inst;
  if (!accepted.includes(inst.transferSyntaxUid)) {
    const alt = accepted.find((t) => NATIVE.has(t));
    if (!alt || !NATIVE.has(inst.transferSyntaxUid)) {
      return { ...base, result: 'failed', error: 'DIMSE_NO_CONTEXT' };
    }
    const file = readPart10(await s.readAll());
    const data = Buffer.concat(writeDataset(file.dataset, alt));
    toSend = { sopClassUid: inst.sopClassUid, sopInstanceUid: inst.sopInstanceUid, transferSyntaxUid: alt, open: () => data };
    transcodedTo = alt;
  }
  const r = await scu.store(toSend);
  const cat = statusCategory(r.status);
  const result = cat === 'success' ? 'sent' : cat === 'warning' ? 'warning' : 'failed';
  return { ...base, result, status: r.status, ...(transcodedTo && { transcodedTo }) };
}

/**
 * Sends every source; each gets an outcome (one failure does not stop the rest). An association
 * that cannot be opened is thrown, not reported per instance: nothing can be sent and the caller
 * explains the connection problem once.
 */
export async function sendSources(base: Omit<AssociateOptions, 'contexts'>, sources: readonly SendSource[], onOutcome: (o: SendOutcome) => void): Promise<void> {
  const bySop = contextsFor(sources);
  for (const contexts of groups(bySop)) {
    const sops = new Set(contexts.map((c) => c.abstractSyntax));
    const todo = sources.filter((s) => sops.has(s.instance.sopClassUid));
    let scu = await associate({ ...base, contexts });
    // A peer that aborts on one bad instance (DCMTK does on a truncated dataset) gets a new
    // association for the rest; several aborts in a row mean it is the peer, not the data.
    let aborts = 0;
    try {
      for (const s of todo) {
        if (scu.channel.isClosed) {
          if (++aborts > MAX_CONSECUTIVE_ABORTS) {
            onOutcome({ label: s.label, sopInstanceUid: s.instance.sopInstanceUid, result: 'failed', error: 'DIMSE_ABORTED' });
            continue;
          }
          scu = await associate({ ...base, contexts });
        }
        try {
          const o = await storeOne(scu, s);
          if (o.status !== undefined) aborts = 0;
          onOutcome(o);
        } catch (e) {
          onOutcome({ label: s.label, sopInstanceUid: s.instance.sopInstanceUid, result: 'failed', error: isAppError(e) ? e.code : 'DIMSE_ABORTED' });
        }
      }
    } finally {
      const last = scu;
      await last.release().catch(() => last.abort());
    }
  }
}
