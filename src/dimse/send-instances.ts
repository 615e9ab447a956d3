// C-STORE SCU for a batch (`dicomgate send`, forwarding): proposes one presentation context per
// (SOP class, transfer syntax) pair present, at most 128 per association (PS3.8 9.3.2.2), and
// sends each instance as stored. Every instance gets a result; one failure does not stop the rest.
import { AppError, isAppError, type ErrorCode } from '../core/errors.ts';
import type { AssociationLimits, AssociationTimeouts } from './association.ts';
import type { OutgoingInstance } from './handlers.ts';
import { part10Instance } from './part10-source.ts';
import { associate, type ProposedContext } from './scu.ts';
import { STATUS } from './status.ts';

export interface SendTarget {
  readonly host: string;
  readonly port: number;
  readonly callingAe: string;
  readonly calledAe: string;
  readonly timeouts?: Partial<AssociationTimeouts>;
  readonly limits?: Partial<AssociationLimits>;
}

export interface SendResult {
  /** Index of the input (instance or path). */
  readonly index: number;
  readonly sopInstanceUid: string;
  /** The peer's C-STORE-RSP status; undefined when it was never sent. */
  readonly status: number | undefined;
  /** Why it was not sent or not answered. */
  readonly error?: ErrorCode;
}

const MAX_CONTEXTS = 128;

function pairKey(i: OutgoingInstance): string {
  return `${i.sopClassUid}|${i.transferSyntaxUid}`;
}

/** Groups instances so that each group needs at most 128 presentation contexts. */
function batches(instances: readonly OutgoingInstance[]): number[][] {
  const groups: { keys: Set<string>; items: number[] }[] = [];
  instances.forEach((inst, i) => {
    const k = pairKey(inst);
    let g = groups.find((x) => x.keys.has(k) || x.keys.size < MAX_CONTEXTS);
    if (!g) groups.push((g = { keys: new Set(), items: [] }));
    g.keys.add(k);
    g.items.push(i);
  });
  return groups.map((g) => g.items);
}

function codeOf(e: unknown): ErrorCode {
  return isAppError(e) ? e.code : 'DIMSE_ABORTED';
}

export async function sendInstances(target: SendTarget, instances: readonly OutgoingInstance[], onResult?: (r: SendResult) => void): Promise<SendResult[]> {
  const results: SendResult[] = [];
  const record = (r: SendResult): void => {
    results.push(r);
    onResult?.(r);
  };
  for (const group of batches(instances)) {
    const contexts: ProposedContext[] = [];
    const seen = new Set<string>();
    for (const i of group) {
      const k = pairKey(instances[i]);
      if (!seen.has(k)) {
        seen.add(k);
        contexts.push({ abstractSyntax: instances[i].sopClassUid, transferSyntaxes: [instances[i].transferSyntaxUid] });
      }
    }
    let scu;
    try {
      scu = await associate({ host: target.host, port: target.port, callingAe: target.callingAe, calledAe: target.calledAe, contexts, ...(target.timeouts && { timeouts: target.timeouts }), ...(target.limits && { limits: target.limits }) });
    } catch (e) {
      for (const i of group) record({ index: i, sopInstanceUid: instances[i].sopInstanceUid, status: undefined, error: codeOf(e) });
      continue;
    }
    for (const i of group) {
      const inst = instances[i];
      try {
        const r = await scu.store(inst);
        record({ index: i, sopInstanceUid: inst.sopInstanceUid, status: r.status });
      } catch (e) {
        record({ index: i, sopInstanceUid: inst.sopInstanceUid, status: undefined, error: codeOf(e) });
      }
    }
    await scu.release().catch(() => scu.abort());
  }
  return results.sort((a, b) => a.index - b.index);
}

/** Sends Part-10 files; unreadable files are reported, not thrown. */
export async function sendFiles(target: SendTarget, paths: readonly string[], onResult?: (r: SendResult) => void): Promise<SendResult[]> {
  const opened: (OutgoingInstance | AppError)[] = await Promise.all(
    paths.map((p) => part10Instance(p).catch((e: unknown) => (isAppError(e) ? e : new AppError('IMPORT_UNREADABLE', { detail: 'file cannot be read', cause: e })))),
  );
  const ok: OutgoingInstance[] = [];
  const where: number[] = [];
  const failed: SendResult[] = [];
  opened.forEach((o, i) => {
    if (o instanceof AppError) failed.push({ index: i, sopInstanceUid: '', status: undefined, error: o.code });
    else {
      ok.push(o);
      where.push(i);
    }
  });
  failed.forEach((r) => onResult?.(r));
  const sent = await sendInstances(target, ok, (r) => onResult?.({ ...r, index: where[r.index] }));
  return [...failed, ...sent.map((r) => ({ ...r, index: where[r.index] }))].sort((a, b) => a.index - b.index);
}

export function isSuccess(r: SendResult): boolean {
  return r.status === STATUS.Success;
}
