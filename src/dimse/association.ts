// The DICOM Upper Layer service provider for one TCP connection (PS3.8 sections 7 and 9): it turns
// socket events and PDUs into the events of fsm.ts, performs the action of the table cell and moves
// to its next state. The DIMSE layer above (dimse-channel.ts) is its "user": it receives P-DATA and
// release indications and issues P-DATA, release and abort requests.
import net from 'node:net';
import { AppError } from '../core/errors.ts';
import { actionFor, nextState, type Action, type Event, type State } from './fsm.ts';
import { decodePdu } from './pdu/decode.ts';
import { encodePDataTf, encodePdu } from './pdu/encode.ts';
import { DEFAULT_MAX_CONTROL_LENGTH, FrameError, PduFramer } from './pdu/framer.ts';
import { ABORT_REASON, type AAbort, type AAssociateAc, type AAssociateRj, type AAssociateRq, type Pdu, type Pdv } from './pdu/types.ts';

export interface AssociationTimeouts {
  /** ARTIM (PS3.8 9.1.5): waiting for A-ASSOCIATE-RQ, for the peer to close after release/abort, and for A-ASSOCIATE-AC. */
  readonly artimMs: number;
  /** Abort when nothing arrives for this long while established and not busy in a local handler; 0 = never. */
  readonly idleMs: number;
}

export interface AssociationLimits {
  /** Maximum P-DATA-TF variable field length we receive (announced in A-ASSOCIATE); 0 = unlimited. */
  readonly maxPduLength: number;
  /** Cap for outgoing P-DATA-TF when the peer announced 0 (unlimited). */
  readonly maxSendPduLength: number;
  readonly maxControlPduLength: number;
}

/**
 * Reading pauses only while this much is buffered and not yet handled. Pausing the socket for
 * every PDU (the P-DATA handler's backpressure) cost two epoll_ctl calls and stream bookkeeping per
 * PDU; now the peer is held back only when the handler falls this far behind.
 */
const PAUSE_ABOVE_BYTES = 1024 * 1024;

export const DEFAULT_TIMEOUTS: AssociationTimeouts = { artimMs: 30_000, idleMs: 300_000 };
export const DEFAULT_LIMITS: AssociationLimits = { maxPduLength: 262_144, maxSendPduLength: 262_144, maxControlPduLength: DEFAULT_MAX_CONTROL_LENGTH };

export type CloseReason =
  | { readonly kind: 'released' }
  | { readonly kind: 'rejected'; readonly rj: AAssociateRj }
  | { readonly kind: 'aborted-by-peer'; readonly abort: AAbort }
  | { readonly kind: 'aborted-locally'; readonly detail: string }
  | { readonly kind: 'connection-lost'; readonly detail: string };

export type AssociateDecision = { readonly accept: AAssociateAc } | { readonly reject: AAssociateRj };

/** The service user of the upper layer: DIMSE on top, or a test. */
export interface AssociationUser {
  /** Acceptor: A-ASSOCIATE indication (AE-6). The answer becomes Evt7 or Evt8. */
  onAssociateRq?(rq: AAssociateRq): Promise<AssociateDecision> | AssociateDecision;
  /** P-DATA indication (DT-2, AR-6). Reading pauses until the returned promise settles (backpressure). */
  onPData(pdvs: readonly Pdv[]): Promise<void> | void;
  /** A-RELEASE indication (AR-2, AR-8): call releaseResponse() once outstanding work is answered. */
  onReleaseRq(): void;
  onClosed(reason: CloseReason): void;
}

export type Role = 'requestor' | 'acceptor';

export interface Transition {
  readonly from: State;
  readonly event: Event;
  readonly action: Action;
  readonly to: State;
}

export interface AssociationOptions {
  readonly timeouts?: Partial<AssociationTimeouts>;
  readonly limits?: Partial<AssociationLimits>;
  /** Observer for tests and tracing (one line per table cell taken). */
  readonly onTransition?: (t: Transition) => void;
}

interface StreamedPData {
  left: number;
  pdvLeft: number;
  contextId: number;
  isCommand: boolean;
  isLast: boolean;
}

const EMPTY = Buffer.alloc(0);
const STREAMING = Symbol('streaming');

/** The payload an event carries into its action. */
type EventData =
  | { pdu: Pdu }
  | { decision: AssociateDecision }
  | { pdvs: readonly Pdv[] }
  | { detail: string; reason?: number }
  | undefined;

export class Association {
  state: State = 'Sta1';
  readonly role: Role;
  rq: AAssociateRq | undefined;
  ac: AAssociateAc | undefined;
  readonly remoteAddress: string;
  private socket: net.Socket | undefined;
  private readonly framer: PduFramer;
  private readonly timeouts: AssociationTimeouts;
  readonly limits: AssociationLimits;
  private artim: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private busy = 0;
  private processing = false;
  private paused = false;
  private discarding = false;
  private closeReason: CloseReason | undefined;
  private closedNotified = false;
  private established: { resolve: (ac: AAssociateAc) => void; reject: (e: unknown) => void } | undefined;
  private releaseWaiters: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  /** The P-DATA-TF being streamed: bytes left in it, and in its current PDV item. */
  private pdata: StreamedPData | undefined;

  constructor(
    role: Role,
    private readonly user: AssociationUser,
    private readonly opts: AssociationOptions = {},
    socket?: net.Socket,
  ) {
    this.role = role;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.framer = new PduFramer({ maxPDataLength: this.limits.maxPduLength, maxControlLength: this.limits.maxControlPduLength });
    this.remoteAddress = socket?.remoteAddress ?? '';
    if (socket) {
      this.attach(socket);
      this.dispatch('Evt5');
    }
  }

  /** Largest PDV data length we may send: the peer's announced maximum minus the PDV header (PS3.8 D.1). */
  get maxSendPdvData(): number {
    const peer = this.role === 'requestor' ? this.ac?.userInformation.maxLength : this.rq?.userInformation.maxLength;
    const pdu = peer === undefined || peer === 0 ? this.limits.maxSendPduLength : Math.min(peer, this.limits.maxSendPduLength);
    // PS3.8 E.2: PDV fragments must have even length.
    return Math.max(2, (pdu - 6) & ~1);
  }

  // ---- local primitives (requests from the user) ----

  /** Requestor: A-ASSOCIATE request (Evt1); resolves on A-ASSOCIATE-AC. */
  associate(host: string, port: number, rq: AAssociateRq): Promise<AAssociateAc> {
    this.rq = rq;
    return new Promise((resolve, reject) => {
      this.established = { resolve, reject };
      this.dispatch('Evt1', { detail: `${host}:${port}` });
    });
  }

  /** P-DATA request (Evt9). Resolves when the socket can take more (write backpressure). */
  sendPData(pdvs: readonly Pdv[]): Promise<void> {
    if (this.state !== 'Sta6' && this.state !== 'Sta8') {
      return Promise.reject(new AppError('DIMSE_STATE', { detail: `P-DATA request in ${this.state}` }));
    }
    return new Promise((resolve, reject) => {
      const ok = this.dispatch('Evt9', { pdvs });
      if (ok || !this.socket) resolve();
      else {
        const sock = this.socket;
        const done = (): void => {
          sock.off('drain', done);
          sock.off('close', done);
          if (this.state === 'Sta6' || this.state === 'Sta8') resolve();
          else reject(new AppError('DIMSE_ABORTED', { detail: `association closed while sending (${this.state})` }));
        };
        sock.on('drain', done);
        sock.on('close', done);
      }
    });
  }

  /**
   * Holds outgoing PDUs in the socket until the matching uncork(), so a group of P-DATA goes out in one
   * writev: each write to a loopback peer wakes it, and a wake-up costs ~0.1 ms on this kind of VM.
   */
  cork(): void {
    this.socket?.cork();
  }

  uncork(): void {
    if (this.socket?.writableCorked) this.socket.uncork();
  }

  /** A-RELEASE request (Evt11); resolves when released (A-RELEASE-RP received, or the collision completes). */
  release(): Promise<void> {
    if (this.state !== 'Sta6') return Promise.reject(new AppError('DIMSE_STATE', { detail: `A-RELEASE request in ${this.state}` }));
    return new Promise((resolve, reject) => {
      this.releaseWaiters = { resolve, reject };
      this.dispatch('Evt11');
    });
  }

  /** A-RELEASE response (Evt14), after onReleaseRq. */
  releaseResponse(): void {
    if (this.state === 'Sta8' || this.state === 'Sta9' || this.state === 'Sta12') this.dispatch('Evt14');
  }

  /** A-ABORT request (Evt15). Safe in any state. */
  abort(detail = 'aborted by local user'): void {
    if (actionFor(this.state, 'Evt15') !== undefined) this.dispatch('Evt15', { detail });
    else if (this.state === 'Sta2' || this.state === 'Sta13') this.closeTransport({ kind: 'aborted-locally', detail });
  }

  /** Marks local work in progress (a handler the peer waits on), so the idle timer does not fire. */
  async whileBusy<T>(work: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await work();
    } finally {
      this.busy--;
      this.touchIdle();
    }
  }

  /** Neither idle nor waiting for the transport to close. */
  isOpen(): boolean {
    return this.state !== 'Sta1' && this.state !== 'Sta13';
  }

  // ---- the state machine ----

  /** Looks the cell up, performs its action, moves on. Returns the socket's write result for DT-1/AR-7. */
  private dispatch(event: Event, data?: EventData): boolean {
    const from = this.state;
    const action = actionFor(from, event);
    if (action === undefined) throw new AppError('DIMSE_STATE', { detail: `${event} is not valid in ${from}` });
    const branch = this.perform(action, data);
    const to = nextState(action, branch);
    this.state = to;
    this.opts.onTransition?.({ from, event, action, to });
    if (to === 'Sta1') this.finish();
    else if (to === 'Sta6' || to === 'Sta7' || to === 'Sta8') this.touchIdle();
    return branch.wrote ?? true;
  }

  private perform(action: Action, data: EventData): { acceptable?: boolean; requestor?: boolean; wrote?: boolean } {
    switch (action) {
      case 'AE-1':
        this.connect(data && 'detail' in data ? data.detail : '');
        return {};
      case 'AE-2':
        // Not in the table, but a requestor must not wait forever for A-ASSOCIATE-AC: ARTIM guards Sta5.
        this.startArtim();
        this.write(encodePdu(this.rq!));
        return {};
      case 'AE-3':
        this.stopArtim();
        this.ac = (data as { pdu: AAssociateAc }).pdu;
        this.established?.resolve(this.ac);
        this.established = undefined;
        return {};
      case 'AE-4': {
        this.stopArtim();
        const rj = (data as { pdu: AAssociateRj }).pdu;
        this.closeTransport({ kind: 'rejected', rj });
        return {};
      }
      case 'AE-5':
        this.startArtim();
        return {};
      case 'AE-6': {
        this.stopArtim();
        const rq = (data as { pdu: AAssociateRq }).pdu;
        this.rq = rq;
        // PS3.8 9.3.2: bit 0 of the protocol version must be set.
        if ((rq.protocolVersion & 1) === 0) {
          this.write(encodePdu({ type: 'AAssociateRj', result: 1, source: 2, reason: 2 }));
          this.startArtim();
          return { acceptable: false };
        }
        this.askUser(rq);
        return { acceptable: true };
      }
      case 'AE-7':
        this.ac = (data as { decision: { accept: AAssociateAc } }).decision.accept;
        this.write(encodePdu(this.ac));
        return {};
      case 'AE-8':
        this.write(encodePdu((data as { decision: { reject: AAssociateRj } }).decision.reject));
        this.startArtim();
        return {};
      case 'DT-1':
      case 'AR-7':
        return { wrote: this.writeChunks(encodePDataTf((data as { pdvs: readonly Pdv[] }).pdvs)) };
      case 'DT-2':
      case 'AR-6':
        // Delivered by receive(), which awaits the user; nothing more here.
        return {};
      case 'AR-1':
        this.write(encodePdu({ type: 'AReleaseRq' }));
        return {};
      case 'AR-2':
        queueMicrotask(() => this.user.onReleaseRq());
        return {};
      case 'AR-3':
        this.closeTransport({ kind: 'released' });
        return {};
      case 'AR-4':
        this.write(encodePdu({ type: 'AReleaseRp' }));
        this.closeReason ??= { kind: 'released' };
        this.startArtim();
        return {};
      case 'AR-5':
        this.stopArtim();
        return {};
      case 'AR-8':
        // A-RELEASE-RQ received while ours is outstanding: release collision (PS3.8 7.2.2.7). The
        // requestor answers first (AR-9); the acceptor waits for that A-RELEASE-RP (Sta10) before answering.
        if (this.role === 'requestor') queueMicrotask(() => this.releaseResponse());
        return { requestor: this.role === 'requestor' };
      case 'AR-9':
        this.write(encodePdu({ type: 'AReleaseRp' }));
        return {};
      case 'AR-10':
        queueMicrotask(() => this.releaseResponse());
        return {};
      case 'AA-1':
        this.sendAbort(0, ABORT_REASON.notSpecified);
        this.closeReason ??= { kind: 'aborted-locally', detail: detailOf(data, 'A-ABORT') };
        this.startArtim();
        return {};
      case 'AA-2':
        this.stopArtim();
        this.closeTransport(this.closeReason ?? { kind: 'aborted-locally', detail: 'ARTIM timer expired' });
        return {};
      case 'AA-3':
        this.closeTransport({ kind: 'aborted-by-peer', abort: (data as { pdu: AAbort }).pdu });
        return {};
      case 'AA-4':
        this.closeTransport({ kind: 'connection-lost', detail: detailOf(data, 'transport closed') });
        return {};
      case 'AA-5':
        this.stopArtim();
        this.closeTransport({ kind: 'connection-lost', detail: 'closed before A-ASSOCIATE-RQ' });
        return {};
      case 'AA-6':
        return {};
      case 'AA-7':
        this.sendAbort(2, ABORT_REASON.unexpectedPdu);
        return {};
      case 'AA-8': {
        const reason = data && 'reason' in data && data.reason !== undefined ? data.reason : ABORT_REASON.unexpectedPdu;
        this.sendAbort(2, reason);
        this.closeReason ??= { kind: 'aborted-locally', detail: detailOf(data, 'unexpected PDU') };
        this.startArtim();
        return {};
      }
    }
  }

  private askUser(rq: AAssociateRq): void {
    const decide = this.user.onAssociateRq;
    if (!decide) throw new AppError('DIMSE_STATE', { detail: 'acceptor without onAssociateRq' });
    this.busy++;
    Promise.resolve()
      .then(() => decide.call(this.user, rq))
      .then(
        (decision) => {
          if (this.state === 'Sta3') this.dispatch('accept' in decision ? 'Evt7' : 'Evt8', { decision });
        },
        () => {
          if (this.state === 'Sta3') this.dispatch('Evt8', { decision: { reject: { type: 'AAssociateRj', result: 2, source: 1, reason: 1 } } });
        },
      )
      .catch((e: unknown) => this.abort(`association decision failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        this.busy--;
      });
  }

  // ---- transport ----

  private connect(address: string): void {
    const i = address.lastIndexOf(':');
    const sock = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), noDelay: true });
    this.attach(sock);
    sock.once('connect', () => {
      if (this.state === 'Sta4') this.dispatch('Evt2');
    });
  }

  private attach(sock: net.Socket): void {
    this.socket = sock;
    // Nagle + delayed ACK stalls every DIMSE exchange by ~40 ms (measured: 19 vs 791 instances/s).
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => {
      this.closeReason ??= { kind: 'connection-lost', detail: err.message };
    });
    sock.on('close', () => this.onTransportClosed());
  }

  private onTransportClosed(): void {
    this.socket = undefined;
    if (this.state === 'Sta1') return;
    this.dispatch('Evt17', { detail: this.closeReason?.kind === 'connection-lost' ? this.closeReason.detail : 'transport closed' });
  }

  private write(buf: Buffer): boolean {
    return this.socket !== undefined && !this.socket.destroyed ? this.socket.write(buf) : true;
  }

  private writeChunks(chunks: Buffer[]): boolean {
    if (!this.socket || this.socket.destroyed) return true;
    // Only our own cork is undone here: a caller's (cork()) holds until its uncork().
    const corked = this.socket.writableLength === 0 && chunks.length > 1;
    if (corked) this.socket.cork();
    let ok = true;
    for (const c of chunks) ok = this.socket.write(c);
    if (corked) this.socket.uncork();
    return ok;
  }

  private sendAbort(source: number, reason: number): void {
    this.write(encodePdu({ type: 'AAbort', source, reason }));
    // Half-close: a peer that ignores A-ABORT (an HTTP client, a port scanner) sees FIN at once;
    // we still wait in Sta13 for its close, bounded by ARTIM.
    this.socket?.end();
  }

  private closeTransport(reason: CloseReason): void {
    this.closeReason ??= reason;
    if (reason.kind === 'aborted-by-peer' || reason.kind === 'rejected') this.closeReason = reason;
    this.socket?.destroy();
  }

  private finish(): void {
    this.stopArtim();
    this.stopIdle();
    this.socket?.destroy();
    const reason = this.closeReason ?? { kind: 'connection-lost', detail: 'closed' };
    const err = (): AppError =>
      reason.kind === 'rejected'
        ? new AppError('DIMSE_ASSOCIATION_REJECTED', { detail: `result ${reason.rj.result} source ${reason.rj.source} reason ${reason.rj.reason}` })
        : new AppError(reason.kind === 'connection-lost' && this.established ? 'DIMSE_CONNECT' : 'DIMSE_ABORTED', { detail: describe(reason) });
    this.established?.reject(err());
    this.established = undefined;
    if (reason.kind === 'released') this.releaseWaiters?.resolve();
    else this.releaseWaiters?.reject(err());
    this.releaseWaiters = undefined;
    if (!this.closedNotified) {
      this.closedNotified = true;
      this.user.onClosed(reason);
    }
  }

  // ---- receiving ----

  private onData(chunk: Buffer): void {
    if (this.state === 'Sta1' || this.discarding) return;
    this.framer.push(chunk);
    this.touchIdle();
    if (!this.processing) void this.processLoop();
    else if (this.framer.bufferedBytes > PAUSE_ABOVE_BYTES && !this.paused) {
      // The handler is behind: stop reading until the loop has caught up (memory stays bounded).
      this.paused = true;
      this.socket?.pause();
    }
  }

  private async processLoop(): Promise<void> {
    this.processing = true;
    try {
      while (this.state !== 'Sta1' && !this.discarding) {
        let next: { pdv: Pdv } | { pdu: Pdu } | typeof STREAMING | undefined;
        try {
          next = this.nextUnit();
        } catch (e) {
          this.invalidPdu(e);
          break;
        }
        if (next === undefined) break;
        if (next === STREAMING) continue;
        let work: Promise<void> | void;
        const what = 'pdv' in next ? 'P-DATA' : next.pdu.type;
        try {
          work = 'pdv' in next ? this.user.onPData([next.pdv]) : this.receive(next.pdu);
        } catch (e) {
          // A bug in an action or a user callback must cost this association only, never the process.
          this.abort(`receiving ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
          break;
        }
        if (work) {
          this.busy++;
          try {
            await work;
          } catch (e) {
            if (this.isOpen()) this.abort(`${what} handler failed: ${e instanceof Error ? e.message : String(e)}`);
          } finally {
            this.busy--;
            this.touchIdle();
          }
        }
      }
    } finally {
      this.processing = false;
      if (this.paused) {
        this.paused = false;
        this.socket?.resume();
      }
    }
  }

  /**
   * What the buffered bytes hold next: a piece of the P-DATA being streamed, a whole other PDU,
   * STREAMING when a P-DATA-TF header was just consumed, or undefined when more bytes are needed.
   * P-DATA is streamed (its values go to the user as the socket delivers them, as views of the
   * socket's buffers) instead of being copied whole into one buffer first. Throws on malformed input.
   */
  private nextUnit(): { pdv: Pdv } | { pdu: Pdu } | typeof STREAMING | undefined {
    if (this.pdata) {
      const pdv = this.nextPdvPiece(this.pdata);
      return pdv && { pdv };
    }
    const head = this.framer.peekHeader();
    if (head === undefined) return undefined;
    const action = head.type === 0x04 ? actionFor(this.state, 'Evt10') : undefined;
    if (action === 'DT-2' || action === 'AR-6') {
      if (head.length === 0) throw new FrameError('too-long', 'P-DATA-TF without PDV');
      this.framer.takeExact(6);
      this.dispatch('Evt10', { detail: 'P-DATA-TF not expected' });
      this.pdata = { left: head.length, pdvLeft: 0, contextId: 0, isCommand: false, isLast: false };
      return STREAMING;
    }
    const raw = this.framer.take();
    return raw && { pdu: decodePdu(raw) };
  }

  /**
   * The next piece of the P-DATA-TF being streamed: a PDV's value (or part of it, as far as the socket
   * has delivered), or undefined when more bytes are needed. Throws FrameError when the PDV items do
   * not add up to the PDU's length (PS3.8 9.3.5).
   */
  private nextPdvPiece(p: StreamedPData): Pdv | undefined {
    if (p.pdvLeft === 0) {
      if (p.left < 6) throw new FrameError('too-long', `P-DATA-TF has ${p.left} bytes left, too few for a PDV item`);
      const h = this.framer.takeExact(6);
      if (h === undefined) return undefined;
      const len = h.readUInt32BE(0);
      if (len < 2) throw new FrameError('too-long', `PDV item length ${len} < 2`);
      if (len + 4 > p.left) throw new FrameError('too-long', `PDV item length ${len} exceeds the P-DATA-TF's remaining ${p.left - 4} bytes`);
      p.left -= 6;
      p.pdvLeft = len - 2;
      p.contextId = h[4];
      p.isCommand = (h[5] & 0x01) !== 0;
      p.isLast = (h[5] & 0x02) !== 0;
      if (p.pdvLeft === 0) return this.piece(p, EMPTY);
    }
    const data = this.framer.takeUpTo(p.pdvLeft);
    if (data === undefined) return undefined;
    p.pdvLeft -= data.length;
    p.left -= data.length;
    return this.piece(p, data);
  }

  private piece(p: StreamedPData, data: Buffer): Pdv {
    if (p.left === 0) this.pdata = undefined;
    return { contextId: p.contextId, isCommand: p.isCommand, isLast: p.isLast && p.pdvLeft === 0, data };
  }

  private invalidPdu(e: unknown): void {
    const detail = e instanceof Error ? e.message : String(e);
    const reason = e instanceof FrameError && e.kind === 'unrecognized' ? ABORT_REASON.unrecognizedPdu : ABORT_REASON.invalidPduParameterValue;
    // Nothing after an invalid PDU can be framed reliably: drop further bytes, but keep reading so
    // the peer's close is seen (Evt17) instead of waiting for ARTIM.
    this.discarding = true;
    this.dispatch('Evt19', { detail, reason });
  }

  /** Maps a PDU to its event (PS3.8 Table 9-2) and dispatches; returns the user's P-DATA work, if any. */
  private receive(pdu: Pdu): Promise<void> | void {
    switch (pdu.type) {
      case 'AAssociateAc':
        this.dispatch('Evt3', { pdu });
        return;
      case 'AAssociateRj':
        this.dispatch('Evt4', { pdu });
        return;
      case 'AAssociateRq':
        this.dispatch('Evt6', { pdu });
        return;
      case 'PDataTf': {
        const action = actionFor(this.state, 'Evt10');
        this.dispatch('Evt10', { pdu, detail: 'P-DATA-TF not expected' });
        if (action === 'DT-2' || action === 'AR-6') return this.user.onPData(pdu.pdvs) ?? undefined;
        return;
      }
      case 'AReleaseRq':
        this.dispatch('Evt12', { pdu, detail: 'A-RELEASE-RQ not expected' });
        return;
      case 'AReleaseRp':
        this.dispatch('Evt13', { pdu, detail: 'A-RELEASE-RP not expected' });
        return;
      case 'AAbort':
        this.dispatch('Evt16', { pdu });
        return;
    }
  }

  // ---- timers ----

  private startArtim(): void {
    this.stopArtim();
    this.artim = setTimeout(() => {
      this.artim = undefined;
      if (this.state === 'Sta5') this.dispatch('Evt15', { detail: 'no A-ASSOCIATE response before ARTIM expiry' });
      else if (actionFor(this.state, 'Evt18') !== undefined) this.dispatch('Evt18');
    }, this.timeouts.artimMs);
    this.artim.unref();
  }

  private stopArtim(): void {
    if (this.artim) clearTimeout(this.artim);
    this.artim = undefined;
  }

  private touchIdle(): void {
    if (this.timeouts.idleMs <= 0) return;
    if (this.state === 'Sta1' || this.state === 'Sta13') return this.stopIdle();
    // Called for every socket read and PDU: re-arming the running timer is cheaper than a new one.
    if (this.idle) {
      this.idle.refresh();
      return;
    }
    this.idle = setTimeout(() => {
      this.idle = undefined;
      if (this.busy > 0) return this.touchIdle();
      this.abort(`no data from peer for ${this.timeouts.idleMs} ms in ${this.state}`);
    }, this.timeouts.idleMs);
    this.idle.unref();
  }

  private stopIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
  }
}

function detailOf(data: EventData, fallback: string): string {
  return data !== undefined && 'detail' in data ? data.detail : fallback;
}

export function describe(reason: CloseReason): string {
  switch (reason.kind) {
    case 'released':
      return 'released';
    case 'rejected':
      return `rejected (result ${reason.rj.result}, source ${reason.rj.source}, reason ${reason.rj.reason})`;
    case 'aborted-by-peer':
      return `aborted by peer (source ${reason.abort.source}, reason ${reason.abort.reason})`;
    case 'aborted-locally':
      return `aborted: ${reason.detail}`;
    case 'connection-lost':
      return `connection lost: ${reason.detail}`;
  }
}
