// The DICOM edge: binds the network layer's handlers (src/dimse) to the archive. C-STORE streams
// into ingest, C-FIND runs the shared matching engine, C-MOVE/C-GET send stored blobs as they are.
// main.ts calls startDimseServer with the services and the `dicom` slice of the configuration.
import { silentLogger, type Logger } from '../core/log.ts';
import type { Dataset } from '../dicom/index.ts';
import type { AssociateVerdict, AssociationInfo, ScpHandlers } from '../dimse/handlers.ts';
import { startScp } from '../dimse/scp.ts';
import type { ArchiveIndex, ProjectScope } from '../index/archive-index.ts';
import { scopedIndex } from '../index/scoped-index.ts';
import type { IngestService } from '../services/ingest.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { ingestIntake, type StoreIntake } from './c-store-intake.ts';
import { identifierQuery, responseIdentifier } from './identifier-keys.ts';
import { instancesFor } from './retrieve-instances.ts';

export interface DimseServices {
  readonly ingest: IngestService;
  readonly index: ArchiveIndex;
  readonly blobs: BlobStore;
  readonly log?: Logger;
  /** Replaces the default C-STORE -> ingest binding (e.g. filter -> de-identify -> ingest). */
  readonly intake?: StoreIntake;
  /** Checks PS3.7 D.3.3.7 user identity (type 1/2: username, passcode; 5: JWT). Absent: not checked. */
  readonly authenticate?: (identity: NonNullable<AssociationInfo['userIdentity']>) => Promise<boolean> | boolean;
  /**
   * What an accepted identity's user may read (per-project access lists); queries and retrieves of
   * that association see only it. Associations without a user identity are not limited (the
   * calling-AE allow-list guards them). Absent: nobody is limited.
   */
  readonly readScope?: (identity: NonNullable<AssociationInfo['userIdentity']>) => Promise<ProjectScope | undefined>;
}

/** The `dicom` configuration slice (config/schema.ts DicomConfig) plus the bind address. */
export interface DimseServerConfig {
  readonly aet: string;
  readonly port: number;
  readonly host?: string;
  readonly maxPduLength?: number;
  readonly artimTimeoutSeconds?: number;
  readonly idleTimeoutSeconds?: number;
  readonly maxAssociations?: number;
  /** Empty or absent: any calling AE. */
  readonly allowedCallingAets?: readonly string[];
  /** Empty or absent: every storage SOP class. */
  readonly storageSopClasses?: readonly string[];
  readonly peers: readonly { readonly aet: string; readonly host: string; readonly port: number }[];
  /** Further called AE titles we answer to (intakes bound to de-identification projects). */
  readonly intakeAets?: readonly string[];
  /** Reject associations without an accepted user identity (auth.enabled). */
  readonly requireUserIdentity?: boolean;
  /**
   * Set when authentication is on: the calling AE titles that may associate WITHOUT a user identity
   * (allow-listed and known peers). Absent: no such check (`--dev`, or `dicom.unauthenticatedPeers: any`).
   */
  readonly anonymousCallingAets?: readonly string[];
  /** Per intake (called AE): the calling AE titles allowed to associate with it; others are rejected. */
  readonly intakeCallingAets?: ReadonlyMap<string, readonly string[]>;
}

export interface DimseServer {
  readonly port: number;
  close(): Promise<void>;
}

const PAGE = 500;

export async function startDimseServer(services: DimseServices, cfg: DimseServerConfig): Promise<DimseServer> {
  const log = (services.log ?? silentLogger).child({ edge: 'dimse' });
  const allowed = cfg.allowedCallingAets ?? [];
  const intake = services.intake ?? ingestIntake({ ingest: services.ingest, blobs: services.blobs, log });
  // C-STORE index rows commit without a sync of their own (see services/ingest.ts): rows a power
  // loss dropped are recovered from the blob journal before the first association is accepted.
  await services.ingest.recoverUnindexed();
  // The network layer hands the same AssociationInfo to every request of an association.
  const scopes = new WeakMap<AssociationInfo, ProjectScope | undefined>();
  const indexFor = (info: AssociationInfo) => scopedIndex(services.index, scopes.get(info));

  const handlers: ScpHandlers = {
    async onAssociate(info): Promise<AssociateVerdict> {
      if (allowed.length > 0 && !allowed.includes(info.callingAe)) {
        log.warn('association rejected: calling AE not allowed', { callingAe: info.callingAe, remote: info.remoteAddress });
        return { accept: false, reason: 'calling-ae-not-recognized' };
      }
      // An intake's own allow-list (e.g. only the planning system may feed a research project).
      const intakeAllowed = cfg.intakeCallingAets?.get(info.calledAe);
      if (intakeAllowed && intakeAllowed.length > 0 && !intakeAllowed.includes(info.callingAe)) {
        log.warn('association rejected: calling AE not on the intake\'s allow-list', { callingAe: info.callingAe, calledAe: info.calledAe, remote: info.remoteAddress });
        return { accept: false, reason: 'calling-ae-not-recognized' };
      }
      if (info.userIdentity && services.authenticate) {
        if (!(await services.authenticate(info.userIdentity))) {
          log.warn('association rejected: user identity not accepted', { callingAe: info.callingAe, identityType: info.userIdentity.type });
          return { accept: false, reason: 'no-reason' };
        }
        if (services.readScope) scopes.set(info, await services.readScope(info.userIdentity));
        // PS3.7 D.3.3.7.2: for username/passcode the server response is empty.
        return { accept: true, userIdentityResponse: new Uint8Array(0) };
      }
      if (cfg.requireUserIdentity) {
        log.warn('association rejected: no user identity', { callingAe: info.callingAe });
        return { accept: false, reason: 'no-reason' };
      }
      // Authentication on: a peer that sends no user identity is authorised by its calling AE title,
      // which must be one the configuration knows (PS3.8 rejection reason "calling AE title not recognized").
      if (cfg.anonymousCallingAets && !cfg.anonymousCallingAets.includes(info.callingAe)) {
        log.warn('association rejected: unknown calling AE without user identity (add it to dicom.peers or dicom.allowedCallingAets, or send a user identity)', { callingAe: info.callingAe, remote: info.remoteAddress });
        return { accept: false, reason: 'calling-ae-not-recognized' };
      }
      return { accept: true };
    },
    onCStore: intake,
    async *onCFind(rq, identifier: Dataset) {
      const q = identifierQuery(identifier);
      for (let offset = 0; !rq.signal.aborted; offset += PAGE) {
        const page = await indexFor(rq.association).query({ ...q.query, limit: PAGE, offset });
        for (const m of page.matches) yield responseIdentifier(q, m);
        if (!page.hasMore) return;
      }
    },
    async onCMove(rq, identifier) {
      const peer = cfg.peers.find((p) => p.aet === rq.moveDestination);
      if (!peer) {
        log.warn('C-MOVE to unknown destination', { callingAe: rq.association.callingAe, destination: rq.moveDestination });
        return { destination: undefined, instances: [] };
      }
      const instances = await instancesFor(indexFor(rq.association), services.blobs, identifier, rq.signal);
      log.info('C-MOVE', { callingAe: rq.association.callingAe, destination: peer.aet, instances: instances.length });
      return { destination: { aeTitle: peer.aet, host: peer.host, port: peer.port }, instances };
    },
    async onCGet(rq, identifier) {
      const instances = await instancesFor(indexFor(rq.association), services.blobs, identifier, rq.signal);
      log.info('C-GET', { callingAe: rq.association.callingAe, instances: instances.length });
      return { instances };
    },
    onAssociationClosed(info, reason) {
      log.debug('association closed', { callingAe: info.callingAe, calledAe: info.calledAe, reason });
    },
  };

  const scp = await startScp({
    aeTitles: [cfg.aet, ...(cfg.intakeAets ?? [])],
    handlers,
    host: cfg.host ?? '0.0.0.0',
    port: cfg.port,
    ...(cfg.maxAssociations !== undefined && { maxAssociations: cfg.maxAssociations }),
    ...(cfg.storageSopClasses !== undefined && cfg.storageSopClasses.length > 0 && { storageAllowList: cfg.storageSopClasses }),
    timeouts: {
      ...(cfg.artimTimeoutSeconds !== undefined && { artimMs: cfg.artimTimeoutSeconds * 1000 }),
      ...(cfg.idleTimeoutSeconds !== undefined && { idleMs: cfg.idleTimeoutSeconds * 1000 }),
    },
    limits: { ...(cfg.maxPduLength !== undefined && { maxPduLength: cfg.maxPduLength }) },
    log: (line) => log.debug(line),
  });
  log.info('DICOM server listening', { aet: cfg.aet, port: scp.port });
  return { port: scp.port, close: () => scp.close() };
}
