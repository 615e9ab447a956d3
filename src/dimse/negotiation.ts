// Acceptor-side presentation context negotiation (PS3.8 9.3.3.2, PS3.7 Annex D.3.3): which proposed
// contexts to accept, with which transfer syntax, and the user information to answer with.
import { DICOM_APPLICATION_CONTEXT, PC_RESULT, type AAssociateAc, type AAssociateRq, type PresentationContextAc, type RoleSelection, type SopClassExtendedNegotiation, type UserInformation } from './pdu/types.ts';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, QR_SOP, SOP, UNCOMPRESSED_LE, isStorageSopClass } from './uids.ts';

export interface NegotiationPolicy {
  readonly verification: boolean;
  /** Storage SOP classes accepted; undefined accepts every storage SOP class (isStorageSopClass). */
  readonly storageAllowList?: readonly string[];
  readonly store: boolean;
  readonly find: boolean;
  readonly move: boolean;
  readonly get: boolean;
  /** Maximum P-DATA-TF length we receive (announced to the requestor). */
  readonly maxPduLength: number;
}

const FIND = new Set([QR_SOP.patient.find, QR_SOP.study.find]);
const MOVE = new Set([QR_SOP.patient.move, QR_SOP.study.move]);
const GET = new Set([QR_SOP.patient.get, QR_SOP.study.get]);

export type ServiceKind = 'verification' | 'storage' | 'find' | 'move' | 'get';

export function serviceOf(abstractSyntax: string, policy: NegotiationPolicy): ServiceKind | undefined {
  if (abstractSyntax === SOP.Verification) return policy.verification ? 'verification' : undefined;
  if (FIND.has(abstractSyntax)) return policy.find ? 'find' : undefined;
  if (MOVE.has(abstractSyntax)) return policy.move ? 'move' : undefined;
  if (GET.has(abstractSyntax)) return policy.get ? 'get' : undefined;
  // C-GET sends its instances back as C-STOREs on storage contexts the requestor proposed
  // (with the SCP role for itself), so GET alone makes storage contexts acceptable too.
  if (!policy.store && !policy.get) return undefined;
  if (policy.storageAllowList !== undefined) return policy.storageAllowList.includes(abstractSyntax) ? 'storage' : undefined;
  return isStorageSopClass(abstractSyntax) ? 'storage' : undefined;
}

/**
 * Chooses a transfer syntax. Storage keeps any transfer syntax as received (no transcoding), so the
 * requestor's first choice wins. Other services carry identifiers this side must parse: the first
 * proposed little-endian uncompressed one.
 */
function chooseTransferSyntax(kind: ServiceKind, proposed: readonly string[]): string | undefined {
  if (kind === 'storage') return proposed[0];
  return proposed.find((ts) => UNCOMPRESSED_LE.includes(ts));
}

/** PS3.4 C.3.1 / C.4.1.1: C-FIND extended negotiation. We support relational queries, nothing else. */
function answerExtended(ext: SopClassExtendedNegotiation): SopClassExtendedNegotiation | undefined {
  if (!FIND.has(ext.sopClassUid) && !MOVE.has(ext.sopClassUid) && !GET.has(ext.sopClassUid)) return undefined;
  const relational = ext.info.length > 0 && ext.info[0] === 1 ? 1 : 0;
  return { sopClassUid: ext.sopClassUid, info: Uint8Array.from([relational]) };
}

export interface NegotiationResult {
  readonly ac: AAssociateAc;
  /** Accepted context id -> service. */
  readonly services: ReadonlyMap<number, ServiceKind>;
}

export function negotiate(rq: AAssociateRq, policy: NegotiationPolicy, userIdentityResponse?: Uint8Array): NegotiationResult {
  const services = new Map<number, ServiceKind>();
  const pcs: PresentationContextAc[] = rq.presentationContexts.map((pc) => {
    const kind = serviceOf(pc.abstractSyntax, policy);
    if (kind === undefined) return { id: pc.id, result: PC_RESULT.abstractSyntaxNotSupported, transferSyntax: pc.transferSyntaxes[0] ?? '' };
    const ts = chooseTransferSyntax(kind, pc.transferSyntaxes);
    if (ts === undefined) return { id: pc.id, result: PC_RESULT.transferSyntaxesNotSupported, transferSyntax: pc.transferSyntaxes[0] ?? '' };
    services.set(pc.id, kind);
    return { id: pc.id, result: PC_RESULT.acceptance, transferSyntax: ts };
  });
  const ui = rq.userInformation;
  // PS3.7 D.3.3.4: answer each role proposal for a SOP class we accepted. A C-GET requestor asks
  // to be SCP of storage; we accept exactly the roles proposed.
  const acceptedClasses = new Set(rq.presentationContexts.filter((pc) => services.has(pc.id)).map((pc) => pc.abstractSyntax));
  const roleSelections: RoleSelection[] = (ui.roleSelections ?? []).filter((r) => acceptedClasses.has(r.sopClassUid));
  const extendedNegotiations = (ui.extendedNegotiations ?? []).map(answerExtended).filter((e): e is SopClassExtendedNegotiation => e !== undefined);
  const userInformation: UserInformation = {
    maxLength: policy.maxPduLength,
    implementationClassUid: IMPLEMENTATION_CLASS_UID,
    implementationVersionName: IMPLEMENTATION_VERSION_NAME,
    // PS3.7 D.3.3.3: we perform one operation at a time in each direction.
    ...(ui.asyncOps !== undefined && { asyncOps: { invoked: 1, performed: 1 } }),
    ...(roleSelections.length > 0 && { roleSelections }),
    ...(extendedNegotiations.length > 0 && { extendedNegotiations }),
    ...(userIdentityResponse !== undefined && ui.userIdentityRq?.positiveResponseRequested && { userIdentityAc: userIdentityResponse }),
  };
  return {
    ac: {
      type: 'AAssociateAc',
      protocolVersion: 1,
      calledAe: rq.calledAe,
      callingAe: rq.callingAe,
      applicationContext: DICOM_APPLICATION_CONTEXT,
      presentationContexts: pcs,
      userInformation,
    },
    services,
  };
}
