// A tiny self-contained explicit-VR-little-endian encoder for the benchmark generators, so benchmark
// inputs do not depend on the dicomgate code they measure. test/helpers/synthetic-dicom.ts uses it
// for the same reason: keep it free of imports from src/.
export type El = [group: number, element: number, vr: string, value: Buffer];

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV', 'SV', 'UV']);

/** A text value padded to even length (NUL for UI, space otherwise). */
export function str(s: string, vr: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  return b.length % 2 ? Buffer.concat([b, Buffer.from([vr === 'UI' ? 0 : 0x20])]) : b;
}

export function us(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/** Elements in tag order, explicit VR little endian. */
export function encode(els: El[]): Buffer {
  const parts: Buffer[] = [];
  for (const [g, e, vr, v] of els.sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    const long = LONG_VRS.has(vr);
    const h = Buffer.alloc(long ? 12 : 8);
    h.writeUInt16LE(g, 0);
    h.writeUInt16LE(e, 2);
    h.write(vr, 4, 'latin1');
    if (long) h.writeUInt32LE(v.length, 8);
    else h.writeUInt16LE(v.length, 6);
    parts.push(h, v);
  }
  return Buffer.concat(parts);
}

/** A Part-10 file: preamble, "DICM", (0002,0000) group length, the meta elements, the dataset. */
export function part10(meta: El[], dataset: El[]): Buffer {
  const m = encode(meta);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0x0002, 0);
  groupLength.writeUInt16LE(0x0000, 2);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(m.length, 8);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, m, encode(dataset)]);
}

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** File meta elements after the group length (part10 adds it) for an explicit-VR-little-endian instance. */
export function fileMeta(sopClass: string, sop: string, implementationUid = '1.2.826.0.1.3680043.10.1561'): El[] {
  return [
    [0x0002, 0x0001, 'OB', Buffer.from([0, 1])],
    [0x0002, 0x0002, 'UI', str(sopClass, 'UI')],
    [0x0002, 0x0003, 'UI', str(sop, 'UI')],
    [0x0002, 0x0010, 'UI', str(EXPLICIT_VR_LITTLE_ENDIAN, 'UI')],
    [0x0002, 0x0012, 'UI', str(implementationUid, 'UI')],
  ];
}

/** Image Pixel module attributes of a one-sample MONOCHROME2 image (high bit = bits stored - 1), without PixelData. */
export function monochrome2(rows: number, cols: number, bitsAllocated: number, bitsStored: number, signed: boolean): El[] {
  return [
    [0x0028, 0x0002, 'US', us(1)],
    [0x0028, 0x0004, 'CS', str('MONOCHROME2', 'CS')],
    [0x0028, 0x0010, 'US', us(rows)],
    [0x0028, 0x0011, 'US', us(cols)],
    [0x0028, 0x0100, 'US', us(bitsAllocated)],
    [0x0028, 0x0101, 'US', us(bitsStored)],
    [0x0028, 0x0102, 'US', us(bitsStored - 1)],
    [0x0028, 0x0103, 'US', us(signed ? 1 : 0)],
  ];
}
