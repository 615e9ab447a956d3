// A DICOM SCU: opens an association as requestor (PS3.8) and performs C-ECHO, C-STORE, C-FIND,
// C-MOVE and C-GET over it (PS3.7 section 9). C-GET's storage sub-operations arrive on the same
// association and stream into the caller's sink like the SCP's C-STORE.
import { AppError } from '../core/errors.ts';
import { readDataset, writeDataset, type Dataset } from '../dicom/index.ts';
import { Association, type AssociationLimits, type AssociationTimeouts, type Transition } from './association.ts';
import { cStoreReceiver, type SinkFactory } from './c-store-receiver.ts';
import { COMMAND_FIELD, NO_DATASET, PRIORITY, type Command } from './command-set.ts';
import { DimseChannel, type AcceptedContext, type DatasetReceiver, type DatasetSource, type IncomingMessage } from './dimse-channel.ts';
import type { OutgoingInstance } from './handlers.ts';
import { DICOM_APPLICATION_CONTEXT, type AAssociateAc, type AAssociateRq, type PresentationContextRq, type RoleSelection, type UserInformation } from './pdu/types.ts';
import { STATUS, formatStatus, statusCategory } from './status.ts';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, QR_SOP, SOP, TS, type QueryModel } from './uids.ts';

export interface ProposedContext {
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
  /** SCP/SCU role selection (PS3.7 D.3.3.4); for C-GET propose { scu: false, scp: true } on storage classes. */
  readonly role?: { readonly scu: boolean; readonly scp: boolean };
}

export interface UserIdentity {
  /** 1 username, 2 username + passcode, 5 JSON web token (PS3.7 D.3.3.7). */
  readonly type: 1 | 2 | 3 | 4 | 5;
  readonly primary: string;
  readonly secondary?: string;
  readonly positiveResponseRequested?: boolean;
}

export interface AssociateOptions {
  readonly host: string;
  readonly port: number;
  readonly callingAe: string;
  readonly calledAe: string;
  readonly contexts: readonly ProposedContext[];
  readonly userIdentity?: UserIdentity;
  readonly timeouts?: Partial<AssociationTimeouts>;
  readonly limits?: Partial<AssociationLimits>;
  /** Receives C-STORE sub-operations of C-GET (and any C-STORE the peer sends us). */
  readonly onCStore?: SinkFactory;
  readonly onTransition?: (t: Transition) => void;
}

export interface StoreResult {
  readonly status: number;
  readonly errorComment?: string;
}

export interface RetrieveResult {
  readonly status: number;
  readonly completed: number;
  readonly failed: number;
  readonly warning: number;
  readonly remaining: number;
}

export interface RetrieveOptions {
  readonly onProgress?: (p: RetrieveProgress) => void;
  /** Aborting sends C-CANCEL-RQ; the peer then ends with status Cancel (FE00H) and its counts. */
  readonly signal?: AbortSignal;
}

export interface RetrieveProgress {
  readonly completed: number;
  readonly failed: number;
  readonly warning: number;
  readonly remaining: number;
}

const DEFAULT_TS = [TS.ExplicitVRLittleEndian, TS.ImplicitVRLittleEndian];

/** Contexts for the common cases: verification, Q/R of both models, and the given storage pairs. */
export function standardContexts(storage: readonly { sopClassUid: string; transferSyntaxUid: string }[] = [], opts: { forGet?: boolean } = {}): ProposedContext[] {
  const out: ProposedContext[] = [{ abstractSyntax: SOP.Verification, transferSyntaxes: [TS.ImplicitVRLittleEndian] }];
  for (const m of ['study', 'patient'] as const) {
    for (const op of ['find', 'move', 'get'] as const) out.push({ abstractSyntax: QR_SOP[m][op], transferSyntaxes: DEFAULT_TS });
  }
  const seen = new Set<string>();
  for (const s of storage) {
    const key = `${s.sopClassUid}|${s.transferSyntaxUid}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ abstractSyntax: s.sopClassUid, transferSyntaxes: [s.transferSyntaxUid], ...(opts.forGet && { role: { scu: false, scp: true } }) });
  }
  return out;
}

function buildRq(o: AssociateOptions, maxPduLength: number): AAssociateRq {
  if (o.contexts.length === 0 || o.contexts.length > 128) throw new AppError('DIMSE_NO_CONTEXT', { detail: `${o.contexts.length} presentation contexts proposed (1..128 allowed)` });
  const pcs: PresentationContextRq[] = o.contexts.map((c, i) => ({ id: 2 * i + 1, abstractSyntax: c.abstractSyntax, transferSyntaxes: c.transferSyntaxes }));
  const roles: RoleSelection[] = [];
  const seen = new Set<string>();
  for (const c of o.contexts) {
    if (c.role && !seen.has(c.abstractSyntax)) {
      seen.add(c.abstractSyntax);
      roles.push({ sopClassUid: c.abstractSyntax, scuRole: c.role.scu, scpRole: c.role.scp });
    }
  }
  const id = o.userIdentity;
  const ui: UserInformation = {
    maxLength: maxPduLength,
    implementationClassUid: IMPLEMENTATION_CLASS_UID,
    implementationVersionName: IMPLEMENTATION_VERSION_NAME,
    ...(roles.length > 0 && { roleSelections: roles }),
    ...(id && {
      userIdentityRq: {
        type: id.type,
        positiveResponseRequested: id.positiveResponseRequested ?? false,
        primaryField: Buffer.from(id.primary, 'utf8'),
        secondaryField: Buffer.from(id.secondary ?? '', 'utf8'),
      },
    }),
  };
  return { type: 'AAssociateRq', protocolVersion: 1, calledAe: o.calledAe, callingAe: o.callingAe, applicationContext: DICOM_APPLICATION_CONTEXT, presentationContexts: pcs, userInformation: ui };
}

export async function associate(o: AssociateOptions): Promise<ScuAssociation> {
  let scu: ScuAssociation | undefined;
  const channel = new DimseChannel(
    (user) =>
      new Association('requestor', user, {
        ...(o.timeouts && { timeouts: o.timeouts }),
        ...(o.limits && { limits: o.limits }),
        ...(o.onTransition && { onTransition: o.onTransition }),
      }),
    { onRequest: (msg) => scu!.onPeerRequest(msg) },
  );
  const rq = buildRq(o, channel.association.limits.maxPduLength);
  const ac = await channel.association.associate(o.host, o.port, rq);
  channel.adoptContexts(rq, ac);
  scu = new ScuAssociation(channel, rq, ac, o);
  return scu;
}

/** Turns callback deliveries into an async iterable (bounded by the peer's pace: one C-FIND at a time). */
class Inbox<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private done = false;
  private error: unknown;
  push(v: T): void {
    const w = this.waiting;
    this.waiting = undefined;
    if (w) w.resolve({ value: v, done: false });
    else this.items.push(v);
  }
  close(err?: unknown): void {
    this.done = true;
    this.error = err;
    const w = this.waiting;
    this.waiting = undefined;
    if (!w) return;
    if (err !== undefined) w.reject(err);
    else w.resolve({ value: undefined, done: true });
  }
  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.done) return this.error !== undefined ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}

export class ScuAssociation {
  constructor(
    readonly channel: DimseChannel,
    readonly rq: AAssociateRq,
    readonly ac: AAssociateAc,
    private readonly opts: AssociateOptions,
  ) {}

  get acceptedContexts(): AcceptedContext[] {
    return [...this.channel.contexts.values()];
  }

  /** Accepted context for a SOP class, preferring the given transfer syntax. */
  contextFor(sopClassUid: string, transferSyntaxUid?: string): AcceptedContext {
    const all = this.acceptedContexts.filter((c) => c.abstractSyntax === sopClassUid);
    const pick = transferSyntaxUid === undefined ? all[0] : all.find((c) => c.transferSyntax === transferSyntaxUid);
    if (!pick) throw new AppError('DIMSE_NO_CONTEXT', { detail: `${sopClassUid}${transferSyntaxUid ? ` in ${transferSyntaxUid}` : ''}` });
    return pick;
  }

  /** @internal requests from the SCP over this association: C-STORE sub-operations of C-GET. */
  onPeerRequest(msg: IncomingMessage): DatasetReceiver {
    if (msg.command.commandField === COMMAND_FIELD.CStoreRq) {
      return cStoreReceiver(
        this.channel,
        msg,
        { association: { callingAe: this.opts.calledAe, calledAe: this.opts.callingAe, remoteAddress: this.channel.association.remoteAddress } },
        this.opts.onCStore,
      );
    }
    return {
      write() {},
      end: () =>
        this.channel.send(msg.context.id, { commandField: msg.command.commandField | 0x8000, messageIdBeingRespondedTo: msg.command.messageId ?? 0, commandDataSetType: NO_DATASET, status: STATUS.UnrecognizedOperation }, undefined),
      abort() {},
    };
  }

  async echo(): Promise<number> {
    const ctx = this.contextFor(SOP.Verification);
    const rsp = await this.channel.request(ctx.id, { commandField: COMMAND_FIELD.CEchoRq, affectedSopClassUid: SOP.Verification }, undefined);
    return rsp.status ?? STATUS.ProcessingFailure;
  }

  /** C-STORE of one instance; the dataset streams from its source. Resolves with the peer's status. */
  async store(inst: OutgoingInstance, extra: { moveOriginator?: { aeTitle: string; messageId: number }; priority?: number } = {}): Promise<StoreResult> {
    const ctx = this.contextFor(inst.sopClassUid, inst.transferSyntaxUid);
    const data: DatasetSource = await inst.open();
    const rsp = await this.channel.request(
      ctx.id,
      {
        commandField: COMMAND_FIELD.CStoreRq,
        affectedSopClassUid: inst.sopClassUid,
        affectedSopInstanceUid: inst.sopInstanceUid,
        priority: extra.priority ?? PRIORITY.medium,
        ...(extra.moveOriginator && { moveOriginatorApplicationEntityTitle: extra.moveOriginator.aeTitle, moveOriginatorMessageId: extra.moveOriginator.messageId }),
      },
      data,
    );
    return { status: rsp.status ?? STATUS.ProcessingFailure, ...(rsp.errorComment !== undefined && { errorComment: rsp.errorComment }) };
  }

  private identifierContext(model: QueryModel, op: 'find' | 'move' | 'get'): AcceptedContext {
    return this.contextFor(QR_SOP[model][op]);
  }

  /** C-FIND: yields each pending response's identifier. Stopping the iteration early sends C-CANCEL. */
  async *find(model: QueryModel, identifier: Dataset): AsyncGenerator<Dataset> {
    const ctx = this.identifierContext(model, 'find');
    const inbox = new Inbox<Dataset>();
    const messageId = this.channel.allocateMessageId();
    let final: Command | undefined;
    const done = this.channel
      .request(ctx.id, { commandField: COMMAND_FIELD.CFindRq, messageId, affectedSopClassUid: ctx.abstractSyntax, priority: PRIORITY.medium }, writeDataset(identifier, ctx.transferSyntax), (msg, ds) => {
        if (ds && statusCategory(msg.command.status ?? 0) === 'pending') inbox.push(readDataset(ds, ctx.transferSyntax));
      })
      .then(
        (c) => {
          final = c;
          inbox.close();
        },
        (e) => inbox.close(e),
      );
    let finished = false;
    try {
      for await (const ds of inbox) yield ds;
      finished = true;
    } finally {
      if (!finished && final === undefined && !this.channel.isClosed) {
        await this.channel.cancel(ctx.id, messageId).catch(() => undefined);
        await done;
      }
    }
    await done;
    const status = final?.status ?? STATUS.ProcessingFailure;
    if (statusCategory(status) === 'failure') throw new AppError('DIMSE_PEER_FAILURE', { detail: `C-FIND ${formatStatus(status)}` });
  }

  /** C-MOVE to a destination AE; resolves with the final sub-operation counts. Aborting `signal` sends C-CANCEL. */
  move(model: QueryModel, destinationAe: string, identifier: Dataset, opts: RetrieveOptions = {}): Promise<RetrieveResult> {
    return this.retrieve('move', model, identifier, { moveDestination: destinationAe }, opts);
  }

  /** C-GET: instances arrive as C-STORE requests on this association into `onCStore` of the options. */
  get(model: QueryModel, identifier: Dataset, opts: RetrieveOptions = {}): Promise<RetrieveResult> {
    return this.retrieve('get', model, identifier, {}, opts);
  }

  private async retrieve(op: 'move' | 'get', model: QueryModel, identifier: Dataset, extra: Partial<Command>, opts: RetrieveOptions): Promise<RetrieveResult> {
    const ctx = this.identifierContext(model, op);
    const counts = (c: Command): RetrieveProgress => ({
      completed: c.numberOfCompletedSuboperations ?? 0,
      failed: c.numberOfFailedSuboperations ?? 0,
      warning: c.numberOfWarningSuboperations ?? 0,
      remaining: c.numberOfRemainingSuboperations ?? 0,
    });
    const messageId = this.channel.allocateMessageId();
    // PS3.7 9.3.2.3 / 9.3.3.3: C-CANCEL-RQ names the operation by its Message ID.
    const cancel = (): void => void this.channel.cancel(ctx.id, messageId).catch(() => undefined);
    opts.signal?.addEventListener('abort', cancel, { once: true });
    try {
      const rsp = await this.channel.request(
        ctx.id,
        { commandField: op === 'move' ? COMMAND_FIELD.CMoveRq : COMMAND_FIELD.CGetRq, messageId, affectedSopClassUid: ctx.abstractSyntax, priority: PRIORITY.medium, ...extra },
        writeDataset(identifier, ctx.transferSyntax),
        (msg) => {
          if (statusCategory(msg.command.status ?? 0) === 'pending') opts.onProgress?.(counts(msg.command));
        },
      );
      return { status: rsp.status ?? STATUS.ProcessingFailure, ...counts(rsp) };
    } finally {
      opts.signal?.removeEventListener('abort', cancel);
    }
  }

  /** C-CANCEL of the retrieve or find with that message id. */
  cancel(contextId: number, messageId: number): Promise<void> {
    return this.channel.cancel(contextId, messageId);
  }

  release(): Promise<void> {
    return this.channel.association.release();
  }

  abort(): void {
    this.channel.association.abort();
  }
}
