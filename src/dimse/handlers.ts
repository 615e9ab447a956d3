// The handler interfaces through which the network layer calls out (Orthanc's IStoreRequestHandler,
// pynetdicom's intervention events). dimse/ declares them; dimse-server/ implements them on top of
// services. Nothing here knows about storage or the index.
import type { Dataset } from '../dicom/index.ts';
import type { DatasetSource } from './dimse-channel.ts';

/** Who is on the other side of an association, as negotiated. */
export interface AssociationInfo {
  readonly callingAe: string;
  readonly calledAe: string;
  readonly remoteAddress: string;
  readonly implementationClassUid?: string;
  readonly implementationVersionName?: string;
  /** PS3.7 D.3.3.7: user identity as proposed (type 1 username, 2 username+passcode, 5 JWT ...). */
  readonly userIdentity?: { readonly type: number; readonly primary: string; readonly secondary: string };
}

export type AssociateVerdict =
  | { readonly accept: true; readonly userIdentityResponse?: Uint8Array }
  | { readonly accept: false; readonly reason: 'calling-ae-not-recognized' | 'called-ae-not-recognized' | 'no-reason' | 'busy' };

export interface CStoreRequest {
  readonly association: AssociationInfo;
  readonly affectedSopClassUid: string;
  readonly affectedSopInstanceUid: string;
  /** The accepted transfer syntax of the presentation context: how the streamed dataset is encoded. */
  readonly transferSyntaxUid: string;
  readonly priority: number;
  /** Set when the C-STORE is a C-MOVE sub-operation (PS3.7 9.1.1.1). */
  readonly moveOriginator?: { readonly aeTitle: string; readonly messageId: number };
}

/** A DIMSE status, with an optional error comment (LO, no patient data). */
export type StatusResult = number | { readonly status: number; readonly errorComment?: string };

/**
 * Where an incoming C-STORE dataset goes, fragment by fragment as P-DATA arrives. The dataset is
 * never assembled whole in memory. The C-STORE-RSP is sent only after finish() resolves, so the
 * status must mean "durably stored" when it is Success.
 */
export interface StoreSink {
  write(chunk: Uint8Array): Promise<void> | void;
  finish(): Promise<StatusResult> | StatusResult;
  /** The association broke mid-dataset, or a write failed: drop what was written. */
  abort(): void;
}

export interface QueryRequest {
  readonly association: AssociationInfo;
  /** The Q/R information model's SOP class (Patient Root / Study Root, FIND/MOVE/GET). */
  readonly sopClassUid: string;
  readonly priority: number;
  /** Aborted on C-CANCEL-RQ or when the association ends. */
  readonly signal: AbortSignal;
}

/** One stored instance offered for sending (C-MOVE and C-GET sub-operations, SCU store). */
export interface OutgoingInstance {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** Transfer syntax the bytes from open() are encoded in (sent as is: no transcoding). */
  readonly transferSyntaxUid: string;
  /** The dataset bytes, without preamble or file meta. */
  open(): Promise<DatasetSource> | DatasetSource;
}

export interface RetrievePlan {
  readonly instances: readonly OutgoingInstance[];
}

export interface MoveDestination {
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
}

export interface ScpHandlers {
  /** Association acceptance (calling AE allow-list, user identity). Default: accept. */
  onAssociate?(info: AssociationInfo): Promise<AssociateVerdict> | AssociateVerdict;
  onCEcho?(info: AssociationInfo): Promise<StatusResult> | StatusResult;
  onCStore?(rq: CStoreRequest): Promise<StoreSink> | StoreSink;
  /** Matches to return as pending responses; a status result after the last ends it otherwise than Success. */
  onCFind?(rq: QueryRequest, identifier: Dataset): AsyncIterable<Dataset> | Iterable<Dataset>;
  onCMove?(rq: QueryRequest & { readonly moveDestination: string }, identifier: Dataset): Promise<RetrievePlan & { readonly destination: MoveDestination | undefined }>;
  onCGet?(rq: QueryRequest, identifier: Dataset): Promise<RetrievePlan>;
  /** Association ended (for logs: the reason never carries patient data). */
  onAssociationClosed?(info: AssociationInfo, reason: string): void;
}
