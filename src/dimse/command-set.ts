// DIMSE command set codec (PS3.7 section 6.3 and Annex E): group 0000, always implicit VR little
// endian, led by CommandGroupLength (0000,0000). Commands use a handful of VRs, so this small
// self-contained codec needs nothing from the dataset model.
import { AppError } from '../core/errors.ts';

/** PS3.7 Annex E command field values. */
export const COMMAND_FIELD = {
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
  CGetRq: 0x0010,
  CGetRsp: 0x8010,
  CFindRq: 0x0020,
  CFindRsp: 0x8020,
  CMoveRq: 0x0021,
  CMoveRsp: 0x8021,
  CEchoRq: 0x0030,
  CEchoRsp: 0x8030,
  CCancelRq: 0x0fff,
} as const;

/** PS3.7 E.1-1: CommandDataSetType 0101H means no dataset follows; any other value means one does. */
export const NO_DATASET = 0x0101;
export const HAS_DATASET = 0x0000;

export const PRIORITY = { medium: 0x0000, high: 0x0001, low: 0x0002 } as const;

export interface Command {
  commandField: number;
  commandDataSetType: number;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  affectedSopClassUid?: string;
  requestedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  requestedSopInstanceUid?: string;
  priority?: number;
  status?: number;
  offendingElement?: number[];
  errorComment?: string;
  errorId?: number;
  moveDestination?: string;
  numberOfRemainingSuboperations?: number;
  numberOfCompletedSuboperations?: number;
  numberOfFailedSuboperations?: number;
  numberOfWarningSuboperations?: number;
  moveOriginatorApplicationEntityTitle?: string;
  moveOriginatorMessageId?: number;
}

type CommandVr = 'UI' | 'US' | 'UL' | 'AE' | 'AT' | 'LO';
type Key = keyof Command;

/** Element number in group 0000 and VR of each field (PS3.7 Table E.1-1), in ascending tag order. */
const FIELDS: readonly (readonly [Key, number, CommandVr])[] = [
  ['affectedSopClassUid', 0x0002, 'UI'],
  ['requestedSopClassUid', 0x0003, 'UI'],
  ['commandField', 0x0100, 'US'],
  ['messageId', 0x0110, 'US'],
  ['messageIdBeingRespondedTo', 0x0120, 'US'],
  ['moveDestination', 0x0600, 'AE'],
  ['priority', 0x0700, 'US'],
  ['commandDataSetType', 0x0800, 'US'],
  ['status', 0x0900, 'US'],
  ['offendingElement', 0x0901, 'AT'],
  ['errorComment', 0x0902, 'LO'],
  ['errorId', 0x0903, 'US'],
  ['affectedSopInstanceUid', 0x1000, 'UI'],
  ['requestedSopInstanceUid', 0x1001, 'UI'],
  ['numberOfRemainingSuboperations', 0x1020, 'US'],
  ['numberOfCompletedSuboperations', 0x1021, 'US'],
  ['numberOfFailedSuboperations', 0x1022, 'US'],
  ['numberOfWarningSuboperations', 0x1023, 'US'],
  ['moveOriginatorApplicationEntityTitle', 0x1030, 'AE'],
  ['moveOriginatorMessageId', 0x1031, 'US'],
];
const BY_ELEMENT = new Map(FIELDS.map((f) => [f[1], f]));

function encodeValue(vr: CommandVr, v: unknown): Buffer {
  switch (vr) {
    case 'US': {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(v as number);
      return b;
    }
    case 'UL': {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(v as number);
      return b;
    }
    case 'AT': {
      const tags = v as number[];
      const b = Buffer.alloc(tags.length * 4);
      tags.forEach((t, i) => {
        b.writeUInt16LE(t >>> 16, i * 4);
        b.writeUInt16LE(t & 0xffff, i * 4 + 2);
      });
      return b;
    }
    default: {
      // PS3.5 6.2: UI pads with NUL, AE and LO with space, to an even length.
      const s = Buffer.from(v as string, 'latin1');
      return s.length % 2 === 0 ? s : Buffer.concat([s, Buffer.from([vr === 'UI' ? 0 : 0x20])]);
    }
  }
}

function element(elementNumber: number, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0x0000, 0);
  h.writeUInt16LE(elementNumber, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

export function encodeCommand(cmd: Command): Buffer {
  const parts: Buffer[] = [];
  for (const [key, el, vr] of FIELDS) {
    const v = cmd[key];
    if (v === undefined) continue;
    parts.push(element(el, encodeValue(vr, v)));
  }
  const body = Buffer.concat(parts);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length);
  return Buffer.concat([element(0x0000, len), body]);
}

function invalid(detail: string): AppError {
  return new AppError('DIMSE_COMMAND_INVALID', { detail });
}

function decodeValue(vr: CommandVr, b: Buffer, el: number): unknown {
  switch (vr) {
    case 'US':
      if (b.length !== 2) throw invalid(`(0000,${hex4(el)}) US of length ${b.length}`);
      return b.readUInt16LE(0);
    case 'UL':
      return b.readUInt32LE(0);
    case 'AT': {
      const tags: number[] = [];
      for (let i = 0; i + 4 <= b.length; i += 4) tags.push(((b.readUInt16LE(i) << 16) | b.readUInt16LE(i + 2)) >>> 0);
      return tags;
    }
    default:
      return b.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  }
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0').toUpperCase();

/** Decodes a whole command set. Unknown group-0000 elements are skipped; other groups are an error. */
export function decodeCommand(buf: Buffer): Command {
  const out: Partial<Record<Key, unknown>> = {};
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 8 > buf.length) throw invalid(`truncated element header at offset ${pos}`);
    const group = buf.readUInt16LE(pos);
    const el = buf.readUInt16LE(pos + 2);
    const len = buf.readUInt32LE(pos + 4);
    pos += 8;
    if (group !== 0x0000) throw invalid(`element (${hex4(group)},${hex4(el)}) outside group 0000 at offset ${pos - 8}`);
    if (pos + len > buf.length) throw invalid(`element (0000,${hex4(el)}) length ${len} overruns command at offset ${pos - 8}`);
    const f = BY_ELEMENT.get(el);
    if (f) out[f[0]] = decodeValue(f[2], buf.subarray(pos, pos + len), el);
    pos += len;
  }
  if (typeof out.commandField !== 'number') throw invalid('missing CommandField (0000,0100)');
  if (typeof out.commandDataSetType !== 'number') throw invalid('missing CommandDataSetType (0000,0800)');
  return out as unknown as Command;
}

export function hasDataset(cmd: Command): boolean {
  return cmd.commandDataSetType !== NO_DATASET;
}

export function isResponse(cmd: Command): boolean {
  return (cmd.commandField & 0x8000) !== 0;
}
