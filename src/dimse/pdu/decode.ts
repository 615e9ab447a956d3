// PDU decoders (PS3.8 section 9.3). Input is one whole PDU (header included), as cut by framer.ts.
// Every length is checked against the bytes present: a lying length is DIMSE_PDU_INVALID, never a crash.
import { AppError } from '../../core/errors.ts';
import type {
  AAssociateAc,
  AAssociateRq,
  Pdu,
  Pdv,
  PresentationContextAc,
  PresentationContextRq,
  RoleSelection,
  SopClassCommonExtendedNegotiation,
  SopClassExtendedNegotiation,
  UserIdentityRq,
  UserInformation,
} from './types.ts';

function invalid(detail: string): AppError {
  return new AppError('DIMSE_PDU_INVALID', { detail });
}

/** Bounds-checked big-endian reader over one PDU or item. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos = 0,
    private readonly end = buf.length,
  ) {}
  get remaining(): number {
    return this.end - this.pos;
  }
  private need(n: number, what: string): void {
    if (n > this.remaining) throw invalid(`${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  sub(n: number, what: string): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  /** An item with a 2-byte length (PS3.8 9.3.2.x): returns its type and a reader over its value. */
  item(what: string): { type: number; body: Reader } {
    const type = this.u8(what);
    this.u8(what);
    const len = this.u16(what);
    return { type, body: this.sub(len, `${what} item ${type.toString(16)}H`) };
  }
  rest(): Buffer {
    return this.bytes(this.remaining, 'rest');
  }
}

/** UIDs in items are not padded per PS3.8 Annex F, but some peers pad with NUL or space anyway. */
function uid(b: Buffer): string {
  return b.toString('latin1').replace(/[\0 ]+$/, '');
}

/** PS3.8 9.3.2: leading and trailing spaces of AE titles are not significant. */
function ae(b: Buffer): string {
  return b.toString('latin1').replace(/\0/g, ' ').trim();
}

function lengthPrefixed(r: Reader, what: string): Buffer {
  return r.bytes(r.u16(what), what);
}

function decodeUserInformation(r: Reader): UserInformation {
  let maxLength: number | undefined;
  let implementationClassUid: string | undefined;
  let implementationVersionName: string | undefined;
  let asyncOps: UserInformation['asyncOps'];
  let userIdentityRq: UserIdentityRq | undefined;
  let userIdentityAc: Uint8Array | undefined;
  const roleSelections: RoleSelection[] = [];
  const extendedNegotiations: SopClassExtendedNegotiation[] = [];
  const commonExtendedNegotiations: SopClassCommonExtendedNegotiation[] = [];
  const unknown: { type: number; data: Uint8Array }[] = [];
  while (r.remaining > 0) {
    const { type, body } = r.item('user information sub-item');
    switch (type) {
      case 0x51:
        maxLength = body.u32('maximum length');
        break;
      case 0x52:
        implementationClassUid = uid(body.rest());
        break;
      case 0x53:
        asyncOps = { invoked: body.u16('async ops invoked'), performed: body.u16('async ops performed') };
        break;
      case 0x54: {
        const sopClassUid = uid(lengthPrefixed(body, 'role selection UID'));
        roleSelections.push({ sopClassUid, scuRole: body.u8('SCU role') === 1, scpRole: body.u8('SCP role') === 1 });
        break;
      }
      case 0x55:
        implementationVersionName = body.rest().toString('latin1').trim();
        break;
      case 0x56: {
        const sopClassUid = uid(lengthPrefixed(body, 'extended negotiation UID'));
        extendedNegotiations.push({ sopClassUid, info: Buffer.from(body.rest()) });
        break;
      }
      case 0x57: {
        const sopClassUid = uid(lengthPrefixed(body, 'common extended SOP class UID'));
        const serviceClassUid = uid(lengthPrefixed(body, 'common extended service class UID'));
        const related = new Reader(lengthPrefixed(body, 'related general SOP classes'));
        const relatedGeneralSopClassUids: string[] = [];
        while (related.remaining > 0) relatedGeneralSopClassUids.push(uid(lengthPrefixed(related, 'related general SOP class UID')));
        commonExtendedNegotiations.push({ sopClassUid, serviceClassUid, relatedGeneralSopClassUids });
        break;
      }
      case 0x58: {
        const idType = body.u8('user identity type');
        const positiveResponseRequested = body.u8('positive response requested') === 1;
        const primaryField = Buffer.from(lengthPrefixed(body, 'user identity primary field'));
        const secondaryField = Buffer.from(body.remaining >= 2 ? lengthPrefixed(body, 'user identity secondary field') : Buffer.alloc(0));
        userIdentityRq = { type: idType, positiveResponseRequested, primaryField, secondaryField };
        break;
      }
      case 0x59:
        userIdentityAc = Buffer.from(lengthPrefixed(body, 'user identity server response'));
        break;
      default:
        unknown.push({ type, data: Buffer.from(body.rest()) });
    }
  }
  return {
    ...(maxLength !== undefined && { maxLength }),
    ...(implementationClassUid !== undefined && { implementationClassUid }),
    ...(implementationVersionName !== undefined && { implementationVersionName }),
    ...(asyncOps !== undefined && { asyncOps }),
    ...(roleSelections.length > 0 && { roleSelections }),
    ...(extendedNegotiations.length > 0 && { extendedNegotiations }),
    ...(commonExtendedNegotiations.length > 0 && { commonExtendedNegotiations }),
    ...(userIdentityRq !== undefined && { userIdentityRq }),
    ...(userIdentityAc !== undefined && { userIdentityAc }),
    ...(unknown.length > 0 && { unknown }),
  };
}

interface AssociateCommon {
  protocolVersion: number;
  calledAe: string;
  callingAe: string;
  applicationContext: string;
  userInformation: UserInformation;
}

function decodeAssociate(r: Reader, onPc: (type: number, body: Reader) => void): AssociateCommon {
  const protocolVersion = r.u16('protocol version');
  r.u16('reserved');
  const calledAe = ae(r.bytes(16, 'called AE title'));
  const callingAe = ae(r.bytes(16, 'calling AE title'));
  r.bytes(32, 'reserved');
  let applicationContext: string | undefined;
  let userInformation: UserInformation | undefined;
  while (r.remaining > 0) {
    const { type, body } = r.item('variable item');
    if (type === 0x10) applicationContext = uid(body.rest());
    else if (type === 0x50) userInformation = decodeUserInformation(body);
    else onPc(type, body);
  }
  if (applicationContext === undefined) throw invalid('A-ASSOCIATE without application context item');
  if (userInformation === undefined) throw invalid('A-ASSOCIATE without user information item');
  return { protocolVersion, calledAe, callingAe, applicationContext, userInformation };
}

function decodeAssociateRq(r: Reader): AAssociateRq {
  const presentationContexts: PresentationContextRq[] = [];
  const common = decodeAssociate(r, (type, body) => {
    if (type !== 0x20) throw invalid(`unexpected item ${type.toString(16)}H in A-ASSOCIATE-RQ`);
    const id = body.u8('presentation context id');
    body.bytes(3, 'reserved');
    let abstractSyntax: string | undefined;
    const transferSyntaxes: string[] = [];
    while (body.remaining > 0) {
      const sub = body.item('presentation context sub-item');
      if (sub.type === 0x30) abstractSyntax = uid(sub.body.rest());
      else if (sub.type === 0x40) transferSyntaxes.push(uid(sub.body.rest()));
      else throw invalid(`unexpected sub-item ${sub.type.toString(16)}H in presentation context ${id}`);
    }
    if (abstractSyntax === undefined || transferSyntaxes.length === 0) throw invalid(`presentation context ${id} lacks abstract or transfer syntax`);
    presentationContexts.push({ id, abstractSyntax, transferSyntaxes });
  });
  return { type: 'AAssociateRq', ...common, presentationContexts };
}

function decodeAssociateAc(r: Reader): AAssociateAc {
  const presentationContexts: PresentationContextAc[] = [];
  const common = decodeAssociate(r, (type, body) => {
    if (type !== 0x21) throw invalid(`unexpected item ${type.toString(16)}H in A-ASSOCIATE-AC`);
    const id = body.u8('presentation context id');
    body.u8('reserved');
    const result = body.u8('result/reason');
    body.u8('reserved');
    let transferSyntax = '';
    while (body.remaining > 0) {
      const sub = body.item('presentation context sub-item');
      if (sub.type === 0x40) transferSyntax = uid(sub.body.rest());
    }
    presentationContexts.push({ id, result, transferSyntax });
  });
  return { type: 'AAssociateAc', ...common, presentationContexts };
}

/** Splits P-DATA-TF PDVs; data are views into `buf` (no copy). */
function decodePDataTf(r: Reader): Pdv[] {
  const pdvs: Pdv[] = [];
  while (r.remaining > 0) {
    const len = r.u32('PDV item length');
    if (len < 2) throw invalid(`PDV item length ${len} < 2`);
    const contextId = r.u8('presentation context id');
    const mch = r.u8('message control header');
    pdvs.push({ contextId, isCommand: (mch & 0x01) !== 0, isLast: (mch & 0x02) !== 0, data: r.bytes(len - 2, 'PDV data') });
  }
  if (pdvs.length === 0) throw invalid('P-DATA-TF without PDV');
  return pdvs;
}

export function decodePdu(buf: Buffer): Pdu {
  const head = new Reader(buf);
  const type = head.u8('PDU type');
  head.u8('reserved');
  const length = head.u32('PDU length');
  if (length !== buf.length - 6) throw invalid(`PDU length ${length} but ${buf.length - 6} bytes present`);
  const r = head.sub(length, 'PDU body');
  switch (type) {
    case 0x01:
      return decodeAssociateRq(r);
    case 0x02:
      return decodeAssociateAc(r);
    case 0x03: {
      r.u8('reserved');
      return { type: 'AAssociateRj', result: r.u8('result'), source: r.u8('source'), reason: r.u8('reason') };
    }
    case 0x04:
      return { type: 'PDataTf', pdvs: decodePDataTf(r) };
    case 0x05:
      return { type: 'AReleaseRq' };
    case 0x06:
      return { type: 'AReleaseRp' };
    case 0x07: {
      r.bytes(2, 'reserved');
      return { type: 'AAbort', source: r.u8('source'), reason: r.u8('reason') };
    }
    default:
      throw invalid(`unrecognized PDU type ${type.toString(16)}H`);
  }
}
