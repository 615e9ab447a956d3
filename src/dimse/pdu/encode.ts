// PDU encoders (PS3.8 section 9.3). All multi-byte fields are big endian (PS3.8 9.3.1).
import {
  DICOM_APPLICATION_CONTEXT,
  PDU_TYPE,
  type AAssociateAc,
  type AAssociateRq,
  type Pdu,
  type Pdv,
  type UserInformation,
} from './types.ts';

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

/** An item or sub-item with a 2-byte length: type, reserved, length, value. */
function item(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = type;
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A UID prefixed by its 2-byte length, as in sub-items 54H, 56H, 57H. */
function lengthPrefixed(value: Buffer): Buffer {
  return Buffer.concat([u16(value.length), value]);
}

/** AE titles occupy 16 bytes, space padded (PS3.8 Table 9-11). */
function aeField(ae: string): Buffer {
  const b = Buffer.alloc(16, 0x20);
  b.write(ae.slice(0, 16), 'latin1');
  return b;
}

function pduHeader(type: number, length: number): Buffer {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(length, 2);
  return h;
}

function withHeader(type: number, body: Buffer): Buffer {
  return Buffer.concat([pduHeader(type, body.length), body]);
}

export function encodeUserInformation(ui: UserInformation): Buffer {
  const subs: Buffer[] = [];
  if (ui.maxLength !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(ui.maxLength);
    subs.push(item(0x51, v));
  }
  if (ui.implementationClassUid !== undefined) subs.push(item(0x52, ascii(ui.implementationClassUid)));
  if (ui.asyncOps !== undefined) subs.push(item(0x53, Buffer.concat([u16(ui.asyncOps.invoked), u16(ui.asyncOps.performed)])));
  for (const r of ui.roleSelections ?? []) {
    subs.push(item(0x54, Buffer.concat([lengthPrefixed(ascii(r.sopClassUid)), Buffer.from([r.scuRole ? 1 : 0, r.scpRole ? 1 : 0])])));
  }
  if (ui.implementationVersionName !== undefined) subs.push(item(0x55, ascii(ui.implementationVersionName)));
  for (const e of ui.extendedNegotiations ?? []) {
    subs.push(item(0x56, Buffer.concat([lengthPrefixed(ascii(e.sopClassUid)), Buffer.from(e.info)])));
  }
  for (const c of ui.commonExtendedNegotiations ?? []) {
    const related = Buffer.concat(c.relatedGeneralSopClassUids.map((u) => lengthPrefixed(ascii(u))));
    subs.push(item(0x57, Buffer.concat([lengthPrefixed(ascii(c.sopClassUid)), lengthPrefixed(ascii(c.serviceClassUid)), lengthPrefixed(related)])));
  }
  if (ui.userIdentityRq !== undefined) {
    const u = ui.userIdentityRq;
    subs.push(
      item(0x58, Buffer.concat([Buffer.from([u.type, u.positiveResponseRequested ? 1 : 0]), lengthPrefixed(Buffer.from(u.primaryField)), lengthPrefixed(Buffer.from(u.secondaryField))])),
    );
  }
  if (ui.userIdentityAc !== undefined) subs.push(item(0x59, lengthPrefixed(Buffer.from(ui.userIdentityAc))));
  for (const x of ui.unknown ?? []) subs.push(item(x.type, Buffer.from(x.data)));
  return item(0x50, Buffer.concat(subs));
}

function associateFixed(protocolVersion: number, calledAe: string, callingAe: string): Buffer {
  return Buffer.concat([u16(protocolVersion), Buffer.alloc(2), aeField(calledAe), aeField(callingAe), Buffer.alloc(32)]);
}

function encodeAssociateRq(p: AAssociateRq): Buffer {
  const pcs = p.presentationContexts.map((pc) =>
    item(0x20, Buffer.concat([Buffer.from([pc.id, 0, 0, 0]), item(0x30, ascii(pc.abstractSyntax)), ...pc.transferSyntaxes.map((ts) => item(0x40, ascii(ts)))])),
  );
  return withHeader(
    PDU_TYPE.AAssociateRq,
    Buffer.concat([associateFixed(p.protocolVersion, p.calledAe, p.callingAe), item(0x10, ascii(p.applicationContext ?? DICOM_APPLICATION_CONTEXT)), ...pcs, encodeUserInformation(p.userInformation)]),
  );
}

function encodeAssociateAc(p: AAssociateAc): Buffer {
  const pcs = p.presentationContexts.map((pc) => item(0x21, Buffer.concat([Buffer.from([pc.id, 0, pc.result, 0]), item(0x40, ascii(pc.transferSyntax))])));
  return withHeader(
    PDU_TYPE.AAssociateAc,
    Buffer.concat([associateFixed(p.protocolVersion, p.calledAe, p.callingAe), item(0x10, ascii(p.applicationContext)), ...pcs, encodeUserInformation(p.userInformation)]),
  );
}

/** Header of one PDV item: 4-byte length (context id + control header + data), context id, control header. */
export function pdvHeader(pdv: Omit<Pdv, 'data'>, dataLength: number): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt32BE(dataLength + 2, 0);
  h[4] = pdv.contextId;
  // PS3.8 E.2: bit 0 set = command, bit 1 set = last fragment.
  h[5] = (pdv.isCommand ? 0x01 : 0) | (pdv.isLast ? 0x02 : 0);
  return h;
}

/** P-DATA-TF as a list of chunks (header + PDV headers + the caller's data, not copied). */
export function encodePDataTf(pdvs: readonly Pdv[]): Buffer[] {
  const total = pdvs.reduce((n, p) => n + 6 + p.data.length, 0);
  const out: Buffer[] = [pduHeader(PDU_TYPE.PDataTf, total)];
  for (const p of pdvs) out.push(pdvHeader(p, p.data.length), Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  return out;
}

export function encodePdu(pdu: Pdu): Buffer {
  switch (pdu.type) {
    case 'AAssociateRq':
      return encodeAssociateRq(pdu);
    case 'AAssociateAc':
      return encodeAssociateAc(pdu);
    case 'AAssociateRj':
      return withHeader(PDU_TYPE.AAssociateRj, Buffer.from([0, pdu.result, pdu.source, pdu.reason]));
    case 'PDataTf':
      return Buffer.concat(encodePDataTf(pdu.pdvs));
    case 'AReleaseRq':
      return withHeader(PDU_TYPE.AReleaseRq, Buffer.alloc(4));
    case 'AReleaseRp':
      return withHeader(PDU_TYPE.AReleaseRp, Buffer.alloc(4));
    case 'AAbort':
      return withHeader(PDU_TYPE.AAbort, Buffer.from([0, 0, pdu.source, pdu.reason]));
  }
}
