// DIMSE message exchange over an established association (PS3.7 section 9 and PS3.8 Annex E):
// reassembles command fragments, streams dataset fragments to a receiver as they arrive, routes
// responses to the request that is waiting for them, and fragments outgoing messages to the peer's
// maximum PDU length. Used by both the SCP (scp.ts) and the SCU (scu.ts): C-GET makes an SCU
// receive C-STORE requests, and makes an SCP wait for C-STORE responses.
import { AppError } from '../core/errors.ts';
import { Association, describe, type AssociateDecision, type AssociationUser, type CloseReason } from './association.ts';
import { COMMAND_FIELD, HAS_DATASET, NO_DATASET, decodeCommand, encodeCommand, hasDataset, isResponse, type Command } from './command-set.ts';
import type { AAssociateAc, AAssociateRq, Pdv } from './pdu/types.ts';
import { PC_RESULT } from './pdu/types.ts';

export interface AcceptedContext {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntax: string;
}

export interface IncomingMessage {
  readonly command: Command;
  readonly context: AcceptedContext;
}

/** Receives a message's dataset fragment by fragment (never the whole dataset at once). */
export interface DatasetReceiver {
  write(chunk: Uint8Array): Promise<void> | void;
  /** After the last fragment, or at once when the message has no dataset. Reading waits for it. */
  end(): Promise<void> | void;
  /** The association ended before the dataset was complete. */
  abort(reason: string): void;
}

export type DatasetSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface ChannelHandlers {
  /** A request's command set has arrived; return who takes its dataset (and handles the request). */
  onRequest(msg: IncomingMessage): DatasetReceiver;
  /** The peer asked to release; resolve once outstanding responses are sent. */
  onReleaseRq?(): Promise<void> | void;
  onClosed?(reason: CloseReason): void;
}

export interface ResponseHandler {
  /** A pending (FF00H/FF01H) or final response; `dataset` is the buffered identifier, if any. */
  (msg: IncomingMessage, dataset: Buffer | undefined): void;
}

/** Statuses that announce more responses (PS3.7 C.4.1.1.4 and C.4.2.1.5). */
export function isPending(status: number | undefined): boolean {
  return status === 0xff00 || status === 0xff01;
}

const MAX_COMMAND_BYTES = 64 * 1024;
/** P-DATA fragments written together (one writev) before backpressure is awaited. */
const SEND_GROUP_BYTES = 256 * 1024;
/** Identifiers and response datasets are small; a bigger one is refused rather than buffered. */
export const MAX_BUFFERED_DATASET = 4 * 1024 * 1024;

interface Pending {
  readonly onResponse: ResponseHandler;
  resolve(c: Command): void;
  reject(e: unknown): void;
}

interface InProgress {
  readonly contextId: number;
  commandChunks: Buffer[];
  commandBytes: number;
  command?: Command;
  receiver?: DatasetReceiver;
}

/** Collects a small dataset into memory, refusing more than `limit` bytes. */
export function bufferReceiver(limit: number, done: (bytes: Buffer) => Promise<void> | void): DatasetReceiver {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    write(chunk) {
      size += chunk.length;
      if (size > limit) throw new AppError('DIMSE_PDU_INVALID', { detail: `dataset larger than ${limit} bytes where an identifier was expected` });
      chunks.push(Buffer.from(chunk));
    },
    end: () => done(Buffer.concat(chunks)),
    abort() {
      chunks.length = 0;
    },
  };
}

export class DimseChannel implements AssociationUser {
  readonly contexts = new Map<number, AcceptedContext>();
  private current: InProgress | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private sendChain: Promise<void> = Promise.resolve();
  private closed: CloseReason | undefined;
  readonly association: Association;

  constructor(
    makeAssociation: (user: AssociationUser) => Association,
    private readonly handlers: ChannelHandlers,
    /** Acceptor only: answers the A-ASSOCIATE-RQ (requestors leave it out). */
    private readonly decide?: (rq: AAssociateRq) => Promise<AssociateDecision>,
  ) {
    this.association = makeAssociation(this);
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  /** Records the accepted contexts of an A-ASSOCIATE-AC against the request that proposed them. */
  adoptContexts(rq: AAssociateRq, ac: AAssociateAc): void {
    for (const pc of ac.presentationContexts) {
      if (pc.result !== PC_RESULT.acceptance) continue;
      const proposed = rq.presentationContexts.find((p) => p.id === pc.id);
      if (proposed) this.contexts.set(pc.id, { id: pc.id, abstractSyntax: proposed.abstractSyntax, transferSyntax: pc.transferSyntax });
    }
  }

  // ---- AssociationUser ----

  async onAssociateRq(rq: AAssociateRq): Promise<AssociateDecision> {
    if (!this.decide) return { reject: { type: 'AAssociateRj', result: 1, source: 1, reason: 1 } };
    const d = await this.decide(rq);
    if ('accept' in d) this.adoptContexts(rq, d.accept);
    return d;
  }

  async onPData(pdvs: readonly Pdv[]): Promise<void> {
    for (const pdv of pdvs) {
      const ctx = this.contexts.get(pdv.contextId);
      if (!ctx) throw new AppError('DIMSE_PDU_INVALID', { detail: `PDV on presentation context ${pdv.contextId}, which was not accepted` });
      if (pdv.isCommand) await this.onCommandFragment(pdv, ctx);
      else await this.onDataFragment(pdv);
    }
  }

  onReleaseRq(): void {
    void Promise.resolve(this.handlers.onReleaseRq?.())
      .catch(() => undefined)
      .then(() => this.association.releaseResponse());
  }

  onClosed(reason: CloseReason): void {
    this.closed = reason;
    this.current?.receiver?.abort(describe(reason));
    this.current = undefined;
    const err = new AppError('DIMSE_ABORTED', { detail: describe(reason) });
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.handlers.onClosed?.(reason);
  }

  // ---- receiving ----

  private async onCommandFragment(pdv: Pdv, ctx: AcceptedContext): Promise<void> {
    if (this.current?.command) throw new AppError('DIMSE_PDU_INVALID', { detail: 'command fragment while a dataset was expected' });
    this.current ??= { contextId: ctx.id, commandChunks: [], commandBytes: 0 };
    const cur = this.current;
    if (cur.contextId !== ctx.id) throw new AppError('DIMSE_PDU_INVALID', { detail: 'command fragments on two presentation contexts' });
    cur.commandBytes += pdv.data.length;
    if (cur.commandBytes > MAX_COMMAND_BYTES) throw new AppError('DIMSE_COMMAND_INVALID', { detail: `command set over ${MAX_COMMAND_BYTES} bytes` });
    cur.commandChunks.push(Buffer.from(pdv.data));
    if (!pdv.isLast) return;
    const command = decodeCommand(Buffer.concat(cur.commandChunks));
    cur.commandChunks = [];
    cur.command = command;
    cur.receiver = this.route({ command, context: ctx });
    if (!hasDataset(command)) {
      this.current = undefined;
      await cur.receiver.end();
    }
  }

  private async onDataFragment(pdv: Pdv): Promise<void> {
    const cur = this.current;
    if (!cur?.command || !cur.receiver) throw new AppError('DIMSE_PDU_INVALID', { detail: 'dataset fragment without a command' });
    if (cur.contextId !== pdv.contextId) throw new AppError('DIMSE_PDU_INVALID', { detail: 'dataset on another presentation context than its command' });
    await cur.receiver.write(pdv.data);
    if (pdv.isLast) {
      this.current = undefined;
      await cur.receiver.end();
    }
  }

  private route(msg: IncomingMessage): DatasetReceiver {
    if (!isResponse(msg.command)) return this.handlers.onRequest(msg);
    const id = msg.command.messageIdBeingRespondedTo ?? -1;
    const p = this.pending.get(id);
    if (!p) throw new AppError('DIMSE_COMMAND_INVALID', { detail: `response to unknown message id ${id}` });
    const deliver = (dataset: Buffer | undefined): void => {
      if (!isPending(msg.command.status)) {
        this.pending.delete(id);
        p.onResponse(msg, dataset);
        p.resolve(msg.command);
      } else p.onResponse(msg, dataset);
    };
    if (!hasDataset(msg.command)) return { write() {}, end: () => deliver(undefined), abort() {} };
    return bufferReceiver(MAX_BUFFERED_DATASET, (b) => deliver(b));
  }

  // ---- sending ----

  allocateMessageId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId % 0xffff) + 1;
    return id;
  }

  /** Sends a request and resolves with its final response command. */
  request(contextId: number, command: Omit<Command, 'commandDataSetType'>, dataset: DatasetSource | undefined, onResponse: ResponseHandler = () => {}): Promise<Command> {
    if (this.closed) return Promise.reject(new AppError('DIMSE_ABORTED', { detail: describe(this.closed) }));
    const messageId = command.messageId ?? this.allocateMessageId();
    const done = new Promise<Command>((resolve, reject) => this.pending.set(messageId, { onResponse, resolve, reject }));
    this.send(contextId, { ...command, messageId, commandDataSetType: dataset === undefined ? NO_DATASET : HAS_DATASET }, dataset).catch((e) => {
      const p = this.pending.get(messageId);
      this.pending.delete(messageId);
      p?.reject(e);
    });
    return done;
  }

  /** C-CANCEL-RQ for an outstanding C-FIND/C-MOVE/C-GET (PS3.7 9.3.2.3). */
  cancel(contextId: number, messageId: number): Promise<void> {
    return this.send(contextId, { commandField: COMMAND_FIELD.CCancelRq, messageIdBeingRespondedTo: messageId, commandDataSetType: NO_DATASET }, undefined);
  }

  /** Sends one message; messages never interleave (each is sent whole, in call order). */
  send(contextId: number, command: Command, dataset: DatasetSource | undefined): Promise<void> {
    const run = this.sendChain.then(() => this.sendNow(contextId, command, dataset));
    this.sendChain = run.catch(() => undefined);
    return run;
  }

  private async sendNow(contextId: number, command: Command, dataset: DatasetSource | undefined): Promise<void> {
    if (this.closed) throw new AppError('DIMSE_ABORTED', { detail: describe(this.closed) });
    const max = this.association.maxSendPdvData;
    const cmd = encodeCommand(command);
    // PDVs go out in groups of SEND_GROUP_BYTES, each group one writev (see Association.cork), with
    // backpressure awaited per group: with a 16 KB maximum PDU (DCMTK's default) a 512x512 slice used
    // to be 33 writes, each waking the peer. The command travels with the first group of its dataset.
    let group: Promise<void>[] = [];
    let groupBytes = 0;
    const flush = async (): Promise<void> => {
      this.association.uncork();
      const sent = group;
      group = [];
      groupBytes = 0;
      await Promise.all(sent);
    };
    const queue = async (isCommand: boolean, isLast: boolean, data: Buffer): Promise<void> => {
      if (group.length === 0) this.association.cork();
      group.push(this.association.sendPData([{ contextId, isCommand, isLast, data }]));
      groupBytes += data.length;
      if (groupBytes >= SEND_GROUP_BYTES) await flush();
    };
    try {
      for (let off = 0; off < cmd.length; off += max) await queue(true, off + max >= cmd.length, cmd.subarray(off, off + max));
      if (dataset === undefined) return;
      let held: Buffer | undefined;
      for await (const frag of fragments(dataset, max)) {
        if (held) await queue(false, false, held);
        held = frag;
      }
      await queue(false, true, held ?? Buffer.alloc(0));
    } finally {
      await flush();
    }
  }
}

/** Re-cuts a byte source into fragments of exactly `max` bytes (the last may be shorter); `max` is even. */
async function* fragments(src: DatasetSource, max: number): AsyncGenerator<Buffer> {
  const iter: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = src instanceof Uint8Array ? [src] : src;
  let acc: Buffer[] = [];
  let accLen = 0;
  for await (const chunk of iter) {
    let b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (b.length > 0) {
      if (accLen === 0 && b.length >= max) {
        yield b.subarray(0, max);
        b = b.subarray(max);
        continue;
      }
      const take = Math.min(max - accLen, b.length);
      acc.push(b.subarray(0, take));
      accLen += take;
      b = b.subarray(take);
      if (accLen === max) {
        yield Buffer.concat(acc, accLen);
        acc = [];
        accLen = 0;
      }
    }
  }
  // PS3.5 A.5 / PS3.8 E.2: fragments have even length; an odd total (a deflated bitstream)
  // gets the single trailing NUL the standard prescribes.
  if (accLen % 2 === 1) {
    acc.push(Buffer.alloc(1));
    accLen++;
  }
  if (accLen > 0) yield Buffer.concat(acc, accLen);
}
