// Query/Retrieve SCP services (PS3.4 Annex C): C-FIND, C-MOVE, C-GET and C-CANCEL on one
// association. Each request runs as a task so that the association keeps reading: a C-CANCEL-RQ
// must reach a running operation, and C-GET's C-STORE-RSPs arrive while it runs.
import { Dataset, readDataset, writeDataset } from '../dicom/index.ts';
import { tag } from '../dicom/tag.ts';
import { statusForError } from './c-store-receiver.ts';
import { COMMAND_FIELD, NO_DATASET, PRIORITY, type Command } from './command-set.ts';
import { MAX_BUFFERED_DATASET, bufferReceiver, type DatasetReceiver, type DimseChannel, type IncomingMessage } from './dimse-channel.ts';
import type { AssociationInfo, OutgoingInstance, QueryRequest, ScpHandlers } from './handlers.ts';
import type { ServiceKind } from './negotiation.ts';
import { associate, type ScuAssociation } from './scu.ts';
import { STATUS, statusCategory } from './status.ts';
import type { AssociationLimits, AssociationTimeouts } from './association.ts';

const FAILED_SOP_INSTANCE_UID_LIST = tag(0x0008, 0x0058);

export interface QueryServiceOptions {
  readonly timeouts?: Partial<AssociationTimeouts>;
  readonly limits?: Partial<AssociationLimits>;
}

interface Counts {
  completed: number;
  failed: number;
  warning: number;
  remaining: number;
}

export class QueryServices {
  private readonly running = new Map<number, AbortController>();
  private readonly tasks = new Set<Promise<void>>();

  constructor(
    private readonly channel: DimseChannel,
    private readonly info: AssociationInfo,
    private readonly handlers: ScpHandlers,
    private readonly opts: QueryServiceOptions,
    private readonly services: ReadonlyMap<number, ServiceKind>,
  ) {}

  receiver(msg: IncomingMessage): DatasetReceiver {
    const c = msg.command;
    if (c.commandField === COMMAND_FIELD.CCancelRq) {
      // PS3.7 9.3.2.3: cancels the operation whose Message ID it names; unknown ids are ignored.
      return { write() {}, end: () => this.running.get(c.messageIdBeingRespondedTo ?? -1)?.abort(), abort() {} };
    }
    const kind = this.services.get(msg.context.id);
    const op = c.commandField === COMMAND_FIELD.CFindRq ? 'find' : c.commandField === COMMAND_FIELD.CMoveRq ? 'move' : 'get';
    return bufferReceiver(MAX_BUFFERED_DATASET, (bytes) => {
      if (kind !== op) return this.respond(msg, { status: STATUS.SopClassNotSupported }, undefined);
      this.spawn(msg, bytes, op);
    });
  }

  /** Resolves once every running operation has sent its final response (before A-RELEASE-RP). */
  async drain(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  cancelAll(): void {
    for (const ac of this.running.values()) ac.abort();
  }

  private spawn(msg: IncomingMessage, bytes: Buffer, op: 'find' | 'move' | 'get'): void {
    const id = msg.command.messageId ?? 0;
    const ac = new AbortController();
    this.running.set(id, ac);
    const rq: QueryRequest = { association: this.info, sopClassUid: msg.context.abstractSyntax, priority: msg.command.priority ?? PRIORITY.medium, signal: ac.signal };
    const task = this.channel.association
      .whileBusy(async () => {
        let identifier: Dataset;
        try {
          identifier = readDataset(bytes, msg.context.transferSyntax);
        } catch {
          return this.respond(msg, { status: STATUS.IdentifierDoesNotMatchSopClass, errorComment: 'identifier cannot be parsed' }, undefined);
        }
        if (op === 'find') await this.find(msg, rq, identifier);
        else await this.retrieve(msg, rq, identifier, op);
      })
      .catch(() => undefined) // the association is gone; nothing left to answer
      .finally(() => {
        this.running.delete(id);
        this.tasks.delete(task);
      });
    this.tasks.add(task);
  }

  private respond(msg: IncomingMessage, fields: Partial<Command> & { status: number }, dataset: Dataset | undefined): Promise<void> {
    return this.channel.send(
      msg.context.id,
      {
        commandField: msg.command.commandField | 0x8000,
        messageIdBeingRespondedTo: msg.command.messageId ?? 0,
        affectedSopClassUid: msg.context.abstractSyntax,
        commandDataSetType: dataset ? 0x0000 : NO_DATASET,
        ...fields,
      },
      dataset ? writeDataset(dataset, msg.context.transferSyntax) : undefined,
    );
  }

  private async find(msg: IncomingMessage, rq: QueryRequest, identifier: Dataset): Promise<void> {
    const handler = this.handlers.onCFind;
    if (!handler) return this.respond(msg, { status: STATUS.SopClassNotSupported }, undefined);
    try {
      for await (const match of handler.call(this.handlers, rq, identifier)) {
        if (rq.signal.aborted) break;
        await this.respond(msg, { status: STATUS.Pending }, match);
      }
    } catch (e) {
      const { status, errorComment } = statusForError(e);
      return this.respond(msg, { status: statusCategory(status) === 'failure' ? status : STATUS.UnableToProcess, errorComment }, undefined);
    }
    await this.respond(msg, { status: rq.signal.aborted ? STATUS.Cancel : STATUS.Success }, undefined);
  }

  private async retrieve(msg: IncomingMessage, rq: QueryRequest, identifier: Dataset, op: 'move' | 'get'): Promise<void> {
    let instances: readonly OutgoingInstance[];
    let scu: ScuAssociation | undefined;
    try {
      if (op === 'move') {
        const dest = msg.command.moveDestination ?? '';
        if (!this.handlers.onCMove) return this.respond(msg, { status: STATUS.SopClassNotSupported }, undefined);
        const plan = await this.handlers.onCMove({ ...rq, moveDestination: dest }, identifier);
        if (!plan.destination) return this.respond(msg, { status: STATUS.MoveDestinationUnknown, errorComment: 'unknown move destination' }, undefined);
        instances = plan.instances;
        if (instances.length > 0) {
          scu = await associate({
            host: plan.destination.host,
            port: plan.destination.port,
            callingAe: this.info.calledAe,
            calledAe: plan.destination.aeTitle,
            contexts: storageContexts(instances),
            ...(this.opts.timeouts && { timeouts: this.opts.timeouts }),
            ...(this.opts.limits && { limits: this.opts.limits }),
          });
        }
      } else {
        if (!this.handlers.onCGet) return this.respond(msg, { status: STATUS.SopClassNotSupported }, undefined);
        instances = (await this.handlers.onCGet(rq, identifier)).instances;
      }
    } catch (e) {
      const { status, errorComment } = statusForError(e);
      const s = op === 'move' && status === 0xa702 ? STATUS.MoveOutOfResourcesSubOperations : statusCategory(status) === 'failure' ? status : STATUS.UnableToProcess;
      return this.respond(msg, { status: s, errorComment }, undefined);
    }
    const counts: Counts = { completed: 0, failed: 0, warning: 0, remaining: instances.length };
    const failedUids: string[] = [];
    try {
      for (const inst of instances) {
        if (rq.signal.aborted) break;
        let status: number;
        try {
          status = scu ? (await scu.store(inst, { moveOriginator: { aeTitle: this.info.callingAe, messageId: msg.command.messageId ?? 0 } })).status : await this.storeHere(inst);
        } catch {
          status = STATUS.ProcessingFailure;
        }
        counts.remaining--;
        const cat = statusCategory(status);
        if (cat === 'success') counts.completed++;
        else if (cat === 'warning') counts.warning++;
        else {
          counts.failed++;
          failedUids.push(inst.sopInstanceUid);
        }
        if (counts.remaining > 0) await this.respond(msg, { status: STATUS.Pending, ...subOps(counts) }, undefined);
      }
    } finally {
      if (scu) await scu.release().catch(() => scu?.abort());
    }
    // PS3.4 C.4.2.1.5: the final response counts what was done; a cancel leaves some remaining.
    const cancelled = rq.signal.aborted && counts.remaining > 0;
    const status = cancelled ? STATUS.Cancel : counts.failed > 0 || counts.warning > 0 ? STATUS.SubOperationsCompleteWithFailures : STATUS.Success;
    let ds: Dataset | undefined;
    if (failedUids.length > 0) {
      ds = new Dataset({ explicitVR: true });
      ds.setString(FAILED_SOP_INSTANCE_UID_LIST, 'UI', failedUids);
    }
    await this.respond(msg, { status, ...subOps(counts, !cancelled) }, ds);
  }

  /** C-GET sub-operation: C-STORE-RQ back to the requestor on this association (it took the SCP role). */
  private async storeHere(inst: OutgoingInstance): Promise<number> {
    const ctx = [...this.channel.contexts.values()].find((c) => c.abstractSyntax === inst.sopClassUid && c.transferSyntax === inst.transferSyntaxUid);
    if (!ctx) return STATUS.SopClassNotSupported;
    const data = await inst.open();
    const rsp = await this.channel.request(
      ctx.id,
      { commandField: COMMAND_FIELD.CStoreRq, affectedSopClassUid: inst.sopClassUid, affectedSopInstanceUid: inst.sopInstanceUid, priority: PRIORITY.medium },
      data,
    );
    return rsp.status ?? STATUS.ProcessingFailure;
  }
}

function subOps(c: Counts, final = false): Partial<Command> {
  return {
    // PS3.4 C.4.2.3.1: Number of Remaining Sub-operations is absent from a final (non-cancel) response.
    ...(!final && { numberOfRemainingSuboperations: c.remaining }),
    numberOfCompletedSuboperations: c.completed,
    numberOfFailedSuboperations: c.failed,
    numberOfWarningSuboperations: c.warning,
  };
}

/** One context per (SOP class, transfer syntax) pair: instances are sent as stored, never transcoded. */
function storageContexts(instances: readonly OutgoingInstance[]): { abstractSyntax: string; transferSyntaxes: string[] }[] {
  const seen = new Map<string, { abstractSyntax: string; transferSyntaxes: string[] }>();
  for (const i of instances) {
    const key = `${i.sopClassUid}|${i.transferSyntaxUid}`;
    if (!seen.has(key) && seen.size < 128) seen.set(key, { abstractSyntax: i.sopClassUid, transferSyntaxes: [i.transferSyntaxUid] });
  }
  return [...seen.values()];
}
