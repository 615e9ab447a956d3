// PS3.8 section 9.3: the seven PDUs of the DICOM Upper Layer protocol, as plain values.
// Names follow the standard (A-ASSOCIATE-RQ -> AAssociateRq). Codecs: encode.ts, decode.ts.

export const PDU_TYPE = {
  AAssociateRq: 0x01,
  AAssociateAc: 0x02,
  AAssociateRj: 0x03,
  PDataTf: 0x04,
  AReleaseRq: 0x05,
  AReleaseRp: 0x06,
  AAbort: 0x07,
} as const;

/** PS3.7 Annex A.2.1: the only application context name in DICOM. */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';

/** Presentation context proposed by the requestor (item type 20H). */
export interface PresentationContextRq {
  readonly id: number; // odd, 1..255
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}

/** PS3.8 Table 9-18 result/reason of a presentation context. */
export const PC_RESULT = {
  acceptance: 0,
  userRejection: 1,
  noReason: 2,
  abstractSyntaxNotSupported: 3,
  transferSyntaxesNotSupported: 4,
} as const;

/** Presentation context answered by the acceptor (item type 21H). */
export interface PresentationContextAc {
  readonly id: number;
  readonly result: number;
  /** Meaningful only when result is acceptance; encoders still send one sub-item. */
  readonly transferSyntax: string;
}

/** PS3.7 D.3.3.4 SCP/SCU role selection (sub-item 54H). */
export interface RoleSelection {
  readonly sopClassUid: string;
  readonly scuRole: boolean;
  readonly scpRole: boolean;
}

/** PS3.7 D.3.3.5 SOP class extended negotiation (sub-item 56H): opaque service-class bytes. */
export interface SopClassExtendedNegotiation {
  readonly sopClassUid: string;
  readonly info: Uint8Array;
}

/** PS3.7 D.3.3.6 SOP class common extended negotiation (sub-item 57H). */
export interface SopClassCommonExtendedNegotiation {
  readonly sopClassUid: string;
  readonly serviceClassUid: string;
  readonly relatedGeneralSopClassUids: readonly string[];
}

/** PS3.7 D.3.3.7 user identity negotiation, request (sub-item 58H). */
export interface UserIdentityRq {
  /** 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT. */
  readonly type: number;
  readonly positiveResponseRequested: boolean;
  readonly primaryField: Uint8Array;
  readonly secondaryField: Uint8Array;
}

/** PS3.8 9.3.2.3 and PS3.7 Annex D.3.3: the user information item (50H). */
export interface UserInformation {
  /** Max P-DATA-TF variable field length the sender can receive; 0 = unlimited. */
  readonly maxLength?: number;
  readonly implementationClassUid?: string;
  readonly implementationVersionName?: string;
  readonly asyncOps?: { readonly invoked: number; readonly performed: number };
  readonly roleSelections?: readonly RoleSelection[];
  readonly extendedNegotiations?: readonly SopClassExtendedNegotiation[];
  readonly commonExtendedNegotiations?: readonly SopClassCommonExtendedNegotiation[];
  readonly userIdentityRq?: UserIdentityRq;
  /** User identity server response (sub-item 59H), A-ASSOCIATE-AC only. */
  readonly userIdentityAc?: Uint8Array;
  /** Sub-items this codec does not know, kept so nothing is silently dropped. */
  readonly unknown?: readonly { readonly type: number; readonly data: Uint8Array }[];
}

export interface AAssociateRq {
  readonly type: 'AAssociateRq';
  readonly protocolVersion: number;
  readonly calledAe: string;
  readonly callingAe: string;
  readonly applicationContext: string;
  readonly presentationContexts: readonly PresentationContextRq[];
  readonly userInformation: UserInformation;
}

export interface AAssociateAc {
  readonly type: 'AAssociateAc';
  readonly protocolVersion: number;
  /** Reserved fields that echo the request (PS3.8 Table 9-17). */
  readonly calledAe: string;
  readonly callingAe: string;
  readonly applicationContext: string;
  readonly presentationContexts: readonly PresentationContextAc[];
  readonly userInformation: UserInformation;
}

/** PS3.8 Table 9-21. */
export interface AAssociateRj {
  readonly type: 'AAssociateRj';
  /** 1 rejected-permanent, 2 rejected-transient. */
  readonly result: number;
  /** 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation). */
  readonly source: number;
  readonly reason: number;
}

export const RJ_REASON = {
  user: { noReason: 1, applicationContextNotSupported: 2, callingAeNotRecognized: 3, calledAeNotRecognized: 7 },
  acse: { noReason: 1, protocolVersionNotSupported: 2 },
  presentation: { temporaryCongestion: 1, localLimitExceeded: 2 },
} as const;

/** One presentation data value item (PS3.8 9.3.5.1 and Annex E.2). */
export interface Pdv {
  readonly contextId: number;
  readonly isCommand: boolean;
  readonly isLast: boolean;
  readonly data: Uint8Array;
}

export interface PDataTf {
  readonly type: 'PDataTf';
  readonly pdvs: readonly Pdv[];
}

export interface AReleaseRq {
  readonly type: 'AReleaseRq';
}
export interface AReleaseRp {
  readonly type: 'AReleaseRp';
}

/** PS3.8 Table 9-26. */
export interface AAbort {
  readonly type: 'AAbort';
  /** 0 service-user, 2 service-provider. */
  readonly source: number;
  /** Provider reasons: 0 not specified, 1 unrecognized PDU, 2 unexpected PDU, 4 unrecognized PDU parameter, 5 unexpected PDU parameter, 6 invalid PDU parameter value. */
  readonly reason: number;
}

export const ABORT_REASON = {
  notSpecified: 0,
  unrecognizedPdu: 1,
  unexpectedPdu: 2,
  unrecognizedPduParameter: 4,
  unexpectedPduParameter: 5,
  invalidPduParameterValue: 6,
} as const;

export type Pdu = AAssociateRq | AAssociateAc | AAssociateRj | PDataTf | AReleaseRq | AReleaseRp | AAbort;
