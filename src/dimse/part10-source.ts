// Opens a Part-10 file for sending over DIMSE: reads just its file meta (PS3.10 7.1, explicit VR
// little endian group 0002) to learn the SOP class, instance and transfer syntax, and streams the
// dataset that follows as it is on disk, byte for byte.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { AppError } from '../core/errors.ts';
import type { OutgoingInstance } from './handlers.ts';

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

export interface Part10Meta {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  /** Byte offset of the dataset (first element after the file meta). */
  readonly datasetOffset: number;
}

/** Parses the file meta of a Part-10 buffer prefix (preamble + "DICM" required). */
export function parsePart10Meta(b: Buffer, what = 'file'): Part10Meta {
  const bad = (detail: string): AppError => new AppError('DICOM_PARSE', { detail: `${what}: ${detail}` });
  if (b.length < 132 || b.toString('latin1', 128, 132) !== 'DICM') throw bad('no DICM prefix at offset 128');
  const values = new Map<number, string>();
  let pos = 132;
  while (pos + 8 <= b.length && b.readUInt16LE(pos) === 0x0002) {
    const el = b.readUInt16LE(pos + 2);
    const vr = b.toString('latin1', pos + 4, pos + 6);
    let len: number;
    let head: number;
    if (LONG_VRS.has(vr)) {
      if (pos + 12 > b.length) throw bad(`truncated meta element at offset ${pos}`);
      len = b.readUInt32LE(pos + 8);
      head = 12;
    } else {
      len = b.readUInt16LE(pos + 6);
      head = 8;
    }
    if (pos + head + len > b.length) throw bad(`meta element (0002,${el.toString(16).padStart(4, '0')}) overruns the header at offset ${pos}`);
    if (el === 0x0002 || el === 0x0003 || el === 0x0010) values.set(el, b.toString('latin1', pos + head, pos + head + len).replace(/[\0 ]+$/, ''));
    pos += head + len;
  }
  const sopClassUid = values.get(0x0002);
  const sopInstanceUid = values.get(0x0003);
  const transferSyntaxUid = values.get(0x0010);
  if (!sopClassUid || !sopInstanceUid || !transferSyntaxUid) throw new AppError('DICOM_MISSING_UID', { detail: `${what}: file meta lacks (0002,0002), (0002,0003) or (0002,0010)` });
  return { sopClassUid, sopInstanceUid, transferSyntaxUid, datasetOffset: pos };
}

/** A Part-10 file as an instance to send; the dataset is streamed from disk when opened. */
export async function part10Instance(path: string): Promise<OutgoingInstance> {
  const fh = await open(path, 'r');
  let meta: Part10Meta;
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    meta = parsePart10Meta(buf.subarray(0, bytesRead), 'file');
  } finally {
    await fh.close();
  }
  return {
    sopClassUid: meta.sopClassUid,
    sopInstanceUid: meta.sopInstanceUid,
    transferSyntaxUid: meta.transferSyntaxUid,
    open: () => createReadStream(path, { start: meta.datasetOffset, highWaterMark: 256 * 1024 }),
  };
}
