// The preamble and file meta (PS3.10 7.1) put in front of a C-STORE dataset so the stored blob is a
// Part-10 file. Built here, byte by byte, because the dataset itself streams past and is never
// parsed whole: the meta needs only what the C-STORE command and the presentation context say.
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/implementation.ts';

function element(el: number, vr: string, value: Buffer): Buffer {
  // PS3.5 7.1.2: OB has a 4-byte length after two reserved bytes; UI/SH/AE/UL a 2-byte length.
  if (vr === 'OB') {
    const h = Buffer.alloc(12);
    h.writeUInt16LE(0x0002, 0);
    h.writeUInt16LE(el, 2);
    h.write(vr, 4, 'latin1');
    h.writeUInt32LE(value.length, 8);
    return Buffer.concat([h, value]);
  }
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0x0002, 0);
  h.writeUInt16LE(el, 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt16LE(value.length, 6);
  return Buffer.concat([h, value]);
}

function text(s: string, pad: number): Buffer {
  const b = Buffer.from(s, 'latin1');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from([pad])]);
}

export interface MetaFields {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  /** (0002,0016) Source Application Entity Title: the calling AE of the C-STORE. */
  readonly sourceAe?: string;
}

export function part10Header(m: MetaFields): Buffer {
  const body = Buffer.concat([
    element(0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 'UI', text(m.sopClassUid, 0)),
    element(0x0003, 'UI', text(m.sopInstanceUid, 0)),
    element(0x0010, 'UI', text(m.transferSyntaxUid, 0)),
    element(0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID, 0)),
    element(0x0013, 'SH', text(IMPLEMENTATION_VERSION_NAME, 0x20)),
    ...(m.sourceAe ? [element(0x0016, 'AE', text(m.sourceAe.slice(0, 16), 0x20))] : []),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(0x0000, 'UL', groupLength), body]);
}
