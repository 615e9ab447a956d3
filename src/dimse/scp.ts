// A DICOM SCP: a TCP server where each connection is an acceptor association (PS3.8) whose DIMSE
// requests are routed to the handlers of handlers.ts. Verification and Storage are served here;
// Query/Retrieve in scp-query.ts.
import net from 'node:net';
import { Association, DEFAULT_LIMITS, describe, type AssociationLimits, type AssociationTimeouts, type CloseReason, type Transition } from './association.ts';
import { cStoreReceiver } from './c-store-receiver.ts';
import { COMMAND_FIELD, NO_DATASET } from './command-set.ts';
import { DimseChannel, type DatasetReceiver, type IncomingMessage } from './dimse-channel.ts';
import type { AssociateVerdict, AssociationInfo, ScpHandlers } from './handlers.ts';
import { negotiate, type NegotiationPolicy, type ServiceKind } from './negotiation.ts';
import { DICOM_APPLICATION_CONTEXT, RJ_REASON, type AAssociateRj, type AAssociateRq } from './pdu/types.ts';
import { QueryServices } from './scp-query.ts';
import { STATUS } from './status.ts';

export interface ScpOptions {
  /** AE titles we answer to; an A-ASSOCIATE-RQ to another called AE is rejected. Undefined: any. */
  readonly aeTitles?: readonly string[];
  readonly handlers: ScpHandlers;
  readonly host?: string;
  readonly port?: number;
  /** Associations served at once; more are rejected as transient "local limit exceeded". */
  readonly maxAssociations?: number;
  readonly storageAllowList?: readonly string[];
  readonly timeouts?: Partial<AssociationTimeouts>;
  readonly limits?: Partial<AssociationLimits>;
  /** Called with one line per association event (no patient data). */
  readonly log?: (line: string) => void;
  readonly onTransition?: (t: Transition) => void;
}

export interface DicomScp {
  readonly port: number;
  readonly server: net.Server;
  /** Associations currently open. */
  readonly active: number;
  close(): Promise<void>;
}

function rj(result: number, source: number, reason: number): { reject: AAssociateRj } {
  return { reject: { type: 'AAssociateRj', result, source, reason } };
}

function verdictToReject(v: Extract<AssociateVerdict, { accept: false }>): { reject: AAssociateRj } {
  switch (v.reason) {
    case 'calling-ae-not-recognized':
      return rj(1, 1, RJ_REASON.user.callingAeNotRecognized);
    case 'called-ae-not-recognized':
      return rj(1, 1, RJ_REASON.user.calledAeNotRecognized);
    case 'busy':
      return rj(2, 3, RJ_REASON.presentation.temporaryCongestion);
    case 'no-reason':
      return rj(1, 1, RJ_REASON.user.noReason);
  }
}

function infoOf(rq: AAssociateRq, remoteAddress: string): AssociationInfo {
  const ui = rq.userInformation;
  const id = ui.userIdentityRq;
  return {
    callingAe: rq.callingAe,
    calledAe: rq.calledAe,
    remoteAddress,
    ...(ui.implementationClassUid !== undefined && { implementationClassUid: ui.implementationClassUid }),
    ...(ui.implementationVersionName !== undefined && { implementationVersionName: ui.implementationVersionName }),
    ...(id !== undefined && {
      userIdentity: { type: id.type, primary: Buffer.from(id.primaryField).toString('utf8'), secondary: Buffer.from(id.secondaryField).toString('utf8') },
    }),
  };
}

export function startScp(opts: ScpOptions): Promise<DicomScp> {
  const maxAssociations = opts.maxAssociations ?? 64;
  const sockets = new Set<net.Socket>();
  const channels = new Set<DimseChannel>();
  const log = opts.log ?? (() => {});
  const h = opts.handlers;
  const policy: NegotiationPolicy = {
    verification: true,
    store: h.onCStore !== undefined,
    find: h.onCFind !== undefined,
    move: h.onCMove !== undefined,
    get: h.onCGet !== undefined,
    maxPduLength: opts.limits?.maxPduLength ?? DEFAULT_LIMITS.maxPduLength,
    ...(opts.storageAllowList !== undefined && { storageAllowList: opts.storageAllowList }),
  };

  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket);
  });

  function serveConnection(socket: net.Socket): void {
    const remoteAddress = socket.remoteAddress ?? '';
    let info: AssociationInfo | undefined;
    let services = new Map<number, ServiceKind>();
    const atCapacity = channels.size >= maxAssociations;
    let query: QueryServices | undefined;

    const decide = async (rq: AAssociateRq) => {
      info = infoOf(rq, remoteAddress);
      if (rq.applicationContext !== DICOM_APPLICATION_CONTEXT) return rj(1, 1, RJ_REASON.user.applicationContextNotSupported);
      if (atCapacity) return rj(2, 3, RJ_REASON.presentation.localLimitExceeded);
      if (opts.aeTitles !== undefined && !opts.aeTitles.includes(rq.calledAe)) return rj(1, 1, RJ_REASON.user.calledAeNotRecognized);
      const verdict: AssociateVerdict = h.onAssociate ? await h.onAssociate(info) : { accept: true };
      if (!verdict.accept) return verdictToReject(verdict);
      const result = negotiate(rq, policy, verdict.userIdentityResponse);
      services = new Map(result.services);
      return { accept: result.ac };
    };

    const onRequest = (msg: IncomingMessage): DatasetReceiver => {
      const kind = services.get(msg.context.id);
      switch (msg.command.commandField) {
        case COMMAND_FIELD.CEchoRq:
          return echoReceiver(msg);
        case COMMAND_FIELD.CStoreRq:
          return cStoreReceiver(channel, msg, { association: info! }, kind === 'storage' ? h.onCStore?.bind(h) : undefined);
        case COMMAND_FIELD.CFindRq:
        case COMMAND_FIELD.CMoveRq:
        case COMMAND_FIELD.CGetRq:
        case COMMAND_FIELD.CCancelRq:
          query ??= new QueryServices(channel, info!, h, opts, services);
          return query.receiver(msg);
        default:
          return unrecognized(msg);
      }
    };

    const echoReceiver = (msg: IncomingMessage): DatasetReceiver => ({
      write() {},
      async end() {
        let status = STATUS.Success as number;
        try {
          const r = h.onCEcho ? await h.onCEcho(info!) : STATUS.Success;
          status = typeof r === 'number' ? r : r.status;
        } catch {
          status = STATUS.ProcessingFailure;
        }
        await channel.send(
          msg.context.id,
          { commandField: COMMAND_FIELD.CEchoRsp, messageIdBeingRespondedTo: msg.command.messageId ?? 0, affectedSopClassUid: msg.context.abstractSyntax, commandDataSetType: NO_DATASET, status },
          undefined,
        );
      },
      abort() {},
    });

    // PS3.7 C.5.11: an operation we do not perform is answered, not aborted.
    const unrecognized = (msg: IncomingMessage): DatasetReceiver => ({
      write() {},
      async end() {
        await channel.send(
          msg.context.id,
          {
            commandField: msg.command.commandField | 0x8000,
            messageIdBeingRespondedTo: msg.command.messageId ?? 0,
            commandDataSetType: NO_DATASET,
            status: STATUS.UnrecognizedOperation,
          },
          undefined,
        );
      },
      abort() {},
    });

    const channel: DimseChannel = new DimseChannel(
      (user) => new Association('acceptor', user, { ...(opts.timeouts && { timeouts: opts.timeouts }), limits: { ...opts.limits }, ...(opts.onTransition && { onTransition: opts.onTransition }) }, socket),
      {
        onRequest,
        onReleaseRq: () => query?.drain(),
        onClosed: (reason: CloseReason) => {
          channels.delete(channel);
          query?.cancelAll();
          const who = info ? `${info.callingAe}->${info.calledAe}` : remoteAddress;
          log(`association ${who} ${describe(reason)}`);
          if (info) h.onAssociationClosed?.(info, describe(reason));
        },
      },
      decide,
    );
    channels.add(channel);
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        server,
        get active() {
          return channels.size;
        },
        close: () =>
          new Promise<void>((res) => {
            for (const ch of channels) ch.association.abort('server closing');
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
